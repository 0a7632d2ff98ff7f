"""Sitting 12: would a halo limiter mend what the models do to sharp pictures? The default's Y clamped to its input's
3 x 3 range widened by a margin of m grey levels (as limited sharpeners do), on the sharp pictures of
runs/sharp_s12.py and on the webcam benchmark's four degradations of Set5 + Set14 (seeded as `kd evaluate --webcam`).
Y-PSNR gain over the input (Y BT.601, 3 px shaved), mean over pictures, per margin ("none": the model as it is).
Writes runs/eval/clamp-s12.md, or OUT.md: python runs/clamp_s12.py [--out OUT] CARD.json
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import SHARED_DATASETS  # noqa: E402
from kd.degrade import WEBCAM_BENCHMARK, modcrop  # noqa: E402
from kd.evaluate import make_restorer  # noqa: E402
from kd.metrics import psnr, shave, y_channel_f64  # noqa: E402
from kd.webcam import SHAVE, image_seed  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from sharp_s12 import CASES, CROP  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

DEFAULT_OUT = Path("runs/eval/clamp-s12.md")
MARGINS = (None, 0, 2, 4, 8)
KERNEL = np.ones((3, 3), np.uint8)


def gains(restorer, pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
    out: dict[str, list[float]] = {("none" if m is None else f"m = {m}"): [] for m in MARGINS}
    for hr, lq in pairs:
        y_hr = shave(y_channel_f64(hr), SHAVE)
        y_in, y_out = y_channel_f64(lq), y_channel_f64(restorer.restore(lq))
        base = psnr(shave(y_in, SHAVE), y_hr)
        for m, key in zip(MARGINS, out):
            y = y_out if m is None else np.clip(y_out, cv2.erode(y_in, KERNEL) - m, cv2.dilate(y_in, KERNEL) + m)
            out[key].append(psnr(shave(y, SHAVE), y_hr) - base)
    return {k: float(np.mean(v)) for k, v in out.items()}


def main(card: str, out: Path = DEFAULT_OUT) -> None:
    restorer = make_restorer(card, 2)
    rows: dict[str, dict[str, str]] = {}
    for case, fn in CASES.items():
        pairs = []
        for i, name in enumerate(PHOTOS):
            hr = modcrop(photo_rgb_u8(name), 4)[:CROP, :CROP]
            pairs.append((hr, fn(hr, np.random.default_rng(i))))
        rows[f"sharp: {case}"] = {k: f"{v:+.2f}" for k, v in gains(restorer, pairs).items()}
    files = [f for s in ("Set5", "Set14") for f in sorted((SHARED_DATASETS / "eval" / s).glob("*.png"))]
    for d, fn in WEBCAM_BENCHMARK.items():
        pairs = []
        for f in files:
            hr = modcrop(np.asarray(Image.open(f).convert("RGB")), 6)
            pairs.append((hr, fn(hr, image_seed(f"{f.parent.name}/{f.name}", d, 0))))
        rows[f"Set5 + Set14: {d}"] = {k: f"{v:+.2f}" for k, v in gains(restorer, pairs).items()}
    write_table(f"# {restorer.label}'s Y clamped to its input's 3 x 3 range + m grey levels", rows,
                "Y-PSNR gain over the input (dB), mean over pictures; sharp: scikit-image's 12 photos as runs/sharp_s12.py.",
                command_line("clamp_s12.py", [card], out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if len(args) != 1:
        sys.exit("usage: python runs/clamp_s12.py [--out OUT] CARD.json")
    main(args[0], out)
