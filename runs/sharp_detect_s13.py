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
   of the figure (as --strength does). The same for a second figure, the ratio counted only where the picture
   has texture (flat pictures fooled the first), its step chosen on the training split. A measurement for a
   design, not a runtime feature.
Writes runs/eval/sharp-detect-s13.md, or OUT.md: python runs/sharp_detect_s13.py [--out OUT] PAIR_CARD.json
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import DEFAULT_CLIPS, DEFAULT_EVAL_DIRS, DEFAULT_TRAIN_LIST, WebcamBenchConfig  # noqa: E402
from kd.degrade import WEBCAM_BENCHMARK, modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, list_images, load_hr_u8, make_restorer, read_list_file  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import best_cut, y_plane_u8  # noqa: E402
from kd.webcam import SHAVE, degraded_inputs, image_seed, load_unsharp, read_clip, y_scores  # noqa: E402
from vcam.detect import block_figures  # noqa: E402
from h264_s9 import command_line, degrade, out_argument, write_table  # noqa: E402
from sharp_s12 import CASES as SHARP_CASES, CROP  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

DEFAULT_OUT = Path("runs/eval/sharp-detect-s13.md")
SEED = 0


def detail(y_u8: np.ndarray) -> float:
    """The runtime's figure (vcam/detect.py)."""
    return block_figures(y_u8)[1]


def textured_detail(y_u8: np.ndarray, step: int) -> float:
    """The same ratio, mean |second difference| over mean |first difference| (rows and columns), counted only
    where the first difference is at least `step` grey levels: flat areas, where one-level rounding steps would
    read as fine detail, are left out."""
    num = den = 0.0
    y = y_u8.astype(np.int16)
    for plane in (y, y.T):
        d1 = np.diff(plane, axis=1)
        d2 = np.diff(d1, axis=1)
        textured = np.abs(d1[:, :-1]) >= step
        num += float(np.abs(d2[textured]).sum())
        den += float(np.abs(d1[:, :-1][textured]).sum())
    return num / max(den, 1.0)


STEPS = (2, 3, 4, 6, 8)  # textured_detail's steps tried; the one with the fewest errors on the training split is used


def figures(rgb_u8: np.ndarray) -> dict[str, float]:
    y = y_plane_u8(rgb_u8)
    return {"detail": detail(y)} | {f"textured {t}": textured_detail(y, t) for t in STEPS}


def sharp_inputs(hr: np.ndarray, name: str, as_it_is: bool = True) -> dict[str, np.ndarray]:
    """The picture kept sharp: as it is (for the cut; nothing to gain there) and runs/sharp_s12.py's four cases."""
    return ({"as it is": hr} if as_it_is else {}) | {c: fn(hr, image_seed(name, c, SEED)) for c, fn in SHARP_CASES.items()}


def split_blurred_sharp(fig: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return (np.concatenate([fig[c] for c in WEBCAM_BENCHMARK]),
            np.concatenate([v for c, v in fig.items() if c not in WEBCAM_BENCHMARK]))


def training_figures(files: list[Path]) -> dict[str, dict[str, np.ndarray]]:
    """figure name -> case -> the figure of every training image."""
    out: dict[str, dict[str, list[float]]] = {}
    for f in tqdm(files, desc="figures on the training split", unit="img", file=sys.stderr, dynamic_ncols=True):
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 6)
        for case, lq in {**degraded_inputs(hr, f"train/{f.name}", SEED), **sharp_inputs(hr, f"train/{f.name}")}.items():
            for name, value in figures(lq).items():
                out.setdefault(name, {}).setdefault(case, []).append(value)
    return {n: {c: np.array(v) for c, v in by_case.items()} for n, by_case in out.items()}


def cut_and_errors(fig: dict[str, np.ndarray]) -> tuple[float, int]:
    """The cut with the most training pictures on the right side (kd/switch.py best_cut: sharp above), and the
    number on the wrong side."""
    blurred, sharp = split_blurred_sharp(fig)
    cut = best_cut(sharp, blurred)
    return cut, int((sharp <= cut).sum() + (blurred > cut).sum())


