"""Y-PSNR / SSIM as the published SR evaluations compute them, and the spec's RGB SSIM / MSE."""
import math

import numpy as np
import pytest
from photos import photo
from PIL import Image
from skimage.metrics import structural_similarity

from kd.metrics import mse01, psnr, rgb_ssim, shave, ssim, y_channel_f64, y_psnr_ssim


def _degraded(rgb_u8: np.ndarray, scale: int) -> np.ndarray:
    h, w = rgb_u8.shape[:2]
    small = Image.fromarray(rgb_u8).resize((w // scale, h // scale), Image.BICUBIC)
    return np.asarray(small.resize((w, h), Image.BICUBIC))


def _published_ssim(a: np.ndarray, b: np.ndarray, data_range: float) -> float:
    """skimage set up as Wang et al.'s ssim_index.m: Gaussian sigma 1.5 (11x11 window with skimage's
    truncate 3.5), population covariances, K1 0.01, K2 0.03, mean over the valid region."""
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=data_range, K1=0.01, K2=0.03)


def test_identical_images_give_inf_psnr_and_unit_ssim():
    img = photo("astronaut")[:128, :160]
    p, s = y_psnr_ssim(img, img, 2)
    assert math.isinf(p) and s == pytest.approx(1.0, abs=1e-12)
    assert rgb_ssim(img, img) == pytest.approx(1.0, abs=1e-12)
    assert mse01(img, img) == 0.0


def test_y_channel_is_bt601_studio_range():
    black_white = np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8)
    np.testing.assert_allclose(y_channel_f64(black_white), [[16.0, 235.0]], atol=1e-9)
    red = np.array([[[255, 0, 0]]], np.uint8)
    assert y_channel_f64(red)[0, 0] == pytest.approx(16 + 65.481)
    gray = np.array([[3, 200]], np.uint8)  # a grayscale image is scored on its own values
    np.testing.assert_array_equal(y_channel_f64(gray), [[3.0, 200.0]])


def test_psnr_and_ssim_match_independent_references_on_a_degraded_photo():
    hr = photo("coffee")[:200, :300]
    lq = _degraded(hr, 2)
    p, s = y_psnr_ssim(lq, hr, 2)

    def y(a):
        a = a.astype(np.float64)
        return 16 + (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255

    yl, yh = y(lq)[2:-2, 2:-2], y(hr)[2:-2, 2:-2]
    assert p == pytest.approx(10 * np.log10(255**2 / np.mean((yl - yh) ** 2)), abs=1e-9)
    assert s == pytest.approx(_published_ssim(yl, yh, 255.0), abs=1e-6)
    assert 20 < p < 40 and 0.5 < s < 0.99  # a real, visible degradation


def test_rgb_ssim_and_mse_are_the_specs_definitions():
    hr = photo("chelsea")[:160, :200]
    lq = _degraded(hr, 2)
    a, b = lq.astype(np.float64) / 255, hr.astype(np.float64) / 255
    want = np.mean([_published_ssim(a[..., c], b[..., c], 1.0) for c in range(3)])
    assert rgb_ssim(lq, hr) == pytest.approx(want, abs=1e-6)
    assert mse01(lq, hr) == pytest.approx(np.mean((a - b) ** 2), rel=1e-12)


def test_ssim_is_symmetric_and_drops_with_more_blur():
    hr = y_channel_f64(photo("rocket")[:200, :240])
    lq2 = y_channel_f64(_degraded(photo("rocket")[:200, :240], 2))
    lq4 = y_channel_f64(_degraded(photo("rocket")[:200, :240], 4))
    assert ssim(hr, lq2) == pytest.approx(ssim(lq2, hr), abs=1e-12)
    assert ssim(lq4, hr) < ssim(lq2, hr) < 1.0
    assert psnr(lq4, hr) < psnr(lq2, hr)


def test_bad_inputs_are_refused():
    img = photo("astronaut")[:20, :20]
    with pytest.raises(ValueError, match="shave"):
        shave(img, 10)
    with pytest.raises(ValueError, match="window"):
        ssim(y_channel_f64(img)[:8, :8], y_channel_f64(img)[:8, :8])
    with pytest.raises(ValueError, match="shape"):
        y_psnr_ssim(img, img[:10], 2)
