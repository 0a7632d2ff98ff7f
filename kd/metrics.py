"""Image quality metrics: the published SR protocol (Y-PSNR / Y-SSIM) and the spec's RGB SSIM / MSE.

Published protocol (SRCNN / VDSR / DnCNN tables, and ../shared/datasets/README.md):
  Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 with R, G, B in [0, 1] (BT.601, Y in 16..235),
  kept in float (not rounded), `scale` pixels shaved from every border, PSNR with peak 255, SSIM as
  Wang et al.'s ssim_index.m computes it: 11 x 11 Gaussian window (sigma 1.5), K1 0.01, K2 0.03,
  L 255, statistics over the 'valid' region only (no padding), mean of the SSIM map.
A grayscale image is scored on its gray values directly (the MATLAB scripts skip rgb2ycbcr when the
image has one channel), which is what `y_channel_f64` does for H x W input.

Only numpy and OpenCV's filter2D (both runtime dependencies) are used; everything is computed in
float64, so the numbers are deterministic.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

_SSIM_WINDOW = 11
_SSIM_SIGMA = 1.5
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03


def y_channel_f64(img_u8: np.ndarray) -> np.ndarray:
    """BT.601 luma of an H x W x 3 RGB uint8 image as H x W float64 in 16..235 (not rounded).

    H x W (grayscale) input is returned as float64 0..255 unchanged: the published evaluation scores
    a grayscale image on its own values."""
    if img_u8.ndim == 2:
        return img_u8.astype(np.float64)
    if img_u8.ndim != 3 or img_u8.shape[2] != 3:
        raise ValueError(f"expected H x W x 3 RGB or H x W gray, got shape {img_u8.shape}")
    rgb = img_u8.astype(np.float64) / 255.0
    return 16.0 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2])


def shave(img: np.ndarray, border: int) -> np.ndarray:
    """Removes `border` pixels from each side of an H x W (x C) array (no-op for border 0)."""
    if border <= 0:
        return img
    if img.shape[0] <= 2 * border or img.shape[1] <= 2 * border:
        raise ValueError(f"image {img.shape[1]}x{img.shape[0]} too small to shave {border} px per side")
    return img[border:-border, border:-border]


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """PSNR in dB between two same-shape arrays in 0..peak; inf when identical."""
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0.0:
        return math.inf
    return 10.0 * math.log10(peak * peak / mse)


def _gaussian_window() -> np.ndarray:
    g = cv2.getGaussianKernel(_SSIM_WINDOW, _SSIM_SIGMA).astype(np.float64)
    return g @ g.T


def ssim(a: np.ndarray, b: np.ndarray, peak: float = 255.0) -> float:
    """SSIM of two same-shape H x W arrays in 0..peak, as ssim_index.m: Gaussian 11x11 (sigma 1.5),
    K1 = 0.01, K2 = 0.03, valid region only, mean of the map. Returns 1.0 for identical images."""
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ssim needs two H x W arrays of one shape, got {a.shape} and {b.shape}")
    if min(a.shape) < _SSIM_WINDOW:
        raise ValueError(f"image {a.shape[1]}x{a.shape[0]} smaller than the {_SSIM_WINDOW}x{_SSIM_WINDOW} SSIM window")
    x = a.astype(np.float64)
    y = b.astype(np.float64)
    c1 = (_SSIM_K1 * peak) ** 2
    c2 = (_SSIM_K2 * peak) ** 2
    win = _gaussian_window()
    r = _SSIM_WINDOW // 2

    def filt(img: np.ndarray) -> np.ndarray:
        # filter2D on the full image, then drop the border: equals MATLAB filter2(w, img, 'valid').
        return cv2.filter2D(img, -1, win, borderType=cv2.BORDER_REFLECT)[r:-r, r:-r]

    mu_x, mu_y = filt(x), filt(y)
    sxx = filt(x * x) - mu_x * mu_x
    syy = filt(y * y) - mu_y * mu_y
    sxy = filt(x * y) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * sxy + c2)) / ((mu_x * mu_x + mu_y * mu_y + c1) * (sxx + syy + c2))
    return float(ssim_map.mean())


def y_psnr_ssim(out_u8: np.ndarray, ref_u8: np.ndarray, scale: int) -> tuple[float, float]:
    """Published-protocol score of an output against its reference: Y channel, `scale` px shaved.

    Both: H x W x 3 RGB uint8 (or H x W gray uint8), same shape. Returns (PSNR dB, SSIM)."""
    if out_u8.shape != ref_u8.shape:
        raise ValueError(f"output {out_u8.shape} and reference {ref_u8.shape} differ in shape")
    yo = shave(y_channel_f64(out_u8), scale)
    yr = shave(y_channel_f64(ref_u8), scale)
    return psnr(yo, yr), ssim(yo, yr)


def rgb_ssim(out_u8: np.ndarray, ref_u8: np.ndarray) -> float:
    """The spec's SSIM: on RGB in [0, 1], same window/constants (data range 1), averaged over R, G, B.

    Both: H x W x 3 uint8, same shape."""
    if out_u8.shape != ref_u8.shape or out_u8.ndim != 3:
        raise ValueError(f"rgb_ssim needs two H x W x 3 arrays of one shape, got {out_u8.shape} and {ref_u8.shape}")
    a = out_u8.astype(np.float64) / 255.0
    b = ref_u8.astype(np.float64) / 255.0
    return float(np.mean([ssim(a[..., c], b[..., c], peak=1.0) for c in range(a.shape[2])]))


def mse01(out_u8: np.ndarray, ref_u8: np.ndarray) -> float:
    """The spec's MSE: mean squared error over all pixels and channels with values in [0, 1]."""
    if out_u8.shape != ref_u8.shape:
        raise ValueError(f"shape mismatch {out_u8.shape} vs {ref_u8.shape}")
    d = out_u8.astype(np.float64) / 255.0 - ref_u8.astype(np.float64) / 255.0
    return float(np.mean(d * d))