def soft_ramp(fig: dict[str, np.ndarray]) -> tuple[float, float]:
    """Full strength up to the 95th percentile of the blurred cases' figures, none from the 10th percentile
    of the sharp pictures' (training split)."""
    blurred, sharp = split_blurred_sharp(fig)
    return float(np.percentile(blurred, 95)), float(np.percentile(sharp, 10))


def gains(pair, unsharp, items: list[tuple[str, np.ndarray, dict[str, np.ndarray]]],
          gates: dict[str, tuple[float, tuple[float, float]]]) -> dict[str, dict[str, dict[str, list]]]:
    """Per figure and case, lists over the items of: the pair's gain, the hard gate's (the input where the figure
    is above the cut), the soft gate's (the pair's change scaled by 1 at ramp[0] or below down to 0 at ramp[1] or
    above, as --strength scales it), the unsharp mask's, and the names the hard gate passed through."""
    out: dict[str, dict[str, dict[str, list]]] = {}
    for name, hr, inputs in tqdm(items, desc="gains", unit="img", file=sys.stderr, dynamic_ncols=True):
        y_hr = shave(y_channel_f64(hr), SHAVE)
        for case, lq in inputs.items():
            base = y_scores(lq, y_hr)[0]
            restored = pair.restore(lq)
            g = y_scores(restored, y_hr)[0] - base
            u = y_scores(unsharp.restore(lq), y_hr)[0] - base
            values = figures(lq)
            for fig_name, (cut, (lo, hi)) in gates.items():
                assert lo < hi, f"the soft gate's ramp must rise: {(lo, hi)}"
                d = values[fig_name]
                strength = min(1.0, max(0.0, (hi - d) / (hi - lo)))
                soft = np.clip(np.rint(lq + strength * (restored.astype(np.float64) - lq)), 0, 255).astype(np.uint8)
                r = out.setdefault(fig_name, {}).setdefault(case, {"pair": [], "gated": [], "soft": [], "unsharp": [], "passed": []})
                r["pair"].append(g)
                r["gated"].append(0.0 if d > cut else g)
                r["soft"].append(y_scores(soft, y_hr)[0] - base)
                r["unsharp"].append(u)
                if d > cut:
                    r["passed"].append(name)
    return out


def clip_shares(gates: dict[str, tuple[float, tuple[float, float]]]) -> str:
    """On the shared clips (their first frames, as the webcam benchmark reads them), as they are and through
    libx264 at CRF 30 (full size; half size up-scaled x2, as runs/h264_s9.py): the share of frames each figure
    puts above its cut, i.e. that the gate would pass through."""
    parts, bench = [], WebcamBenchConfig()
    for clip in DEFAULT_CLIPS:
        frames = read_clip(Path(clip), bench.clip_frames, bench.clip_max_width)
        for case, lq in (("as it is", frames), ("H.264 CRF 30", degrade(frames, 1, 30)), ("x2 + H.264 CRF 30", degrade(frames, 2, 30))):
            values = [figures(f) for f in lq]
            shares = " / ".join(f"{np.mean([v[n] > cut for v in values]):.0%}" for n, (cut, _) in gates.items())
            parts.append(f"{Path(clip).stem} {case} {shares}")
    return "; ".join(parts)


