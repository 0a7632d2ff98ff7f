"""`sharpcam-kd pair`: one model card that runs two Y-plane models, switched per frame by the runtime.

The card is the default's (same ONNX file) with a `switch` naming the alternate's card and a cut on the
blockiness statistic (vcam/detect.py, the runtime's own code): frames above it go to the alternate (a
specialist for small encoded streams, up-scaled by the receiver). The cut is chosen here, once, on the
training split under the webcam benchmark's four degradations (never on evaluation images): the value
that puts the most of them on the right side of the target case against the other three. A second cut,
on the detail figure, keeps the alternate off sharp frames (H.264's own macroblocks in a frame that was
never up-scaled): the value that best puts the target case below it and the training pictures
themselves, undegraded, above. The card records both cuts, the images and the share of
each case the switch sends to the alternate.

The card's gate (sitting 14) leaves frames that are already sharp alone: no model runs where the `textured`
figure (vcam/detect.py Texture, at `gate_step` grey levels) is above its cut, chosen here on the same training
split between the benchmark's four (blurred) cases and sharp pictures (each image as it is and under
kd/degrade.py SHARP_CASES: sensor noise and a codec at full size).

With `--blurred` (sitting 15) the card names a third model, for strongly blurred frames: the gate's own textured
figure, low on a picture up-scaled ~x3 or defocused, sends frames the gate and the switch leave to the default to it
below a cut chosen on the same split between the benchmark's x3 and its other three cases. With `--blurred-lens`
(sitting 16) that model is for lens blur: two more cuts, on the resampling figures (vcam/detect.py Resampling), chosen
on the same split between frames up-scaled from smaller ones and frames blurred by a lens (kd/degrade.py
RESAMPLED_CASES, LENS_CASES), keep the up-scaled ones with the default; with `--blurred-target lens` its textured cut
is chosen between the lens cases and the x2 up-scales that read as lens blur, so noisy lens blur (which reads higher
than x3 on the textured figure) reaches it too. `--blurred-upscaled` (sitting 17) is the inverse, for a x3 model: the
same two cuts, and lens blur stays with the default.

`SwitchedRestorer` scores such a card in `kd evaluate` as the runtime runs one picture: the picture's own
figures pass it through or pick the model (the daemon adds hysteresis over frames on top: vcam/detect.py).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import click
import cv2
import numpy as np
from tqdm import tqdm

from kd.config import ConfigError, PairConfig, merge
from kd.degrade import LENS_CASES, MILD_CASES, PERIOD4_CASES, RESAMPLED_CASES, SHARP_CASES, WEBCAM_BENCHMARK, modcrop
from kd.evaluate import i420_y_even_u8
from kd.export import ExportError, load_card
from vcam.card import UPSCALED_ONLY_VERSION, CardError, read_card, resampling_test_text, write_card
from vcam.detect import (MIN_PERIODS, Blockiness, BlurSwitch, Reblur, Resampling, SharpGate, StrengthRamp, Texture,
                         block_figures, reblur_ratio, resampling_figures, textured)
from vcam.transforms import add_luma_change_u8


class PairError(Exception):
    """A pair that cannot be made; the message names the fix."""


def y_plane_u8(rgb_u8: np.ndarray) -> np.ndarray:
    """The Y plane the runtime sees for an RGB uint8 picture, cropped back to (H, W)."""
    h, w = rgb_u8.shape[:2]
    return i420_y_even_u8(rgb_u8)[:h, :w]


CLEAN = "clean"  # the training picture itself: sharp, never up-scaled


def case_statistics(files: list[Path], period: int, seed: int, gate_step: int = 0, progress: bool = True,
                    sharp_cases: bool | None = None) -> dict[str, np.ndarray]:
    """(blockiness, detail, textured at `gate_step`, re-blur ratio at `gate_step`) of every image under each of the
    benchmark's degradations (seeded as the benchmark), as it is (CLEAN) and under SHARP_CASES (`sharp_cases`, by
    default with a `gate_step`): an (images, 4) array per case (the last two nan without a gate_step)."""
    from kd.evaluate import as_rgb_u8, load_hr_u8
    from kd.webcam import degraded_inputs, image_seed

    sharp_cases = bool(gate_step) if sharp_cases is None else sharp_cases
    cases = [*WEBCAM_BENCHMARK, CLEAN, *(SHARP_CASES if sharp_cases else ())]
    out: dict[str, list[tuple[float, ...]]] = {d: [] for d in cases}
    for f in tqdm(files, desc="figures on the training split", unit="img", disable=not progress, file=sys.stderr, dynamic_ncols=True):
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 6)
        if not Blockiness.fits(hr.shape[1], hr.shape[0], period):
            raise PairError(f"training image {f} ({hr.shape[1]}x{hr.shape[0]}) is too small to measure a {period}-px grid "
                            f"(at least {MIN_PERIODS * period} px a side): leave it out of the list")
        name = f"train/{f.name}"
        inputs = {**degraded_inputs(hr, name, seed), CLEAN: hr}
        if sharp_cases:
            inputs |= {c: fn(hr, image_seed(name, c, seed)) for c, fn in SHARP_CASES.items()}
        for d, lq in inputs.items():
            y = y_plane_u8(lq)
            figures: tuple[float, ...] = (float("nan"), float("nan"))
            if gate_step:
                reblur = Reblur(y.shape[1], y.shape[0], gate_step)
                own = reblur.texture(y)
                figures = (own, reblur(y, own))
            out[d].append((*block_figures(y, period), *figures))
    return {d: np.array(v).reshape(-1, 4) for d, v in out.items()}


LENS_TARGET = "lens"  # a lens model's textured cut, chosen between lens blur and x2 up-scales (`--blurred-target lens`)
LENS_BENCHMARK = ("blur1.2+noise4+jpeg60",)  # the webcam benchmark's one case of lens blur


def lens_statistics(files: list[Path], seed: int, step: int, progress: bool = True) -> dict[str, np.ndarray]:
    """(periodic, phase, textured at `step`) of every image large enough to measure (Resampling.MIN_SIDE a side; the
    runtime leaves a lens model off smaller frames) under kd/degrade.py RESAMPLED_CASES, LENS_CASES and the webcam
    benchmark's cases (each seeded per image and case, the benchmark's as `case_statistics` seeds them): an (images, 3)
    array per case."""
    from kd.evaluate import as_rgb_u8, load_hr_u8
    from kd.webcam import image_seed

    cases = {**WEBCAM_BENCHMARK, **{c: fn for group in RESAMPLED_CASES.values() for c, fn in group.items()}, **LENS_CASES}
    out: dict[str, list[tuple[float, float, float]]] = {c: [] for c in cases}
    for f in tqdm(files, desc="resampling figures on the training split", unit="img", disable=not progress, file=sys.stderr,
                  dynamic_ncols=True):
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 6)
        if min(hr.shape[:2]) < Resampling.MIN_SIDE:
            continue
        for c, fn in cases.items():
            y = y_plane_u8(fn(hr, image_seed(f"train/{f.name}", c, seed)))
            out[c].append((*resampling_figures(y), textured(y, step)))
    if not out[next(iter(cases))]:
        raise PairError(f"no training image is {Resampling.MIN_SIDE} px a side or more, which the resampling figures need: "
                        "pass a list with larger pictures")
    return {c: np.array(v).reshape(-1, 3) for c, v in out.items()}


def strictly_below(at: float, figures: np.ndarray) -> float:
    """A cut for a strict "below" that keeps `at` below it: between `at` and the next figure above it (rounded to 4
    places where that still lies between)."""
    over = figures[figures > at]
    mid = (at + float(over.min())) / 2 if over.size else at + 1e-4
    return round(mid, 4) if at < round(mid, 4) <= (float(over.min()) if over.size else math.inf) else mid


def best_cut(above: np.ndarray, below: np.ndarray) -> float:
    """The threshold with the most values on the right side: `above` above it, `below` at or below it."""
    cuts = np.unique(np.concatenate([above, below]))
    right = [(above > t).sum() + (below <= t).sum() for t in cuts]
    return float(cuts[int(np.argmax(right))])


def _card_path(given: str, onnx: Path) -> Path:
    """The card of a model given as its card or as its .onnx file."""
    return onnx.with_suffix(".json") if Path(given).suffix.lower() == ".onnx" else Path(given)


def _beside(card: Path, folder: Path, what: str) -> None:
    if card.resolve().parent != folder:
        raise PairError(f"{what} {card} is not beside the default's model in {folder}: quantize or export it there "
                        "(`sharpcam-kd quantize --out` / `export --out`), a pair's cards ship together")


def make_pair(cfg: PairConfig, progress: bool = True) -> tuple[Path, dict[str, Any]]:
    """Chooses the cuts and writes the card `cfg.name`.json beside the default's; returns (path, card)."""
    from kd.evaluate import command_line, read_list_file

    try:
        default, default_onnx = load_card(cfg.default)
        alternate, alternate_onnx = load_card(cfg.alternate)
    except ExportError as e:
        raise PairError(str(e)) from None
    folder = default_onnx.parent
    alt_card = _card_path(cfg.alternate, alternate_onnx)
    _beside(alt_card, folder, "the alternate")
    blurred_card = None
    if cfg.blurred:
        try:
            blurred_raw, blurred_onnx = load_card(cfg.blurred)
        except ExportError as e:
            raise PairError(str(e)) from None
        blurred_card = _card_path(cfg.blurred, blurred_onnx)
        _beside(blurred_card, folder, "the blurred frames' model")
        if own := [k for k in ("switch", "blur") if k in blurred_raw]:
            raise PairError(f"the blurred frames' model must be a plain model card, and this one already has a {own[0]}: pass the plain card")
        if cfg.blurred_target == LENS_TARGET and cfg.blurred_upscaled:
            raise PairError(f"blurred target {LENS_TARGET!r} is for a lens-blur model, and --blurred-upscaled makes it a model "
                            "for up-scales: pass --blurred-target x3")
        if cfg.blurred_target == LENS_TARGET and not cfg.blurred_lens:
            raise PairError(f"blurred target {LENS_TARGET!r} is for a lens-blur model: pass --blurred-lens too")
        if cfg.blurred_target == LENS_TARGET and not cfg.gate_step:
            # its cut lies above x3's, nearer sharp pictures, which only the gate keeps from the model
            raise PairError(f"blurred target {LENS_TARGET!r} needs the gate to keep sharp frames from the lens model: "
                            "leave --gate-step at its default (8), or pass --blurred-target x3")
        if cfg.blurred_target not in (*WEBCAM_BENCHMARK, LENS_TARGET):
            raise PairError(f"blurred target {cfg.blurred_target!r} is not one of the benchmark's cases ({', '.join(WEBCAM_BENCHMARK)}) "
                            f"or {LENS_TARGET!r}: pass one of them")
    if own := [k for k in ("switch", "blur") if k in default or k in alternate]:
        raise PairError(f"a pair is made of two plain model cards, and one of these already has a {own[0]}: pass the plain cards")
    if cfg.target not in WEBCAM_BENCHMARK:
        raise PairError(f"target {cfg.target!r} is not one of the benchmark's cases ({', '.join(WEBCAM_BENCHMARK)}): pass one of them")
    path = folder / f"{cfg.name}.json"
    default_card = _card_path(cfg.default, default_onnx)
    if path.resolve() in (default_card.resolve(), alt_card.resolve(), *((blurred_card.resolve(),) if blurred_card else ())):
        raise PairError(f"the pair's name {cfg.name} would overwrite one of its own cards: pass another --name")
    files = read_list_file(cfg.images)
    try:
        stats = case_statistics(files, cfg.period, cfg.seed, cfg.gate_step or (cfg.blur_step if cfg.blurred else 0), progress,
                                sharp_cases=bool(cfg.gate_step))
    except ImportError as e:  # the H.264 sharp case needs PyAV
        raise PairError(f"the gate's sharp pictures need PyAV ({e}): pip install -e '.[video]', or pass --gate-step 0 for no gate") from None
    others = [stats[d] for d in WEBCAM_BENCHMARK if d != cfg.target]  # the gate's sharp cases have no say here
    cut = round(best_cut(stats[cfg.target][:, 0], np.concatenate(others)[:, 0]), 4)
    # the detail cut: the target below it, the sharp pictures themselves above (-x: "above" flips to "below")
    detail = round(-best_cut(-stats[cfg.target][:, 1], -stats[CLEAN][:, 1]), 4)
    switched = {d: round(float(((v[:, 0] > cut) & (v[:, 1] < detail)).mean()), 4) for d, v in stats.items()}
    switch = {
        "model": alt_card.name, "statistic": "blockiness", "period": cfg.period, "above": cut, "detail_below": detail,
        "chosen_on": {
            "images": f"{cfg.images} ({len(files)} images)", "target": cfg.target, "seed": cfg.seed,
            "share_above": {d: round(float((v[:, 0] > cut).mean()), 4) for d, v in stats.items()},
            "share_switched": switched,
            "command": command_line(),
        },
    }
    if cfg.gate_step:
        blurred = np.concatenate([stats[d][:, 2] for d in WEBCAM_BENCHMARK])
        sharp = np.concatenate([stats[d][:, 2] for d in (CLEAN, *SHARP_CASES)])
        gate_cut = round(best_cut(sharp, blurred), 4)
        switch_gate: dict[str, Any] = {"statistic": "textured", "step": cfg.gate_step, "above": gate_cut}
        passed = {d: v[:, 2] > gate_cut for d, v in stats.items()}
        if cfg.gate_reblur:
            # the second cut, among the pictures the first one passes: the sharp ones below it, the blurred ones not
            blurred_r = np.concatenate([stats[d][passed[d], 3] for d in WEBCAM_BENCHMARK])
            sharp_r = np.concatenate([stats[d][passed[d], 3] for d in (CLEAN, *SHARP_CASES)])
            reblur_cut = round(-best_cut(-sharp_r, -blurred_r), 4)
            switch_gate["reblur_below"] = reblur_cut
            passed = {d: passed[d] & (v[:, 3] < reblur_cut) for d, v in stats.items()}
        switch_gate["chosen_on"] = {
            "images": f"{cfg.images} ({len(files)} images)", "seed": cfg.seed,
            "blurred": list(WEBCAM_BENCHMARK), "sharp": [CLEAN, *SHARP_CASES],
            "share_passed": {d: round(float(p.mean()), 4) for d, p in passed.items()},
            "command": command_line(),
        }
    blur: dict[str, Any] | None = None
    lens_cuts: dict[str, float] = {}  # the blur model's resampling cuts, where it has them
    if blurred_card is not None:
        try:
            lens = lens_statistics(files, cfg.seed, cfg.blur_step, progress) if cfg.blurred_lens or cfg.blurred_upscaled else None
        except ImportError as e:  # the up-scaled and lens cases coded by H.264 need PyAV
            raise PairError(f"the resampling cuts need PyAV ({e}): pip install -e '.[video]'") from None
        if lens is not None:
            lens_fig = np.concatenate([lens[c] for c in LENS_CASES])
            for column, key, group in ((0, "periodic_below", "periodic"), (1, "phase_below", "phase")):
                up = np.concatenate([lens[c][:, column] for c in RESAMPLED_CASES[group]])
                lens_cuts[key] = strictly_below(best_cut(up, lens_fig[:, column]), np.concatenate([v[:, column] for v in lens.values()]))
            read_as_lens = {c: (v[:, 0] < lens_cuts["periodic_below"]) & (v[:, 1] < lens_cuts["phase_below"]) for c, v in lens.items()}
        if cfg.blurred_target == LENS_TARGET:
            # among the frames that read as lens blur (the others never reach the model), the lens cases below the cut
            # and the up-scales the figures missed above it (mostly x2, whose centred up-scale leaves no periodic peak)
            assert lens is not None
            missed = [lens[c][read_as_lens[c], 2] for g in ("periodic", "phase") for c in RESAMPLED_CASES[g]]
            missed += [lens[c][read_as_lens[c], 2] for c in WEBCAM_BENCHMARK if c not in LENS_BENCHMARK]
            lens_fig = [lens[c][read_as_lens[c], 2] for c in LENS_CASES]
            if not sum(map(len, missed)) or not sum(map(len, lens_fig)):
                raise PairError("no lens-blurred or no up-scaled training picture reads as lens blur, so there is nothing to "
                                "choose a lens cut between: pass --blurred-target x3, or a list with more pictures")
            at = best_cut(np.concatenate(missed), np.concatenate(lens_fig))
            below = strictly_below(at, np.concatenate([v[:, 2] for v in lens.values()]))
        else:
            # best_cut puts the target at or below its value and the rest above; the card's cut is strict ("below"), so
            # it goes between that value and the next figure above it (rounded to 4 places where that still lies between)
            others = np.concatenate([stats[d][:, 2] for d in WEBCAM_BENCHMARK if d != cfg.blurred_target])
            at = best_cut(others, stats[cfg.blurred_target][:, 2])
            below = strictly_below(at, np.concatenate([v[:, 2] for v in stats.values()]))
        gated = {d: passed[d] if cfg.gate_step else np.zeros(len(v), bool) for d, v in stats.items()}
        left = {d: ~((v[:, 0] > cut) & (v[:, 1] < detail)) & ~gated[d] for d, v in stats.items()}
        blur = {
            "model": blurred_card.name, "statistic": "textured", "step": cfg.blur_step, "below": below, **lens_cuts,
            **({"upscaled_only": True} if cfg.blurred_upscaled else {}),
            "chosen_on": {
                "images": f"{cfg.images} ({len(files)} images)", "target": cfg.blurred_target, "seed": cfg.seed,
                "share_below": {d: round(float((v[:, 2] < below).mean()), 4) for d, v in stats.items()},
                # below the cut and neither passed by the gate nor switched to the alternate (a lens or up-scale model: before the
                # resampling figures, which `lens_routed` adds)
                "share_routed": {d: round(float((left[d] & (v[:, 2] < below)).mean()), 4) for d, v in stats.items()},
                "command": command_line(),
            },
        }
        if lens is not None:
            blur["chosen_on"]["lens_images"] = len(lens[next(iter(lens))])
            # of each case, the share that reads as lens blur (below both resampling cuts), and the share that also
            # reads as strongly blurred (below the textured cut; the gate and the switch aside)
            blur["chosen_on"]["lens_share"] = {c: round(float(r.mean()), 4) for c, r in read_as_lens.items()}
            # and the share the model takes: a lens model those that read as lens blur, an up-scale model the others
            takes = {c: r if cfg.blurred_lens else ~r for c, r in read_as_lens.items()}
            blur["chosen_on"]["upscaled_routed" if cfg.blurred_upscaled else "lens_routed"] = {
                c: round(float((takes[c] & (v[:, 2] < below)).mean()), 4) for c, v in lens.items()}
    card = {k: v for k, v in default.items() if k not in ("metrics", "name", "gate", "blur")}
    card["file"] = default_onnx.name
    version = card.pop("card_version")
    if cfg.blurred_upscaled:
        version = max(version, UPSCALED_ONLY_VERSION)
    card = {"card_version": version, "name": cfg.name, **card, "switch": switch,
            "pair": {"default": default["name"], "alternate": alternate["name"]}}
    if cfg.gate_step:
        card["gate"] = switch_gate
    if blur is not None:
        card["blur"] = blur
        card["pair"]["blurred"] = blurred_raw["name"]
    try:
        write_card(path, card)
        if cfg.ramp:
            # the ramp is fitted on the frames this very card leaves to its default, so the card is read back first;
            # a fit that fails leaves no card (a card without the ramp asked for is not what was asked)
            periodic = lens_cuts.get("periodic_below")
            try:
                card["ramp"] = choose_ramp(path, files, cfg.seed, cfg.blur_step, periodic, command_line(), progress,
                                           cfg.ramp_benchmark_loss)
            except BaseException:
                path.unlink(missing_ok=True)
                raise
            write_card(path, card)
    except CardError as e:
        raise PairError(str(e)) from None
    return path, card


