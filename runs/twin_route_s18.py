"""Sitting 18, a lead (not a choice; no rule decides anything by it): the x2 twin for frames that read as a clean up-scale.

The default's plain half, trained on the webcam mix, scores 36.35 on Set5 x2 against its x4-grid twin's 36.94 (x2
bicubic only): the mix costs 0.59 dB on clean up-scales. The shipped card already tells an up-scaled frame from a
lens-blurred one (vcam/detect.py Resampling, its blur model's cuts). This measures, offline and per picture, a card
whose plain half hands a picture to TWIN when the picture reads as up-scaled (periodic >= the card's periodic cut or
phase >= its phase cut); everything else (gate, JPEG specialist, blur model) as the card decides.

Per method: the mean Y-PSNR gain over the degraded input (dB), four decimals, and (n routed) the pictures the twin took,
on the unseen photos (runs/unseen_s11.py's) under the webcam benchmark's cases, kd/degrade.py's RESAMPLED_CASES,
LENS_CASES and SHARP_CASES, and three webcam-like up-scales this sitting adds (x2 bicubic then MJPG q85, x2 area with
sensor noise, x1.5 bicubic); and under runs/defocus_s15.py's blur without down-scaling. Writes runs/eval/twin-route-s18.md,
or OUT.md.
python runs/twin_route_s18.py [--out OUT] SHIPPED_CARD.json TWIN_CARD.json [MORE_TWIN_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import (LENS_CASES, RESAMPLED_CASES, SHARP_CASES, WEBCAM_BENCHMARK, _area_down_bicubic_up,  # noqa: E402
                        bicubic_resize, jpeg_cv2, modcrop)
from kd.evaluate import as_rgb_u8, list_images, load_hr_u8, make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import SwitchedRestorer, y_plane_u8  # noqa: E402
from kd.webcam import SHAVE, image_seed, load_unsharp, y_scores  # noqa: E402
from vcam.detect import Resampling  # noqa: E402
from defocus_s15 import defocus_columns  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

DEFAULT_OUT = Path("runs/eval/twin-route-s18.md")


def _x15(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = hr.shape[:2]
    return bicubic_resize(bicubic_resize(hr, round(w / 1.5), round(h / 1.5)), w, h)


WEBCAM_UPSCALES = {
    "x2 then MJPG q85": lambda hr, rng: jpeg_cv2(WEBCAM_BENCHMARK["x2"](hr, rng), 85),
    "x2 area + noise": lambda hr, rng: _area_down_bicubic_up(hr, 2.0, rng),
    "x1.5": _x15,
}


class TwinRoute:
    """A card whose plain half gives the pictures that read as up-scaled to a twin."""

    def __init__(self, card: SwitchedRestorer, twin) -> None:
        assert card.blur is not None and card.blur.upscaled_cuts is not None, "the card needs a blur model with resampling cuts"
        self.card, self.twin = card, twin
        self.periodic_cut, self.phase_cut = card.blur.upscaled_cuts
        self.label = f"{card.label} + {twin.label} for clean up-scales"
        self.routed = 0

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        if self.card.passes(rgb_u8):
            return rgb_u8.copy()
        model = self.card.pick(rgb_u8)
        if model is self.card.default:
            y = y_plane_u8(rgb_u8)
            if min(y.shape) >= Resampling.MIN_SIDE:
                figures = Resampling(y.shape[1], y.shape[0])
                if figures(y) >= self.periodic_cut or figures.phase >= self.phase_cut:
                    self.routed += 1
                    model = self.twin
        return model.restore(rgb_u8)


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    shipped = make_restorer(cards[0], 2)
    methods = [load_unsharp(cfg.unsharp), shipped] + [TwinRoute(make_restorer(cards[0], 2), make_restorer(c, 2)) for c in cards[1:]]
    pictures = [(f"skimage-photos/{n}.png", photo_rgb_u8(n)) for n in PHOTOS]
    columns: dict[str, dict[str, float]] = {}
    routed: dict[str, dict[str, int]] = {}

    def score(column: str, items) -> None:
        gains = {m.label: [] for m in methods}
        for m in methods:
            if isinstance(m, TwinRoute):
                m.routed = 0
        for lq, y_hr in items:
            base = y_scores(lq, y_hr)[0]
            for m in methods:
                gains[m.label].append(y_scores(m.restore(lq), y_hr)[0] - base)
        columns[column] = {k: float(np.mean(v)) for k, v in gains.items()}
        routed[column] = {m.label: m.routed for m in methods if isinstance(m, TwinRoute)}
        print(f"{column} done", file=sys.stderr)

    cases = {**WEBCAM_BENCHMARK, **{c: fn for g in RESAMPLED_CASES.values() for c, fn in g.items()}, **LENS_CASES,
             **SHARP_CASES, **WEBCAM_UPSCALES}
    for case, fn in cases.items():  # the benchmark's four as `kd evaluate --webcam` seeds them
        items = []
        for name, rgb in pictures:
            hr = modcrop(rgb, 6)
            items.append((fn(hr, image_seed(name, case, 0)), shave(y_channel_f64(hr), SHAVE)))
        score(f"unseen {case}", items)
    defocus_pictures = [(f"skimage-photos/{n}", photo_rgb_u8(n)) for n in PHOTOS]
    defocus_pictures += [(f"Set14/{f.name}", as_rgb_u8(load_hr_u8(f))) for s in cfg.sets if Path(s).name == "Set14" for f in list_images(s)]
    for column, degrade in defocus_columns().items():
        score(column, [(degrade(modcrop(rgb, 4), name), shave(y_channel_f64(modcrop(rgb, 4)), SHAVE)) for name, rgb in defocus_pictures])
    rows = {m.label: {c: f"{columns[c][m.label]:+.4f}" + (f" ({routed[c][m.label]} routed)" if m.label in routed[c] else "")
                      for c in columns} for m in methods}
    write_table("# A lead: the x2 twin for pictures that read as up-scaled (offline, per picture)", rows,
                f"Mean Y-PSNR gain over the degraded input (dB): unseen: runs/unseen_s11.py's {len(pictures)} photos, each case "
                "seeded per photo (seed 0; the benchmark's four as `kd evaluate --webcam`); the rest: runs/defocus_s15.py's "
                f"{len(defocus_pictures)} pictures and cases. (n routed): pictures the twin took (the card's plain half had them "
                "and they read as up-scaled by the card's resampling cuts).",
                command_line("twin_route_s18.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if len(args) < 2:
        sys.exit("usage: python runs/twin_route_s18.py [--out OUT] SHIPPED_CARD.json TWIN_CARD.json [MORE_TWIN_CARDS ...]")
    main(args, out)
