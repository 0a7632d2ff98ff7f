"""The webcam benchmark's pieces on real photos: the unsharp baseline, seeding, flicker, ringing."""
import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from photos import photo, write_photo_folder

from kd.config import UnsharpFitConfig, WebcamBenchConfig
from kd.evaluate import read_list_file
from kd.webcam import (
    DegradedInput, UnsharpMask, WebcamBenchError, degraded_inputs, fit_unsharp, load_unsharp, ringing_card, run_bench,
    score_images, score_ringing, still_flicker, still_motion, unsharp_fit,
)


def _static_clip(n=8, sigma=3.0):
    """A still scene as a camera sends it: the same photo with fresh sensor noise in every frame."""
    base = photo("astronaut")[100:196, 150:278].astype(np.float32)
    rng = np.random.default_rng(0)
    return [np.clip(np.rint(base + rng.normal(0, sigma, base.shape)), 0, 255).astype(np.uint8) for _ in range(n)]


def test_flicker_is_one_for_identical_processing_of_a_static_clip():
    clip = _static_clip()
    assert still_flicker(clip, [f.copy() for f in clip], 2.0) == pytest.approx(1.0)


def test_flicker_sees_noise_amplified_and_noise_removed():
    clip = _static_clip()
    sharpened = [UnsharpMask(1.0, 1.5).restore(f) for f in clip]
    mean = np.mean(np.stack(clip).astype(np.float32), axis=0).round().astype(np.uint8)
    assert still_flicker(clip, sharpened, 2.0) > 1.3
    assert still_flicker(clip, [mean] * len(clip), 2.0) == pytest.approx(0.0)


def test_still_motion_gives_both_levels_and_flicker_is_their_ratio():
    clip = _static_clip()
    moved_in, moved_out = still_motion(clip, [f.copy() for f in clip], 2.0)
    # per-channel sigma 3 noise moves Y by ~1.9 levels a frame; the still pixels (5 x 5 mean under 2) by somewhat less
    assert moved_in == pytest.approx(moved_out) and 1.0 < moved_in < 2.0
    sharpened = [UnsharpMask(1.0, 1.5).restore(f) for f in clip]
    moved_in, moved_out = still_motion(clip, sharpened, 2.0)
    assert moved_out > moved_in and still_flicker(clip, sharpened, 2.0) == pytest.approx(moved_out / moved_in)


def test_still_motion_reads_a_codec_repeating_a_still_picture_in_thousandths_of_a_level():
    # a frozen picture whose one pixel moves up by one level in every channel for one frame and back: Y moves by
    # 219/255 of a level twice in 5 frame pairs; a ratio of such motions can be anything, the levels say it is nothing
    frozen = [photo("astronaut")[100:196, 150:278].copy() for _ in range(6)]
    frozen[3][40, 40] = np.minimum(frozen[3][40, 40].astype(np.int16) + 1, 255).astype(np.uint8)
    assert frozen[3][40, 40].max() < 255  # no channel clipped: the move is a whole level in each
    moved_in, _ = still_motion(frozen, frozen, 2.0)
    assert moved_in == pytest.approx(2 * (219 / 255) / (5 * 96 * 128), rel=1e-3)
    sharpened = [UnsharpMask(1.0, 1.5).restore(f) for f in frozen]
    moved_in, moved_out = still_motion(frozen, sharpened, 2.0)
    assert moved_out > moved_in and moved_out < 0.001  # the sharpened pixel moves more, and still by next to nothing
    assert all(math.isnan(v) for v in still_motion(frozen[:1], frozen[:1], 2.0))


def test_unsharp_mask_is_the_runtime_formula_and_reproducible():
    img = photo("coffee")[:80, :120]
    um = UnsharpMask(1.0, 0.7)
    out = um.restore(img)
    assert np.array_equal(out, UnsharpMask(1.0, 0.7).restore(img))
    blur = cv2.GaussianBlur(img, (0, 0), 1.0)
    ref = np.clip(np.rint(1.7 * img.astype(np.float64) - 0.7 * blur), 0, 255)
    assert np.abs(out.astype(np.float64) - ref).max() <= 1  # OpenCV's fixed-point rounding


