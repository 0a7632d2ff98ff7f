"""Sitting 17, a lead (not a choice; no rule decides anything by it): a x3 blur model that takes only frames whose
resampling figures say "up-scaled".

runs/results_s17.sh and results_s17b.sh found every x3 blur model losing on the mildest lens blur (Gaussian sigma 1:
5 of 26 pictures read as strongly blurred and go to it), enough to fall under the unsharp mask there. Sitting 16's
vcam/detect.py Resampling tells an up-scale from lens blur on pictures (its card cuts: periodic 4.2407, phase 1.1677,
`sharpcam-kd pair --blurred-lens`); its BlurSwitch(lens_only=...) sends only frames that read as lens blur to the blur
model. This measures the inverse, offline and per picture: a card's blur model keeps a picture only if at least one of
the two figures is at or above its cut (read as up-scaled); otherwise the picture goes to the card's plain half.
The runtime had no such mode when this ran; it has since (`pair --blurred-upscaled`, measured by
runs/results_s17c.sh), and this script stays as the record of the look that led to it.

Per method, on the unseen photos (runs/unseen_s11.py's, the webcam benchmark's seeded x3 and blur + noise + JPEG cases)
and on blur without down-scaling (runs/defocus_s15.py's pictures and cases): the mean Y-PSNR gain over the degraded input
(dB), four decimals, and the pictures the blur model kept. Writes runs/eval/upscaled-only-s17.md, or OUT.md.
python runs/upscaled_only_s17.py [--out OUT] SHIPPED_CARD.json BLUR_CARD.json [MORE_BLUR_CARDS ...]
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, list_images, load_hr_u8, make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import SwitchedRestorer, y_plane_u8  # noqa: E402
from kd.webcam import SHAVE, degraded_inputs, load_unsharp, y_scores  # noqa: E402
from vcam.detect import Resampling  # noqa: E402
from defocus_s15 import defocus_columns  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from unseen_s11 import PHOTOS, photo_rgb_u8  # noqa: E402

PERIODIC_CUT, PHASE_CUT = 4.2407, 1.1677  # runs/onnx/s16-pair-defocus-lens.json's "blur" (chosen on the training split)
BENCHMARK_CASES = ("x3", "blur1.2+noise4+jpeg60")
DEFAULT_OUT = Path("runs/eval/upscaled-only-s17.md")


class UpscaledOnly:
    """A card with a blur model, its blur model kept only for pictures that read as up-scaled."""

    def __init__(self, card: SwitchedRestorer) -> None:
        self.card, self.label = card, f"{card.label}, up-scaled only"
        self.kept = 0

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        if self.card.passes(rgb_u8):
            return rgb_u8.copy()
        model = self.card.pick(rgb_u8)
        if model is self.card.blurred:
            y = y_plane_u8(rgb_u8)
            figures = Resampling(y.shape[1], y.shape[0])
            periodic = figures(y)
            if periodic >= PERIODIC_CUT or figures.phase >= PHASE_CUT:
                self.kept += 1
            else:
                model = self.card.default
        return model.restore(rgb_u8)


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    shipped, blur_cards = make_restorer(cards[0], 2), [make_restorer(c, 2) for c in cards[1:]]
    methods = [load_unsharp(cfg.unsharp), shipped]
    for card in blur_cards:
        methods += [card, UpscaledOnly(card)]
    pictures = [(f"skimage-photos/{n}.png", photo_rgb_u8(n)) for n in PHOTOS]
    columns: dict[str, dict[str, list[float]]] = {}
    kept: dict[str, dict[str, int]] = {}

    def score(column: str, items) -> None:
        gains = {m.label: [] for m in methods}
        for m in methods:
            if isinstance(m, UpscaledOnly):
                m.kept = 0
        for lq, y_hr in items:
            base = y_scores(lq, y_hr)[0]
            for m in methods:
                gains[m.label].append(y_scores(m.restore(lq), y_hr)[0] - base)
        columns[column] = {k: float(np.mean(v)) for k, v in gains.items()}
        kept[column] = {m.label: m.kept for m in methods if isinstance(m, UpscaledOnly)}
        print(f"{column} done", file=sys.stderr)

    for case in BENCHMARK_CASES:  # as `kd evaluate --webcam` degrades them: the same names, seeds and crops
        items = []
        for name, rgb in pictures:
            hr = modcrop(rgb, 6)
            items.append((degraded_inputs(hr, name, 0)[case], shave(y_channel_f64(hr), SHAVE)))
        score(f"unseen {case}", items)
    defocus_pictures = [(f"skimage-photos/{n}", photo_rgb_u8(n)) for n in PHOTOS]
    defocus_pictures += [(f"Set14/{f.name}", as_rgb_u8(load_hr_u8(f))) for s in cfg.sets if Path(s).name == "Set14" for f in list_images(s)]
    for column, degrade in defocus_columns().items():
        score(column, [(degrade(modcrop(rgb, 4), name), shave(y_channel_f64(modcrop(rgb, 4)), SHAVE)) for name, rgb in defocus_pictures])
    rows = {m.label: {c: f"{columns[c][m.label]:+.4f}" + (f" ({kept[c][m.label]} kept)" if m.label in kept[c] else "")
                      for c in columns} for m in methods}
    write_table("# A lead: the blur model only where the resampling figures say up-scaled (offline, per picture)", rows,
                f"Mean Y-PSNR gain over the degraded input (dB): unseen: runs/unseen_s11.py's {len(pictures)} photos under the "
                "webcam benchmark's seeded cases (seed 0, as `kd evaluate --webcam`); the rest: runs/defocus_s15.py's "
                f"{len(defocus_pictures)} pictures and cases. (n kept): pictures whose blur model was kept (read as up-scaled: "
                f"periodic >= {PERIODIC_CUT} or phase >= {PHASE_CUT}); the others went to the card's plain half.",
                command_line("upscaled_only_s17.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if len(args) < 2:
        sys.exit("usage: python runs/upscaled_only_s17.py [--out OUT] SHIPPED_CARD.json BLUR_CARD.json [MORE_BLUR_CARDS ...]")
    main(args, out)
