"""The degradation the models learn to undo, and the published SR protocol's resize.

HR -> bicubic down by `scale` -> bicubic back up, both MATLAB-compatible (antialiased cubic, a = -0.5,
uint8 rounding after each step). PIL's BICUBIC is that kernel (within 0.01 dB of MATLAB); OpenCV's
INTER_CUBIC (a = -0.75, no antialiasing) is a different problem and is never used here.
Optional extras for the webcam case: JPEG compression and mild Gaussian noise, drawn from an rng
that the caller passes in.
"""
from __future__ import annotations

import io

import numpy as np
from PIL import Image


def modcrop(rgb_u8: np.ndarray, scale: int) -> np.ndarray:
    """Crops H x W x C (or H x W) so both sides are multiples of `scale` (top-left anchored)."""
    h, w = rgb_u8.shape[:2]
    return rgb_u8[: h - h % scale, : w - w % scale]


def bicubic_resize(rgb_u8: np.ndarray, width: int, height: int) -> np.ndarray:
    """MATLAB-like bicubic resize of an H x W x 3 (or H x W) uint8 array to height x width, uint8."""
    return np.asarray(Image.fromarray(rgb_u8).resize((width, height), Image.BICUBIC))


def bicubic_down_up(rgb_u8: np.ndarray, scale: int) -> np.ndarray:
    """The protocol's degraded input: bicubic /scale then x scale, uint8 after each step.

    `rgb_u8` must already be modcropped (H, W multiples of `scale`); returns the same shape."""
    h, w = rgb_u8.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"image {w}x{h} is not a multiple of scale {scale}: modcrop it first")
    small = bicubic_resize(rgb_u8, w // scale, h // scale)
    return bicubic_resize(small, w, h)


def jpeg_roundtrip(rgb_u8: np.ndarray, quality: int) -> np.ndarray:
    """Encodes and decodes with JPEG at `quality` (1..95): the blocking and ringing a codec adds."""
    buf = io.BytesIO()
    Image.fromarray(rgb_u8).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert(Image.fromarray(rgb_u8).mode))


def degrade(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    scales: tuple[int, ...] = (2,),
    jpeg_quality: tuple[int, int] | None = None,
    noise_sigma: tuple[float, float] | None = None,
) -> np.ndarray:
    """Random degradation for training: a scale drawn from `scales`, then optional JPEG (quality drawn
    uniformly from the inclusive range) and Gaussian noise (sigma in 0..255 units, drawn uniformly).

    `rgb_u8`: H x W x 3 uint8 with H, W multiples of every scale. Returns H x W x 3 uint8."""
    scale = int(scales[rng.integers(len(scales))]) if len(scales) > 1 else int(scales[0])
    lq = bicubic_down_up(rgb_u8, scale)
    if jpeg_quality is not None:
        lq = jpeg_roundtrip(lq, int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1)))
    if noise_sigma is not None:
        sigma = rng.uniform(noise_sigma[0], noise_sigma[1])
        noisy = lq.astype(np.float32) + rng.normal(0.0, sigma, size=lq.shape).astype(np.float32)
        lq = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    return lq
