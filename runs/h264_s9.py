"""Sitting 9: what a model pair's switch does on real H.264 (x264 through PyAV, the project's `[video]` extra).

The blockiness statistic finds H.264's 16-px macroblock grid as well as a small JPEG stream up-scaled x2
(sitting 8: every frame of talking_512.mp4 as it is). Whether sending such frames to the low-resolution-
JPEG specialist helps is measured here on frames with a reference: the first frames of each shared clip,
area-downscaled to at most 640 px wide (the webcam benchmark's clip size; the clips' own compression
shrinks with them), encoded as one sequence by libx264 at a constant quality and decoded, four ways:
full size at CRF 30 and 38, and half size at CRF 30 and 38 up-scaled x2 (bicubic; a bandwidth-starved
call). Per method: Y-PSNR gain over the decoded input (as `kd evaluate --webcam`: Y BT.601, 3 px
shaved, mean over frames), still-area flicker, and for a pair the share of frames its switch sent to its
alternate. Writes runs/eval/h264-s9.md, or OUT.md: python runs/h264_s9.py [--out OUT] PAIR_CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import modcrop  # noqa: E402
from kd.evaluate import make_restorer  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.switch import SwitchedRestorer  # noqa: E402
from kd.webcam import SHAVE, DegradedInput, load_unsharp, read_clip, still_flicker, y_scores  # noqa: E402

FRAMES = 60
CASES = {"h264 crf30": (1, 30), "h264 crf38": (1, 38), "x2 + h264 crf30": (2, 30), "x2 + h264 crf38": (2, 38)}


def h264_round_trip(frames_rgb: list[np.ndarray], crf: int, fps: int = 30) -> list[np.ndarray]:
    """The frames encoded as one libx264 sequence (yuv420p, constant quality `crf`, preset medium) and decoded.
    One encoder thread (since sitting 12): threaded x264 moved a stream's gain by up to 0.04 dB run to run."""
    import av

    h, w = frames_rgb[0].shape[:2]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "medium", "threads": "1"}
        for f in frames_rgb:
            for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf, mode="r") as inp:
        return [frame.to_ndarray(format="rgb24") for frame in inp.decode(video=0)]


def degrade(frames: list[np.ndarray], factor: int, crf: int) -> list[np.ndarray]:
    if factor == 1:
        return h264_round_trip(frames, crf)
    h, w = frames[0].shape[:2]
    small = [cv2.resize(f, (w // factor, h // factor), interpolation=cv2.INTER_AREA) for f in frames]
    return [cv2.resize(f, (w, h), interpolation=cv2.INTER_CUBIC) for f in h264_round_trip(small, crf)]


DEFAULT_OUT = Path("runs/eval/h264-s9.md")


def main(cards: list[str], out: Path = DEFAULT_OUT) -> None:
    cfg = WebcamBenchConfig()
    methods = [DegradedInput(), load_unsharp(cfg.unsharp), make_restorer("export/sharpcam-cs4-int8.json", 2)]
    methods += [make_restorer(c, 2) for c in cards]
    rows: dict[str, dict[str, str]] = {m.label: {} for m in methods}
    for clip in cfg.clips:
        refs = [modcrop(f, 4) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        for case, (factor, crf) in CASES.items():
            for label, cell in clip_cells(methods, degrade(refs, factor, crf), y_refs, cfg.still_threshold).items():
                rows[label][f"{Path(clip).stem} {case}"] = cell
            print(f"{Path(clip).name} {case} done", file=sys.stderr)
    write_table("# A model pair on real H.264 (libx264), the shared clips' first frames as the reference", rows,
                f"Y-PSNR gain over the decoded input (dB) / still-area flicker, first {FRAMES} frames of each clip at <= "
                f"{cfg.clip_max_width} px wide; x2: encoded at half size, up-scaled x2 (bicubic). (n/m alt.): frames the "
                "pair's switch sent to its alternate (per frame, no hysteresis)."
                + (" (..., k blur): frames a card's blur model took." if any(getattr(m, "blur", None) for m in methods) else ""),
                command_line("h264_s9.py", cards, out, DEFAULT_OUT), out)


def clip_cells(methods: list, lq: list[np.ndarray], y_refs: list[np.ndarray], still_threshold: float) -> dict[str, str]:
    """Per method, "gain / flicker" on the degraded frames `lq` (RGB uint8) against the reference Y planes
    (shaved): the mean Y-PSNR gain over `lq` and the still-area flicker, and for a pair "(n/m alt.)" (", k blur":
    frames a card's blur model took)."""
    base = np.mean([y_scores(f, y)[0] for f, y in zip(lq, y_refs)])
    cells = {}
    for m in methods:
        if isinstance(m, SwitchedRestorer):
            m.chosen = [0] * len(m.chosen)
        out = [m.restore(f) for f in lq]
        gain = np.mean([y_scores(f, y)[0] for f, y in zip(out, y_refs)]) - base
        cells[m.label] = f"{gain:+.2f} / {still_flicker(lq, out, still_threshold):.2f}"
        if isinstance(m, SwitchedRestorer):
            blur = f", {m.chosen[2]} blur" if m.blur is not None else ""  # a card with a blur model (sitting 15)
            cells[m.label] += f" ({m.chosen[1]}/{sum(m.chosen)} alt.{blur})"
    return cells


def out_argument(args: list[str], default: Path) -> tuple[list[str], Path]:
    """`[--out OUT] CARD ...` -> (the cards, OUT.md or `default`): the record scripts' one option."""
    if args[:1] == ["--out"]:
        if len(args) < 2:
            sys.exit("--out needs a path without .md, e.g. --out runs/eval/h264-s11")
        return args[2:], Path(args[1] + ".md")
    return args, default


def command_line(script: str, cards: list[str], out: Path, default: Path) -> str:
    """The command that writes `out` (named in its table's "Produced by" line)."""
    return f"python runs/{script} " + (f"--out {out.with_suffix('')} " if out != default else "") + " ".join(cards)


def write_table(title: str, rows: dict[str, dict[str, str]], note: str, command: str, out: Path) -> None:
    """A Markdown table of `rows` (method -> column -> cell) with its note and command, printed and written."""
    cols = list(next(iter(rows.values())).keys())
    lines = [title, "", "| method | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    lines += [f"| {label} | " + " | ".join(r[c] for c in cols) + " |" for label, r in rows.items()]
    lines += ["", note, "", f"Produced by: `{command}`"]
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main(*out_argument(sys.argv[1:], DEFAULT_OUT))
