"""vcam.detect: the blockiness statistic finds a small JPEG stream up-scaled x2 (on scikit-image's photos)
and not the clean picture, a plain up-scale or full-size JPEG; the switch decides with hysteresis. The textured
figure tells a sharp picture (with noise and MJPG) from the same picture up-scaled or blurred, where `detail`
is fooled by a mostly flat photo; the gate passes sharp frames with the same hysteresis."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from vcam_support import blocky_frame
from kd.degrade import bicubic_down_up, bicubic_resize
from vcam.detect import (Blockiness, BlockSwitch, BlurSwitch, Reblur, Resampling, SharpGate, StrengthRamp, Texture, block_figures,
                         blockiness, reblur_ratio, resampling_figures, textured)

CUT = 1.3  # about the cut `sharpcam-kd pair` chooses on the training split (README, sitting 9)


def photo_bgr(name: str) -> np.ndarray:
    rgb = getattr(skimage.data, name)()
    h, w = rgb.shape[0] // 4 * 4, rgb.shape[1] // 4 * 4
    return np.ascontiguousarray(rgb[:h, :w, ::-1])


def y_of(bgr_u8: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr_u8, cv2.COLOR_BGR2YUV_I420)[: bgr_u8.shape[0]]


@pytest.mark.parametrize("photo", ["astronaut", "chelsea", "coffee"])
def test_a_small_jpeg_stream_up_scaled_is_above_the_cut_and_the_others_below(photo: str) -> None:
    bgr = photo_bgr(photo)
    h, w = bgr.shape[:2]
    upscaled = cv2.resize(cv2.resize(bgr, (w // 2, h // 2), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_CUBIC)
    full_jpeg = cv2.imdecode(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 40])[1], cv2.IMREAD_COLOR)
    assert blockiness(y_of(blocky_frame(bgr))) > CUT + 0.1
    for other in (bgr, upscaled, full_jpeg):  # full-size JPEG's 8-px grid looks alike at both 16-px phases
        assert blockiness(y_of(other)) < CUT - 0.15


def test_a_flat_plane_has_no_grid_and_gain_and_offset_do_not_change_the_figure() -> None:
    assert blockiness(np.full((64, 80), 128, np.uint8)) == 1.0
    lines = np.full((96, 128), 40, np.uint8)
    lines[:, ::16] = 200  # a drawn grid on a flat card: large, but finite
    assert 10 < blockiness(lines) < 1000
    y = y_of(blocky_frame(photo_bgr("astronaut")))
    dimmer = cv2.convertScaleAbs(y, alpha=0.5, beta=60)  # a darker, flatter picture of the same stream
    assert blockiness(dimmer) == pytest.approx(blockiness(y), abs=0.05)


def test_a_view_into_a_larger_buffer_gives_the_same_figure_and_the_wrong_size_is_refused() -> None:
    y = y_of(blocky_frame(photo_bgr("coffee")))
    h, w = y.shape
    padded = np.zeros((h + 3, w + 5), np.uint8)  # as the Y plane sits in an even-sized I420 buffer
    padded[:h, :w] = y
    measure = Blockiness(w, h)
    assert measure(padded[:h, :w]) == measure(np.ascontiguousarray(y)) == blockiness(y)
    with pytest.raises(ValueError, match="buffers for"):
        measure(padded)
    with pytest.raises(ValueError, match="even period"):
        Blockiness(w, h, period=15)
    with pytest.raises(ValueError, match="4 periods a side"):  # one column per phase would decide
        Blockiness(w, 17, period=16)


def test_the_first_check_decides_and_later_changes_need_confirming_checks_in_a_row() -> None:
    clean, blocky = y_of(photo_bgr("astronaut")), y_of(blocky_frame(photo_bgr("astronaut")))
    h, w = clean.shape
    switch = BlockSwitch(w, h, 16, CUT, every=1, confirm=3)
    assert switch.choose(blocky) == 1 and switch.changes == 1  # no history: the picture decides
    assert [switch.choose(f) for f in (clean, clean, blocky, clean, clean, clean)] == [1, 1, 1, 1, 1, 0]
    assert switch.changes == 2 and switch.last < CUT
    assert [switch.choose(f) for f in (blocky, blocky, blocky)] == [0, 0, 1] and switch.changes == 3
    assert switch.frames == [3, 7]
    later = BlockSwitch(w, h, 16, CUT, every=1, confirm=3)
    later.carry_on_from(switch)  # a new processor for the same stream: no fresh first decision
    assert [later.choose(f) for f in (clean, clean)] == [1, 1] and later.frames == [3, 9]


def test_the_statistic_is_taken_every_nth_frame_only() -> None:
    clean, blocky = y_of(photo_bgr("chelsea")), y_of(blocky_frame(photo_bgr("chelsea")))
    h, w = clean.shape
    switch = BlockSwitch(w, h, 16, CUT, every=4, confirm=1)
    assert switch.choose(clean) == 0
    # frames 2-4 are not measured, so blocky ones there change nothing; frame 5 is measured
    assert [switch.choose(blocky) for _ in range(3)] == [0, 0, 0]
    assert switch.choose(blocky) == 1
    with pytest.raises(ValueError, match="every >= 1"):
        BlockSwitch(w, h, 16, CUT, every=0)


def test_detail_tells_an_up_scaled_frame_from_a_sharp_one_with_a_grid_of_its_own() -> None:
    """A codec's 16-px macroblocks in a frame that was never up-scaled (H.264 at full size) are blocky too,
    but keep their finest detail; a small stream up-scaled x2 does not."""
    bgr = photo_bgr("astronaut")
    sharp_grid = y_of(bgr).copy()
    sharp_grid[:, ::16] = cv2.subtract(sharp_grid[:, ::16], 12)  # a 16-px grid on the sharp picture
    sharp_grid[::16] = cv2.subtract(sharp_grid[::16], 12)
    (block_up, detail_up), (block_sharp, detail_sharp) = block_figures(y_of(blocky_frame(bgr))), block_figures(sharp_grid)
    assert block_up > CUT and block_sharp > CUT
    assert detail_up < 0.9 < 1.0 < detail_sharp
    h, w = sharp_grid.shape
    assert BlockSwitch(w, h, 16, CUT).choose(sharp_grid) == 1  # blockiness alone takes it
    assert BlockSwitch(w, h, 16, CUT, detail_below=0.95).choose(sharp_grid) == 0  # the detail cut does not
    switch = BlockSwitch(w, h, 16, CUT, detail_below=0.95)
    assert switch.choose(y_of(blocky_frame(bgr))) == 1 and switch.detail == pytest.approx(detail_up)


GATE_CUT = 0.69  # about the cut `sharpcam-kd pair` chooses on the training split at step 8 (README, sitting 14)


def textured_reference(y_u8: np.ndarray, step: int) -> float:
    """The figure written out in numpy: sum |d2| over sum |d1| where |d1| >= step, rows and columns."""
    num = den = 0
    y = y_u8.astype(np.int64)
    for plane in (y, y.T):
        d1 = np.diff(plane, axis=1)
        keep = np.abs(d1[:, :-1]) >= step
        num += np.abs(np.diff(d1, axis=1))[keep].sum()
        den += np.abs(d1[:, :-1])[keep].sum()
    return num / max(den, 1)


def sharp_and_blurred(name: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """A photo with sensor-like noise and MJPG q85 at full size (sharp), and the photo x2 and x3 bicubic down-up
    and Gaussian-blurred (sigma 1.2), as Y planes."""
    bgr = photo_bgr(name)
    h, w = bgr.shape[0] // 6 * 6, bgr.shape[1] // 6 * 6
    bgr = np.ascontiguousarray(bgr[:h, :w])
    noisy = np.clip(bgr + np.random.default_rng(0).normal(0, 2, bgr.shape), 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 85])
    sharp = cv2.imdecode(data, cv2.IMREAD_COLOR)
    up = [bicubic_down_up(bgr, s) for s in (2, 3)]  # MATLAB-like, as the benchmark's
    return y_of(sharp), [y_of(np.ascontiguousarray(b)) for b in (*up, cv2.GaussianBlur(bgr, (0, 0), 1.2))]


@pytest.mark.parametrize("photo", ["astronaut", "coffee", "rocket", "chelsea"])
def test_textured_puts_a_sharp_picture_above_the_cut_and_blurred_ones_below(photo: str) -> None:
    sharp, blurred = sharp_and_blurred(photo)
    assert textured(sharp, 8) > GATE_CUT
    assert all(textured(b, 8) < GATE_CUT for b in blurred), [textured(b, 8) for b in blurred]


DETAIL_CUT = 0.992  # the shipped pair's detail cut (export/sharpcam-cs4-switch.json)


def test_detail_is_fooled_by_a_mostly_flat_blurred_photo_and_textured_is_not() -> None:
    """The rocket up-scaled x2: sky and flat paint around a little detail. `detail` counts the flat areas' one-level
    steps as fine detail, so the blurred picture scores as sharp; counting only where there is texture does not."""
    sharp, (x2, *_) = sharp_and_blurred("rocket")
    assert block_figures(x2)[1] > DETAIL_CUT
    assert textured(x2, 8) < GATE_CUT < textured(sharp, 8)


def test_textured_is_the_written_out_figure_on_views_and_refuses_the_wrong_size() -> None:
    y = y_of(photo_bgr("chelsea"))
    for step in (1, 8, 30):
        assert textured(y, step) == pytest.approx(textured_reference(y, step), rel=1e-12)
    big = np.zeros((y.shape[0] + 10, y.shape[1] + 6), np.uint8)
    big[5 : 5 + y.shape[0], 3 : 3 + y.shape[1]] = y
    h, w = y.shape
    measure = Texture(w, h, 8)
    assert measure(big[5 : 5 + h, 3 : 3 + w]) == measure(np.ascontiguousarray(y))
    assert textured(np.full((32, 32), 90, np.uint8), 8) == 0.0  # no texture: nothing to tell
    with pytest.raises(ValueError, match="buffers for"):
        measure(y[:-2])
    with pytest.raises(ValueError, match="step of 1..255"):
        Texture(w, h, 0)


def test_the_gate_passes_sharp_frames_with_the_switch_hysteresis() -> None:
    sharp, (x2, *_) = sharp_and_blurred("astronaut")
    h, w = sharp.shape
    gate = SharpGate(w, h, 8, GATE_CUT, every=1, confirm=3)
    assert gate.passes(sharp) and gate.passing and gate.changes == 1  # no history: the picture decides
    assert [gate.passes(f) for f in (x2, x2, sharp, x2, x2, x2)] == [True, True, True, True, True, False]
    assert gate.frames == [1, 6] and gate.last < GATE_CUT
    later = SharpGate(w, h, 8, GATE_CUT, every=1, confirm=3)
    later.carry_on_from(gate)  # a new processor for the same stream: no fresh first decision
    assert [later.passes(f) for f in (sharp, sharp)] == [False, False] and later.frames == [3, 6]
    sparse = SharpGate(w, h, 8, GATE_CUT, every=4)
    assert [sparse.passes(f) for f in (x2, sharp, sharp, sharp, sharp)] == [False, False, False, False, True]


def page_sharp_and_x2() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's scanned page (line art) as it is and x2 bicubic down-up, as Y planes."""
    page = np.ascontiguousarray(np.dstack([skimage.data.page()] * 3)[: 186, : 384])
    return y_of(page), y_of(np.ascontiguousarray(bicubic_down_up(page, 2)))


