"""Sitting 15, a lead for a next sitting (measured, not a choice): which figure of the Y plane tells a frame up-scaled
from a smaller one from a frame blurred by its lens, the two kinds of "strongly blurred" frame that the gate's textured
figure puts together (README "Sitting 15") and that want different models. On every third picture of the training
split (never evaluation images), under down-up resampling at x2.5 / x3 / x3.5 (area down, bicubic up; x3 also the
benchmark's MATLAB-like bicubic both ways) and under Gaussian blur (sigma 1.5, 2) and disc defocus (radius 2, 3) at
full size, each with and without sensor noise (read sigma 2, shot gain 0.04, seeded per picture), the 5th / 50th /
95th percentile over the pictures of:
- textured 8: the gate's figure (vcam/detect.py Texture);
- re-blur: the re-blur ratio (vcam/detect.py Reblur);
- textured 2: the same figure counting steps of 2 grey levels and more;
- fine/coarse: mean |first difference| at 1 px over half the mean |difference| at 2 px (rows and columns). A lens
  blur's profile is smooth at every scale; an up-scale's finest pixels are interpolated, so its 1 px differences are
  closer to half its 2 px ones.
Writes runs/eval/resample-figure-s15.md, or OUT.md: python runs/resample_figure_s15.py [--out OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.degrade import add_sensor_noise, bicubic_down_up, bicubic_resize, defocus_blur, gaussian_blur, modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, load_hr_u8, read_list_file  # noqa: E402
from kd.switch import y_plane_u8  # noqa: E402
from kd.webcam import image_seed  # noqa: E402
from vcam.detect import reblur_ratio, textured  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402

DEFAULT_OUT = Path("runs/eval/resample-figure-s15.md")


def area_bicubic(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, round(w / factor)), max(1, round(h / factor))), interpolation=cv2.INTER_AREA)
    return bicubic_resize(small, w, h)


CASES = {
    "x2.5 area": lambda hr: area_bicubic(hr, 2.5), "x3 area": lambda hr: area_bicubic(hr, 3.0),
    "x3.5 area": lambda hr: area_bicubic(hr, 3.5), "x3 bicubic": lambda hr: bicubic_down_up(hr, 3),
    "gauss 1.5": lambda hr: gaussian_blur(hr, 1.5), "gauss 2": lambda hr: gaussian_blur(hr, 2.0),
    "disc 2": lambda hr: defocus_blur(hr, 2), "disc 3": lambda hr: defocus_blur(hr, 3),
}


def fine_over_coarse(y_u8: np.ndarray) -> float:
    y = y_u8.astype(np.float32)
    d1 = np.abs(np.diff(y, axis=1)).mean() + np.abs(np.diff(y, axis=0)).mean()
    d2 = np.abs(y[:, 2:] - y[:, :-2]).mean() + np.abs(y[2:] - y[:-2]).mean()
    return float(d1 / max(d2 / 2, 1e-6))


FIGURES = {"textured 8": lambda y: textured(y, 8), "re-blur": lambda y: reblur_ratio(y, 8),
           "textured 2": lambda y: textured(y, 2), "fine/coarse": fine_over_coarse}


def main(out: Path = DEFAULT_OUT) -> None:
    values: dict[str, dict[str, list[float]]] = {}
    for f in read_list_file("runs/split/train.txt")[::3]:
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 6)
        for case, fn in CASES.items():
            lq = fn(hr)
            for noisy in (False, True):
                name = case + (" + noise" if noisy else "")
                x = add_sensor_noise(lq, image_seed(f"train/{f.name}", name, 0), 2.0, 0.04) if noisy else lq
                y = y_plane_u8(x)
                for fig, measure in FIGURES.items():
                    values.setdefault(name, {}).setdefault(fig, []).append(measure(y))
    rows = {name: {fig: " / ".join(f"{v:.2f}" for v in np.percentile(vals, [5, 50, 95])) for fig, vals in figs.items()}
            for name, figs in values.items()}
    n = len(next(iter(next(iter(values.values())).values())))
    write_table("# Resampled or lens-blurred: candidate figures on the training split (5th / 50th / 95th percentile)", rows,
                f"{n} pictures (every third of runs/split/train.txt). area: OpenCV area down, MATLAB-like bicubic up; "
                "noise: read sigma 2, shot gain 0.04. A lead, not a choice.", command_line("resample_figure_s15.py", [], out, DEFAULT_OUT).rstrip(), out)


if __name__ == "__main__":
    _, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    main(out)