def test_unsharp_fit_is_deterministic_and_frozen_in_a_file(tmp_path):
    files = write_photo_folder(tmp_path / "hr", size=64, names=("astronaut", "coffee", "chelsea"))
    (tmp_path / "train.txt").write_text("".join(f"{f}\n" for f in files))
    cfg = UnsharpFitConfig(images=str(tmp_path / "train.txt"), crop=64, sigmas=(0.5, 1.0), amounts=(0.2, 0.6, 1.0),
                           out=str(tmp_path / "unsharp.toml"))
    a = unsharp_fit(cfg, log=lambda *_: None)
    b = fit_unsharp(read_list_file(cfg.images), cfg.sigmas, cfg.amounts, cfg.crop, progress=False)
    assert (a["sigma"], a["amount"]) == b[:2]
    assert a["psnr_gain"] > 0  # sharpening a x2-blurred photo helps
    um = load_unsharp(cfg.out)
    assert (um.sigma, um.amount) == (a["sigma"], a["amount"])
    with pytest.raises(WebcamBenchError, match="unsharp-fit"):
        load_unsharp(tmp_path / "missing.toml")


def test_inputs_are_seeded_by_name_not_by_position():
    hr = photo("chelsea")[:96, :126]
    a, b = degraded_inputs(hr, "set/x.png", 0), degraded_inputs(hr, "set/x.png", 0)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = degraded_inputs(hr, "set/y.png", 0)
    assert not np.array_equal(a["blur1.2+noise4+jpeg60"], c["blur1.2+noise4+jpeg60"])
    assert np.array_equal(a["x2"], c["x2"])  # no noise, no randomness


def test_image_scores_are_gains_over_the_degraded_input(tmp_path):
    files = write_photo_folder(tmp_path / "s", size=72, names=("astronaut", "coffee"))
    scores = score_images([DegradedInput(), UnsharpMask(0.75, 1.0)], [(f"s/{f.name}", f) for f in files], 0, progress=False)
    for d, row in scores["degraded input"].items():
        assert row["psnr_gain"] == 0 and row["n"] == 2
    assert scores["unsharp mask (σ 0.75, amount 1)"]["x2"]["psnr_gain"] > 0


def test_ringing_card_scores_echoes_beside_thin_lines():
    hr, band = ringing_card()
    assert band.any() and hr.dtype == np.uint8
    harsh = UnsharpMask(1.5, 3.0)
    scores = score_ringing([DegradedInput(), harsh])
    assert scores[harsh.label] > scores["degraded input"] + 0.5


def test_bench_refuses_a_missing_clip_with_the_fix(tmp_path):
    write_photo_folder(tmp_path / "s", size=48, names=("coffee",))
    cfg = WebcamBenchConfig(sets=(str(tmp_path / "s"),), clips=(str(tmp_path / "nope.mp4"),), unsharp=str(tmp_path / "u.toml"))
    with pytest.raises(WebcamBenchError, match="--clip"):
        run_bench(cfg, progress=False)


def test_clip_frames_are_scored_as_originals_too(tmp_path: Path) -> None:
    from vcam_support import panned_frames, write_clip

    from kd.webcam import bench_files

    write_photo_folder(tmp_path / "s", size=48, names=("coffee",))
    clip = write_clip(tmp_path / "talk.mkv", panned_frames(96, 60, 10))
    cfg = WebcamBenchConfig(sets=(str(tmp_path / "s"),), clips=(str(clip),), clip_images=3)
    files = bench_files(cfg)
    assert [n for n, _ in files] == ["s/coffee.png", "talk/frame0000", "talk/frame0004", "talk/frame0009"]
    assert files[1][1].shape == (60, 96, 3)
    scores = score_images([DegradedInput()], files, 0, progress=False)
    assert scores["degraded input"]["x2"]["n"] == 4 and set(scores["degraded input"]["x2"]["sets"]) == {"s", "talk"}
