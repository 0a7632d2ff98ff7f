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
from kd.degrade import add_sensor_noise, bicubic_resize, resize_u8  # noqa: E402
from kd.webcam import image_seed  # noqa: E402
from defocus_s15 import picture_rows  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402

FACTORS = {"x8/3": 8 / 3, "x3.2": 3.2, "x4": 4.0}
DEFAULT_OUT = Path("runs/eval/upscaled-s16.md")


def _up_scaled(factor: float, column: str, noisy: bool):
    def degrade(hr: np.ndarray, name: str) -> np.ndarray:
        h, w = hr.shape[:2]
        small = resize_u8(hr, round(w / factor), round(h / factor), "area")
        if noisy:
            small = add_sensor_noise(small, image_seed(name, column, 0), 2.0, 0.04)
        return bicubic_resize(small, w, h)
    return degrade


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    columns = {case + (" + noise" if noisy else ""): _up_scaled(factor, case + (" + noise" if noisy else ""), noisy)
               for case, factor in FACTORS.items() for noisy in (False, True)}
    rows, n = picture_rows(cards, columns, 24)
    write_table("# Up-scales the resampling figures cannot see: x8/3, x3.2 and x4, with and without sensor noise", rows,
                f"Mean Y-PSNR gain over the up-scaled input (dB), {n} pictures: scikit-image's photos and Set14; "
                "area down, MATLAB-like bicubic up; noise at the small size: read sigma 2, shot gain 0.04 (kd/degrade.py), "
                "seeded per picture and case. (n/m blur): pictures the card's blur model took (the others went to its "
                "default, its alternate, or were passed as sharp).",
                command_line("upscaled_s16.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/upscaled_s16.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
