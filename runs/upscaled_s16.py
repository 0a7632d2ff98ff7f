"""Sitting 16: where a card's lens-blur model (vcam/detect.py BlurSwitch with `lens_only`) may take frames it is not
for: pictures up-scaled by a factor whose period the resampling figures cannot see (x8/3, x3.2, x4: their frequencies
fall on the codec grids' that the periodic figure leaves out; README "Sitting 16"), e.g. a call's 1280x720 from a
480x270, 400x225 or 320x180 stream. scikit-image's photos (runs/unseen_s11.py; in neither this repository nor ../shared)
and Set14, each area-down by the factor and MATLAB-like bicubic back up, with and without sensor noise at the small size
(read sigma 2, shot gain 0.04, seeded per picture): per card the mean Y-PSNR gain over the up-scaled input (dB) and the
pictures its blur model took, beside the frozen unsharp mask. Part of runs/results_s16.sh's rule.
Writes runs/eval/upscaled-s16.md, or OUT.md: python runs/upscaled_s16.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import add_sensor_noise, bicubic_resize, modcrop, resize_u8  # noqa: E402
from kd.evaluate import as_rgb_u8, list_images, load_hr_u8, make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import SwitchedRestorer  # noqa: E402
from kd.webcam import SHAVE, image_seed, load_unsharp, y_scores  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

FACTORS = {"x8/3": 8 / 3, "x3.2": 3.2, "x4": 4.0}
DEFAULT_OUT = Path("runs/eval/upscaled-s16.md")


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    methods = [load_unsharp(cfg.unsharp)] + [make_restorer(c, 2) for c in cards]
    pictures = [(f"skimage-photos/{n}", photo_rgb_u8(n)) for n in PHOTOS]
    pictures += [(f"Set14/{f.name}", as_rgb_u8(load_hr_u8(f))) for s in cfg.sets if Path(s).name == "Set14" for f in list_images(s)]
    rows: dict[str, dict[str, str]] = {m.label: {} for m in methods}
    for case, factor in FACTORS.items():
        for noisy in (False, True):
            column = case + (" + noise" if noisy else "")
            gains: dict[str, list[float]] = {m.label: [] for m in methods}
            for m in methods:
                if isinstance(m, SwitchedRestorer):
                    m.chosen = [0] * len(m.chosen)
            for name, rgb in pictures:
                hr = modcrop(rgb, 24)
                h, w = hr.shape[:2]
                small = resize_u8(hr, round(w / factor), round(h / factor), "area")
                if noisy:
                    small = add_sensor_noise(small, image_seed(name, column, 0), 2.0, 0.04)
                lq = bicubic_resize(small, w, h)
                y_hr = shave(y_channel_f64(hr), SHAVE)
                base = y_scores(lq, y_hr)[0]
                for m in methods:
                    gains[m.label].append(y_scores(m.restore(lq), y_hr)[0] - base)
            for m in methods:
                cell = f"{np.mean(gains[m.label]):+.2f}"
                if isinstance(m, SwitchedRestorer) and m.blur is not None:
                    cell += f" ({m.chosen[2]}/{len(pictures)} blur)"
                rows[m.label][column] = cell
            print(f"{column} done", file=sys.stderr)
    write_table("# Up-scales the resampling figures cannot see: x8/3, x3.2 and x4, with and without sensor noise", rows,
                f"Mean Y-PSNR gain over the up-scaled input (dB), {len(pictures)} pictures: scikit-image's photos and Set14; "
                "area down, MATLAB-like bicubic up; noise at the small size: read sigma 2, shot gain 0.04 (kd/degrade.py), "
                "seeded per picture and case. (n/m blur): pictures the card's blur model took (the others went to its "
                "default, its alternate, or were passed as sharp).",
                command_line("upscaled_s16.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/upscaled_s16.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
