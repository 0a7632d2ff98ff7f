"""Sitting 11: the shipped models on pictures that are in neither this repository nor ../shared.

The issue's results are also checked on unseen material. Here that material is scikit-image's bundled
photographs (a PyPI package, never used in training, evaluation or the pair's cuts): the natural ones,
greyscale ones as three equal planes. Two measurements:

1. The webcam benchmark (`sharpcam-kd evaluate --webcam`, the same four seeded degradations, the frozen
   unsharp mask) with these photos as its image set (no clips).
2. Still scenes as a webcam sends them: each of three photos (the astronaut's face, the coffee cup, the
   cameraman) held still for 60 frames, with fresh sensor noise in every frame (read sigma 2, shot gain 0.04,
   kd/degrade.py's model), encoded as one libx264 sequence and decoded (runs/h264_s9.py), four ways: full
   size at CRF 23 and 33, half size at CRF 23 and 33 up-scaled x2 (bicubic). Reference: the clean photo, so
   a still scene gives both the Y-PSNR gain and the still-area flicker (over the pixels the flicker metric
   counts as still: where the input's 5 x 5 mean change stays under 2 levels, most but not all of a frame).

Writes runs/eval/unseen-s11-webcam.{md,json}, unseen-s11-photos.md (the first card per photo) and unseen-s11-still.md
(or PREFIX-webcam, -photos, -still with --out PREFIX).
python runs/unseen_s11.py [--out PREFIX] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import WEBCAM_BENCHMARK, add_sensor_noise, modcrop  # noqa: E402
from kd.evaluate import make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.webcam import SHAVE, DegradedInput, image_seed, load_unsharp, y_scores  # noqa: E402
from h264_s9 import clip_cells, command_line, degrade, out_argument, write_table  # noqa: E402

# skimage.data's natural photographs (the rest are charts, micrographs, text and synthetic images)
PHOTOS = ["astronaut", "camera", "chelsea", "coffee", "rocket", "coins", "clock", "brick", "grass", "gravel", "moon",
          "hubble_deep_field"]
STILL = {"astronaut face": ("astronaut", (0, 128, 320, 320)), "coffee": ("coffee", (0, 0, 400, 600)),
         "cameraman": ("camera", (0, 0, 512, 512))}  # name: (photo, (top, left, height, width))
FRAMES = 60
CASES = {"crf23": (1, 23), "crf33": (1, 33), "x2 crf23": (2, 23), "x2 crf33": (2, 33)}


def photo_rgb_u8(name: str) -> np.ndarray:
    import skimage.data

    im = getattr(skimage.data, name)()
    return np.ascontiguousarray(np.stack([im] * 3, axis=-1) if im.ndim == 2 else im[..., :3])


def still_clip(rgb_u8: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    return [add_sensor_noise(rgb_u8, rng, 2.0, 0.04) for _ in range(FRAMES)]


DEFAULT_OUT = Path("runs/eval/unseen-s11.md")  # a prefix: unseen-s11-webcam, -photos, -still


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    prefix, command = str(out.with_suffix("")), command_line("unseen_s11.py", cards, out, DEFAULT_OUT)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "skimage-photos"
        folder.mkdir()
        for name in PHOTOS:
            Image.fromarray(photo_rgb_u8(name)).save(folder / f"{name}.png")
        subprocess.run(["sharpcam-kd", "evaluate", "--webcam", *cards, "--set", str(folder), "--no-clips",
                        "--out", f"{prefix}-webcam"], check=True)
        for f in (Path(f"{prefix}-webcam.md"), Path(f"{prefix}-webcam.json")):  # the folder is gone after this
            f.write_text(f.read_text().replace(str(folder), "skimage-photos (written by runs/unseen_s11.py)"))

    cfg = WebcamBenchConfig()
    methods = [DegradedInput(), load_unsharp(cfg.unsharp)] + [make_restorer(c, 2) for c in cards]
    # which photos the first card gains least on (the benchmark's JSON keeps only each column's minimum)
    per_photo: dict[str, dict[str, str]] = {}
    for name in PHOTOS:
        hr = modcrop(photo_rgb_u8(name), 6)
        per_photo[name] = {}
        for d in ("x2", "x2+jpeg40"):
            lq = WEBCAM_BENCHMARK[d](hr, image_seed(f"skimage-photos/{name}.png", d, 0))  # these two draw no noise
            y_hr = shave(y_channel_f64(hr), SHAVE)
            per_photo[name][d] = f"{y_scores(methods[2].restore(lq), y_hr)[0] - y_scores(lq, y_hr)[0]:+.2f}"
    write_table(f"# {methods[2].label} per photo (Y-PSNR gain over the degraded input, dB)", per_photo,
                "The webcam benchmark's degradations, seeded as there.", command, Path(f"{prefix}-photos.md"))
    rows: dict[str, dict[str, str]] = {m.label: {} for m in methods}
    for i, (scene, (name, (top, left, h, w))) in enumerate(STILL.items()):
        ref = modcrop(photo_rgb_u8(name)[top : top + h, left : left + w], 4)
        y_ref = shave(y_channel_f64(ref), SHAVE)
        noisy = still_clip(ref, np.random.default_rng(i))
        for case, (factor, crf) in CASES.items():
            for label, cell in clip_cells(methods, degrade(noisy, factor, crf), [y_ref] * FRAMES, cfg.still_threshold).items():
                rows[label][f"{scene} {case}"] = cell
            print(f"{scene} {case} done", file=sys.stderr)
    write_table("# Still scenes from scikit-image's photos: sensor noise per frame, then real H.264 (libx264)", rows,
                f"Y-PSNR gain over the decoded input (dB) against the clean photo / still-area flicker (1.00 = none added), "
                f"{FRAMES} frames; x2: encoded at half size, up-scaled x2 (bicubic). (n/m alt.): frames a pair's switch sent "
                "to its alternate (per frame, no hysteresis).",
                command, Path(f"{prefix}-still.md"))


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/unseen_s11.py [--out PREFIX] CARD.json [MORE_CARDS ...]")
    main(args, out)
