"""Sitting 13: can the runtime tell a sharp picture from a blurred one with the detail figure it already measures?

No plain half trained on the mix both restores x3 harder and leaves a sharp picture alone (README "Sitting 13").
The pair's switch already computes, per frame, `detail` (vcam/detect.py: mean |second difference| over mean |first
difference| of the Y plane): low for a picture up-scaled from a smaller one, higher for a sharp one. Here:
1. On the training split (runs/split/train.txt, never an evaluation image): the figure under the webcam benchmark's
   four cases (blurred) and on the pictures kept sharp (as they are, and the four cases of runs/sharp_s12.py), and
   the cut that puts the most of them on the right side (kd/switch.py best_cut), chosen once here.
2. With that cut frozen, what a "leave sharp pictures alone" gate would do to a pair (the input passed through where
   the figure is above the cut): on the benchmark's four cases over the shared eval sets and scikit-image's photos,
   and on runs/sharp_s12.py's sharp photos and cases (its noise drawn here per photo name, as the benchmark draws
   it, so not the same draws as there); and a soft gate that scales the pair's change down over a ramp
   of the figure (as --strength does). A measurement for a design, not a runtime feature.
Writes runs/eval/sharp-detect-s13.md, or OUT.md: python runs/sharp_detect_s13.py [--out OUT] PAIR_CARD.json
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import DEFAULT_EVAL_DIRS, DEFAULT_TRAIN_LIST, WebcamBenchConfig  # noqa: E402
from kd.degrade import WEBCAM_BENCHMARK, modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, list_images, load_hr_u8, make_restorer, read_list_file  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import best_cut, y_plane_u8  # noqa: E402
from kd.webcam import SHAVE, degraded_inputs, image_seed, load_unsharp, y_scores  # noqa: E402
from vcam.detect import block_figures  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from sharp_s12 import CASES as SHARP_CASES, CROP  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

DEFAULT_OUT = Path("runs/eval/sharp-detect-s13.md")
SEED = 0


def detail(rgb_u8: np.ndarray) -> float:
    return block_figures(y_plane_u8(rgb_u8))[1]


def sharp_inputs(hr: np.ndarray, name: str, as_it_is: bool = True) -> dict[str, np.ndarray]:
    """The picture kept sharp: as it is (for the cut; nothing to gain there) and runs/sharp_s12.py's four cases."""
    return ({"as it is": hr} if as_it_is else {}) | {c: fn(hr, image_seed(name, c, SEED)) for c, fn in SHARP_CASES.items()}


def choose_cut(files: list[Path]) -> tuple[float, dict[str, np.ndarray]]:
    figures: dict[str, list[float]] = {}
    for f in tqdm(files, desc="detail on the training split", unit="img", file=sys.stderr, dynamic_ncols=True):
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 6)
        for case, lq in {**degraded_inputs(hr, f"train/{f.name}", SEED), **sharp_inputs(hr, f"train/{f.name}")}.items():
            figures.setdefault(case, []).append(detail(lq))
    fig = {c: np.array(v) for c, v in figures.items()}
    blurred = np.concatenate([fig[c] for c in WEBCAM_BENCHMARK])
    sharp = np.concatenate([v for c, v in fig.items() if c not in WEBCAM_BENCHMARK])
    return round(best_cut(sharp, blurred), 4), fig


def soft_ramp(fig: dict[str, np.ndarray]) -> tuple[float, float]:
    """Full strength up to the 95th percentile of the blurred cases' figures, none from the 10th percentile
    of the sharp pictures' (training split)."""
    blurred = np.concatenate([fig[c] for c in WEBCAM_BENCHMARK])
    sharp = np.concatenate([v for c, v in fig.items() if c not in WEBCAM_BENCHMARK])
    return round(float(np.percentile(blurred, 95)), 4), round(float(np.percentile(sharp, 10)), 4)


