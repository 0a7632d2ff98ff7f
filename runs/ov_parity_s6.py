# Sitting 6: the int8 Y-plane models under the native OpenVINO runtime (what `--provider openvino` runs)
# against onnxruntime, on the published protocol (Set5 / Set14, x2): the same scores, and how far apart
# their output planes are. The speed side: runs/design_speed_x2grid.py. Needs the OpenVINO runtime
# (pip install '.[openvino]'). python runs/ov_parity_s6.py
import os, sys; sys.path.insert(0, os.getcwd())
import numpy as np, openvino as ov
from kd.config import DEFAULT_EVAL_DIRS
from kd.degrade import bicubic_down_up, modcrop
from kd.evaluate import OnnxRestorer, list_images, load_hr_u8, as_rgb_u8, score_set

class OpenVinoSession:
    """onnxruntime's `run` over an OpenVINO compiled model (2 threads, latency hint, as vcam/engine.py)."""
    def __init__(self, onnx_path):
        core = ov.Core()
        self.request = core.compile_model(core.read_model(str(onnx_path)), "CPU",
                                          {"INFERENCE_NUM_THREADS": 2, "PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
    def run(self, _outputs, feed):
        return [self.request.infer({0: next(iter(feed.values()))})[0]]

print(f"| model | Set5 onnxruntime / OpenVINO | Set14 onnxruntime / OpenVINO | max abs Y difference (grey levels), mean |")
print("|---|---|---|---|")
for card in ("export/sharpcam-cs4-int8.json", "runs/onnx/s6-twin_x2grid-int8.json"):
    ort_r, ov_r = OnnxRestorer(card, 2), OnnxRestorer(card, 2)
    ov_r.session = OpenVinoSession(ov_r.onnx_path)
    cells, diffs = [], []
    for folder in DEFAULT_EVAL_DIRS[:2]:
        files = list_images(folder)
        a, b = score_set(ort_r, files, 2, "ort"), score_set(ov_r, files, 2, "ov")
        cells.append(f"{a['psnr']:.2f} / {b['psnr']:.2f}")
        for f in files:
            lq = as_rgb_u8(bicubic_down_up(modcrop(load_hr_u8(f), 2), 2))
            d = np.abs(ort_r.luma_plane(lq)[1].astype(int) - ov_r.luma_plane(lq)[1].astype(int))
            diffs.append((d.max(), d.mean()))
    print(f"| {ort_r.label} | {cells[0]} | {cells[1]} | {max(m for m, _ in diffs)}, {np.mean([v for _, v in diffs]):.3f} |")
