# Model-only onnxruntime latency at 720p (1 thread, interleaved rounds, median) of candidate
# collapsible-student designs at ~3.4 K MACs/px, untrained weights (speed does not depend on them),
# fp32 and int8 (float head/tail), beside the shipped default. python runs/design_speed.py
import os, sys; sys.path.insert(0, os.getcwd())
import copy, time, numpy as np, torch, onnxruntime as ort
from pathlib import Path
from kd.models import CollapsibleStudent, describe
from kd.export import export_onnx, inference_model
from kd.quantize import quantize_onnx, calibration_batches, calibration_files
torch.manual_seed(0)
designs = {"x2-w16-d5": dict(scale=2, width=16, depth=5), "x4-w32-d5": dict(scale=4, width=32, depth=5),
           "x4-w40-d3": dict(scale=4, width=40, depth=3), "x4-w48-d2": dict(scale=4, width=48, depth=2)}
files = calibration_files(("runs/split/train.txt",))
out = Path(os.environ.get("TMPDIR", "/tmp")) / "sharpcam-designs"; out.mkdir(exist_ok=True)
paths = {"old-rt-int8": "export/sharpcam-rt-int8.onnx"}
for name, a in designs.items():
    m = CollapsibleStudent(expand=16, **a)
    with torch.no_grad():
        for p in m.parameters(): p.add_(0.02 * torch.randn_like(p))
    print(name, describe(m))
    f = out / f"{name}.onnx"
    export_onnx(inference_model(copy.deepcopy(m)), f, 64, 64)
    paths[name] = str(f)
    q = out / f"{name}-int8.onnx"
    batches = calibration_batches(files, 8, 128, 2, a["scale"], 0)
    quantize_onnx(f, q, batches, "input", float_nodes=("/head/Conv", "/Relu", "/tail/Conv"))
    paths[name + "-int8"] = str(q)
def sess(p):
    o = ort.SessionOptions(); o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.intra_op_num_threads = 1; o.log_severity_level = 3
    return ort.InferenceSession(p, o, providers=["CPUExecutionProvider"])
S = {k: sess(p) for k, p in paths.items()}
x = np.full((1, 3, 720, 1280), .5, np.float32)
T = {k: [] for k in S}
for r in range(7):
    for k, s in S.items():
        t = time.perf_counter(); s.run(None, {"input": x}); T[k].append(time.perf_counter() - t)
for k, v in T.items(): print(f"{k:18s} {1e3*np.median(v[1:]):7.1f} ms")
