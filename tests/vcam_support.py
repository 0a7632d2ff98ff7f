"""Helpers for the vcam tests (imported by tests/conftest.py and the test modules; a module
name of its own, because `from conftest import ...` is ambiguous once tests/e2e/conftest.py exists):
tiny real ONNX models built with the onnx helper API (no torch), their model cards, real clips made
by panning across scikit-image's bundled photos, and the offline reference of what the runtime must
output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# A 3x3 Laplacian-style high-pass: the model's residual is AMOUNT * (4x - neighbours).
SHARPEN_AMOUNT = 0.3127


def _laplacian_kernel(amount: float, identity: bool) -> np.ndarray:
    """Depthwise conv weights (3, 1, 3, 3) float32: residual high-pass, plus the identity if asked."""
    k = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], np.float32) * amount
    if identity:
        k[1, 1] += 1.0
    return np.repeat(k[None, None], 3, axis=0)


def make_conv_onnx(
    path: Path,
    *,
    identity: bool = False,
    input_name: str = "input",
    output_name: str = "output",
    out_channels: int = 3,
    fixed_size: tuple[int, int] | None = None,
    amount: float = SHARPEN_AMOUNT,
) -> Path:
    """Writes a one-layer sharpening model: float32 (1, 3, H, W) -> (1, out_channels, H, W).

    identity=False: the output is a residual (card output_kind "residual");
    identity=True: the output is the sharpened image ("image").
    out_channels != 3 or fixed_size make deliberately contract-breaking models.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    h, w = fixed_size if fixed_size else ("height", "width")
    weights = _laplacian_kernel(amount, identity)
    group = 3
    if out_channels != 3:  # a grey average per output channel: (out_channels, 3, 3, 3)
        weights = np.zeros((out_channels, 3, 3, 3), np.float32)
        weights[:, :, 1, 1] = 1.0 / 3.0
        group = 1
    conv = helper.make_node(
        "Conv", [input_name, "w"], [output_name], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=group
    )
    graph = helper.make_graph(
        [conv],
        "sharpen",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, [1, 3, h, w])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, [1, out_channels, h, w])],
        [numpy_helper.from_array(weights.astype(np.float32), "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sharpcam-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def make_luma_onnx(path: Path, *, dtype: str = "uint8", amount: float = SHARPEN_AMOUNT) -> Path:
    """Writes a one-layer luma sharpener in the card-v2 "Y" form: (1, 1, H, W) -> same, the image.
    uint8: the I420 Y plane in and out, through DequantizeLinear / QuantizeLinear as `kd export --planes Y`
    writes it; float32: (Y - 16) / 219 in and out."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    k = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], np.float32) * amount
    k[1, 1] += 1.0
    inits = [numpy_helper.from_array(k[None, None], "w")]
    u8 = dtype == "uint8"
    if u8:
        inits += [numpy_helper.from_array(np.array(1.0 / 219, np.float32), "s"), numpy_helper.from_array(np.array(16, np.uint8), "z")]
        nodes = [helper.make_node("DequantizeLinear", ["input", "s", "z"], ["yf"]),
                 helper.make_node("Conv", ["yf", "w"], ["of"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                 helper.make_node("QuantizeLinear", ["of", "s", "z"], ["output"])]
    else:
        nodes = [helper.make_node("Conv", ["input", "w"], ["output"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])]
    elem = TensorProto.UINT8 if u8 else TensorProto.FLOAT
    graph = helper.make_graph(nodes, "luma_sharpen",
                              [helper.make_tensor_value_info("input", elem, [1, 1, "height", "width"])],
                              [helper.make_tensor_value_info("output", elem, [1, 1, "height", "width"])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="sharpcam-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def write_luma_card(onnx_path: Path, dtype: str = "uint8") -> Path:
    """The card-v2 card of a `make_luma_onnx` model (pad multiple 4, so the padding path runs)."""
    from vcam.card import card_fields, write_card as write_checked

    card = card_fields(onnx_path.stem, onnx_path, pad_multiple=4, planes="Y", dtype=dtype, output_kind="image",
                       value_range=(0.0, 255.0) if dtype == "uint8" else (0.0, 1.0),
                       architecture={"class": "LumaLaplacian3x3", "args": {"amount": SHARPEN_AMOUNT}}, params=9, macs_per_pixel=9)
    path = onnx_path.with_suffix(".json")
    write_checked(path, card)
    return path


def write_pair_card(folder: Path, dtype: str = "uint8", above: float = 1.3, gate: dict | None = None, blur: dict | None = None,
                    version: int | None = None, ramp: dict | None = None, **switch: Any) -> Path:
    """A card with a switch (vcam/card.py): a `make_luma_onnx` sharpener ("pair-default") that hands frames
    whose blockiness is above `above` to a smoothing one ("pair-alternate", a negative amount) beside it.
    `switch` replaces fields of the switch as written, checked; `gate`, the card's gate as written; `blur`, fields of
    the card's blur route as written (its model "pair-blurred", a stronger sharpener); `version`, the card_version
    (default: what `sharpcam-kd pair` writes for such a card); `ramp`, the card's strength ramp as written."""
    from vcam.card import UPSCALED_ONLY_VERSION, card_fields, write_card as write_checked

    default = write_luma_card(make_luma_onnx(folder / "pair-default.onnx", dtype=dtype), dtype)
    alternate = write_luma_card(make_luma_onnx(folder / "pair-alternate.onnx", dtype=dtype, amount=-0.2), dtype)
    card = card_fields("pair", default.with_suffix(".onnx"), pad_multiple=4, planes="Y", dtype=dtype, output_kind="image",
                       value_range=(0.0, 255.0) if dtype == "uint8" else (0.0, 1.0))
    card["switch"] = {"model": alternate.name, "statistic": "blockiness", "period": 16, "above": above, **switch}
    if gate is not None:
        card["gate"] = gate
    if blur is not None:
        blurred = write_luma_card(make_luma_onnx(folder / "pair-blurred.onnx", dtype=dtype, amount=1.5), dtype)
        card["blur"] = {"model": blurred.name, "statistic": "textured", "step": 8, "below": 0.41, **blur}
        if card["blur"].get("upscaled_only") is True:
            card["card_version"] = UPSCALED_ONLY_VERSION
    if ramp is not None:
        card["ramp"] = ramp
    if version is not None:
        card["card_version"] = version
    path = folder / "pair.json"
    write_checked(path, card)
    return path


def blocky_frame(bgr_u8: np.ndarray, quality: int = 40) -> np.ndarray:
    """A small encoded stream up-scaled by the receiver: `bgr_u8` (sides multiples of 4) area-halved,
    JPEG-compressed at `quality`, decoded and up-scaled x2 (bicubic) back to its size."""
    h, w = bgr_u8.shape[:2]
    small = cv2.resize(bgr_u8, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.resize(cv2.imdecode(data, cv2.IMREAD_COLOR), (w, h), interpolation=cv2.INTER_CUBIC)


def write_card(onnx_path: Path, **overrides: Any) -> Path:
    """Writes `<model>.json` beside `onnx_path` with the card type kd writes (vcam/card.py); `overrides`
    replace fields as written, unchecked, so tests can also make broken cards."""
    from vcam.card import card_fields

    card = card_fields(onnx_path.stem, onnx_path, pad_multiple=4, output_kind="residual",
                       architecture={"class": "Laplacian3x3", "args": {"amount": SHARPEN_AMOUNT}}, params=27, macs_per_pixel=27)
    card.update(overrides)
    path = onnx_path.with_suffix(".json")
    path.write_text(json.dumps(card, indent=2))
    return path


def panned_frames(width: int, height: int, count: int, photo: str = "astronaut") -> list[np.ndarray]:
    """`count` BGR uint8 frames panning (and slowly zooming) across a scikit-image photo."""
    import skimage.data

    rgb = getattr(skimage.data, photo)()
    if rgb.ndim == 2:
        rgb = np.dstack([rgb] * 3)
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    ph, pw = bgr.shape[:2]
    crop_w = int(pw * 0.6)
    crop_h = max(1, int(crop_w * height / width))
    frames = []
    for i in range(count):
        x = int((pw - crop_w) * i / max(1, count - 1))
        y = int((ph - crop_h) * (0.5 - 0.3 * i / max(1, count - 1)))
        frames.append(cv2.resize(bgr[y : y + crop_h, x : x + crop_w], (width, height), interpolation=cv2.INTER_AREA))
    return frames


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 15.0) -> Path:
    """Writes frames with cv2.VideoWriter: .mkv is lossless FFV1, .mp4 is mp4v."""
    codec = "FFV1" if path.suffix == ".mkv" else "mp4v"
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*codec), fps, (w, h))
    assert writer.isOpened(), f"cannot write {path}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def read_all_frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def reference_output(card_path: Path, bgr_u8: np.ndarray, strength: float = 1.0) -> np.ndarray:
    """The model run offline, straight from the card with plain numpy + onnxruntime: what the
    runtime must produce for one BGR uint8 frame (no resize, no unsharp, no mirror)."""
    import onnxruntime as ort

    card = json.loads(card_path.read_text())
    vmax = float(card["value_range"][1])
    m = card["pad_multiple"]
    h, w = bgr_u8.shape[:2]
    padded = np.pad(bgr_u8, ((0, -h % m), (0, -w % m), (0, 0)), mode="edge")
    ordered = padded[:, :, ::-1] if card["color_order"] == "RGB" else padded
    x = (ordered.astype(np.float32) * np.float32(vmax / 255.0)).transpose(2, 0, 1)[None].copy()
    session = ort.InferenceSession(str(card_path.parent / card["file"]), providers=["CPUExecutionProvider"])
    y = session.run([card["output"]["name"]], {card["input"]["name"]: x})[0]
    x64, y64 = x[0].astype(np.float64) * 255.0 / vmax, y[0].astype(np.float64) * 255.0 / vmax
    out = x64 + strength * y64 if card["output_kind"] == "residual" else (1 - strength) * x64 + strength * y64
    out = np.clip(np.rint(out), 0, 255).astype(np.uint8).transpose(1, 2, 0)[:h, :w]
    return np.ascontiguousarray(out[:, :, ::-1] if card["color_order"] == "RGB" else out)