RAMP_CASES = {**WEBCAM_BENCHMARK, **{c: fn for group in RESAMPLED_CASES.values() for c, fn in group.items()}, **LENS_CASES,
              **MILD_CASES}
RAMP_GRID = np.round(np.arange(0.40, 0.951, 0.01), 2)  # the re-blur ratios the ramp's ends are chosen among


def choose_ramp(card_path: Path, files: list[Path], seed: int, step: int, periodic_from: float | None, command: str,
                progress: bool = True, benchmark_loss: float | None = None) -> dict[str, Any]:
    """The card's strength ramp (vcam/detect.py StrengthRamp), fitted on the training split: every picture (cut to
    multiples of 12) of RAMP_CASES (seeded as `lens_statistics` seeds them) that the card at `card_path` leaves to its
    default is run through it; the
    resampling cuts are chosen between kd/degrade.py's up-scaled and lens cases (`periodic_from`: the blur model's cut
    where the card has one, the same choice), and the ramp's ends (`RAMP_GRID`) for the most mean Y-PSNR gain, each case
    weighing the same (the gain of a picture at a share a of the change follows from three sums over its Y plane, up to
    the runtime's rounding);
    with `benchmark_loss`, only among the ends where none of the webcam benchmark's four cases loses more than that
    (dB, its mean over the split's pictures) against the whole change."""
    from kd.evaluate import as_rgb_u8, load_hr_u8
    from kd.metrics import shave, y_channel_f64
    from kd.webcam import SHAVE, image_seed

    restorer = SwitchedRestorer(card_path, 1)
    figures: dict[str, list[tuple[float, float]]] = {c: [] for c in (*RESAMPLED_CASES["periodic"], *LENS_CASES, *PERIOD4_CASES)}
    rows: list[tuple[str, float, float, float, float, float, float]] = []  # case, |e|^2, <e, d>, |d|^2, ratio, periodic, phase
    images = 0
    for f in tqdm(files, desc="strength ramp on the training split", unit="img", disable=not progress, file=sys.stderr,
                  dynamic_ncols=True):
        hr = modcrop(as_rgb_u8(load_hr_u8(f)), 12)
        if min(hr.shape[:2]) < Resampling.MIN_SIDE:
            continue
        images += 1
        y_hr = shave(y_channel_f64(hr), SHAVE)
        for c, fn in RAMP_CASES.items():
            lq = fn(hr, image_seed(f"train/{f.name}", c, seed))
            y = y_plane_u8(lq)
            periodic, phase = resampling_figures(y)
            if c in figures:
                figures[c].append((periodic, phase))
            if restorer.passes(lq) or restorer.pick(lq) is not restorer.default:
                continue
            y_in = shave(y_channel_f64(lq), SHAVE)
            d, e = shave(y_channel_f64(restorer.default.restore(lq)), SHAVE) - y_in, y_hr - y_in
            rows.append((c, float((e * e).sum()), float((e * d).sum()), float((d * d).sum()), reblur_ratio(y, step), periodic, phase))
    if not rows:
        raise PairError(f"no training picture of {Resampling.MIN_SIDE} px a side or more goes to the card's default, so there "
                        "is nothing to fit a strength ramp on: pass a list with larger pictures, or leave out --ramp")
    lens = {k: np.array([v[k] for c in LENS_CASES for v in figures[c]]) for k in (0, 1)}
    if periodic_from is None:
        up = np.array([v[0] for c in RESAMPLED_CASES["periodic"] for v in figures[c]])
        periodic_from = strictly_below(best_cut(up, lens[0]), np.concatenate([up, lens[0]]))
    # the phase cut: x4/3's period-4 up-scales at or below it, lens blur (never resampled) above
    phase_up_to = best_cut(lens[1], np.array([v[1] for c in PERIOD4_CASES for v in figures[c]]))
    case = np.array([r[0] for r in rows])
    ee, ed, dd, ratio, periodic, phase = (np.array([r[k] for r in rows]) for k in range(1, 7))
    resampled = (periodic >= periodic_from) | (phase <= phase_up_to)

    def gains(share: np.ndarray) -> np.ndarray:  # dB over the input, per picture
        return 10 * np.log10(ee / np.maximum(ee - 2 * share * ed + share * share * dd, 1e-12))

    full = gains(np.ones(len(rows)))
    benchmark = [case == c for c in WEBCAM_BENCHMARK]
    best = (-math.inf, 0.0, 0.0)
    for lo in RAMP_GRID:
        for hi in RAMP_GRID[RAMP_GRID > lo]:
            share = np.where(resampled, np.clip((ratio - lo) / (hi - lo), 0.0, 1.0), 1.0)
            change = gains(share) - full
            if benchmark_loss is not None and min(change[b].sum() / images for b in benchmark) < -benchmark_loss:
                continue
            score = float(change.sum()) / (images * len(RAMP_CASES))  # every case has `images` pictures: equal weights
            if score > best[0] + 1e-12:
                best = (score, float(lo), float(hi))
    if best[0] == -math.inf:
        raise PairError(f"no strength ramp on the grid keeps each benchmark case within {benchmark_loss} dB of the whole "
                        "change on the training split: pass a larger --ramp-benchmark-loss, or leave it out")
    _, lo, hi = best
    share = np.where(resampled, np.clip((ratio - lo) / (hi - lo), 0.0, 1.0), 1.0)
    change = gains(share) - full
    return {
        "statistic": "reblur", "step": step, "from": lo, "to": hi, "periodic_from": float(periodic_from),
        "phase_up_to": float(phase_up_to),
        "chosen_on": {
            "images": f"{images} training images of {Resampling.MIN_SIDE} px a side or more", "seed": seed,
            **({"benchmark_loss": benchmark_loss} if benchmark_loss is not None else {}),
            # per case: the share of its pictures left to the default that read as resampled, and the mean change of
            # gain over all its pictures (dB; the others are unchanged)
            "resampled_share": {c: round(float(resampled[case == c].mean()), 4) if (case == c).any() else None for c in RAMP_CASES},
            "gain_change": {c: round(float(change[case == c].sum() / images), 4) for c in RAMP_CASES},
            "command": command,
        },
    }