def test_line_art_up_scaled_reads_sharp_on_the_first_figure_and_not_on_the_reblur_ratio() -> None:
    sharp, x2 = page_sharp_and_x2()
    assert textured(x2, 8) > GATE_CUT  # 1-2 px lines stay steep: the first figure alone passes it
    assert reblur_ratio(sharp, 8) < 0.7 < reblur_ratio(x2, 8)
    h, w = x2.shape
    assert SharpGate(w, h, 8, GATE_CUT).passes(x2)
    two_cuts = SharpGate(w, h, 8, GATE_CUT, reblur_below=0.7)
    assert not two_cuts.passes(x2) and two_cuts.last_ratio > 0.7
    assert SharpGate(w, h, 8, GATE_CUT, reblur_below=0.7).passes(sharp)


def test_the_reblur_ratio_is_its_written_out_figure() -> None:
    y = y_of(photo_bgr("coffee"))
    h, w = y.shape
    again = cv2.resize(cv2.resize(y, (w // 2, h // 2), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_LINEAR)
    assert reblur_ratio(y, 8) == pytest.approx(textured_reference(again, 8) / textured_reference(y, 8), rel=1e-12)
    measure = Reblur(w, h, 8)
    assert measure(y, textured(y, 8)) == measure(y)


BLUR_CUT = 0.4146  # about the cut `sharpcam-kd pair --blurred` chooses on the training split at step 8 (README, sitting 15)


@pytest.mark.parametrize("photo", ["astronaut", "coffee", "rocket", "chelsea"])
def test_the_blur_switch_sends_x3_to_the_blur_model_and_keeps_x2_and_sharp(photo: str) -> None:
    sharp, (x2, x3, _) = sharp_and_blurred(photo)
    h, w = sharp.shape
    assert [BlurSwitch(w, h, 8, BLUR_CUT).choose(y) for y in (sharp, x2, x3)] == [0, 0, 1]


def test_the_blur_switch_confirms_changes_and_takes_the_gate_figure_when_given() -> None:
    _, (x2, x3, _) = sharp_and_blurred("astronaut")
    h, w = x2.shape
    switch = BlurSwitch(w, h, 8, BLUR_CUT, every=1, confirm=2)
    assert [switch.choose(y) for y in (x3, x2, x3, x2, x2)] == [1, 1, 1, 1, 0]
    assert switch.frames == [1, 4] and switch.changes == 2 and switch.last == pytest.approx(textured(x2, 8))
    later = BlurSwitch(w, h, 8, BLUR_CUT, every=1, confirm=2)
    later.carry_on_from(switch)  # a new processor for the same stream: no fresh first decision
    assert later.choose(x3) == 0 and later.frames == [2, 4]
    # following a gate: its figure decides on the frames it measured, the side is kept on the others
    follower = BlurSwitch(w, h, 8, BLUR_CUT, confirm=2, follows_gate=True)
    assert [follower.follow(f, x2) for f in (0.2, None, 0.6, None, 0.6)] == [1, 1, 1, 1, 0] and follower.last == 0.6
    with pytest.raises(RuntimeError, match="follows a gate's figure"):
        follower.choose(x2)
    # a switch that was never asked (behind a gate that passed every frame) leaves nothing to carry: the next one's
    # first check still decides at once, on its cadence's first frame
    unasked, fresh = BlurSwitch(w, h, 8, BLUR_CUT, every=3, confirm=3), BlurSwitch(w, h, 8, BLUR_CUT, every=3, confirm=3)
    fresh.carry_on_from(unasked)
    assert fresh.choose(x3) == 1 and fresh.changes == 1


def test_the_gate_says_when_its_figure_is_fresh() -> None:
    sharp, (x2, *_) = sharp_and_blurred("coffee")
    h, w = sharp.shape
    gate = SharpGate(w, h, 8, GATE_CUT, every=2)
    fresh = []
    for y in (x2, x2, x2):
        gate.passes(y)
        fresh.append(gate.fresh)
    assert fresh == [True, False, True] and gate.last == pytest.approx(textured(x2, 8))


def up_scaled_and_lens_blurred(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A photo x3 and x2 down-up (area down, MATLAB-like bicubic up) with sensor-like noise at the small size, and the
    same photo out of focus (a disc of radius 3) with the noise at full size, as Y planes."""
    bgr = photo_bgr(name)
    h, w = bgr.shape[0] // 6 * 6, bgr.shape[1] // 6 * 6
    bgr = np.ascontiguousarray(bgr[:h, :w])
    rng = np.random.default_rng(1)

    def noisy(x: np.ndarray) -> np.ndarray:
        return np.clip(x + rng.normal(0, 2, x.shape), 0, 255).astype(np.uint8)

    def down_up(s: int) -> np.ndarray:
        small = noisy(cv2.resize(bgr, (w // s, h // s), interpolation=cv2.INTER_AREA))
        return y_of(np.ascontiguousarray(bicubic_resize(small, w, h)))

    disc = cv2.circle(np.zeros((7, 7), np.float32), (3, 3), 3, 1.0, -1)
    lens = noisy(cv2.filter2D(bgr, -1, disc / disc.sum(), borderType=cv2.BORDER_REFLECT))
    return down_up(3), down_up(2), y_of(lens)


PERIODIC_CUT, PHASE_CUT = 4.24, 1.1677  # the cuts `sharpcam-kd pair --blurred-lens` chooses (README, sitting 16)


@pytest.mark.parametrize("photo", ["astronaut", "coffee", "rocket", "chelsea"])
def test_resampling_figures_tell_an_up_scaled_frame_from_a_lens_blurred_one(photo: str) -> None:
    x3, x2, lens = up_scaled_and_lens_blurred(photo)
    (p3, q3), (p2, q2), (pl, ql) = (resampling_figures(y) for y in (x3, x2, lens))
    assert p3 > 2 * PERIODIC_CUT and pl < PERIODIC_CUT  # x3: a peak at 1/3 cycle per pixel; the lens: none
    assert q2 > PHASE_CUT and ql < PHASE_CUT and q3 < PHASE_CUT  # x2: its differences alternate; the others do not
    assert resampling_figures(np.ascontiguousarray(x3.T)) == (p3, q3)  # rows and columns alike


@pytest.mark.parametrize("photo", ["astronaut", "coffee", "chelsea"])
def test_a_strong_line_or_a_letterbox_does_not_hide_an_up_scale(photo: str) -> None:
    """One column far above the others, or the edges of black bars, would spread their power over the whole band and
    lift its median (or lift one phase): the figures clip such columns first."""
    x3, x2, _ = up_scaled_and_lens_blurred(photo)
    h, w = x3.shape
    for y, which, cut in ((x3, 0, 2 * PERIODIC_CUT), (x2, 1, PHASE_CUT)):
        lined = y.copy()
        lined[:, w // 2 : w // 2 + 2] = 255
        bars = y.copy()
        bars[:, : w // 8] = bars[:, -w // 8 :] = 0
        bars[: h // 10] = bars[-h // 10 :] = 0
        assert resampling_figures(lined)[which] > cut and resampling_figures(bars)[which] > cut

def test_resampling_figures_on_views_and_flat_planes_and_the_wrong_size_is_refused() -> None:
    x3, _, _ = up_scaled_and_lens_blurred("coffee")
    h, w = x3.shape
    padded = np.pad(x3, 5)
    measure = Resampling(w, h)
    assert measure(padded[5:-5, 5:-5]) == measure(x3) and measure.phase == resampling_figures(x3)[1]
    assert resampling_figures(np.full((130, 150), 40, np.uint8)) == (1.0, 1.0)  # nothing to tell: no peak, no phase
    with pytest.raises(ValueError, match="buffers for"):
        measure(x3[:, :-2])
    with pytest.raises(ValueError, match="128 px a side"):
        Resampling(127, 200)


def test_a_lens_blur_switch_takes_defocus_and_leaves_up_scaled_frames_to_the_card_model() -> None:
    x3, _, lens = up_scaled_and_lens_blurred("astronaut")
    h, w = x3.shape
    assert textured(x3, 8) < 0.5 and textured(lens, 8) < 0.5  # both strongly blurred by the gate's figure
    plain = BlurSwitch(w, h, 8, 0.5)
    only_lens = BlurSwitch(w, h, 8, 0.5, lens_only=(PERIODIC_CUT, PHASE_CUT))
    assert [plain.choose(y) for y in (x3, lens)] == [1, 1]
    assert [only_lens.choose(y) for y in (x3, lens)] == [0, 1] and only_lens.last_periodic < PERIODIC_CUT
    follower = BlurSwitch(w, h, 8, 0.5, follows_gate=True, lens_only=(PERIODIC_CUT, PHASE_CUT))
    assert follower.follow(textured(x3, 8), x3) == 0 and follower.last_periodic > PERIODIC_CUT


def test_an_up_scale_blur_switch_takes_up_scaled_frames_and_leaves_defocus_to_the_card_model() -> None:
    x3, _, lens = up_scaled_and_lens_blurred("astronaut")
    h, w = x3.shape
    only_up = BlurSwitch(w, h, 8, 0.5, upscaled_only=(PERIODIC_CUT, PHASE_CUT))
    assert [only_up.choose(y) for y in (x3, lens)] == [1, 0] and only_up.last_periodic < PERIODIC_CUT
    follower = BlurSwitch(w, h, 8, 0.5, follows_gate=True, upscaled_only=(PERIODIC_CUT, PHASE_CUT))
    assert follower.follow(textured(x3, 8), x3) == 1 and follower.last_periodic > PERIODIC_CUT
    with pytest.raises(ValueError, match="not both"):
        BlurSwitch(w, h, 8, 0.5, lens_only=(PERIODIC_CUT, PHASE_CUT), upscaled_only=(PERIODIC_CUT, PHASE_CUT))


RAMP = dict(ramp_from=0.49, ramp_to=0.89, periodic_from=PERIODIC_CUT, phase_up_to=0.9545)  # about what `pair --ramp` chooses


def mildly_up_scaled(name: str, factor: float) -> np.ndarray:
    """A photo's Y plane down-scaled by `factor` (MATLAB-like bicubic) and up-scaled back."""
    bgr = photo_bgr(name)
    h, w = bgr.shape[0] // 12 * 12, bgr.shape[1] // 12 * 12
    bgr = np.ascontiguousarray(bgr[:h, :w])
    return y_of(np.ascontiguousarray(bicubic_resize(bicubic_resize(bgr, round(w / factor), round(h / factor)), w, h)))


@pytest.mark.parametrize("photo", ["astronaut", "coffee"])
def test_the_ramp_keeps_part_of_the_change_on_a_mild_up_scale_and_all_of_it_on_x2_and_lens_blur(photo: str) -> None:
    x15, x43 = mildly_up_scaled(photo, 1.5), mildly_up_scaled(photo, 4 / 3)
    _, x2, lens = up_scaled_and_lens_blurred(photo)
    h, w = x15.shape
    ramp = StrengthRamp(w, h, 8, **RAMP)
    share = ramp(x15)
    # read as resampled by the periodic figure (x1.5's period of 3 px), the share is the ramp of its re-blur ratio
    assert ramp.last_periodic >= PERIODIC_CUT and 0.0 < share < 1.0
    assert share == pytest.approx((reblur_ratio(x15, 8) - 0.49) / 0.40)
    # x4/3's period of 4 px, which the periodic figure leaves out, by the phase figure
    ramp43 = StrengthRamp(w, h, 8, **RAMP)
    assert ramp43(x43) < 1.0 and ramp43.last_phase <= 0.9545
    h2, w2 = x2.shape
    for y in (x2, lens):  # a centred x2 up-scale and lens blur: not resampled by these figures, the whole change
        other = StrengthRamp(w2, h2, 8, **RAMP)
        assert other(y) == 1.0 and not other.resampled()


def test_the_ramp_moves_its_share_over_confirming_checks_and_carries_on() -> None:
    x15 = mildly_up_scaled("astronaut", 1.5)
    h, w = x15.shape
    # the same picture out of focus (a disc of radius 3, noise) cut to the same size: not resampled, the whole change
    lens = np.ascontiguousarray(up_scaled_and_lens_blurred("astronaut")[2][:h, :w])
    assert StrengthRamp(w, h, 8, **RAMP)(lens) == 1.0
    mild = StrengthRamp(w, h, 8, **RAMP)(x15)
    ramp = StrengthRamp(w, h, 8, every=2, confirm=2, **RAMP)
    assert ramp(x15) == pytest.approx(mild)  # the first check sets the share at once
    assert ramp(lens) == pytest.approx(mild)  # not a checked frame
    assert ramp(lens) == pytest.approx(mild + (1.0 - mild) / 2)  # half-way to the new target, 1.0
    assert ramp.changes == 1  # below 1 since the first check; half-way back is still below
    after = StrengthRamp(w, h, 8, every=2, confirm=2, **RAMP)
    after.carry_on_from(ramp)
    assert after.share == ramp.share and after.checks == ramp.checks and after.changes == 1
    assert after(lens) == ramp.share  # the carried cadence: this frame is not checked
    shares = [after(lens) for _ in range(20)]  # ten more checks: within 1/256 of the target it lands on it
    assert shares[-1] == 1.0 and after.changes == 2 and all(a <= b for a, b in zip(shares, shares[1:]))
    with pytest.raises(ValueError, match="0 < from < to"):
        StrengthRamp(w, h, 8, 0.8, 0.5, PERIODIC_CUT, 0.95)
