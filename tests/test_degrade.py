"""The degradation is the published protocol's MATLAB-like bicubic, not OpenCV's."""
import cv2
import numpy as np
import pytest
from photos import photo

from kd.degrade import bicubic_down_up, degrade, jpeg_roundtrip, modcrop


def _y(rgb_u8):
    a = rgb_u8.astype(np.float64) / 255
    return 16 + 65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]


def _psnr_y(a, b, shave):
    d = (_y(a) - _y(b))[shave:-shave, shave:-shave]
    return 10 * np.log10(255**2 / np.mean(d**2))


def _matlab_bicubic_weights(in_len, out_len, scale):
    """MATLAB imresize's antialiased cubic (a = -0.5) weight matrix, written independently of PIL."""
    def cubic(x):
        ax = np.abs(x)
        return np.where(ax <= 1, 1.5 * ax**3 - 2.5 * ax**2 + 1, np.where(ax <= 2, -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2, 0))
    k = scale if scale < 1 else 1.0
    width = 4.0 / k
    x = np.arange(1, out_len + 1)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - width / 2)
    idx = left[:, None] + np.arange(int(np.ceil(width)) + 2)[None, :]
    w = k * cubic(k * (u[:, None] - idx))
    w /= w.sum(1, keepdims=True)
    idx = idx - 1
    idx = np.where(idx < 0, -idx - 1, idx)  # symmetric border
    idx = np.where(idx >= in_len, 2 * in_len - idx - 1, idx)
    m = np.zeros((out_len, in_len))
    for r in range(out_len):
        np.add.at(m[r], idx[r].astype(int), w[r])
    return m


