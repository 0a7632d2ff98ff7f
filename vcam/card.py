"""The model card: the one contract between kd/ (which writes it) and vcam/ (which reads it).

One JSON file beside each ONNX model (export/README.md). This module is its only parser and writer:
`kd export` / `kd quantize` build cards with `card_fields` and write them with `write_card`; the runtime,
`kd evaluate`, `kd quantize` and the tests read them with `read_card`, which checks everything the
runtime relies on (version, file, sha256, tensors, layout, colour order, range, padding, output kind)
and raises CardError with one line naming the problem and the fix. Standard library only.

Version 2 adds `planes`: "RGB" (version 1's only kind: a 1 x 3 x H x W float32 frame) or "Y" (a
1 x 1 x H x W luma plane, float32 or uint8; uint8 is the Y plane of I420 exactly as the runtime holds
it, BT.601 limited range, so no full-resolution float tensor exists outside the model). Version 1
cards are read as RGB float32.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vcam.config import SharpCamError

CARD_VERSION = 2
# A pair's blur model for up-scales only (blur "upscaled_only", sitting 17) inverts what a sharpcam that predates it
# would do with the same cuts (route lens blur there), so such cards are written as version 3, which those refuse.
UPSCALED_ONLY_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
PLANE_CHANNELS = {"RGB": 3, "Y": 1}
# A "Y" model's uint8 plane is BT.601 limited-range luma (what OpenCV's BGR -> I420 writes): Y = 16 +
# 219 * (0.299 R + 0.587 G + 0.114 B) with R, G, B in [0, 1]; (Y - 16) / 219 is the luma the students train on.
Y_BLACK, Y_SPAN = 16, 219


SWITCH_STATISTICS = ("blockiness",)
GATE_STATISTICS = ("textured",)
BLUR_STATISTICS = ("textured",)
RAMP_STATISTICS = ("reblur",)


class CardError(SharpCamError):
    """A card that is missing, unreadable or breaks the contract; the message names the fix."""


@dataclass(frozen=True)
class SwitchSpec:
    """A card's alternate model and when it runs: on frames whose `statistic` (at `period` px) is above
    `above` and, with `detail_below`, whose detail figure is below that (vcam/detect.py)."""

    card: "ModelCard"
    statistic: str
    period: int
    above: float
    detail_below: float | None = None


@dataclass(frozen=True)
class GateSpec:
    """Frames whose `statistic` (vcam/detect.py Texture at `step` grey levels) is above `above` (and, with
    `reblur_below`, whose re-blur ratio is below that) are already sharp: the runtime leaves them untouched and
    does not run the model."""

    statistic: str
    step: int
    above: float
    reblur_below: float | None = None  # and, if given, a re-blur ratio below this (vcam/detect.py Reblur)


def resampling_test_text(periodic: float, phase: float, upscaled_only: bool) -> str:
    """How a blur model's resampling cuts route frames, in words (logs, `pair`, the offline scorer)."""
    if upscaled_only:
        return f"up-scales only (periodic from {periodic:.2f} or phase from {phase:.4f})"
    return f"lens blur only (periodic below {periodic:.2f}, phase below {phase:.4f})"


@dataclass(frozen=True)
class BlurSpec:
    """A card's model for strongly blurred frames and when it runs: on frames the gate does not pass and the
    switch leaves to the card's model, whose `statistic` (vcam/detect.py Texture at `step` grey levels) is below
    `below` (a picture up-scaled ~x3 or defocused reads lower than one up-scaled x2). With `periodic_below` and
    `phase_below` (both or neither), a model for lens blur: only frames whose resampling figures (vcam/detect.py
    Resampling) are below both, i.e. not up-scaled from a smaller picture; with `upscaled_only` too (sitting 17), the
    inverse, a model for up-scales: only frames where at least one figure is at or above its cut."""

    card: "ModelCard"
    statistic: str
    step: int
    below: float
    periodic_below: float | None = None
    phase_below: float | None = None
    upscaled_only: bool = False

    @property
    def resampling_cuts(self) -> tuple[float, float] | None:
        """(periodic cut, phase cut) where the card gives them, else None."""
        return (self.periodic_below, self.phase_below) if self.periodic_below is not None and self.phase_below is not None else None

    @property
    def lens_only(self) -> tuple[float, float] | None:
        """The resampling cuts for a model for lens blur, else None."""
        return None if self.upscaled_only else self.resampling_cuts

    @property
    def upscaled_cuts(self) -> tuple[float, float] | None:
        """The resampling cuts for a model for up-scaled frames, else None."""
        return self.resampling_cuts if self.upscaled_only else None

    @property
    def resampling_test(self) -> str | None:
        """The resampling cuts' routing in words, or None for a model of every strongly blurred frame."""
        cuts = self.resampling_cuts
        return None if cuts is None else resampling_test_text(*cuts, self.upscaled_only)


