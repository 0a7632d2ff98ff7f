"""Sitting 12: what the models do to a picture that is already sharp.

Every training mix here is mostly blurred (the default's: 4 % of its pictures never resized nor blurred), and
the webcam benchmark's four cases are all blurred. A good camera in good light, or a 1080p camera that the
runtime works on at 720p, gives the model a sharp picture with only sensor noise and its codec's marks. Here
scikit-image's 12 natural photographs (in neither this repository nor ../shared; a top-left crop of up to
384 x 384 px each)
are kept at full size and given: sensor noise (read sigma 2, shot gain 0.04, seeded per photo), MJPG q85,
both, and one H.264 intra frame at CRF 23 after the noise. Per method: the mean Y-PSNR gain over that input
against the clean photo (the benchmark's Y BT.601, 3 px shaved) and the worst photo's.
Also a picture, OUT.png: the astronaut's face under "noise + MJPG q85", each method, the centre enlarged 3x below.
Writes runs/eval/sharp-s12.md and .png, or OUT.md and OUT.png:
python runs/sharp_s12.py [--out OUT] CARD_OR_CHECKPOINT [MORE ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import SHARP_CASES as CASES, modcrop  # noqa: E402
from kd.evaluate import make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.plots import comparison_grid  # noqa: E402
from kd.webcam import SHAVE, DegradedInput, load_unsharp, y_scores  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

DEFAULT_OUT = Path("runs/eval/sharp-s12.md")
CROP = 384

# the cases (kd/degrade.py SHARP_CASES since sitting 14, unchanged)


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    methods = [DegradedInput(), load_unsharp(WebcamBenchConfig().unsharp)] + [make_restorer(c, 2) for c in cards]
    gains: dict[str, dict[str, list[float]]] = {m.label: {c: [] for c in CASES} for m in methods}
    for i, name in enumerate(PHOTOS):
        hr = modcrop(photo_rgb_u8(name), 4)[:CROP, :CROP]
        y_hr = shave(y_channel_f64(hr), SHAVE)
        for case, fn in CASES.items():
            lq = fn(hr, np.random.default_rng(i))
            base = y_scores(lq, y_hr)[0]
            for m in methods:
                gains[m.label][case].append(y_scores(m.restore(lq), y_hr)[0] - base)
        print(f"{name} done", file=sys.stderr)
    face_picture(methods, out.with_suffix(".png"))
    rows = {label: {c: f"{np.mean(v):+.2f} (worst {min(v):+.2f})" for c, v in by_case.items()}
            for label, by_case in gains.items()}
    write_table("# Sharp pictures at full size: sensor noise and a codec only", rows,
                f"Y-PSNR gain over the input (dB) against the clean photo: mean over scikit-image's {len(PHOTOS)} photos "
                f"({CROP} px top-left crops) and the worst photo. Noise: read sigma 2, shot gain 0.04, seeded per photo.",
                command_line("sharp_s12.py", cards, out, DEFAULT_OUT), out)


def face_picture(methods: list, path: Path, zoom: int = 3) -> None:
    """The astronaut's face (a 240 px crop), sharp, under sensor noise + MJPG q85, through each method."""
    hr = np.ascontiguousarray(photo_rgb_u8("astronaut")[20:260, 150:390])
    lq = CASES["noise + MJPG q85"](hr, np.random.default_rng(0))
    row = {"sharp original": hr} | {("input: noise + MJPG q85" if isinstance(m, DegradedInput) else m.label): m.restore(lq)
                                    for m in methods}
    h, w = hr.shape[:2]
    ch, cw = h // zoom, w // zoom
    y, x = (h - ch) // 2, (w - cw) // 2
    enlarged = {k: np.repeat(np.repeat(v[y : y + ch, x : x + cw], zoom, 0), zoom, 1) for k, v in row.items()}
    comparison_grid([row, enlarged], path, "a sharp picture with sensor noise and MJPG q85 (centre enlarged below)")


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/sharp_s12.py [--out OUT] CARD_OR_CHECKPOINT [MORE ...]")
    main(args, out)