def _matlab_resize(img_u8, out_h, out_w):
    h, w = img_u8.shape[:2]
    mh, mw = _matlab_bicubic_weights(h, out_h, out_h / h), _matlab_bicubic_weights(w, out_w, out_w / w)
    out = np.einsum("oh,hwc->owc", mh, img_u8.astype(np.float64))
    out = np.einsum("pw,owc->opc", mw, out)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def test_degradation_matches_matlab_bicubic_within_protocol_tolerance():
    hr = modcrop(photo("astronaut")[100:356, 100:356], 2)
    ours = bicubic_down_up(hr, 2)
    h, w = hr.shape[:2]
    ref = _matlab_resize(_matlab_resize(hr, h // 2, w // 2), h, w)
    # the baseline PSNR of our degraded input matches MATLAB's within the README's +-0.05 dB
    assert abs(_psnr_y(ours, hr, 2) - _psnr_y(ref, hr, 2)) < 0.05
    # and OpenCV's INTER_CUBIC is measurably a different problem
    cv = cv2.resize(cv2.resize(hr, (w // 2, h // 2), interpolation=cv2.INTER_CUBIC), (w, h), interpolation=cv2.INTER_CUBIC)
    assert abs(_psnr_y(cv, hr, 2) - _psnr_y(ref, hr, 2)) > 0.2


def test_modcrop_and_shape_errors():
    img = np.zeros((101, 203, 3), np.uint8)
    assert modcrop(img, 4).shape == (100, 200, 3)
    with pytest.raises(ValueError, match="modcrop"):
        bicubic_down_up(img, 2)


def test_random_degradation_is_seeded():
    hr = modcrop(photo("chelsea")[:128, :128], 4)
    kw = dict(scales=(2, 4), jpeg_quality=(30, 60), noise_sigma=(1.0, 3.0))
    a = degrade(hr, np.random.default_rng(7), **kw)
    b = degrade(hr, np.random.default_rng(7), **kw)
    assert np.array_equal(a, b) and a.shape == hr.shape and a.dtype == np.uint8
    assert not np.array_equal(a, bicubic_down_up(hr, 2))


def test_jpeg_roundtrip_loses_detail():
    img = photo("coffee")[:64, :64]
    low, high = jpeg_roundtrip(img, 10), jpeg_roundtrip(img, 90)
    err = lambda x: np.abs(x.astype(int) - img).mean()
    assert err(low) > err(high) > 0


# ---- webcam degradations

from kd.degrade import (LENS_CASES, RESAMPLED_CASES, WEBCAM_BENCHMARK, WebcamMix, add_sensor_noise, defocus_blur,  # noqa: E402
                        gaussian_blur, jpeg_cv2)


def test_webcam_mix_is_deterministic_under_a_seed_and_varies_across_seeds():
    hr = modcrop(photo("astronaut")[:120, :150], 2)
    mix = WebcamMix()
    a = [mix(hr, np.random.default_rng(s)) for s in range(6)]
    b = [mix(hr, np.random.default_rng(s)) for s in range(6)]
    for x, y in zip(a, b):
        assert x.shape == hr.shape and x.dtype == np.uint8
        assert np.array_equal(x, y)
    assert len({x.tobytes() for x in a}) == 6  # six seeds, six different degradations
    assert all(_psnr_y(x, hr, 4) < 45 for x in a)  # every draw degrades


@pytest.mark.parametrize("name", list(WEBCAM_BENCHMARK))
def test_benchmark_degradations_are_deterministic_and_degrade(name):
    hr = modcrop(photo("coffee")[:150, :186], 6)
    fn = WEBCAM_BENCHMARK[name]
    x, y = fn(hr, np.random.default_rng(7)), fn(hr, np.random.default_rng(7))
    assert np.array_equal(x, y) and x.shape == hr.shape
    assert 20 < _psnr_y(x, hr, 3) < 40


@pytest.mark.parametrize("group, name", [*((g, n) for g, cases in RESAMPLED_CASES.items() for n in cases),
                                         *(("lens", n) for n in LENS_CASES)])
def test_the_resampled_and_lens_cases_are_deterministic_and_degrade(group, name):
    if "H.264" in name:
        pytest.importorskip("av")
    hr = modcrop(photo("coffee")[:150, :186], 6)
    fn = LENS_CASES[name] if group == "lens" else RESAMPLED_CASES[group][name]
    x, y = fn(hr, np.random.default_rng(7)), fn(hr, np.random.default_rng(7))
    assert np.array_equal(x, y) and x.shape == hr.shape and x.dtype == np.uint8
    assert 20 < _psnr_y(x, hr, 3) < 40


def test_noise_blur_and_jpeg_do_what_they_say():
    flat = np.full((64, 64, 3), 128, np.uint8)
    noisy = add_sensor_noise(flat, np.random.default_rng(0), 4.0, 0.0)
    assert abs(float(noisy.astype(float).std()) - 4.0) < 0.3
    shot = add_sensor_noise(flat, np.random.default_rng(0), 0.0, 0.08)  # variance 0.08 x 128
    assert abs(float(shot.astype(float).std()) - np.sqrt(0.08 * 128)) < 0.3
    img = photo("astronaut")[100:196, 150:246]
    assert np.abs(gaussian_blur(img, 1.5).astype(int) - img).mean() > 2
    assert np.abs(defocus_blur(img, 2.0).astype(int) - img).mean() > 2
    assert np.array_equal(defocus_blur(flat, 2.0), flat)  # a normalised kernel keeps flat areas
    assert _psnr_y(jpeg_cv2(img, 30), img, 1) < _psnr_y(jpeg_cv2(img, 90), img, 1)


from kd.degrade import h264_intra  # noqa: E402


def test_h264_intra_is_deterministic_keeps_odd_sizes_and_follows_its_crf():
    img = photo("astronaut")[100:181, 150:247]  # 81 x 97: odd sides, padded for 4:2:0 and cropped back
    a, b = h264_intra(img, 30), h264_intra(img, 30)
    assert a.shape == img.shape and a.dtype == np.uint8 and np.array_equal(a, b)
    assert _psnr_y(h264_intra(img, 18), img, 1) > _psnr_y(a, img, 1) > _psnr_y(h264_intra(img, 40), img, 1) > 20


def test_h264_in_the_mix_draws_nothing_more_and_maps_its_crf_from_the_jpeg_draw():
    hr = modcrop(photo("coffee")[:120, :150], 2)
    old, half, every = WebcamMix(), WebcamMix(p_h264=0.5), WebcamMix(p_h264=1.0)
    for s in range(12):  # the generator ends where it ends without H.264: every later draw is the same
        states = []
        for mix in (old, half, every):
            rng = np.random.default_rng(s)
            mix(hr, rng)
            states.append(rng.bit_generator.state)
        assert states[0] == states[1] == states[2]
    h264 = [every(hr, np.random.default_rng(s)) for s in range(12)]
    assert all(np.array_equal(x, every(hr, np.random.default_rng(s))) for s, x in enumerate(h264))
    jpeg = [old(hr, np.random.default_rng(s)) for s in range(12)]
    differs = [not np.array_equal(a, b) for a, b in zip(h264, jpeg)]
    mixed = [not np.array_equal(half(hr, np.random.default_rng(s)), j) for s, j in enumerate(jpeg)]
    assert 0 < sum(mixed) < sum(differs)  # half the coded draws: some, not all, of those every-H.264 changes
    assert [every.h264_crf_for(q) for q in (30, 95, 62)] == [38, 18, 28]
    assert WebcamMix(jpeg_quality=(50, 50), h264_crf=(20, 30)).h264_crf_for(50) == 20
