"""Sitting 17: the webcam benchmark on the two natural photos that ship in this project's dependencies and that no
earlier measurement used: scikit-image's motorcycle (the left view of its stereo pair) and matplotlib's portrait of
Grace Hopper (a JPEG). runs/unseen_s11.py's twelve photos are the unseen set every sitting since 11 has read, and
sitting 17's rules (runs/results_s17.sh, results_s17b.sh) judge by its x3 margin; these two were read only after those
rules had been applied, as a check. Two pictures are too few for a mean to settle anything: read the per-picture rows.
Writes runs/eval/unseen2-s17.{md,json}, or OUT.md / OUT.json.
python runs/unseen2_s17.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from h264_s9 import out_argument  # noqa: E402

DEFAULT_OUT = Path("runs/eval/unseen2-s17.md")


def photos() -> dict[str, np.ndarray]:
    import matplotlib.cbook
    import skimage.data

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        hopper = np.asarray(Image.open(f).convert("RGB"))
    return {"motorcycle_left": skimage.data.stereo_motorcycle()[0], "grace_hopper": hopper}


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    prefix = str(out.with_suffix(""))
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name).resolve()  # as evaluate names the folders, so the replace below finds them
        sets = []
        for name, rgb in photos().items():  # a folder (a set) per photo, so the per-set table is per picture
            folder = tmp / name
            folder.mkdir()
            Image.fromarray(np.ascontiguousarray(rgb[..., :3])).save(folder / f"{name}.png")
            sets += ["--set", str(folder)]
        subprocess.run(["sharpcam-kd", "evaluate", "--webcam", *cards, *sets, "--no-clips", "--out", prefix], check=True)
        for f in (Path(f"{prefix}.md"), Path(f"{prefix}.json")):  # the folders are gone after this
            f.write_text(f.read_text().replace(str(tmp) + "/", "").replace(
                "--no-clips", "--no-clips (folders written by runs/unseen2_s17.py)"))


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/unseen2_s17.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
