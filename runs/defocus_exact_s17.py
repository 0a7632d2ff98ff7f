"""Sitting 17: runs/defocus_s15.py's table (blur without down-scaling, ten columns) with four decimals. Its two-decimal
table printed +1.82 for both the unsharp mask and a card on Gaussian sigma 1, where runs/results_s17.sh's part (7) asks
for every column above the unsharp mask; the unrounded means settle it. Writes runs/eval/defocus-exact-s17.md, or OUT.md.
python runs/defocus_exact_s17.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from defocus_s15 import defocus_columns, picture_rows  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402

DEFAULT_OUT = Path("runs/eval/defocus-exact-s17.md")


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    rows, n = picture_rows(cards, defocus_columns(), 4, decimals=4)
    write_table("# Blur without down-scaling, unrounded: runs/defocus_s15.py's table with four decimals", rows,
                f"Mean Y-PSNR gain over the blurred input (dB), {n} pictures: scikit-image's photos and Set14, as "
                "runs/defocus_s15.py (the same pictures, seeds and cards).", command_line("defocus_exact_s17.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/defocus_exact_s17.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