@dataclass(frozen=True)
class RampSpec:
    """How much of the card's own model's change a frame keeps (vcam/detect.py StrengthRamp, sitting 18): a frame the
    gate does not pass and neither the switch nor the blur model takes, read as resampled (the `Resampling` periodic
    figure at or above `periodic_from`, or the phase figure at or below `phase_up_to`), keeps (its `statistic`, the
    re-blur ratio at `step` grey levels, - `ramp_from`) / (`ramp_to` - `ramp_from`) of it, clipped to 0..1: a mild
    up-scale is sharpened a little, an x2 one fully. Any other frame keeps all of it."""

    statistic: str
    step: int
    ramp_from: float
    ramp_to: float
    periodic_from: float
    phase_up_to: float

    def text(self) -> str:
        """The ramp in words (logs, `pair`, the offline scorer)."""
        return (f"resampled frames (periodic from {self.periodic_from:.2f} or phase up to {self.phase_up_to:.4f}) keep "
                f"re-blur ratio {self.ramp_from:.3f}..{self.ramp_to:.3f} -> 0..1 of the change")


@dataclass(frozen=True)
class ModelCard:
    """A verified card. value_max is 1.0 for value_range [0, 1] and 255.0 for [0, 255]; color_order is
    "RGB" or "BGR"; output_kind is "image" (the model returns the restored frame) or "residual" (the
    runtime adds it to the input). planes is "RGB" (tensors 1 x 3 x H x W) or "Y" (1 x 1 x H x W, the
    luma plane; color_order is then "Y"); dtype ("float32" or "uint8") is that of both tensors.
    `raw` is the whole JSON object (training record, metrics, ...)."""

    name: str
    card_path: Path
    onnx_path: Path
    sha256: str
    input_name: str
    output_name: str
    color_order: str
    value_max: float
    pad_multiple: int
    output_kind: str
    precision: str
    raw: dict[str, Any] = field(repr=False)
    planes: str = "RGB"
    dtype: str = "float32"
    switch: SwitchSpec | None = None
    gate: GateSpec | None = None
    blur: BlurSpec | None = None
    ramp: RampSpec | None = None

    @property
    def channels(self) -> int:
        return PLANE_CHANNELS[self.planes]

    @property
    def info(self) -> dict[str, Any]:
        """What people read about the model: architecture, size, cost and scores."""
        return {k: self.raw[k] for k in ("architecture", "params", "macs_per_pixel", "metrics", "switch", "gate", "blur") if k in self.raw}


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def card_fields(
    name: str, onnx_path: Path, *, pad_multiple: int, output_kind: str = "image", color_order: str = "RGB",
    value_range: tuple[float, float] = (0.0, 1.0), precision: str = "fp32", opset: int = 17,
    planes: str = "RGB", dtype: str = "float32", **info: Any,
) -> dict[str, Any]:
    """A card for `onnx_path` (its final bytes: the sha256 is taken now): the contract fields, then `info`
    (architecture, params, macs_per_pixel, metrics, training, quantization, ...) for people."""
    channels = PLANE_CHANNELS.get(planes, 3)
    tensor = lambda n: {"name": n, "dtype": dtype, "shape": [1, channels, "height", "width"]}
    return {
        "card_version": CARD_VERSION,
        "name": name,
        "file": onnx_path.name,
        "sha256": sha256_of(onnx_path),
        "planes": planes,
        "input": tensor("input"),
        "output": tensor("output"),
        "layout": "NCHW",
        "color_order": "Y" if planes == "Y" else color_order,
        "value_range": [float(value_range[0]), float(value_range[1])],
        "pad_multiple": pad_multiple,
        "output_kind": output_kind,
        "scale": 1,
        "precision": precision,
        "opset": opset,
        **info,
    }


