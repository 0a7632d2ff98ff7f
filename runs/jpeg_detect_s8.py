"""Sitting 8: can a runtime tell a frame that was JPEG-compressed at half size and up-scaled (the webcam
benchmark's x2 + JPEG q40, where a model trained for that case alone gains +0.7 dB and the mix-trained
default +0.13) from the benchmark's other three cases, by a statistic cheap enough to run per frame?

The statistic: blockiness at a 16-pixel period (8 x 8 JPEG blocks at half size, up-scaled x2). The mean
|horizontal difference| of the Y plane per column, folded modulo 16; at the strongest phase, its ratio to
the phase 8 pixels away (the same for rows, the two averaged). A block edge at half size repeats every 16
pixels and its opposite phase is a block's middle; the x2 up-scale's own 2-pixel pattern and full-size
JPEG's 8-pixel grid look the same at both phases, so they stay near 1.0.
The threshold is chosen on the training split's images under the same four degradations (never on the
benchmark's pictures), then applied to the benchmark. Then the design it would allow, scored on the
benchmark: per frame, the default (`export/sharpcam-cs4-int8.json`) or, above the threshold, sitting 8's
x2 + JPEG q40 probe on the same grid (`runs/onnx/s8-probe-x4grid-jpeg40.json`, from
`bash runs/results_s8.sh`), with the still-area flicker of the per-frame switch on the two clips.
Writes runs/eval/jpeg-detect-s8.md. python runs/jpeg_detect_s8.py (~5 min on 2 cores); with another
card as its argument (a specialist, e.g. `kd/recipes/specialist_x4grid_jpeglow_s8.toml`'s export), the
switch pairs the default with that model instead and writes runs/eval/jpeg-detect-s8-<name>.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kd.config import DEFAULT_TRAIN_DIRS, WebcamBenchConfig  # noqa: E402
from kd.data import scan_images, split_files  # noqa: E402
from kd.degrade import WEBCAM_BENCHMARK, modcrop  # noqa: E402
from kd.evaluate import as_rgb_u8, load_hr_u8, make_restorer  # noqa: E402
from kd.metrics import y_channel_f64  # noqa: E402
from kd.webcam import DegradedInput, bench_files, degraded_inputs, read_clip, score_clips, score_images  # noqa: E402

PERIOD = 16


def blockiness(y: np.ndarray, period: int = PERIOD) -> float:
    """Strongest phase of the folded mean |first difference| over the phase half a period away, rows and
    columns averaged."""
    scores = []
    for d in (np.abs(np.diff(y, axis=1)).mean(axis=0), np.abs(np.diff(y, axis=0)).mean(axis=1)):
        n = len(d) // period * period
        folded = d[:n].reshape(-1, period).mean(axis=0)
        scores.append(float(np.max(folded / np.maximum(np.roll(folded, period // 2), 1e-6))))  # a flat frame: no grid
    return float(np.mean(scores))


def case_scores(files: list) -> dict[str, np.ndarray]:
    scores: dict[str, list[float]] = {d: [] for d in WEBCAM_BENCHMARK}
    for name, f in files:
        hr = modcrop(f if isinstance(f, np.ndarray) else as_rgb_u8(load_hr_u8(f)), 6)
        for d, lq in degraded_inputs(hr, str(name), 0).items():
            scores[d].append(blockiness(y_channel_f64(lq)))
    return {d: np.array(v) for d, v in scores.items()}


def best_cut(scores: dict[str, np.ndarray]) -> float:
    """The single threshold that puts the most inputs on the right side of x2 + JPEG q40 vs the rest."""
    target = scores["x2+jpeg40"]
    others = np.concatenate([v for d, v in scores.items() if d != "x2+jpeg40"])
    cuts = np.unique(np.concatenate([target, others]))
    right = [(target > t).sum() + (others <= t).sum() for t in cuts]
    return float(cuts[int(np.argmax(right))])


class Switched:
    """Per frame: `low_res_jpeg` where the frame's blockiness is above `cut`, else `default`."""

    runtime, source, onnx_path, info = "onnxruntime", None, None, {}

    def __init__(self, default, low_res_jpeg, cut: float) -> None:
        self.default, self.low_res_jpeg, self.cut = default, low_res_jpeg, cut
        self.precision = f"{default.precision} / {low_res_jpeg.precision}"
        self.label = f"switch at blockiness {cut:.3f}: {default.label} / {low_res_jpeg.label}"

    def restore(self, rgb_u8: np.ndarray) -> np.ndarray:
        jpeg = blockiness(y_channel_f64(rgb_u8)) > self.cut
        return (self.low_res_jpeg if jpeg else self.default).restore(rgb_u8)


