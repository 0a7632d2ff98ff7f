"""Sitting 10: which of an all-integer int8 model's activation roundings make its flicker on a still picture.

For each uint8-rounded activation of the int8 graph (kd quantize's QDQ pairs), the same graph with that one
tensor left in float (its QuantizeLinear/DequantizeLinear pair removed; a ReLU put back where the rounding
did the ReLU's clamp), then all body conv outputs in float together, then every body activation; each scored
on the shared clips made a small JPEG stream up-scaled (runs/blocky_clips_s9.py: each frame halved, JPEG q40,
bicubic x2): Y-PSNR gain over that input and still-area flicker (1.00 = none added). With --as-they-are, on the
shared clips as they are (flicker only: there is no cleaner reference); a float model gets its one row.
Writes OUT.md: python runs/int8_flicker_s10.py [--as-they-are] OUT CARD.json [MORE_CARDS ...]
"""
from __future__ import annotations

import copy
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from kd.config import WebcamBenchConfig  # noqa: E402
from kd.degrade import modcrop  # noqa: E402
from kd.evaluate import OnnxRestorer  # noqa: E402
from kd.export import ort_session  # noqa: E402
from kd.metrics import shave, y_channel_f64  # noqa: E402
from kd.webcam import SHAVE, read_clip, still_flicker, y_scores  # noqa: E402
from blocky_clips_s9 import FRAMES, small_jpeg_stream  # noqa: E402


def with_float(model: onnx.ModelProto, tensors: set[str]) -> onnx.ModelProto:
    """`model` with the QDQ rounding of `tensors` removed; where the rounding stood for a ReLU (onnxruntime's
    quantizer drops a ReLU whose output range starts at 0), a ReLU goes back in its place."""
    nodes = list(model.graph.node)
    drop, remap, relus = set(), {}, []
    for qi, q in enumerate(nodes):
        if q.op_type != "QuantizeLinear" or q.input[0] not in tensors:
            continue
        x = q.input[0]
        target = x + "_relu" if "Relu" in x else x
        if target != x:
            relus.append(x)
        drop.add(qi)
        for di, d in enumerate(nodes):
            if d.op_type == "DequantizeLinear" and d.input[0] == q.output[0]:
                drop.add(di)
                remap[d.output[0]] = target
    out = []
    for i, n in enumerate(nodes):
        if i in drop:
            continue
        n = copy.deepcopy(n)
        for j, name in enumerate(n.input):
            n.input[j] = remap.get(name, name)
        out.append(n)
        out += [onnx.helper.make_node("Relu", [o], [o + "_relu"]) for o in n.output if o in relus]
    m = copy.deepcopy(model)
    del m.graph.node[:]
    m.graph.node.extend(out)
    return m


def body_activations(model: onnx.ModelProto) -> list[str]:
    """The rounded activations between the head's output and the tail's (the ends are on the Y plane's grid)."""
    names = [n.input[0] for n in model.graph.node if n.op_type == "QuantizeLinear"]
    return [t for t in names if t.startswith(("/Relu", "/body.", "/Add"))]


def main(out: Path, cards: list[str], as_they_are: bool = False) -> None:
    cfg = WebcamBenchConfig()
    streams = {}
    for clip in cfg.clips:
        refs = [modcrop(f, 4) for f in read_clip(Path(clip), FRAMES, cfg.clip_max_width)]
        lq = refs if as_they_are else [small_jpeg_stream(f) for f in refs]
        y_refs = [shave(y_channel_f64(f), SHAVE) for f in refs]
        streams[Path(clip).stem] = (lq, y_refs, np.mean([y_scores(f, y)[0] for f, y in zip(lq, y_refs)]))
    kind = "the shared clips as they are" if as_they_are else "the clips as a small JPEG stream up-scaled, q40"
    lines = [f"# Which roundings of an int8 model flicker ({kind})", "",
             "| model | left in float | " + " | ".join(streams) + " |", "|---|---|" + "---|" * len(streams)]
    for card in cards:
        restorer = OnnxRestorer(card, 2)
        model = onnx.load(str(restorer.onnx_path))
        acts = body_activations(model)
        convs = [t for t in acts if "/conv/Conv" in t]
        variants = {"nothing (as shipped)": []}
        if acts:
            variants |= {t: [t] for t in acts}
            if convs:
                variants["the body conv outputs"] = convs
            variants["every body activation"] = acts
        with tempfile.TemporaryDirectory() as tmp:
            for label, floated in variants.items():
                path = Path(tmp) / "variant.onnx"
                onnx.save(with_float(model, set(floated)), str(path))
                restorer.session = ort_session(path, 2)
                cells = []
                for lq, y_refs, base in streams.values():
                    res = [restorer.restore(f) for f in lq]
                    gain = np.mean([y_scores(f, y)[0] for f, y in zip(res, y_refs)]) - base
                    flicker = f"{still_flicker(lq, res, cfg.still_threshold):.2f}"
                    cells.append(flicker if as_they_are else f"{gain:+.2f} / {flicker}")
                lines.append(f"| {restorer.label} | {label} | " + " | ".join(cells) + " |")
                print(lines[-1], flush=True)
    cell = "still-area flicker" if as_they_are else "Y-PSNR gain over the input (dB) against the clip's own frames / still-area flicker"
    lines += ["", f"{cell} (1.00 = none added); first {FRAMES} frames at <= {cfg.clip_max_width} px wide.", "",
              f"Produced by: `python runs/int8_flicker_s10.py {'--as-they-are ' if as_they_are else ''}{out.with_suffix('')} {' '.join(cards)}`"]
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    raw = args[:1] == ["--as-they-are"]
    args = args[1:] if raw else args
    if len(args) < 2:
        sys.exit("usage: python runs/int8_flicker_s10.py [--as-they-are] OUT CARD.json [MORE_CARDS ...]")
    main(Path(args[0] + ".md"), args[1:], raw)
