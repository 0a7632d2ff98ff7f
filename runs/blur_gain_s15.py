"""Sitting 15: which model a card's blur switch should send strongly blurred frames to, looked at on the training split
(every second picture of runs/split/train.txt, never evaluation images). Each picture under the webcam benchmark's
cases other than x2 + JPEG q40 (the blocky stream goes to the switch's alternate) and under blur without down-scaling
(Gaussian sigma 1.5 and 2, disc radius 2 and 3, disc 2 with sensor noise); per case, the gate's textured figure and
each candidate's Y-PSNR gain minus the shipped plain half's, over all its pictures and over those below the blur cut,
and per candidate the cut on the figure that would gain most in total. The candidates are trained on this split, as
the shipped half is, so their gains here run high for all of them alike.
Writes runs/eval/blur-gain-s15.md, or OUT.md: python runs/blur_gain_s15.py [--out OUT] [CUT] [CARD ...]
(default: the cut of runs/onnx/s15-pair-blur.json and the x3 halves of sittings 13 and 14)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.degrade import add_sensor_noise, defocus_blur, gaussian_blur, modcrop  # noqa: E402
from kd.evaluate import OnnxRestorer, as_rgb_u8, load_hr_u8, read_list_file  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import y_plane_u8  # noqa: E402
from kd.webcam import SHAVE, degraded_inputs, image_seed, y_scores  # noqa: E402
from vcam.detect import textured  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402

SHIPPED = "runs/onnx/s12-cs4-sharp-foldqat-int8.json"
CANDIDATES = ["runs/onnx/s14-cs4-gatedx3b-foldqat-int8.json", "runs/onnx/s14-cs4-gatedx3-foldqat-int8.json",
              "runs/onnx/s13-cs4-x3-foldqat-int8.json", "runs/onnx/s13-cs4-x3float-foldqat-int8.json",
              "runs/onnx/s13-cs4-x3sharp-foldqat-int8.json"]
EXTRA = {"gauss 1.5": lambda hr, rng: gaussian_blur(hr, 1.5), "gauss 2": lambda hr, rng: gaussian_blur(hr, 2.0),
         "disc 2": lambda hr, rng: defocus_blur(hr, 2), "disc 3": lambda hr, rng: defocus_blur(hr, 3),
         "disc 2 + noise": lambda hr, rng: add_sensor_noise(defocus_blur(hr, 2), rng, 2.0, 0.04)}
DEFAULT_OUT = Path("runs/eval/blur-gain-s15.md")


def main(args: list[str], out: Path = DEFAULT_OUT) -> None:
    command = command_line("blur_gain_s15.py", args, out, DEFAULT_OUT).rstrip()
    args = list(args)
    cut = float(args.pop(0)) if args and not args[0].endswith(".json") else json.loads(Path("runs/onnx/s15-pair-blur.json").read_text())["blur"]["below"]
    cards = args or CANDIDATES
    models = [OnnxRestorer(c, 2) for c in [SHIPPED, *cards]]
    rows = []  # (case, figure, gain of each model)
    for f in read_list_file("runs/split/train.txt")[::2]:
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 6)
        name = f"train/{f.name}"
        inputs = {d: lq for d, lq in degraded_inputs(hr, name, 0).items() if d != "x2+jpeg40"}
        inputs |= {c: fn(hr, image_seed(name, c, 0)) for c, fn in EXTRA.items()}
        y_hr = shave(y_channel_f64(hr), SHAVE)
        for d, lq in inputs.items():
            base = y_scores(lq, y_hr)[0]
            rows.append((d, textured(y_plane_u8(lq), 8), [y_scores(m.restore(lq), y_hr)[0] - base for m in models]))
    cases = list(dict.fromkeys(r[0] for r in rows))
    case = np.array([r[0] for r in rows])
    figure = np.array([r[1] for r in rows])
    gain = np.array([r[2] for r in rows])
    table: dict[str, dict[str, str]] = {}
    for i, m in enumerate(models[1:], 1):
        d = gain[:, i] - gain[:, 0]
        table[m.label] = {c: f"{d[case == c].mean():+.3f} / {d[(case == c) & (figure < cut)].mean():+.3f}"
                          if ((case == c) & (figure < cut)).any() else f"{d[case == c].mean():+.3f} / -" for c in cases}
        totals = [(d[figure < t].sum(), t) for t in np.arange(0.25, 0.6, 0.005)]
        best, at = max(totals)
        table[m.label]["best cut (total dB)"] = f"{at:.3f} ({best:+.1f}); at {cut:.4f}: {d[figure < cut].sum():+.1f}"
    table["pictures below the cut"] = {c: f"{int(((case == c) & (figure < cut)).sum())} of {int((case == c).sum())}" for c in cases}
    table["pictures below the cut"]["best cut (total dB)"] = "-"
    write_table(f"# Candidates for the blur model on the training split: gain over the shipped half's, all / below {cut:.4f}",
                table, f"Y-PSNR gain minus the shipped plain half's ({Path(SHIPPED).stem}), dB: mean over all of a case's "
                f"pictures / over those whose textured figure is below the cut; {len(rows) // len(cases)} pictures (every second "
                "of the training split). Last column: the cut that gains most in total over every case, and the total at the "
                "card's cut.", command, out)


if __name__ == "__main__":
    argv, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    main(argv, out)
