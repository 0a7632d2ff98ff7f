"""Sitting 14: where the sharp-picture gate is wrong. The gate's `textured` figure (vcam/detect.py) was cut on natural
photographs; line art keeps strong second differences even when blurred, because its lines are one or two pixels
wide. Here scikit-image's bundled line-art and texture pictures (a scanned page, a photo of text, a checkerboard, a
horse silhouette, brick, grass, gravel; in neither this repository nor ../shared) and the ringing card
(kd/webcam.py), each under the webcam benchmark's four cases: the figure, whether the gate passes the picture, and the
gain of the pair with and without its gate, so the cost of each wrong pass is in dB.
A second table, a lead for a next gate and not a choice (looked at here, on these pictures and runs/unseen_s11.py's
photos, never on the training split): the figure of the frame re-blurred (x2 area-down, linear-up) over the figure of
the frame itself, as they are, with sensor noise + MJPG q85 (kd/degrade.py SHARP_CASES), and under the four cases.
Writes runs/eval/lineart-s14.md, or OUT.md: python runs/lineart_s14.py [--out OUT] GATED_PAIR.json UNGATED_PAIR.json
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import skimage.data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import cv2  # noqa: E402

from kd.degrade import SHARP_CASES, WEBCAM_BENCHMARK, modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import y_plane_u8  # noqa: E402
from kd.webcam import SHAVE, image_seed, ringing_card, y_scores  # noqa: E402
from vcam.card import read_card  # noqa: E402
from vcam.detect import textured  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

DEFAULT_OUT = Path("runs/eval/lineart-s14.md")
PICTURES = ("page", "text", "checkerboard", "horse", "brick", "grass", "gravel")
SEED = 0


def picture(name: str) -> np.ndarray:
    if name == "ringing card":
        return ringing_card()[0]
    img = getattr(skimage.data, name)()
    return as_rgb_u8((img.astype(np.uint8) * 255) if img.dtype == bool else img)


def reblur_ratio(y_u8: np.ndarray, step: int) -> float:
    """The textured figure of the plane re-blurred (x2 area-down, linear-up) over the plane's own."""
    h, w = y_u8.shape
    small = cv2.resize(y_u8, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return textured(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), step) / max(textured(y_u8, step), 1e-6)


def ratio_rows(step: int) -> dict[str, dict[str, str]]:
    rows = {}
    for name in (*PICTURES, "ringing card", *PHOTOS):
        hr = np.ascontiguousarray(modcrop(photo_rgb_u8(name) if name in PHOTOS else picture(name), 6))
        inputs = {"as it is": hr, "noise + MJPG q85": SHARP_CASES["noise + MJPG q85"](hr, image_seed(f"skimage/{name}", "noise + MJPG q85", SEED))}
        inputs |= {c: fn(hr, image_seed(f"skimage/{name}", c, SEED)) for c, fn in WEBCAM_BENCHMARK.items()}
        rows[name] = {c: f"{textured(y_plane_u8(v), step):.2f} / {reblur_ratio(y_plane_u8(v), step):.2f}" for c, v in inputs.items()}
    return rows


def main(gated: str, ungated: str, out: Path = DEFAULT_OUT) -> None:
    gate = read_card(gated).gate
    assert gate is not None, f"{gated} has no gate"
    with_gate, without = make_restorer(gated, 2), make_restorer(ungated, 2)
    rows: dict[str, dict[str, str]] = {}
    for name in (*PICTURES, "ringing card"):
        hr = np.ascontiguousarray(modcrop(picture(name), 6))
        y_hr = shave(y_channel_f64(hr), SHAVE)
        rows[name] = {"as it is": f"{textured(y_plane_u8(hr), gate.step):.2f}"}
        for case, fn in WEBCAM_BENCHMARK.items():
            lq = fn(hr, image_seed(f"skimage/{name}", case, SEED))
            figure = textured(y_plane_u8(lq), gate.step)
            base = y_scores(lq, y_hr)[0]
            g0 = y_scores(without.restore(lq), y_hr)[0] - base
            g1 = y_scores(with_gate.restore(lq), y_hr)[0] - base
            rows[name][case] = f"{figure:.2f}{' passed' if with_gate.passes(lq) else ''}: {g0:+.2f} / {g1:+.2f}"
        print(f"{name} done", file=sys.stderr)
    write_table("# The gate on line art and texture (where a single cut on natural photographs is wrong)", rows,
                f"Per picture: the gate's figure (textured, step {gate.step}; cut {gate.above:.4f}"
                + (f", and a re-blur ratio below {gate.reblur_below:.4f}" if gate.reblur_below is not None else "")
                + f"; \"passed\": the gate passes the picture through untouched) as it is and under the webcam benchmark's four cases (seeded per picture), then the "
                f"Y-PSNR gain over the degraded input (dB) without / with the gate. Pair without: {ungated}; with: {gated}.",
                command_line("lineart_s14.py", [gated, ungated], out, DEFAULT_OUT), out)
    first = out.read_text()
    write_table("# A lead: the figure after re-blurring, over the figure (not a choice: looked at on these pictures only)",
                ratio_rows(gate.step), f"Per picture and case: the textured figure (step {gate.step}) / the re-blur ratio. "
                "Line art and textures (scikit-image), the ringing card, and runs/unseen_s11.py's photos.",
                command_line("lineart_s14.py", [gated, ungated], out, DEFAULT_OUT), out)
    out.write_text(first + "\n" + out.read_text())


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if len(args) != 2:
        sys.exit("usage: python runs/lineart_s14.py [--out OUT] GATED_PAIR.json UNGATED_PAIR.json")
    main(args[0], args[1], out)
