"""Sitting 19: model-only latency at 1280 x 720 (2 threads, as the daemon runs it; 11 interleaved rounds, median) of
the two designs compared in kd/recipes/twin_s19_{mixgrid,control}.toml as all-integer int8 (runs/results_s19_mixgrid.sh
makes them), beside the shipped default's plain half, under onnxruntime and (when installed) OpenVINO. Nothing else
should run meanwhile.
python runs/design_speed_s19.py > runs/design_speed_s19.txt
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.export import ort_session  # noqa: E402
from gate_cost_s14 import cpu_name, interleaved_median_ms  # noqa: E402

MODELS = {
    "sharpcam-cs4-sharp-int8 (the default's plain half, x4 grid 32 x 4)": "export/sharpcam-cs4-sharp-int8",
    "x2 grid 16 x 5 (the twin's design, control arm)": "runs/onnx/s19-twin-control-int8",
    "two grids 16 x 1 + 28 x 5 (kd/models/mixgrid.py)": "runs/onnx/s19-twin-mixgrid-int8",
}


def main() -> None:
    y_u8 = np.random.default_rng(0).integers(16, 236, (1, 1, 720, 1280), dtype=np.uint8)
    runs = {}
    for label, stem in MODELS.items():
        sess = ort_session(f"{stem}.onnx", 2)
        runs[f"{label}, onnxruntime"] = lambda sess=sess: sess.run(None, {"input": y_u8})
    try:
        import openvino as ov

        core = ov.Core()
        for label, stem in MODELS.items():
            req = core.compile_model(core.read_model(f"{stem}.onnx"), "CPU",
                                     {"INFERENCE_NUM_THREADS": 2, "PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
            runs[f"{label}, OpenVINO"] = lambda req=req: req.infer({0: y_u8})
    except ImportError:
        print("# (OpenVINO not installed: onnxruntime only)")
    medians = interleaved_median_ms(runs)
    print(f"# CPU: {cpu_name()}, 2 threads, 1280 x 720 luma, median of 11 interleaved rounds")
    for n, ms in medians.items():
        print(f"{n:90s} {ms:6.1f} ms")


if __name__ == "__main__":
    main()
