# Quality of the runtime path at reduced work size (what the frame-rate hold does on a slow machine):
# 6 frames of the shared 720p clip through the webcam benchmark's four degradations, each processed by
# vcam's FrameProcessor (the daemon's own code) at the given work size and scaled back up; gain in dB of
# the PSNR of the luma the device gets (the I420 Y plane) over the degraded input's. RGB models scale their output picture back up; Y-plane models (card v2)
# add their up-scaled change to the full-size Y, keeping the camera's own detail.
# python runs/worksize_quality.py [MODEL ...] > runs/worksize_quality.md
import sys, numpy as np, cv2
sys.path.insert(0, '.')
from pathlib import Path
from vcam.config import DaemonConfig
from vcam.engine import load_engine
from vcam.processor import FrameProcessor
from kd.webcam import read_clip, degraded_inputs, SHAVE
from kd.metrics import psnr, y_channel_f64, shave


def device_luma(frame_u8):
    """The I420 Y plane of a finished frame (BGR ones are converted as the camera sink converts them)."""
    i420 = frame_u8 if frame_u8.ndim == 2 else cv2.cvtColor(frame_u8, cv2.COLOR_BGR2YUV_I420)
    return shave(i420[: i420.shape[0] * 2 // 3].astype(np.float64), SHAVE)

from kd.degrade import modcrop
frames = []
for clip in ("../shared/video/talking_720p.mp4",):
    fr = read_clip(Path(clip), 10_000, 1 << 14)
    frames += [fr[i] for i in np.linspace(0, len(fr) - 1, 6).round().astype(int)]
models = sys.argv[1:] or ["sharpcam-rt-int8", "sharpcam-cs"]
cases = [(models[0], None)] + [(m, w) for m in models[1:] for w in (None, (960, 540), (640, 360))]
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
            out = proc.process(bgr, proc.new_output())
            p0, p = psnr(device_luma(bgr), y_hr), psnr(device_luma(out), y_hr)
            gains.setdefault(d, []).append(p - p0)
    res[f"{Path(model).stem} @ {work or 'full'}"] = {d: float(np.mean(v)) for d, v in gains.items()}
print("| model @ work size | x2 | x2+jpeg40 | blur1.2+noise4+jpeg60 | x3 |")
print("|---|---|---|---|---|")
for k, v in res.items():
    print(f"| {k} | " + " | ".join(f"{g:+.2f}" for g in v.values()) + " |")