def main(low_res_jpeg_card: str = "runs/onnx/s8-probe-x4grid-jpeg40.json") -> None:
    name = Path(low_res_jpeg_card).stem
    out = Path("runs/eval/jpeg-detect-s8.md" if name == "s8-probe-x4grid-jpeg40" else f"runs/eval/jpeg-detect-s8-{name}.md")
    train = case_scores([(f"train/{f.name}", f) for f in split_files(scan_images(DEFAULT_TRAIN_DIRS)).train])
    cut = best_cut(train)
    cfg = WebcamBenchConfig()
    files = bench_files(cfg)
    bench = case_scores(files)
    lines = [f"# Blockiness at a {PERIOD}-px period, the webcam benchmark's {len(bench['x2'])} pictures", "",
             "| degradation | min | 5 % | median | 95 % | max | above the cut |", "|---|---|---|---|---|---|---|"]
    for d, v in bench.items():
        q = np.percentile(v, [0, 5, 50, 95, 100])
        lines.append(f"| {d} | " + " | ".join(f"{x:.3f}" for x in q) + f" | {(v > cut).mean():.1%} |")
    lines += ["", f"The cut, {cut:.3f}, chosen on the {len(train['x2'])} training-split images under the same four "
              "degradations (the most of them on the right side of x2 + JPEG q40 against the other three).", ""]
    for clip in cfg.clips:  # the frames as the runtime gets them (H.264 as decoded), nothing added
        frames = read_clip(Path(clip), cfg.clip_frames, 1 << 14)
        above = np.mean([blockiness(y_channel_f64(f)) > cut for f in frames])
        lines.append(f"{Path(clip).name} as it is (first {len(frames)} frames, full size): {above:.1%} above the cut.")
    default = make_restorer("export/sharpcam-cs4-int8.json", 2)
    probe = make_restorer(low_res_jpeg_card, 2)
    methods = [DegradedInput(), default, probe, Switched(default, probe, cut)]
    images = score_images(methods, files, cfg.seed)
    clips = score_clips(methods, [Path(c) for c in cfg.clips], cfg.clip_frames, cfg.clip_max_width, cfg.still_threshold)
    lines += ["", "| method | " + " | ".join(WEBCAM_BENCHMARK) + " | flicker " + " / ".join(Path(c).stem for c in cfg.clips) + " |",
              "|---|" + "---|" * (len(WEBCAM_BENCHMARK) + 1)]
    for m in methods[1:]:
        gains = " | ".join(f"{images[m.label][d]['psnr_gain']:+.2f}" for d in WEBCAM_BENCHMARK)
        flicker = " / ".join(f"{clips[m.label][Path(c).name]['flicker']:.2f}" for c in cfg.clips)
        lines.append(f"| {m.label} | {gains} | {flicker} |")
    lines += ["", "Y-PSNR gain over the degraded input (dB), mean over the pictures, as `sharpcam-kd evaluate --webcam`.",
              "", f"Produced by: `python runs/jpeg_detect_s8.py{'' if out.name == 'jpeg-detect-s8.md' else ' ' + low_res_jpeg_card}`"]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(*sys.argv[1:2])