def main(card: str, out: Path = DEFAULT_OUT) -> None:
    train = training_figures(read_list_file(DEFAULT_TRAIN_LIST))
    errors = {n: cut_and_errors(fig) for n, fig in train.items()}
    textured = min((n for n in train if n != "detail"), key=lambda n: errors[n][1])  # chosen on the training split
    gates = {n: (errors[n][0], soft_ramp(train[n])) for n in ("detail", textured)}
    pair, unsharp = make_restorer(card, 2), load_unsharp(WebcamBenchConfig().unsharp)
    shared = [(f"{Path(d).name}/{f.name}", hr := modcrop(as_rgb_u8(load_hr_u8(f)), 6), degraded_inputs(hr, f"{Path(d).name}/{f.name}", SEED))
              for d in DEFAULT_EVAL_DIRS for f in list_images(d)]
    # named as runs/unseen_s11.py's benchmark names them, so the noise draws are the same
    photos = [(n, hr := modcrop(photo_rgb_u8(n), 6), degraded_inputs(hr, f"skimage-photos/{n}.png", SEED)) for n in PHOTOS]
    sharp = [(n, hr := modcrop(photo_rgb_u8(n), 4)[:CROP, :CROP], sharp_inputs(hr, f"skimage/{n}", as_it_is=False)) for n in PHOTOS]
    rows: dict[str, dict[str, str]] = {}
    passed: dict[str, list[str]] = {n: [] for n in gates}
    for fig_name, (cut, _) in gates.items():
        rows[f"{fig_name}: training split, median (share above the cut)"] = {
            c: f"{np.median(v):.3f} ({np.mean(v > cut):.0%} above)" for c, v in train[fig_name].items()}
    results = {label: gains(pair, unsharp, items, gates)
               for label, items in (("shared eval sets", shared), ("scikit-image photos", photos), ("scikit-image photos kept sharp", sharp))}
    for label, by_fig in results.items():
        for case, r in by_fig["detail"].items():
            p, u = np.mean(r["pair"]), np.mean(r["unsharp"])
            rows.setdefault(f"{label}: pair gain / margin", {})[case] = f"{p:+.2f} / {p - u:+.2f}"
        for fig_name, by_case in by_fig.items():
            for case, r in by_case.items():
                u, n = np.mean(r["unsharp"]), len(r["pair"])
                rows.setdefault(f"{label}, {fig_name}: hard gate (share passed through)", {})[case] = \
                    f"{np.mean(r['gated']):+.2f} / {np.mean(r['gated']) - u:+.2f} ({len(r['passed']) / n:.0%})"
                rows.setdefault(f"{label}, {fig_name}: soft gate", {})[case] = f"{np.mean(r['soft']):+.2f} / {np.mean(r['soft']) - u:+.2f}"
                if label == "scikit-image photos" and r["passed"]:
                    passed[fig_name].append(f"{case}: {', '.join(r['passed'])}")
    clips = clip_shares(gates)
    cases = list(train["detail"])
    rows = {k: {c: v.get(c, "") for c in cases} for k, v in rows.items()}
    gate_text = "; ".join(f"{n}: cut {c:.4f}, soft ramp {lo:.4f} -> {hi:.4f}, {errors[n][1]} training pictures on the wrong side"
                          for n, (c, (lo, hi)) in gates.items())
    tried = ", ".join(f"{n} {errors[n][1]}" for n in train if n != "detail")
    write_table("# The detail figure as a sharp-picture gate", rows,
                f"Figures: `detail`, the runtime's (vcam/detect.py); `textured N`, the same ratio counted only where the first "
                f"difference is at least N grey levels (N chosen on the training split among {', '.join(map(str, STEPS))}, by its "
                f"errors there: {tried}). Cuts (above: sharp) chosen on the training split ({DEFAULT_TRAIN_LIST}) between the "
                f"benchmark's four cases and the pictures kept sharp: {gate_text}. Gains: mean Y-PSNR gain over the input (dB); "
                f"margin: less the frozen unsharp mask's. Hard gate: the input passed through where the figure is above the cut; "
                f"soft gate: the pair's change scaled from full strength at the ramp's start (the blurred cases' 95th percentile "
                f"on the training split) down to none at its end (the sharp pictures' 10th percentile). Shared eval sets: Set5, "
                f"Set14, B100 (without the clip frames the benchmark adds). Blurred photos passed through: "
                + " | ".join(f"{n}: {'; '.join(v) or 'none'}" for n, v in passed.items())
                + f". Shared clips' frames above the cut ({' / '.join(gates)}): {clips}. Pair: {card}.",
                command_line("sharp_detect_s13.py", [card], out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if len(args) != 1:
        sys.exit("usage: python runs/sharp_detect_s13.py [--out OUT] PAIR_CARD.json")
    main(args[0], out)
