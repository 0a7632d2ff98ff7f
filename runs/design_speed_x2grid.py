# Sitting 6: model-only onnxruntime latency at 720p (2 threads, as the daemon runs it; interleaved
# rounds) of the x2-grid design (sitting 2's twin, 16 ch, the better student per MAC) as all-integer int8,
# beside the same export of the default's x4-grid design and the shipped models: whether the x2 grid
# now fits the CPU the old default took, under onnxruntime and (when installed) the native OpenVINO
# runtime that `--provider openvino` uses. Untrained weights (speed does not depend on them).
# python runs/design_speed_x2grid.py
import os, sys; sys.path.insert(0, os.getcwd()); sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import platform, numpy as np, torch, onnxruntime as ort
from pathlib import Path
from kd.checkpoint import atomic_save
from kd.config import ExportConfig, QuantizeConfig
from kd.export import export
from kd.models import build_model, describe
from kd.quantize import quantize
from gate_cost_s14 import interleaved_median_ms
torch.manual_seed(0)
designs = {"x4-w32-d4": dict(scale=4, width=32, depth=4), "x2-w16-d5": dict(scale=2, width=16, depth=5),
           "x2-w16-d4": dict(scale=2, width=16, depth=4), "x2-w24-d3": dict(scale=2, width=24, depth=3)}
out = Path(os.environ.get("TMPDIR", "/tmp")) / "sharpcam-designs-x2grid"; out.mkdir(exist_ok=True)
paths = {"sharpcam-rt-int8": "export/sharpcam-rt-int8.onnx", "sharpcam-cs4-int8 (default)": "export/sharpcam-cs4-int8.onnx"}
macs = {}
for name, a in designs.items():
    args = dict(kernel=3, outer_kernel=3, expand=16, **a)  # expand is folded away at export: timing-neutral
    m = build_model("CollapsibleStudent", **args)
    with torch.no_grad():
        for p in m.parameters(): p.add_(0.02 * torch.randn_like(p))
    macs[name] = describe(m)["macs_per_pixel"]
    atomic_save({"arch": "CollapsibleStudent", "args": args, "model": m.state_dict()}, out / f"{name}.pt")
    export(ExportConfig(checkpoint=str(out / f"{name}.pt"), name=name, out=str(out), planes="Y"), log=lambda _m: None)
    quantize(QuantizeConfig(model=str(out / f"{name}.json"), name=f"{name}-int", out=str(out), calib_images=8, fps_runs=3,
                            check=(), quantize_ops=("Conv", "Relu", "Add", "DepthToSpace"), float_input_ops=False), log=lambda _m: None)
    paths[f"{name} all-integer"] = str(out / f"{name}-int.onnx")
def sess(p):
    o = ort.SessionOptions(); o.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    o.intra_op_num_threads = 2; o.inter_op_num_threads = 1; o.log_severity_level = 3
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(p, o, providers=["CPUExecutionProvider"])
sessions = {n: sess(p) for n, p in paths.items()}
inputs = {n: (np.random.default_rng(0).random((1, 3, 720, 1280), np.float32) if s.get_inputs()[0].type == "tensor(float)"
              else np.random.default_rng(0).integers(16, 236, (1, 1, 720, 1280), dtype=np.uint8)) for n, s in sessions.items()}
runs = {n: (lambda s=s, n=n: s.run(None, {s.get_inputs()[0].name: inputs[n]})) for n, s in sessions.items()}
try:
    import openvino as ov
    core = ov.Core()
    for n, p in paths.items():
        if n.startswith("sharpcam-rt"):
            continue
        req = core.compile_model(core.read_model(p), "CPU", {"INFERENCE_NUM_THREADS": 2, "PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
        runs[f"{n}, OpenVINO"] = (lambda req=req, n=n: req.infer({0: inputs[n]}))
        inputs[f"{n}, OpenVINO"] = inputs[n]
except ImportError:
    print("# (OpenVINO not installed: onnxruntime only)")
times = interleaved_median_ms(runs)
info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
cpu = next((l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name")), platform.machine())
cpu += " (AVX-512 VNNI)" if "avx512_vnni" in info else " (no AVX-512 VNNI)"
print(f"# CPU: {cpu}, 2 threads, 1280x720, median of 11 interleaved rounds")
for n, v in times.items():
    m = next((macs[d] for d in macs if n.startswith(d + " ")), None)
    print(f"{n:42s} {v:6.1f} ms" + (f"   {m:,} MACs/px" if m else ""))
