"""Fixtures for the vcam tests; the helpers behind them live in tests/vcam_support.py."""

from __future__ import annotations

from pathlib import Path

import pytest

# reference_output is re-exported for modules that still do `from conftest import ...`; prefer
# `from vcam_support import ...` (tests/e2e/conftest.py makes the name `conftest` ambiguous).
from vcam_support import make_conv_onnx, panned_frames, reference_output, write_card, write_clip

__all__ = ["reference_output"]


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def residual_card(model_dir: Path) -> Path:
    """A residual-output RGB [0,1] sharpening model with pad_multiple 4."""
    onnx_path = make_conv_onnx(model_dir / "sharpen-res.onnx", identity=False)
    return write_card(onnx_path)


@pytest.fixture(scope="session")
def image_card(model_dir: Path) -> Path:
    """An image-output BGR [0,255] sharpening model with pad_multiple 8."""
    onnx_path = make_conv_onnx(model_dir / "sharpen-img.onnx", identity=True)
    return write_card(onnx_path, output_kind="image", color_order="BGR", value_range=[0, 255], pad_multiple=8)


@pytest.fixture(scope="session")
def clip_mkv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lossless 160x90, 12-frame clip panned across the astronaut photo."""
    return write_clip(tmp_path_factory.mktemp("clips") / "pan.mkv", panned_frames(160, 90, 12))


@pytest.fixture(scope="session")
def clip_big_mkv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lossless 642x358, 3-frame clip panned across the coffee photo (not a multiple of 4 or 8:
    the runtime pads and crops). Video files cannot have odd sizes; odd sizes are tested on images."""
    return write_clip(tmp_path_factory.mktemp("clips") / "big.mkv", panned_frames(642, 358, 3, "coffee"))
