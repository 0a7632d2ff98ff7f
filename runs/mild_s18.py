"""Sitting 18: mild up-scales. A camera or a stream a little below the frame's size (540p or 576p shown at 720p, 720p at
900p) is up-scaled by x1.25-x1.5, far less than the x2 the benchmark measures. Here scikit-image's photos
(runs/unseen_s11.py; in neither this repository nor ../shared) and Set14, each down-scaled by x1.25, x4/3 and x1.5
(MATLAB-like bicubic) and by x4/3 and x1.5 (area, then sensor noise at that size: read sigma 2, shot gain 0.04, seeded per
picture; kd/degrade.py's RESAMPLED_CASES recipe) and up-scaled back (bicubic): per card the mean Y-PSNR gain over the
up-scaled input (dB, three decimals), through the card as the runtime runs one picture, beside the frozen unsharp mask.
The columns of runs/results_s18.sh's rule, part (0). Writes runs/eval/mild-s18.md, or OUT.md:
python runs/mild_s18.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.degrade import _area_down_bicubic_up, bicubic_resize  # noqa: E402
from kd.webcam import image_seed  # noqa: E402
from defocus_s15 import picture_rows  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402

DEFAULT_OUT = Path("runs/eval/mild-s18.md")
FACTORS = {"x1.25": 1.25, "x4/3": 4 / 3, "x1.5": 1.5}
NOISY = ("x4/3", "x1.5")


def _bicubic(factor: float):
    def degrade(hr: np.ndarray, name: str) -> np.ndarray:
        h, w = hr.shape[:2]
        return bicubic_resize(bicubic_resize(hr, round(w / factor), round(h / factor)), w, h)
    return degrade


def _area_noise(factor: float, column: str):
    return lambda hr, name: _area_down_bicubic_up(hr, factor, image_seed(name, column, 0))


def mild_columns() -> dict:
    """The five columns -> function of (HR picture, its name) -> the up-scaled picture."""
    columns = {name: _bicubic(f) for name, f in FACTORS.items()}
    columns |= {f"{name} area + noise": _area_noise(FACTORS[name], f"{name} area + noise") for name in NOISY}
    return columns


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    rows, n = picture_rows(cards, mild_columns(), 12, decimals=3)
    write_table("# Mild up-scales: x1.25 to x1.5", rows,
                f"Mean Y-PSNR gain over the up-scaled input (dB), {n} pictures: scikit-image's photos and Set14 (sides cut to "
                "multiples of 12), down-scaled (bicubic, or area with sensor noise: read sigma 2, shot gain 0.04, seeded per "
                "picture and column) and up-scaled back (bicubic). (n/m blur): pictures the card's blur model took.",
                command_line("mild_s18.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/mild_s18.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
