"""A tiny real sharpening ONNX model + model card, built with the onnx helper API (no torch).

The guest's onnxruntime is 1.20.1, which reads ONNX IR version <= 10; the host's onnx writes a newer
IR by default, so the IR version is pinned here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from vcam.card import card_fields, write_card

GUEST_IR_VERSION = 8
OPSET = 17


def gaussian_3x3_f32() -> np.ndarray:
    """(3, 3) float32 binomial blur kernel, sums to 1."""
    k = np.array([1.0, 2.0, 1.0], np.float32)
    return (np.outer(k, k) / 16.0).astype(np.float32)


def build_unsharp_onnx(amount: float = 1.5) -> bytes:
    """Serialized ONNX model: output = clip(x + amount * (x - blur3x3(x)), 0, 1).

    input "input": float32 (1, 3, H, W), RGB in [0, 1], H and W dynamic.
    output "output": float32 (1, 3, H, W), the sharpened image in [0, 1] (output_kind "image").
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    blur_w = np.repeat(gaussian_3x3_f32()[None, None], 3, axis=0)  # (3, 1, 3, 3), depthwise
    inits = [
        numpy_helper.from_array(blur_w, "blur_w"),
        numpy_helper.from_array(np.array(amount, np.float32), "amount"),
        numpy_helper.from_array(np.array(0.0, np.float32), "lo"),
        numpy_helper.from_array(np.array(1.0, np.float32), "hi"),
    ]
    nodes = [
        # edge padding keeps borders from darkening, as the runtime's own padding does
        helper.make_node("Pad", ["input", "pads"], ["padded"], mode="edge"),
        helper.make_node("Conv", ["padded", "blur_w"], ["blurred"], group=3, kernel_shape=[3, 3]),
        helper.make_node("Sub", ["input", "blurred"], ["detail"]),
        helper.make_node("Mul", ["detail", "amount"], ["boost"]),
        helper.make_node("Add", ["input", "boost"], ["sharp"]),
        helper.make_node("Clip", ["sharp", "lo", "hi"], ["output"]),
    ]
    inits.append(numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"))
    graph = helper.make_graph(
        nodes,
        "e2e_unsharp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "height", "width"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="sharpcam-e2e")
    model.ir_version = GUEST_IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write_unsharp_model(folder: Path, name: str = "e2e-unsharp", amount: float = 1.5) -> Path:
    """Write `<name>.onnx` + `<name>.json` (card_version 1, export/README.md) into folder; return the card path."""
    folder.mkdir(parents=True, exist_ok=True)
    blob = build_unsharp_onnx(amount)
    (folder / f"{name}.onnx").write_bytes(blob)
    card_path = folder / f"{name}.json"
    write_card(card_path, card_fields(
        name, folder / f"{name}.onnx", pad_multiple=4, opset=OPSET,
        architecture={"class": "UnsharpMask3x3", "args": {"amount": amount}}, params=27, macs_per_pixel=30, metrics={},
        training={"note": "not trained: a fixed unsharp mask for the end-to-end tests"}))
    return card_path


def build_luma_unsharp_onnx(amount: float = 1.5) -> bytes:
    """The same unsharp mask in the card-v2 "Y" form `kd export --planes Y` writes: the I420 Y plane,
    uint8 (1, 1, H, W), in and out, through DequantizeLinear ((Y - 16) / 219) and QuantizeLinear."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inits = [
        numpy_helper.from_array(gaussian_3x3_f32()[None, None], "blur_w"),
        numpy_helper.from_array(np.array(amount, np.float32), "amount"),
        numpy_helper.from_array(np.array(1.0 / 219, np.float32), "luma_scale"),
        numpy_helper.from_array(np.array(16, np.uint8), "luma_black"),
        numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["input", "luma_scale", "luma_black"], ["luma"]),
        helper.make_node("Pad", ["luma", "pads"], ["padded"], mode="edge"),
        helper.make_node("Conv", ["padded", "blur_w"], ["blurred"], kernel_shape=[3, 3]),
        helper.make_node("Sub", ["luma", "blurred"], ["detail"]),
        helper.make_node("Mul", ["detail", "amount"], ["boost"]),
        helper.make_node("Add", ["luma", "boost"], ["sharp"]),
        helper.make_node("QuantizeLinear", ["sharp", "luma_scale", "luma_black"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes, "e2e_luma_unsharp",
        [helper.make_tensor_value_info("input", TensorProto.UINT8, [1, 1, "height", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.UINT8, [1, 1, "height", "width"])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sharpcam-e2e")
    model.ir_version = GUEST_IR_VERSION
    onnx.checker.check_model(model)
    return model.SerializeToString()


def write_luma_unsharp_model(folder: Path, name: str = "e2e-luma-unsharp", amount: float = 1.5) -> Path:
    """Write `<name>.onnx` + `<name>.json` (card_version 2, planes Y, uint8) into folder; return the card path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.onnx").write_bytes(build_luma_unsharp_onnx(amount))
    card_path = folder / f"{name}.json"
    write_card(card_path, card_fields(
        name, folder / f"{name}.onnx", pad_multiple=4, opset=OPSET, planes="Y", dtype="uint8",
        value_range=(0.0, 255.0), output_kind="image",
        architecture={"class": "LumaUnsharpMask3x3", "args": {"amount": amount}}, params=9, macs_per_pixel=10, metrics={},
        training={"note": "not trained: a fixed unsharp mask on the luma plane for the end-to-end tests"}))
    return card_path