def write_card(path: Path, card: dict[str, Any]) -> None:
    """Writes the card through `path.partial` + rename (a reader never sees half a file), after checking
    it against its model exactly as `read_card` will."""
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(card, indent=2) + "\n")
    try:
        _parse(card, path, tmp)
    except CardError:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def read_card(path: str | Path) -> ModelCard:
    """Reads and verifies a card (or the card beside an .onnx file), sha256 of the model included."""
    path = Path(path)
    card_path = path.with_suffix(".json") if path.suffix.lower() == ".onnx" else path
    if not card_path.is_file():
        if path.suffix.lower() == ".onnx":
            raise CardError(f"model {path} has no card {card_path.name} beside it: export it with `sharpcam-kd export` (writes both)")
        raise CardError(f"model card {card_path} does not exist: pass an existing .json card or .onnx file")
    try:
        raw = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CardError(f"cannot read model card {card_path} ({exc}): pass a valid card written by `sharpcam-kd export`") from None
    return _parse(raw, card_path, card_path)


def _need(card: dict[str, Any], key: str, kind: type | tuple[type, ...], where: Path) -> Any:
    if key not in card:
        raise CardError(f"model card {where} lacks {key!r}: re-export the model with `sharpcam-kd export`")
    value = card[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise CardError(f"model card {where}: {key!r} has the wrong type: re-export the model with `sharpcam-kd export`")
    return value


def _parse(raw: Any, card_path: Path, shown: Path, nested: bool = False) -> ModelCard:
    if not isinstance(raw, dict):
        raise CardError(f"model card {shown} is not a JSON object: pass a card written by `sharpcam-kd export`")
    version = _need(raw, "card_version", int, shown)
    if version not in READABLE_VERSIONS:
        raise CardError(f"model card {shown} has card_version {version}, this sharpcam reads "
                        f"{' and '.join(map(str, READABLE_VERSIONS))}: upgrade sharpcam or re-export")
    planes = raw.get("planes", "RGB") if version >= 2 else "RGB"
    if not isinstance(planes, str) or planes not in PLANE_CHANNELS:
        raise CardError(f"model card {shown}: planes {planes!r} must be RGB or Y: fix the card")
    channels = PLANE_CHANNELS[planes]
    onnx_path = (card_path.parent / _need(raw, "file", str, shown)).resolve()
    if not onnx_path.is_file():
        raise CardError(f"model file {onnx_path} named by card {card_path.name} is missing: put it beside the card")
    expected = _need(raw, "sha256", str, shown).lower()
    actual = sha256_of(onnx_path)
    if actual != expected:
        raise CardError(f"model file {onnx_path.name} does not match its card (sha256 {actual[:12]}... != {expected[:12]}...): "
                        "the file was changed or truncated; re-export or re-install the model")
    tensors, dtypes = {}, set()
    allowed = ("float32", "uint8") if planes == "Y" else ("float32",)
    for side in ("input", "output"):
        spec = _need(raw, side, dict, shown)
        name = spec.get("name")
        if not isinstance(name, str) or spec.get("dtype") not in allowed:
            raise CardError(f"model card {shown}: {side} must name a {' or '.join(allowed)} tensor: re-export the model")
        dtypes.add(spec["dtype"])
        shape = spec.get("shape")
        if not (isinstance(shape, list) and len(shape) == 4 and shape[0] in (1, "batch", "N") and shape[1] == channels):
            raise CardError(f"model card {shown}: {side} shape {shape} is not [1, {channels}, height, width]: re-export the model")
        tensors[side] = name
    if len(dtypes) != 1:
        raise CardError(f"model card {shown}: input and output dtypes differ ({', '.join(sorted(dtypes))}): re-export the model")
    dtype = dtypes.pop()
    layout = raw.get("layout", "NCHW")
    if layout != "NCHW":
        raise CardError(f"model card {shown}: layout {layout!r} is not supported, only NCHW: re-export the model")
    color_order = "Y" if planes == "Y" else _need(raw, "color_order", str, shown).upper()
    if color_order not in ("RGB", "BGR") and planes == "RGB":
        raise CardError(f"model card {shown}: color_order {color_order!r} must be RGB or BGR: fix the card")
    value_range = _need(raw, "value_range", list, shown)
    if value_range not in ([0, 1], [0, 255], [0.0, 1.0], [0.0, 255.0]):
        raise CardError(f"model card {shown}: value_range {value_range} must be [0, 1] or [0, 255]: fix the card")
    pad_multiple = _need(raw, "pad_multiple", int, shown)
    if not 1 <= pad_multiple <= 256:
        raise CardError(f"model card {shown}: pad_multiple {pad_multiple} must be 1..256: fix the card")
    output_kind = _need(raw, "output_kind", str, shown)
    if output_kind not in ("image", "residual"):
        raise CardError(f"model card {shown}: output_kind {output_kind!r} must be image or residual: fix the card")
    if planes == "Y" and (output_kind != "image" or value_range[1] != (255 if dtype == "uint8" else 1)):
        raise CardError(f"model card {shown}: a Y-plane model must return the image (output_kind image) in "
                        f"{'[0, 255] (uint8)' if dtype == 'uint8' else '[0, 1] (float32)'}: fix the card or re-export")
    scale = raw.get("scale", 1)
    if scale != 1:
        raise CardError(f"model card {shown}: scale {scale} is not supported (only same-size models): use a scale-1 model")
    card = ModelCard(
        name=str(raw.get("name", card_path.stem)), card_path=card_path, onnx_path=onnx_path, sha256=actual,
        input_name=tensors["input"], output_name=tensors["output"], color_order=color_order,
        value_max=float(value_range[1]), pad_multiple=pad_multiple, output_kind=output_kind,
        precision=str(raw.get("precision", "fp32")), raw=raw, planes=planes, dtype=dtype,
    )
    if "gate" in raw:
        if nested:
            raise CardError(f"model card {shown} is another card's alternate or blur model and has a gate of its own: the pair's card holds the gate")
        card = dataclasses.replace(card, gate=_parse_gate(raw["gate"], card, shown))
    if nested and ("switch" in raw or "blur" in raw or "ramp" in raw):
        own = "a switch" if "switch" in raw else "a blur model" if "blur" in raw else "a strength ramp"
        raise CardError(f"model card {shown} is another card's alternate or blur model and has {own} of its own: "
                        "pass a plain model card")
    if "switch" in raw:
        card = dataclasses.replace(card, switch=_parse_switch(raw["switch"], card, shown))
    if "blur" in raw:
        if card.switch is None:  # `kd evaluate` scores what the runtime runs only for a pair's card
            raise CardError(f"model card {shown} has a blur model but no switch: a blur model belongs to a pair's card, "
                            "write it with `sharpcam-kd pair --blurred`")
        card = dataclasses.replace(card, blur=_parse_blur(raw["blur"], card, shown, version))
    if "ramp" in raw:
        if card.switch is None:
            raise CardError(f"model card {shown} has a strength ramp but no switch: a ramp belongs to a pair's card, "
                            "write it with `sharpcam-kd pair --ramp`")
        card = dataclasses.replace(card, ramp=_parse_ramp(raw["ramp"], shown))
    return card


def _parse_ramp(spec: Any, shown: Path) -> RampSpec:
    fix = "fix the card or write it again with `sharpcam-kd pair --ramp`"
    if not isinstance(spec, dict):
        raise CardError(f"model card {shown}: 'ramp' must be an object with statistic, step, from, to, periodic_from and "
                        f"phase_up_to: {fix}")
    statistic, step = spec.get("statistic"), spec.get("step")
    if statistic not in RAMP_STATISTICS:
        raise CardError(f"model card {shown}: ramp statistic {statistic!r} is not one of {', '.join(RAMP_STATISTICS)}: {fix}")
    if not _is_grey_step(step):
        raise CardError(f"model card {shown}: ramp step {step!r} must be a whole number of grey levels 1..255: {fix}")
    for key in ("from", "to", "periodic_from", "phase_up_to"):
        if not _is_positive(spec.get(key)):
            raise CardError(f"model card {shown}: ramp {key!r} {spec.get(key)!r} must be a positive number: {fix}")
    if not spec["from"] < spec["to"]:
        raise CardError(f"model card {shown}: ramp 'from' {spec['from']} must be below 'to' {spec['to']}: {fix}")
    return RampSpec(statistic=statistic, step=step, ramp_from=float(spec["from"]), ramp_to=float(spec["to"]),
                    periodic_from=float(spec["periodic_from"]), phase_up_to=float(spec["phase_up_to"]))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_positive(value: Any) -> bool:
    return _is_number(value) and value > 0


def _is_grey_step(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 255


def _parse_gate(spec: Any, card: ModelCard, shown: Path) -> GateSpec:
    fix = "fix the card or write it again with `sharpcam-kd pair`"
    if not isinstance(spec, dict):
        raise CardError(f"model card {shown}: 'gate' must be an object with statistic, step and above: {fix}")
    statistic, step, above = spec.get("statistic"), spec.get("step"), spec.get("above")
    if card.planes != "Y":
        raise CardError(f"model card {shown}: a gate needs a Y-plane model, not {card.planes}: {fix}")
    if statistic not in GATE_STATISTICS:
        raise CardError(f"model card {shown}: gate statistic {statistic!r} is not one of {', '.join(GATE_STATISTICS)}: {fix}")
    if not _is_grey_step(step):
        raise CardError(f"model card {shown}: gate step {step!r} must be a whole number of grey levels 1..255: {fix}")
    if not _is_positive(above):
        raise CardError(f"model card {shown}: gate 'above' {above!r} must be a positive number: {fix}")
    reblur = spec.get("reblur_below")
    if reblur is not None and not _is_positive(reblur):
        raise CardError(f"model card {shown}: gate 'reblur_below' {reblur!r} must be a positive number: {fix}")
    return GateSpec(statistic=statistic, step=step, above=float(above), reblur_below=float(reblur) if reblur is not None else None)


def _parse_switch(spec: Any, card: ModelCard, shown: Path) -> SwitchSpec:
    fix = "fix the card or write it again with `sharpcam-kd pair`"
    if not isinstance(spec, dict) or not isinstance(spec.get("model"), str):
        raise CardError(f"model card {shown}: 'switch' must be an object naming its alternate card in 'model': {fix}")
    statistic, period, above = spec.get("statistic"), spec.get("period"), spec.get("above")
    if statistic not in SWITCH_STATISTICS:
        raise CardError(f"model card {shown}: switch statistic {statistic!r} is not one of {', '.join(SWITCH_STATISTICS)}: {fix}")
    if not (isinstance(period, int) and not isinstance(period, bool) and 2 <= period <= 64 and period % 2 == 0):
        raise CardError(f"model card {shown}: switch period {period!r} must be an even number of pixels 2..64: {fix}")
    if not _is_number(above):
        raise CardError(f"model card {shown}: switch 'above' {above!r} must be a number: {fix}")
    detail = spec.get("detail_below")
    if detail is not None and not _is_positive(detail):
        raise CardError(f"model card {shown}: switch 'detail_below' {detail!r} must be a positive number: {fix}")
    other = _sibling_card(spec["model"], card, shown, "switch")
    return SwitchSpec(card=other, statistic=statistic, period=period, above=float(above),
                      detail_below=float(detail) if detail is not None else None)


def _parse_blur(spec: Any, card: ModelCard, shown: Path, version: int) -> BlurSpec:
    fix = "fix the card or write it again with `sharpcam-kd pair --blurred`"
    if not isinstance(spec, dict) or not isinstance(spec.get("model"), str):
        raise CardError(f"model card {shown}: 'blur' must be an object naming its model's card in 'model': {fix}")
    statistic, step, below = spec.get("statistic"), spec.get("step"), spec.get("below")
    if statistic not in BLUR_STATISTICS:
        raise CardError(f"model card {shown}: blur statistic {statistic!r} is not one of {', '.join(BLUR_STATISTICS)}: {fix}")
    if not _is_grey_step(step):
        raise CardError(f"model card {shown}: blur step {step!r} must be a whole number of grey levels 1..255: {fix}")
    if not _is_positive(below):
        raise CardError(f"model card {shown}: blur 'below' {below!r} must be a positive number: {fix}")
    lens = {k: spec.get(k) for k in ("periodic_below", "phase_below") if spec.get(k) is not None}
    kind, flag = ("up-scales", "--blurred-upscaled") if spec.get("upscaled_only") is True else ("lens blur", "--blurred-lens")
    if len(lens) == 1:
        raise CardError(f"model card {shown}: blur has {next(iter(lens))!r} without {({'periodic_below', 'phase_below'} - set(lens)).pop()!r}: "
                        f"a model for {kind} needs both resampling cuts: fix the card or write it again with `sharpcam-kd pair "
                        f"{flag}`")
    for k, v in lens.items():
        if not _is_positive(v):
            raise CardError(f"model card {shown}: blur {k!r} {v!r} must be a positive number: fix the card or write it again "
                            f"with `sharpcam-kd pair {flag}`")
    upscaled = spec.get("upscaled_only", False)
    if not isinstance(upscaled, bool):
        raise CardError(f"model card {shown}: blur 'upscaled_only' {upscaled!r} must be true or false: fix the card or write "
                        "it again with `sharpcam-kd pair --blurred-upscaled`")
    if upscaled and not lens:
        raise CardError(f"model card {shown}: blur 'upscaled_only' needs 'periodic_below' and 'phase_below', the resampling "
                        "cuts that tell an up-scale: fix the card or write it again with `sharpcam-kd pair --blurred-upscaled`")
    if upscaled and version < UPSCALED_ONLY_VERSION:
        raise CardError(f"model card {shown}: blur 'upscaled_only' needs card_version {UPSCALED_ONLY_VERSION} (a sharpcam "
                        f"that reads only version {version} would route lens blur to it): set card_version "
                        f"{UPSCALED_ONLY_VERSION} or write it again with `sharpcam-kd pair --blurred-upscaled`")
    other = _sibling_card(spec["model"], card, shown, "blur")
    return BlurSpec(card=other, statistic=statistic, step=step, below=float(below),
                    periodic_below=float(lens["periodic_below"]) if lens else None,
                    phase_below=float(lens["phase_below"]) if lens else None, upscaled_only=upscaled)


def _sibling_card(name: str, card: ModelCard, shown: Path, key: str) -> ModelCard:
    """The plain card a pair's `key` ("switch" or "blur") names beside it, verified, with the same tensors."""
    fix = "fix the card or write it again with `sharpcam-kd pair`"
    if Path(name).name != name or not name.endswith(".json") or name == card.card_path.name:
        raise CardError(f"model card {shown}: {key} model {name!r} must name another card (.json) in the same folder: {fix}")
    path = card.card_path.parent / name
    if not path.is_file():
        raise CardError(f"model card {shown}: its {key}'s card {name} is missing: put it beside the card")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CardError(f"cannot read model card {path} ({exc}), named by {shown.name}'s {key}: re-export it") from None
    other = _parse(raw, path, path, nested=True)
    if card.planes != "Y" or (other.planes, other.dtype, other.pad_multiple) != (card.planes, card.dtype, card.pad_multiple):
        raise CardError(f"model card {shown}: a {key} pairs two Y-plane models with the same dtype and pad multiple, "
                        f"not {card.planes} {card.dtype} /{card.pad_multiple} and {other.planes} {other.dtype} /{other.pad_multiple}: {fix}")
    return other