class SwitchedRestorer:
    """A card with a switch, run as the runtime runs one picture: a picture the gate finds already sharp comes back
    as it is; otherwise its blockiness picks the model, and where that is the default, a blur model (if the card has
    one) takes a picture whose textured figure is below its cut."""

    runtime = "onnxruntime"

    def __init__(self, card_path: str | Path, threads: int) -> None:
        from kd.evaluate import OnnxRestorer

        try:
            parsed = read_card(card_path)
        except CardError as e:
            raise ExportError(str(e)) from None
        spec = parsed.switch
        assert spec is not None, f"{card_path} has no switch"
        card = parsed.raw
        self.default = OnnxRestorer(card_path, threads)
        self.alternate = OnnxRestorer(spec.card.card_path, threads)
        self.period, self.above, self.detail_below = spec.period, spec.above, spec.detail_below
        self.card = card
        self.onnx_path, self.source = self.default.onnx_path, str(Path(card_path))
        self.label = card["name"]
        self.precision = f"{self.default.precision} / {self.alternate.precision}"
        self.info = {**self.default.info, "switch": f"{self.alternate.label} above blockiness {self.above:.3f}"
                     + (f" below detail {self.detail_below:.3f}" if self.detail_below is not None else "")}
        self.gate = parsed.gate
        if self.gate is not None:
            self.info["gate"] = f"passed through above {self.gate.statistic} {self.gate.above:.3f}" + (
                f" below re-blur ratio {self.gate.reblur_below:.3f}" if self.gate.reblur_below is not None else "")
        self.blur = parsed.blur
        self.blurred = OnnxRestorer(self.blur.card.card_path, threads) if self.blur is not None else None
        if self.blur is not None:
            test = self.blur.resampling_test
            self.info["blur"] = f"{self.blurred.label} below {self.blur.statistic} {self.blur.below:.3f}" + (f", {test}" if test else "")
            self.precision += f" / {self.blurred.precision}"
        self.ramp = parsed.ramp
        if self.ramp is not None:
            self.info["ramp"] = self.ramp.text()
        self.chosen = [0, 0, 0]  # pictures that went to the default / to the alternate / to the blurred frames' model
        self.passed = 0  # pictures the gate passed through

    def pick(self, rgb_u8: np.ndarray):
        """The model this picture goes to."""
        y = y_plane_u8(rgb_u8)
        alt = False
        if Blockiness.fits(y.shape[1], y.shape[0], self.period):
            block, detail = block_figures(y, self.period)
            alt = block > self.above and (self.detail_below is None or detail < self.detail_below)
        if alt:
            self.chosen[1] += 1
            return self.alternate
        blur = self.blur
        # the runtime's BlurSwitch, fresh, so the picture decides; like the daemon, no lens or up-scale model on a plane too small
        # for the resampling figures
        if blur is not None and min(y.shape) >= (Texture.MIN_SIDE if blur.resampling_cuts is None else Resampling.MIN_SIDE):
            if BlurSwitch(y.shape[1], y.shape[0], blur.step, blur.below, lens_only=blur.lens_only,
                          upscaled_only=blur.upscaled_cuts).choose(y):
                self.chosen[2] += 1
                return self.blurred
        self.chosen[0] += 1
        return self.default

    def passes(self, rgb_u8: np.ndarray) -> bool:
        """Whether the gate leaves this picture as it is: the runtime's SharpGate, fresh, so the picture decides."""
        y = y_plane_u8(rgb_u8)
        gate = self.gate
        if gate is None or min(y.shape) < Texture.MIN_SIDE:
            return False
        return SharpGate(y.shape[1], y.shape[0], gate.step, gate.above, reblur_below=gate.reblur_below).passes(y)

    def share(self, rgb_u8: np.ndarray) -> float:
        """The share of the default's change this picture keeps: the runtime's StrengthRamp, fresh, so the picture
        decides (1.0 without a ramp, and on a plane too small for the resampling figures, as the daemon does)."""
        y = y_plane_u8(rgb_u8)
        ramp = self.ramp
        if ramp is None or min(y.shape) < Resampling.MIN_SIDE:
            return 1.0
        return StrengthRamp(y.shape[1], y.shape[0], ramp.step, ramp.ramp_from, ramp.ramp_to, ramp.periodic_from,
                            ramp.phase_up_to)(y)

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        if self.passes(rgb_u8):
            self.passed += 1
            return rgb_u8.copy()
        model = self.pick(rgb_u8)
        share = self.share(rgb_u8) if model is self.default else 1.0
        if share == 1.0:
            return model.restore(rgb_u8)
        # as the runtime's LumaPostprocessor blends the Y plane: (1 - s) x + s y, rounded, saturated
        y_in, y_out = model.luma_plane(rgb_u8)
        blended = cv2.addWeighted(y_in, 1.0 - share, y_out, share, 0.0, dtype=cv2.CV_8U)
        return add_luma_change_u8(rgb_u8, y_in, blended)