def gains(pair, unsharp, items: list[tuple[str, np.ndarray, dict[str, np.ndarray]]], cut: float,
          ramp: tuple[float, float]) -> dict[str, dict[str, list]]:
    """Per case, lists over the items of: the pair's gain, the hard gate's (the input where the detail figure is
    above `cut`), the soft gate's (the pair's change scaled by 1 at ramp[0] or below down to 0 at ramp[1] or
    above, as --strength scales it), the unsharp mask's, and the names the hard gate passed through."""
    out: dict[str, dict[str, list]] = {}
    lo, hi = ramp
    assert lo < hi, f"the soft gate's ramp must rise: {ramp}"
    for name, hr, inputs in tqdm(items, desc="gains", unit="img", file=sys.stderr, dynamic_ncols=True):
        y_hr = shave(y_channel_f64(hr), SHAVE)
        for case, lq in inputs.items():
            base = y_scores(lq, y_hr)[0]
            restored = pair.restore(lq)
            d = detail(lq)
            strength = min(1.0, max(0.0, (hi - d) / (hi - lo)))
            soft = np.clip(np.rint(lq + strength * (restored.astype(np.float64) - lq)), 0, 255).astype(np.uint8)
            g = y_scores(restored, y_hr)[0] - base
            r = out.setdefault(case, {"pair": [], "gated": [], "soft": [], "unsharp": [], "passed": [], "n": 0})
            r["pair"].append(g)
            r["gated"].append(0.0 if d > cut else g)
            r["soft"].append(y_scores(soft, y_hr)[0] - base)
            r["unsharp"].append(y_scores(unsharp.restore(lq), y_hr)[0] - base)
            r["n"] += 1
            if d > cut:
                r["passed"].append(name)
    return out


def main(card: str, out: Path = DEFAULT_OUT) -> None:
    cut, fig = choose_cut(read_list_file(DEFAULT_TRAIN_LIST))
    pair, unsharp = make_restorer(card, 2), load_unsharp(WebcamBenchConfig().unsharp)
    shared = [(f"{Path(d).name}/{f.name}", hr := modcrop(as_rgb_u8(load_hr_u8(f)), 6), degraded_inputs(hr, f"{Path(d).name}/{f.name}", SEED))
              for d in DEFAULT_EVAL_DIRS for f in list_images(d)]
    # named as runs/unseen_s11.py's benchmark names them, so the noise draws are the same
    photos = [(n, hr := modcrop(photo_rgb_u8(n), 6), degraded_inputs(hr, f"skimage-photos/{n}.png", SEED)) for n in PHOTOS]
    sharp = [(n, hr := modcrop(photo_rgb_u8(n), 4)[:CROP, :CROP], sharp_inputs(hr, f"skimage/{n}", as_it_is=False)) for n in PHOTOS]
    ramp = soft_ramp(fig)
    rows: dict[str, dict[str, str]] = {}
    rows["training split: median detail (share above the cut)"] = {c: f"{np.median(v):.3f} ({np.mean(v > cut):.0%} above)"
                                                                    for c, v in fig.items()}
    passed: list[str] = []
    for label, items in (("shared eval sets", shared), ("scikit-image photos", photos), ("scikit-image photos kept sharp", sharp)):
        for case, r in gains(pair, unsharp, items, cut, ramp).items():
            p, u = np.mean(r["pair"]), np.mean(r["unsharp"])
            rows.setdefault(f"{label}: pair gain / margin", {})[case] = f"{p:+.2f} / {p - u:+.2f}"
            rows.setdefault(f"{label}: hard gate (share passed through)", {})[case] = \
                f"{np.mean(r['gated']):+.2f} / {np.mean(r['gated']) - u:+.2f} ({len(r['passed']) / r['n']:.0%})"
            rows.setdefault(f"{label}: soft gate", {})[case] = f"{np.mean(r['soft']):+.2f} / {np.mean(r['soft']) - u:+.2f}"
            if label == "scikit-image photos" and r["passed"]:
                passed.append(f"{case}: {', '.join(r['passed'])}")
    cases = list(fig)
    rows = {k: {c: v.get(c, "") for c in cases} for k, v in rows.items()}
    write_table("# The detail figure as a sharp-picture gate", rows,
                f"Detail cut {cut} (above: sharp), chosen on the training split ({DEFAULT_TRAIN_LIST}) between the benchmark's four "
                f"cases and the pictures kept sharp. Gains: mean Y-PSNR gain over the input (dB); margin: less the frozen unsharp "
                f"mask's. Hard gate: the input passed through where the picture's detail figure is above the cut; soft gate: the pair's "
                f"change scaled from full strength at a figure of {ramp[0]} (the blurred cases' 95th percentile on the training split) "
                f"down to none at {ramp[1]} (the sharp pictures' 10th percentile). Shared eval sets: Set5, Set14, B100 "
                f"(without the clip frames the benchmark adds). Photos the hard gate passed through: {'; '.join(passed) or 'none'}. "
                f"Pair: {card}.",
                command_line("sharp_detect_s13.py", [card], out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if len(args) != 1:
        sys.exit("usage: python runs/sharp_detect_s13.py [--out OUT] PAIR_CARD.json")
    main(args[0], out)
