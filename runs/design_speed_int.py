# Model-only onnxruntime latency at 720p (2 threads, as the daemon runs it; interleaved rounds) of
# x4-grid collapsible designs as all-integer int8 (kd quantize with integer ends, as the sitting-4
# default ships), untrained weights (speed does not depend on them), beside the shipped models: what a
# larger student would cost now that the float ends are gone. python runs/design_speed_int.py
import os, sys; sys.path.insert(0, os.getcwd())
import platform, time, numpy as np, torch, onnxruntime as ort
from pathlib import Path
from kd.checkpoint import atomic_save
from kd.config import ExportConfig, QuantizeConfig
from kd.export import export
from kd.models import build_model, describe
from kd.quantize import quantize
torch.manual_seed(0)
designs = {"x4-w32-d4": dict(width=32, depth=4), "x4-w32-d6": dict(width=32, depth=6),
           "x4-w48-d4": dict(width=48, depth=4), "x4-w64-d3": dict(width=64, depth=3)}
out = Path(os.environ.get("TMPDIR", "/tmp")) / "sharpcam-designs-int"; out.mkdir(exist_ok=True)
paths = {"sharpcam-rt-int8": "export/sharpcam-rt-int8.onnx", "sitting-3 int8 (float ends)": "runs/onnx/cs4-int8-s3.onnx"}
macs = {}
for name, a in designs.items():
    args = dict(scale=4, kernel=3, outer_kernel=3, expand=16, **a)
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
times = {n: [] for n in sessions}
for _ in range(7):
    for n, s in sessions.items():
        name = s.get_inputs()[0].name
        s.run(None, {name: inputs[n]})
        t = time.perf_counter(); s.run(None, {name: inputs[n]}); times[n].append(1000 * (time.perf_counter() - t))
print(f"# CPU: {platform.processor() or platform.machine()}, 2 threads, 1280x720, median of 7 interleaved rounds")
for n, v in times.items():
    m = next((macs[d] for d in macs if n.startswith(d + " ")), None)
    print(f"{n:32s} {np.median(v):6.1f} ms" + (f"   {m:,} MACs/px" if m else ""))
