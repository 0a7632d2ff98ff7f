"""Sitting 15: where a card's blur model (vcam/detect.py BlurSwitch) also takes frames: blur without down-scaling. A
camera out of focus sends a full-size picture blurred by its lens; the blur switch's textured figure reads such a
frame as strongly blurred when the blur is strong enough, and the frame then goes to the model trained for x3. Here
scikit-image's photos (runs/unseen_s11.py; in neither this repository nor ../shared) and Set14, each under Gaussian
blur (sigma 1.0, 1.5, 2.0) and disc defocus (radius 2, 3; kd/degrade.py), with and without sensor noise (read sigma 2,
shot gain 0.04, seeded per picture): per card the mean Y-PSNR gain over the blurred input (dB) and the pictures its
blur model took, beside the frozen unsharp mask. Reported beside runs/results_s15.sh's rule, not part of it.
Writes runs/eval/defocus-s15.md, or OUT.md: python runs/defocus_s15.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import add_sensor_noise, defocus_blur, gaussian_blur, modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, list_images, load_hr_u8, make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import SwitchedRestorer  # noqa: E402
from kd.webcam import SHAVE, image_seed, load_unsharp, y_scores  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

CASES = {**{f"gauss {s:g}": (gaussian_blur, s) for s in (1.0, 1.5, 2.0)}, **{f"disc {r:g}": (defocus_blur, r) for r in (2, 3)}}
DEFAULT_OUT = Path("runs/eval/defocus-s15.md")


def picture_rows(cards: list[str], columns: dict, modulus: int, decimals: int = 2) -> tuple[dict[str, dict[str, str]], int]:
    """Per method (the frozen unsharp mask, then each card) and column: the mean Y-PSNR gain over the degraded input of
    scikit-image's photos and Set14 (modcropped to `modulus`), "(n/m blur)" added for a card with a blur model.
    `columns`: name -> function of (HR picture, its name) -> the degraded picture; `decimals`: of the gains (a rule's
    bound can fall between two cards that read the same at 2). Returns (rows, pictures)."""
    cfg = WebcamBenchConfig()
    methods = [load_unsharp(cfg.unsharp)] + [make_restorer(c, 2) for c in cards]
    pictures = [(f"skimage-photos/{n}", photo_rgb_u8(n)) for n in PHOTOS]
    pictures += [(f"Set14/{f.name}", as_rgb_u8(load_hr_u8(f))) for s in cfg.sets if Path(s).name == "Set14" for f in list_images(s)]
    rows: dict[str, dict[str, str]] = {m.label: {} for m in methods}
    for column, degrade in columns.items():
        gains: dict[str, list[float]] = {m.label: [] for m in methods}
        for m in methods:
            if isinstance(m, SwitchedRestorer):
                m.chosen = [0] * len(m.chosen)
        for name, rgb in pictures:
            hr = modcrop(rgb, modulus)
            lq = degrade(hr, name)
            y_hr = shave(y_channel_f64(hr), SHAVE)
            base = y_scores(lq, y_hr)[0]
            for m in methods:
                gains[m.label].append(y_scores(m.restore(lq), y_hr)[0] - base)
        for m in methods:
            cell = f"{np.mean(gains[m.label]):+.{decimals}f}"
            if isinstance(m, SwitchedRestorer) and m.blur is not None:
                cell += f" ({m.chosen[2]}/{len(pictures)} blur)"
            rows[m.label][column] = cell
        print(f"{column} done", file=sys.stderr)
    return rows, len(pictures)


def _blurred(blur, strength: float, column: str, noisy: bool):
    def degrade(hr: np.ndarray, name: str) -> np.ndarray:
        lq = blur(hr, strength)
        return add_sensor_noise(lq, image_seed(name, column, 0), 2.0, 0.04) if noisy else lq
    return degrade


def defocus_columns() -> dict:
    """The ten columns: each case of CASES, without and with sensor noise -> function of (HR picture, its name)."""
    return {case + (" + noise" if noisy else ""): _blurred(blur, strength, case + (" + noise" if noisy else ""), noisy)
            for case, (blur, strength) in CASES.items() for noisy in (False, True)}


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    rows, n = picture_rows(cards, defocus_columns(), 4)
    write_table("# Blur without down-scaling: Gaussian and disc defocus, with and without sensor noise", rows,
                f"Mean Y-PSNR gain over the blurred input (dB), {n} pictures: scikit-image's photos and Set14; "
                "noise: read sigma 2, shot gain 0.04 (kd/degrade.py), seeded per picture and case. (n/m blur): pictures the "
                "card's blur model took (the others went to its default, its alternate, or were passed as sharp).",
                command_line("defocus_s15.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/defocus_s15.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
