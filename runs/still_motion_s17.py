"""Sitting 17: how much the runtime moves still areas, in grey levels, beside the flicker ratio the tables give.

The flicker figure (kd/webcam.py still_flicker) is the output's mean |dY| over the input's still pixels divided by the
input's own. Where H.264 repeats a still picture (the still scenes through libx264 of runs/steady_s11.py and
runs/blurred_s15.py) the input moves by thousandths of a grey level a frame, so the ratio of two such numbers can read
1.5-1.8 while the output moves by less than a hundredth of a level. This prints, per stream (the streams of both
scripts, through the runtime's own frame processor at the default steadying, as they measure them) and card, and for
the frozen unsharp mask per frame: "ratio (input -> output levels/frame)".
Writes runs/eval/still-motion-s17.md, or OUT.md.
python runs/still_motion_s17.py [--out OUT] CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.webcam import load_unsharp, still_motion  # noqa: E402
from vcam.config import DaemonConfig  # noqa: E402
from blurred_s15 import blurred_streams  # noqa: E402
from h264_s9 import command_line, out_argument, write_table  # noqa: E402
from steady_s11 import run_stream, steady_streams  # noqa: E402

DEFAULT_OUT = Path("runs/eval/still-motion-s17.md")


def motion_cell(moved: tuple[float, float]) -> str:
    """"ratio (input -> output levels a frame)"; levels to thousandths, so a ratio near 0.004 levels is not theirs."""
    moved_in, moved_out = moved
    if math.isnan(moved_in):
        return "no still pixels"
    ratio = f"{moved_out / moved_in:.2f}" if moved_in > 0 else "-"  # a picture repeated exactly: only the levels say
    return f"{ratio} ({moved_in:.3f} -> {moved_out:.3f})"


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    unsharp = load_unsharp(cfg.unsharp)
    streams = {**steady_streams(cfg), **blurred_streams(cfg)}  # their names differ
    unsharp_label = f"{unsharp.label}, per frame"
    rows: dict[str, dict[str, str]] = {name: {} for name in streams}
    for name, (lq, _) in streams.items():
        rows[name][unsharp_label] = motion_cell(still_motion(lq, [unsharp.restore(f) for f in lq], cfg.still_threshold))
    for card in cards:
        for name, (lq, _) in streams.items():
            rows[name][Path(card).stem] = motion_cell(still_motion(lq, run_stream(card, DaemonConfig().steady, lq), cfg.still_threshold))
        print(f"{card} done", file=sys.stderr)
    write_table("# How much still areas move, in grey levels (vcam FrameProcessor, default steadying)", rows,
                "Per stream: still-area flicker (1.00 = none added) (the input's mean |dY| per still pixel and frame -> the "
                "output's, in grey levels; still: the 5 x 5 mean of the input's |dY| below "
                f"{cfg.still_threshold:g}, as the flicker figure). The streams of runs/steady_s11.py and runs/blurred_s15.py; "
                "the unsharp mask is the webcam benchmark's frozen one, on each frame alone.",
                command_line("still_motion_s17.py", cards, out, DEFAULT_OUT), out)


if __name__ == "__main__":
    args, out = out_argument(sys.argv[1:], DEFAULT_OUT)
    if not args:
        sys.exit("usage: python runs/still_motion_s17.py [--out OUT] CARD.json [MORE_CARDS ...]")
    main(args, out)
