"""Sitting 16, a lead for a next sitting (measured, not a choice): does a lens-blurred frame keep a noise floor that an
up-scaled one lacks? A camera's sensor noise is added at full resolution after its lens blurs the picture, so it reaches
the highest frequencies. In a frame up-scaled from a smaller one, the noise was added at the small size and then
interpolated, so nothing is left above the small size's Nyquist frequency. The resampling figures (vcam/detect.py
Resampling) lose the up-scale's pattern through a codec at the small size (README "Sitting 16"); this figure looks
elsewhere. Per picture of every fourth of the training split (never evaluation images; 128 px a side or more), under
kd/degrade.py RESAMPLED_CASES, LENS_CASES and the webcam benchmark's cases, the 5th / 50th / 95th percentile over the
pictures of:
- d4/d2: mean |fourth difference| (1, -4, 6, -4, 1) over mean |second difference| (1, -2, 1), rows and columns averaged.
  Its response rises with frequency (about 2 at 1/4 cycle per pixel, 4 at 1/2), so white noise at full size reads
  ~3.4 and content limited to 1/4 cycle reads 2 or less.
Writes runs/eval/noise-floor-s16.md, or OUT.md: python runs/noise_floor_s16.py [--out OUT]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.degrade import LENS_CASES, RESAMPLED_CASES, WEBCAM_BENCHMARK, modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, load_hr_u8, read_list_file  # noqa: E402
from kd.switch import y_plane_u8  # noqa: E402
from kd.webcam import image_seed  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402

DEFAULT_OUT = Path("runs/eval/noise-floor-s16.md")


def d4_over_d2(y_u8: np.ndarray) -> float:
    y = y_u8.astype(np.float32)
    ratios = []
    for a in (y, y.T):
        d2 = np.abs(a[:, :-2] - 2 * a[:, 1:-1] + a[:, 2:]).mean()
        d4 = np.abs(a[:, :-4] - 4 * a[:, 1:-3] + 6 * a[:, 2:-2] - 4 * a[:, 3:-1] + a[:, 4:]).mean()
        ratios.append(d4 / max(d2, 1e-6))
    return float(np.mean(ratios))


def main(out: Path = DEFAULT_OUT) -> None:
    groups = {"lens blur": LENS_CASES, "up-scaled (periodic)": RESAMPLED_CASES["periodic"],
              "up-scaled (x2)": RESAMPLED_CASES["phase"], "up-scaled (blind)": RESAMPLED_CASES["blind"],
              "benchmark": WEBCAM_BENCHMARK}
    values: dict[str, list[float]] = {}
    n = 0
    for f in read_list_file("runs/split/train.txt")[::4]:
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 6)
        if min(hr.shape[:2]) < 128:
            continue
        n += 1
        for group, cases in groups.items():
            for case, fn in cases.items():
                values.setdefault(f"{group}: {case}", []).append(d4_over_d2(y_plane_u8(fn(hr, image_seed(f"train/{f.name}", case, 0)))))
    rows = {name: {"d4/d2": " / ".join(f"{v:.2f}" for v in np.percentile(vals, [5, 50, 95]))} for name, vals in values.items()}
    write_table("# A noise floor: lens-blurred or up-scaled? d4/d2 on the training split (5th / 50th / 95th percentile)", rows,
                f"{n} pictures (every fourth of runs/split/train.txt, 128 px a side or more), each case seeded per picture as "
                "`sharpcam-kd pair` seeds it. A lead, not a choice.", command_line("noise_floor_s16.py", [], out, DEFAULT_OUT).rstrip(), out)


if __name__ == "__main__":
    _, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    main(out)
