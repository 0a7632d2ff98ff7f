# Quality of the runtime path at reduced work size (what the frame-rate hold does on a slow machine):
# 6 frames of the shared 720p clip through the webcam benchmark's four degradations, each processed by
# vcam's FrameProcessor (the daemon's own code) at the given work size and scaled back up; Y-PSNR gain
# in dB over the degraded input. python runs/worksize_quality.py > runs/worksize_quality.md
import sys, numpy as np, cv2
sys.path.insert(0, '.')
from pathlib import Path
from vcam.config import DaemonConfig
from vcam.engine import load_engine
from vcam.processor import FrameProcessor
from kd.webcam import read_clip, degraded_inputs, y_scores, SHAVE
from kd.metrics import y_channel_f64, shave
from kd.degrade import modcrop
frames = []
for clip in ("../shared/video/talking_720p.mp4",):
    fr = read_clip(Path(clip), 10_000, 1 << 14)
    frames += [fr[i] for i in np.linspace(0, len(fr) - 1, 6).round().astype(int)]
cases = [("sharpcam-rt-int8", None), ("sharpcam-cs", None), ("sharpcam-cs", (960, 540)), ("sharpcam-cs", (640, 360))]
res = {}
for model, work in cases:
    cfg = DaemonConfig(model=model, work_size=work, output="null", threads=2)
    eng = load_engine(model, "cpu", 2)
    gains = {}
    for k, rgb in enumerate(frames):
        hr = modcrop(rgb, 6)
        y_hr = shave(y_channel_f64(hr), SHAVE)
        for d, lq in degraded_inputs(hr, f"f{k}", 0).items():
            bgr = np.ascontiguousarray(lq[..., ::-1])
            proc = FrameProcessor(cfg, eng, (bgr.shape[1], bgr.shape[0]), offline=True)
            out = proc.process(bgr, np.empty_like(bgr))[..., ::-1]
            p0, _ = y_scores(lq, y_hr); p, _ = y_scores(np.ascontiguousarray(out), y_hr)
            gains.setdefault(d, []).append(p - p0)
    res[f"{model} @ {work or 'full'}"] = {d: float(np.mean(v)) for d, v in gains.items()}
print("| model @ work size | x2 | x2+jpeg40 | blur1.2+noise4+jpeg60 | x3 |")
print("|---|---|---|---|---|")
for k, v in res.items():
    print(f"| {k} | " + " | ".join(f"{g:+.2f}" for g in v.values()) + " |")
