"""Host-only checks of the e2e harness pieces (no guest boot): the tiny model, the clip, the frame
matcher and the prerequisite report. They run in every test session, in a second."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import harness
from tiny_model import GUEST_IR_VERSION, gaussian_3x3_f32, write_luma_unsharp_model, write_unsharp_model


def _unsharp_reference(rgb_f32: np.ndarray, amount: float) -> np.ndarray:
    """(H, W, 3) float32 in [0, 1] -> the same unsharp mask as the model, in numpy (edge padding)."""
    k = gaussian_3x3_f32()
    padded = np.pad(rgb_f32, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = rgb_f32.shape[:2]
    blurred = sum(k[dy, dx] * padded[dy:dy + h, dx:dx + w] for dy in range(3) for dx in range(3))
    return np.clip(rgb_f32 + amount * (rgb_f32 - blurred), 0.0, 1.0)


@pytest.mark.parametrize("size", [(90, 160), (59, 101)])
def test_tiny_model_is_the_unsharp_mask_and_guest_readable(tmp_path: Path, size: tuple[int, int]) -> None:
    card_path = write_unsharp_model(tmp_path, amount=1.5)
    card = json.loads(card_path.read_text())
    model = onnx.load(str(tmp_path / card["file"]))
    assert model.ir_version <= 10 and model.ir_version == GUEST_IR_VERSION  # onnxruntime 1.20.1 reads IR <= 10
    h, w = size
    rgb = harness.clip_frames_rgb_u8(1)[0][:h, :w].astype(np.float32) / 255.0
    sess = ort.InferenceSession(str(tmp_path / card["file"]), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"input": rgb.transpose(2, 0, 1)[None]})[0][0].transpose(1, 2, 0)
    np.testing.assert_allclose(out, _unsharp_reference(rgb, 1.5), atol=1e-5)
    assert np.abs(out - rgb).mean() > 0.01  # it really sharpens a photo


@pytest.mark.parametrize("size", [(90, 160), (59, 101)])
def test_tiny_luma_model_is_the_unsharp_mask_on_the_y_plane(tmp_path: Path, size: tuple[int, int]) -> None:
    from vcam.card import read_card

    card = read_card(write_luma_unsharp_model(tmp_path, amount=1.5))
    assert (card.planes, card.dtype) == ("Y", "uint8")
    model = onnx.load(str(card.onnx_path))
    assert model.ir_version == GUEST_IR_VERSION
    h, w = size
    y = harness.luma_f32(harness.clip_frames_rgb_u8(1))[0][:h, :w]
    y_u8 = np.clip(np.rint(y), 0, 255).astype(np.uint8)
    sess = ort.InferenceSession(str(card.onnx_path), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"input": y_u8[None, None]})[0][0, 0]
    luma = (y_u8.astype(np.float32) - 16) / 219
    want = np.clip(np.rint(_unsharp_reference(luma[:, :, None], 1.5)[:, :, 0] * 219 + 16), 0, 255)
    # the reference clips to [0, 1] in luma units and rounds in float64; the model saturates at 0..255
    inside = (want > 16) & (want < 235)
    assert np.abs(out.astype(np.float64) - want)[inside].max() <= 1
    assert np.abs(out.astype(int) - y_u8).mean() > 1  # it really sharpens


def test_clip_frames_are_distinct_and_matchable() -> None:
    frames = harness.clip_frames_rgb_u8(16)
    assert frames.shape == (16, harness.HEIGHT, harness.WIDTH, 3) and frames.dtype == np.uint8
    idx, err = harness.nearest_frames(frames[[3, 9, 15]], frames)
    assert idx.tolist() == [3, 9, 15] and err.max() == 0
    # neighbours differ by far more than the match tolerance, so a captured frame is never ambiguous
    diffs = np.abs(np.diff(harness.luma_f32(frames), axis=0)).mean(axis=(1, 2))
    assert diffs.min() > 10


def test_missing_image_is_reported_with_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VCAM_CACHE", str(tmp_path))
    missing = harness.missing_prerequisites()
    assert any("build_guest.sh" in m for m in missing), missing


def test_hd_clip_frames_are_distinct_and_matchable() -> None:
    """The browser tests' 1280x720 clip: real edges everywhere, neighbours far apart in luma."""
    frames = harness.hd_clip_frames_rgb_u8(6)
    assert frames.shape == (6, 720, 1280, 3) and frames.dtype == np.uint8
    idx, err = harness.nearest_frames(frames[[1, 4]], frames)
    assert idx.tolist() == [1, 4] and err.max() == 0
    diffs = np.abs(np.diff(harness.luma_f32(frames), axis=0)).mean(axis=(1, 2))
    assert diffs.min() > 10
