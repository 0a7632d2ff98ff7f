"""Sitting 18: mild up-scales. A camera or a stream a little below the frame's size (540p or 576p shown at 720p, 720p at
900p) is up-scaled by x1.25-x1.5, far less than the x2 the benchmark measures. Here scikit-image's photos
(runs/unseen_s11.py; in neither this repository nor ../shared) and Set14, each down-scaled by x1.25, x4/3 and x1.5
(MATLAB-like bicubic) and by x4/3 and x1.5 (area, then sensor noise at that size: read sigma 2, shot gain 0.04, seeded per
picture; kd/degrade.py MILD_CASES) and up-scaled back (bicubic): per card the mean Y-PSNR gain over the
up-scaled input (dB, three decimals), through the card as the runtime runs one picture, beside the frozen unsharp mask.
The columns of runs/results_s18.sh's rule, part (0). Writes runs/eval/mild-s18.md, or OUT.md:
python runs/mild_s18.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.degrade import MILD_CASES  # noqa: E402
from kd.webcam import image_seed  # noqa: E402
from defocus_s15 import picture_rows  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402

DEFAULT_OUT = Path("runs/eval/mild-s18.md")
COLUMNS = ("x1.25", "x4/3", "x1.5", "x4/3 area + noise", "x1.5 area + noise")  # kd/degrade.py MILD_CASES but x1.75


def _column(name: str):
    return lambda hr, picture: MILD_CASES[name](hr, image_seed(picture, name, 0))


def mild_columns() -> dict:
    """The five columns -> function of (HR picture, its name) -> the up-scaled picture."""
    return {name: _column(name) for name in COLUMNS}


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