@click.command("pair")
@click.option("--config", type=click.Path(dir_okay=False), help="TOML file ([pair] table).")
@click.option("--default", "default", help="The plain model's card (most frames).")
@click.option("--alternate", help="The specialist's card, beside the default's (frames above the cut).")
@click.option("--name", help="The pair's card name (written beside the default's card).")
@click.option("--images", help="List file of training HR images the cut is chosen on. [default: runs/split/train.txt]")
@click.option("--target", help="The benchmark case the alternate is for. [default: x2+jpeg40]")
@click.option("--gate-step", type=int, help="The gate's textured figure counts differences of at least this many grey "
              "levels; 0: no gate (sharp frames are sharpened too). [default: 8]")
@click.option("--gate-reblur/--no-gate-reblur", default=None, help="Give the gate a second cut, on the re-blur ratio "
              "(line art up-scaled reads as sharp on the first figure alone). [default: on]")
@click.option("--blurred", help="A third model's card, beside the default's, for strongly blurred frames (a low textured "
              "figure). [default: none]")
@click.option("--blurred-target", help="The benchmark case the blurred frames' model is for, or 'lens' (with --blurred-lens: "
              "the textured cut between lens blur and x2 up-scales that read as lens blur). [default: x3]")
@click.option("--blurred-lens/--no-blurred-lens", default=None, help="The blurred frames' model is for lens blur: frames "
              "up-scaled from smaller ones (by their resampling figures) stay with the default. [default: off]")
