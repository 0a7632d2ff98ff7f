"""vcam.transforms: conversions, padding, odd sizes, colour formats, strength, unsharp, mirror."""

from __future__ import annotations

import numpy as np
import pytest

from vcam_support import panned_frames
from vcam.transforms import (
    FrameGeometry,
    Postprocessor,
    Preprocessor,
    draw_placeholder,
    finish_u8,
    resize_into,
    to_bgr_u8,
)


def test_geometry_pads_to_multiple() -> None:
    g = FrameGeometry.make((641, 359), None, 8)
    assert g.work == (641, 359) and g.padded == (648, 360) and g.tensor_shape == (1, 3, 360, 648)
    assert not g.resizes
    g2 = FrameGeometry.make((1280, 720), (640, 360), 4)
    assert g2.resizes and g2.padded == (640, 360)


@pytest.mark.parametrize("color_order", ["RGB", "BGR"])
@pytest.mark.parametrize("value_max", [1.0, 255.0])
def test_identity_roundtrip_is_exact_at_odd_size(color_order: str, value_max: float) -> None:
    frame = panned_frames(641, 359, 1, "chelsea")[0]
    g = FrameGeometry.make((641, 359), None, 4)
    tensor = np.empty(g.tensor_shape, np.float32)
    Preprocessor(g, color_order, value_max).run(frame, tensor)
    channel_of_red = 0 if color_order == "RGB" else 2
    np.testing.assert_allclose(tensor[0, channel_of_red, :359, :641], frame[:, :, 2] * (value_max / 255.0), rtol=1e-6)
    # padding replicates the last column/row
    np.testing.assert_array_equal(tensor[0, :, :359, 641], tensor[0, :, :359, 640])
    out = np.empty_like(frame)
    Postprocessor(g, color_order, value_max, "image", 1.0, 0.0, False).run(tensor, None, out)
    np.testing.assert_array_equal(out, frame)


def test_residual_and_strength_math() -> None:
    frame = panned_frames(64, 48, 1)[0]
    g = FrameGeometry.make((64, 48), None, 1)
    x = np.empty(g.tensor_shape, np.float32)
    Preprocessor(g, "BGR", 1.0).run(frame, x)
    residual = np.full(g.tensor_shape, 10.3 / 255.0, np.float32)
    out = np.empty_like(frame)
    Postprocessor(g, "BGR", 1.0, "residual", 0.5, 0.0, False).run(x, residual, out)
    expected = np.clip(np.rint(frame.astype(np.float64) + 0.5 * 10.3), 0, 255)
    np.testing.assert_array_equal(out, expected)
    # image output at strength 0 gives the input back
    Postprocessor(g, "BGR", 1.0, "image", 0.0, 0.0, False).run(x, np.zeros_like(x), out)
    np.testing.assert_array_equal(out, frame)


def test_work_size_resizes_back_to_capture_size() -> None:
    frame = panned_frames(320, 180, 1)[0]
    g = FrameGeometry.make((320, 180), (160, 90), 4)
    x = np.empty(g.tensor_shape, np.float32)
    Preprocessor(g, "RGB", 1.0).run(frame, x)
    assert x.shape == (1, 3, 92, 160)
    out = np.empty_like(frame)
    Postprocessor(g, "RGB", 1.0, "image", 1.0, 0.0, False).run(x, None, out)
    assert out.shape == frame.shape
    assert np.abs(out.astype(int) - frame).mean() < 8  # down/up sampling only


def test_to_bgr_u8_accepts_gray_bgra_and_16_bit() -> None:
    bgr = panned_frames(40, 30, 1)[0]
    out = np.empty_like(bgr)
    gray = bgr[:, :, 1].copy()
    to_bgr_u8(gray, out)
    assert all(np.array_equal(out[:, :, c], gray) for c in range(3))
    to_bgr_u8(gray[:, :, None], out)
    assert np.array_equal(out[:, :, 0], gray)
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 128, np.uint8)])
    to_bgr_u8(bgra, out)
    assert np.array_equal(out, bgr)
    to_bgr_u8(bgr.astype(np.uint16) * 257, out)
    assert np.array_equal(out, bgr)
    with pytest.raises(ValueError):
        to_bgr_u8(bgr.astype(np.float32), out)


def test_mirror_and_unsharp() -> None:
    frame = panned_frames(64, 48, 1)[0]
    out = frame.copy()
    finish_u8(out, 0.0, True, None)
    np.testing.assert_array_equal(out, frame[:, ::-1])
    flat = np.full((32, 32, 3), 100, np.uint8)
    finish_u8(flat, 0.5, False, np.empty_like(flat))
    assert (flat == 100).all()  # unsharp leaves flat areas alone
    edged = frame.copy()
    finish_u8(edged, 0.5, False, np.empty_like(edged))
    assert edged.astype(int).std() > frame.astype(int).std()  # and raises contrast at edges


def test_resize_into_and_placeholder() -> None:
    src = panned_frames(32, 18, 1)[0]
    same = np.empty_like(src)
    resize_into(src, same)
    assert np.array_equal(same, src)
    big = np.empty((36, 64, 3), np.uint8)
    resize_into(src, big)
    assert big.shape == (36, 64, 3)
    card = draw_placeholder(np.empty((90, 160, 3), np.uint8), "camera disconnected", "reconnecting...")
    assert tuple(card[0, 0]) == (40, 32, 32)
    assert card.max() > 150  # the text is there