@click.option("--blurred-upscaled/--no-blurred-upscaled", default=None, help="The inverse: the blurred frames' model is for "
              "up-scales, and frames that read as lens blur stay with the default. [default: off]")
@click.option("--ramp/--no-ramp", default=None, help="Fit a strength ramp: frames left to the default that read as a mild "
              "up-scale keep only part of its change (vcam/detect.py StrengthRamp). [default: off]")
@click.option("--ramp-benchmark-loss", type=float, help="Fit the ramp only among ends where none of the webcam benchmark's "
              "four cases loses more than this (dB) on the training split. [default: no bound]")
def pair_command(config, **flags) -> None:
    """Write a model card that switches per frame between two Y-plane models by a blockiness cut, leaves frames
    that are already sharp alone (its gate) and, with --blurred, sends strongly blurred frames to a third model."""
    try:
        cfg = merge(PairConfig, config, flags, section="pair")
        path, card = make_pair(cfg)
    except (ConfigError, PairError, OSError) as e:
        raise click.ClickException(str(e)) from None
    switch = card["switch"]
    shares = ", ".join(f"{d} {100 * s:.1f} %" for d, s in switch["chosen_on"]["share_switched"].items())
    click.echo(f"wrote {path}: {switch['model']} above blockiness {switch['above']:.3f} and below detail "
               f"{switch['detail_below']:.3f} (training split sent to it: {shares})")
    if "gate" in card:
        gate = card["gate"]
        passed = ", ".join(f"{d} {100 * s:.1f} %" for d, s in gate["chosen_on"]["share_passed"].items())
        second = f" and below re-blur ratio {gate['reblur_below']:.3f}" if "reblur_below" in gate else ""
        click.echo(f"  gate: no model above textured {gate['above']:.3f} at step {gate['step']}{second} "
                   f"(training split passed through: {passed})")
    if "blur" in card:
        blur = card["blur"]
        routed = ", ".join(f"{d} {100 * s:.1f} %" for d, s in blur["chosen_on"]["share_routed"].items())
        click.echo(f"  blur: {blur['model']} below textured {blur['below']:.4f} at step {blur['step']} "
                   f"(training split sent to it: {routed})")
        if "periodic_below" in blur:
            lens = ", ".join(f"{d} {100 * s:.1f} %" for d, s in blur["chosen_on"]["lens_share"].items())
            test = resampling_test_text(blur["periodic_below"], blur["phase_below"], bool(blur.get("upscaled_only")))
            click.echo(f"  {test}; training split read as lens blur: {lens}")
    if "ramp" in card:
        ramp = card["ramp"]
        change = ", ".join(f"{d} {v:+.3f}" for d, v in ramp["chosen_on"]["gain_change"].items())
        spec = read_card(path).ramp
        assert spec is not None
        click.echo(f"  ramp: {spec.text()} (training split, mean gain change in dB: {change})")
