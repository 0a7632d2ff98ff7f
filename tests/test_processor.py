"""vcam.processor on the luma path (card v2 "Y" models): the model sees the I420 Y plane, chroma passes
through bit-exact, the frame goes out as I420, and no full-resolution float buffer exists."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest

from vcam_support import make_luma_onnx, panned_frames, write_luma_card
from vcam.config import DaemonConfig
from vcam.engine import load_engine
from vcam.processor import FrameProcessor
from vcam.transforms import i420_planes

W, H = 200, 120  # not multiples of the model's pad multiple 4 on purpose: 200 is, 122 below is not


@pytest.fixture(scope="module", params=["uint8", "float32"])
def luma_card(request, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp(f"luma-{request.param}")
    return write_luma_card(make_luma_onnx(folder / f"luma-{request.param}.onnx", dtype=request.param), request.param)


def offline_y(card_path: Path, y_u8: np.ndarray) -> np.ndarray:
    """The model run by onnxruntime on an edge-padded Y plane, cropped back: the reference."""
    h, w = y_u8.shape
    padded = cv2.copyMakeBorder(y_u8, 0, -h % 4, 0, -w % 4, cv2.BORDER_REPLICATE)[None, None]
    sess = ort.InferenceSession(str(card_path.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    if sess.get_inputs()[0].type == "tensor(uint8)":
        return sess.run(None, {"input": padded})[0][0, 0, :h, :w]
    out = sess.run(None, {"input": (padded.astype(np.float32) - 16) / 219})[0][0, 0, :h, :w]
    return np.clip(np.rint(out * 219 + 16), 0, 255).astype(np.uint8)


def run(card_path: Path, frame: np.ndarray, **settings) -> tuple[FrameProcessor, np.ndarray]:
    cfg = DaemonConfig(model=str(card_path), **settings)
    engine = load_engine(cfg.model, "cpu", 1)
    proc = FrameProcessor(cfg, engine, (frame.shape[1], frame.shape[0]), offline=True)
    return proc, proc.process(frame, proc.new_output())


@pytest.mark.parametrize("height", [H, 122])
def test_y_model_equals_its_onnx_on_the_i420_y_plane_chroma_bit_exact(luma_card: Path, height: int) -> None:
    frame = panned_frames(W, height, 1, "astronaut")[0]
    proc, out = run(luma_card, frame)
    assert proc.luma and proc.output_format == "i420" and out.shape == (height * 3 // 2, W)
    i420_in = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
    y_in, u_in, v_in = i420_planes(i420_in)
    y_out, u_out, v_out = i420_planes(out)
    np.testing.assert_array_equal(y_out, offline_y(luma_card, y_in))
    np.testing.assert_array_equal(u_out, u_in)
    np.testing.assert_array_equal(v_out, v_in)
    assert np.abs(y_out.astype(int) - y_in).mean() > 0.5  # it did sharpen


def test_strength_blends_y_only(luma_card: Path) -> None:
    frame = panned_frames(W, H, 1, "chelsea")[0]
    _, out = run(luma_card, frame, strength=0.4)
    i420_in = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
    y_in = i420_in[:H]
    want = np.clip(np.rint(0.6 * y_in + 0.4 * offline_y(luma_card, y_in).astype(np.float64)), 0, 255)
    assert np.abs(out[:H].astype(np.float64) - want).max() <= 1  # OpenCV's fixed-point rounding
    np.testing.assert_array_equal(out[H:], i420_in[H:])


def test_work_size_adds_the_upscaled_change_to_the_full_size_y(luma_card: Path) -> None:
    frame = panned_frames(W, H, 1, "astronaut")[0]
    proc, out = run(luma_card, frame, work_size=(W // 2, H // 2))
    assert proc.geometry.resizes
    i420_in = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)
    y_in = i420_in[:H]
    y_work = cv2.resize(y_in, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    delta = offline_y(luma_card, y_work).astype(np.int16) - y_work.astype(np.int16)
    want = np.clip(y_in + cv2.resize(delta, (W, H), interpolation=cv2.INTER_LINEAR).astype(np.float64), 0, 255)
    assert np.abs(out[:H].astype(np.float64) - want).max() <= 1
    np.testing.assert_array_equal(out[H:], i420_in[H:])
    # the camera's own detail stays: where the model changes nothing, the output is the input pixel itself
    flat = cv2.resize(delta, (W, H), interpolation=cv2.INTER_LINEAR) == 0
    assert flat.mean() > 0.05 and np.array_equal(out[:H][flat], y_in[flat])


def test_mirror_flips_every_plane(luma_card: Path) -> None:
    frame = panned_frames(W, H, 1, "chelsea")[0]
    _, plain = run(luma_card, frame)
    _, mirrored = run(luma_card, frame, mirror=True)
    for a, b in zip(i420_planes(plain), i420_planes(mirrored)):
        np.testing.assert_array_equal(a[:, ::-1], b)


def test_odd_size_goes_out_as_bgr(luma_card: Path) -> None:
    frame = panned_frames(W + 1, H + 1, 1, "astronaut")[0]
    proc, out = run(luma_card, frame)
    assert proc.output_format == "bgr" and out.shape == frame.shape
    even = cv2.copyMakeBorder(frame, 0, 1, 0, 1, cv2.BORDER_REPLICATE)
    _, even_out = run(luma_card, even)
    np.testing.assert_array_equal(out, cv2.cvtColor(even_out, cv2.COLOR_YUV2BGR_I420)[: H + 1, : W + 1])


def test_strength_zero_is_the_camera_frame(luma_card: Path) -> None:
    frame = panned_frames(W, H, 1, "chelsea")[0]
    proc, out = run(luma_card, frame, strength=0.0)
    assert proc.copy and not proc.luma
    np.testing.assert_array_equal(out, frame)


def test_no_full_resolution_float_buffer_on_the_uint8_y_path(tmp_path: Path) -> None:
    card = write_luma_card(make_luma_onnx(tmp_path / "y8.onnx"))
    for work in (None, (W // 2, H // 2)):
        proc, _ = run(card, panned_frames(W, H, 1, "chelsea")[0], work_size=work)
        arrays = [a for pool in (proc.pre_pool, proc.infer_pool, proc.post_pool) for slot in pool._free for a in slot.arrays.values()]
        arrays += [v for obj in (proc.luma_pre, proc.luma_post) for v in vars(obj).values() if isinstance(v, np.ndarray)]
        assert arrays and all(a.dtype in (np.uint8, np.int16) for a in arrays), {a.dtype for a in arrays}


def test_an_enhanced_picture_keeps_full_resolution_colour(luma_card: Path) -> None:
    """Offline, a picture gets the model's change of Y added to B, G and R (I420 would halve its
    colour resolution); its luma is the luma path's."""
    frame = panned_frames(W, H, 1, "astronaut")[0]
    proc, out = run(luma_card, frame)
    bgr = proc.to_bgr(out, np.empty_like(frame), frame)
    delta = bgr.astype(np.float64) - frame
    inside = ((bgr > 0) & (bgr < 255)).all(axis=2)
    assert inside.mean() > 0.5 and np.abs(delta - delta.mean(axis=2, keepdims=True))[inside].max() <= 1
    y_out = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)[:H].astype(int)
    assert np.abs(y_out - out[:H])[inside].mean() < 1.0
    assert np.abs(bgr.astype(int) - frame).mean() > 0.5  # it did sharpen


def test_an_i420_capture_frame_takes_the_luma_path_without_a_colour_conversion(luma_card: Path) -> None:
    """An MJPG camera decoded straight to YUV (vcam/jpeg.py) hands over I420: the model sees its Y plane,
    its chroma goes out untouched, and without a model the frame passes through bit-exact."""
    i420 = cv2.cvtColor(panned_frames(W, H, 1, "astronaut")[0], cv2.COLOR_BGR2YUV_I420)
    cfg = DaemonConfig(model=str(luma_card))
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (W, H), offline=True, capture_format="i420")
    out = proc.process(i420, proc.new_output())
    y_in, u_in, v_in = i420_planes(i420)
    y_out, u_out, v_out = i420_planes(out)
    np.testing.assert_array_equal(y_out, offline_y(luma_card, y_in))
    np.testing.assert_array_equal(u_out, u_in)
    np.testing.assert_array_equal(v_out, v_in)
    for settings in ({"model": "none"}, {"model": str(luma_card), "strength": 0.0}):
        cfg = DaemonConfig(**settings)
        engine = None if cfg.model == "none" else load_engine(cfg.model, "cpu", 1)
        proc = FrameProcessor(cfg, engine, (W, H), offline=True, capture_format="i420")
        assert proc.output_format == "i420"
        np.testing.assert_array_equal(proc.process(i420, proc.new_output()), i420)
    mirrored = FrameProcessor(DaemonConfig(model="none", mirror=True), None, (W, H), offline=True, capture_format="i420")
    out = mirrored.process(i420, mirrored.new_output())  # mirror works in BGR: one conversion, then flipped
    np.testing.assert_array_equal(out, cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)[:, ::-1])


def test_a_pair_card_sends_a_blocky_picture_to_its_alternate_and_a_clean_one_to_its_model(tmp_path: Path) -> None:
    from vcam_support import blocky_frame, write_pair_card

    card = write_pair_card(tmp_path)
    clean = panned_frames(W, H, 1)[0]
    # the pair's own card names the default's ONNX file (pair-default.onnx)
    for frame, name, onnx in ((clean, "pair", "pair-default"), (blocky_frame(clean), "pair-alternate", "pair-alternate")):
        proc, out = run(card, frame)
        assert proc.switch is not None and proc.active_model == name
        np.testing.assert_array_equal(out[:H], offline_y(tmp_path / f"{onnx}.json", out_y_in(frame)))


def out_y_in(bgr_u8: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(bgr_u8, cv2.COLOR_BGR2YUV_I420)[: bgr_u8.shape[0]]


def test_the_daemon_changes_model_only_after_its_confirming_checks(tmp_path: Path) -> None:
    from vcam_support import blocky_frame, write_pair_card

    card = write_pair_card(tmp_path)
    clean = panned_frames(W, H, 1)[0]
    blocky = blocky_frame(clean)
    cfg = DaemonConfig(model=str(card), switch_every=1, switch_confirm=3)
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (W, H))  # the daemon's processor, not offline
    chosen = []
    for frame in (clean, blocky, blocky, blocky, clean):
        slot = proc.pre_pool.acquire()
        proc.preprocess(frame, slot)
        chosen.append(slot.variant)
        slot.release()
    assert chosen == [0, 0, 0, 1, 1] and proc.active_model == "pair-alternate"
    assert proc.pre_pool.acquire().variant == 0  # a slot comes back from its pool unmarked


def test_a_new_processor_for_the_same_stream_keeps_the_model_it_was_running(tmp_path: Path) -> None:
    """A strength change, a reload or a work-size step builds a new processor: it carries on with the switch's
    model instead of deciding afresh on its first frame."""
    from vcam_support import blocky_frame, write_pair_card

    card = write_pair_card(tmp_path)
    clean = panned_frames(W, H, 1)[0]
    cfg = DaemonConfig(model=str(card), switch_every=1, switch_confirm=3)
    engine = load_engine(cfg.model, "cpu", 1)
    old = FrameProcessor(cfg, engine, (W, H))
    for frame in (blocky_frame(clean), clean):
        slot = old.pre_pool.acquire()
        old.preprocess(frame, slot)
        slot.release()
    assert old.active_model == "pair-alternate"
    new = FrameProcessor(cfg.replace(strength=0.5), engine, (W, H), previous=old)
    slot = new.pre_pool.acquire()
    new.preprocess(clean, slot)  # a second clean check in a row: still one short of three
    assert slot.variant == 1 and new.switch is not None and new.switch.frames == [0, 3]
    fresh = FrameProcessor(cfg, engine, (W, H))
    slot = fresh.pre_pool.acquire()
    fresh.preprocess(clean, slot)
    assert slot.variant == 0  # without a previous processor the first frame decides


def test_no_switch_on_a_frame_too_small_to_measure(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    proc, _ = run(write_pair_card(tmp_path), panned_frames(60, 48, 1)[0])
    assert proc.switch is None and proc.active_model == "pair"


def still_noisy_frames(count: int, seed: int = 0) -> list[np.ndarray]:
    """A still photo (BGR) with fresh sensor-like noise (sigma 3 levels) in every frame."""
    frame = panned_frames(W, H, 1, "coffee")[0].astype(np.float32)
    rng = np.random.default_rng(seed)
    return [np.clip(np.rint(frame + rng.normal(0, 3, frame.shape)), 0, 255).astype(np.uint8) for _ in range(count)]


def stream_y(card: Path, frames: list[np.ndarray], work_size=None, **settings) -> list[np.ndarray]:
    """The Y planes the processor gives for `frames` taken as one stream."""
    cfg = DaemonConfig(model=str(card), threads=1, work_size=work_size, **settings)
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (W, H), offline=True)
    return [i420_planes(proc.process(f, proc.new_output()))[0].copy() for f in frames]


def frame_to_frame(planes: list[np.ndarray]) -> float:
    return float(np.mean([np.abs(b.astype(int) - a).mean() for a, b in zip(planes, planes[1:])]))


@pytest.mark.parametrize("work_size", [None, (W // 2, H // 2)])
def test_steady_calms_a_still_noisy_scene_and_starts_from_the_model(luma_card: Path, work_size) -> None:
    frames = still_noisy_frames(12)
    y_in = [cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420)[:H] for f in frames]
    off = stream_y(luma_card, frames, work_size, steady=0.0)
    on = stream_y(luma_card, frames, work_size, steady=0.8)
    np.testing.assert_array_equal(on[0], off[0])  # the first frame has no past: the model's own output
    # the sharpener draws the noise larger; steadied, still areas move about as little as the camera's own
    assert frame_to_frame(off) > 1.15 * frame_to_frame(y_in)
    assert frame_to_frame(on) < 0.9 * frame_to_frame(off)
    assert frame_to_frame(on) < 1.25 * frame_to_frame(y_in)
    # and each steadied frame is nearer the model's picture of the noise-free scene than its own output is
    clean = stream_y(luma_card, [panned_frames(W, H, 1, "coffee")[0]], work_size, steady=0.0)[0].astype(int)
    for a, b in zip(on[4:], off[4:]):
        assert np.abs(a - clean).mean() < np.abs(b - clean).mean()


def test_steady_leaves_moving_content_as_the_model_draws_it(luma_card: Path) -> None:
    from vcam.transforms import STILL_LEVELS, SteadyChange

    frames = panned_frames(W, H, 4, "astronaut")
    for a, b in zip(frames, frames[1:]):
        assert not np.array_equal(a, b)
    off = stream_y(luma_card, frames, steady=0.0)
    on = stream_y(luma_card, frames, steady=0.8)
    y_in = [cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420)[:H] for f in frames]
    bar = SteadyChange(W, H, 0.8)
    for i in range(1, len(frames)):
        bar.update(y_in[i - 1], y_in[i - 1])
        bar.update(y_in[i], y_in[i])
        assert bar.still_levels == STILL_LEVELS  # a pan is not noise: the bar stays where it is
        moving = cv2.blur(cv2.absdiff(y_in[i], y_in[i - 1]), (5, 5)) >= STILL_LEVELS
        assert moving.mean() > 0.2
        np.testing.assert_array_equal(on[i][moving], off[i][moving])


def test_steady_is_off_for_a_picture_and_at_zero(luma_card: Path) -> None:
    frame = still_noisy_frames(1)[0]
    cfg = DaemonConfig(model=str(luma_card), threads=1)
    assert cfg.steady > 0  # on by default for streams
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (W, H), offline=True, picture=True)
    assert proc.luma_post.steady is None
    # at 0, a stream's frames are each the model's own output, as if each came alone
    frames = still_noisy_frames(3)
    alone = [stream_y(luma_card, [f], steady=0.0)[0] for f in frames]
    for got, want in zip(stream_y(luma_card, frames, steady=0.0), alone, strict=True):
        np.testing.assert_array_equal(got, want)


def test_steady_change_settles_on_the_mean_and_on_a_small_constant_change() -> None:
    """A still input whose model output alternates +-4 levels around x + 3: the steadied change settles
    near +3 (within a level), instead of the +7 / -1 the model draws frame by frame. And a constant change
    of one level, from a first frame of none, is reached exactly even at the highest weight (a coarser
    fixed point would stop short of it: at 16ths, w = 0.95 sticks at 0)."""
    from vcam.config import MAX_STEADY
    from vcam.transforms import SteadyChange

    x = np.full((16, 16), 100, np.uint8)
    steady = SteadyChange(16, 16, 0.8)
    changes = [int(steady.update(x, (x.astype(int) + 3 + (4 if i % 2 else -4)).astype(np.uint8)).mean()) for i in range(40)]
    assert changes[0] == -1  # the first frame as it is
    assert all(abs(c - 3) <= 1 for c in changes[20:])
    for weight in (0.8, MAX_STEADY):
        steady = SteadyChange(16, 16, weight)
        steady.update(x, x)
        for _ in range(300):
            change = steady.update(x, x + np.uint8(1))
        assert (change == 1).all(), weight
    with pytest.raises(ValueError, match="in \\(0, 1\\)"):
        SteadyChange(16, 16, 1.0)


def test_the_still_bar_rises_with_the_noise_up_to_its_cap() -> None:
    """In a quiet still picture the bar stays at STILL_LEVELS; in a dim or dark one (sigma 5, 8) it rises to
    about 2 x the noise's mean 5 x 5 |change| (~2.25 sigma); where everything moves, it stops at the cap."""
    from vcam.transforms import MAX_STILL_LEVELS, STILL_LEVELS, SteadyChange

    y = cv2.cvtColor(panned_frames(W, H, 1, "coffee")[0], cv2.COLOR_BGR2GRAY).astype(np.float32)
    rng = np.random.default_rng(0)
    for sigma, low, high in ((1.5, STILL_LEVELS, STILL_LEVELS), (5.0, 9, 13), (8.0, 14, MAX_STILL_LEVELS)):
        steady = SteadyChange(W, H, 0.8)
        for _ in range(12):
            x = np.clip(np.rint(y + rng.normal(0, sigma, y.shape)), 0, 255).astype(np.uint8)
            steady.update(x, x)
        assert low <= steady.still_levels <= high, (sigma, steady.still_levels, steady.noise_levels)
    steady = SteadyChange(W, H, 0.8)
    for _ in range(12):
        x = rng.integers(0, 256, (H, W), dtype=np.uint8)
        steady.update(x, x)
    assert steady.still_levels == MAX_STILL_LEVELS
    # a clean pan over dense texture at 640 x 360 is not noise either: the full-resolution filter sees the texture
    for photo in ("gravel", "astronaut"):
        steady = SteadyChange(640, 360, 0.8)
        for f in panned_frames(640, 360, 9, photo):
            y_pan = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
            steady.update(y_pan, y_pan)
        assert steady.still_levels == STILL_LEVELS, photo


def test_in_a_dark_still_scene_the_rising_bar_steadies_more_than_a_fixed_one(luma_card: Path, monkeypatch) -> None:
    import vcam.transforms as transforms

    frame = panned_frames(W, H, 1, "coffee")[0].astype(np.float32)
    rng = np.random.default_rng(1)
    frames = [np.clip(np.rint(frame + rng.normal(0, 8, frame.shape)), 0, 255).astype(np.uint8) for _ in range(12)]
    rising = stream_y(luma_card, frames, steady=0.8)
    monkeypatch.setattr(transforms, "MAX_STILL_LEVELS", transforms.STILL_LEVELS)  # sitting 11's fixed bar
    fixed = stream_y(luma_card, frames, steady=0.8)
    np.testing.assert_array_equal(rising[0], fixed[0])
    assert frame_to_frame(rising[2:]) < 0.9 * frame_to_frame(fixed[2:])


@pytest.mark.parametrize(("height", "strength", "work_size"), [(122, 1.0, None), (122, 0.6, None), (H, 1.0, (98, 58))])
def test_the_processor_steadies_as_steady_change_does(luma_card: Path, height: int, strength: float, work_size) -> None:
    """Frame by frame, the processor's Y is the input's plus SteadyChange's change of the model's output
    (scaled by the strength; at a work size, the change there scaled back up): a reference built from the
    model run offline and a SteadyChange of its own. Odd-padded height, strength below 1, a work size."""
    from vcam.transforms import SteadyChange

    rng = np.random.default_rng(3)
    base = panned_frames(W, height, 1, "coffee")[0].astype(np.float32)
    frames = [np.clip(np.rint(base + rng.normal(0, 2, base.shape)), 0, 255).astype(np.uint8) for _ in range(5)]
    frames += panned_frames(W, height, 2, "coffee")  # and then it moves
    got = stream_y_sized(luma_card, frames, height, work_size, steady=0.8, strength=strength)
    ww, wh = work_size or (W, height)
    reference = SteadyChange(ww, wh, 0.8)
    for frame, y in zip(frames, got):
        y_in = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420)[:height]
        x = y_in if work_size is None else cv2.resize(y_in, (ww, wh), interpolation=cv2.INTER_AREA)
        change = reference.update(x, offline_y(luma_card, x))
        if work_size is not None:
            change = cv2.resize(change, (W, height), interpolation=cv2.INTER_LINEAR)
        expected = np.clip(np.rint(y_in + strength * change.astype(np.float64)), 0, 255).astype(np.uint8)
        assert np.abs(y.astype(int) - expected).max() <= 1
        assert (y != expected).mean() < 0.01


def test_a_new_processor_for_the_stream_goes_on_steadying(luma_card: Path) -> None:
    frames = still_noisy_frames(6)
    cfg = DaemonConfig(model=str(luma_card), threads=1)
    engine = load_engine(cfg.model, "cpu", 1)
    first = FrameProcessor(cfg, engine, (W, H), offline=True)
    for f in frames[:5]:
        first.process(f, first.new_output())
    # a strength change builds a new processor: it takes over the average instead of one unsteadied frame
    second = FrameProcessor(cfg.replace(strength=0.9), engine, (W, H), offline=True, previous=first)
    carried, fresh = second.luma_post.steady, unsteadied_processor(cfg, engine)
    assert not carried._fresh
    np.testing.assert_array_equal(carried._average_s16, first.luma_post.steady._average_s16)
    assert carried.noise_levels == first.luma_post.steady.noise_levels > 0  # and the noise estimate with its bar
    assert carried.still_levels == first.luma_post.steady.still_levels
    assert not np.array_equal(second.process(frames[5], second.new_output()), fresh.process(frames[5], fresh.new_output()))
    # another work size starts again
    third = FrameProcessor(cfg.replace(work_size=(W // 2, H // 2)), engine, (W, H), offline=True, previous=first)
    assert third.luma_post.steady._fresh


def unsteadied_processor(cfg: DaemonConfig, engine) -> FrameProcessor:
    """A processor for the same stream with no past, for comparison."""
    return FrameProcessor(cfg.replace(strength=0.9), engine, (W, H), offline=True)


def stream_y_sized(card: Path, frames: list[np.ndarray], height: int, work_size=None, **settings) -> list[np.ndarray]:
    cfg = DaemonConfig(model=str(card), threads=1, work_size=work_size, **settings)
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (W, height), offline=True)
    return [i420_planes(proc.process(f, proc.new_output()))[0][:height].copy() for f in frames]


GATE = {"statistic": "textured", "step": 8, "above": 0.69}


def sharp_and_up_scaled(name: str = "coffee") -> tuple[np.ndarray, np.ndarray]:
    """A photo at full size (sharp) and the same photo x2 area-down, bicubic-up (blurred), BGR W x H."""
    sharp = panned_frames(W, H, 1, name)[0]
    small = cv2.resize(sharp, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    return sharp, cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)


def test_a_card_gate_leaves_a_sharp_frame_untouched_and_sharpens_a_blurred_one(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate=GATE)
    sharp, blurred = sharp_and_up_scaled()
    proc, out = run(card, sharp)
    assert proc.gate is not None and proc.gate.passing and proc.active_model is None
    np.testing.assert_array_equal(out, cv2.cvtColor(sharp, cv2.COLOR_BGR2YUV_I420))  # every plane as it came
    assert proc.switch is not None and proc.switch.frames == [0, 0]  # the switch is not consulted
    proc, out = run(card, blurred)
    assert not proc.gate.passing and proc.active_model == "pair"
    np.testing.assert_array_equal(out[:H], offline_y(tmp_path / "pair-default.json", out_y_in(blurred)))
    proc, out = run(card, sharp, sharp_gate=False)  # --no-sharp-gate: the model on every frame
    assert proc.gate is None and proc.active_model == "pair"
    np.testing.assert_array_equal(out[:H], offline_y(tmp_path / "pair-default.json", out_y_in(sharp)))


def test_a_passed_frame_runs_no_model_and_still_mirrors(tmp_path: Path, monkeypatch) -> None:
    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate=GATE)
    sharp, _ = sharp_and_up_scaled()
    cfg = DaemonConfig(model=str(card), mirror=True)
    engine = load_engine(cfg.model, "cpu", 1)
    proc = FrameProcessor(cfg, engine, (W, H), offline=True)
    monkeypatch.setattr(engine, "run_variant", lambda *a: pytest.fail("the model ran on a passed frame"))
    out = proc.process(sharp, proc.new_output())
    np.testing.assert_array_equal(out[:H], out_y_in(sharp)[:, ::-1])


def test_the_daemon_gate_changes_side_after_its_confirming_checks_and_carries_on(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate=GATE)
    sharp, blurred = sharp_and_up_scaled()
    cfg = DaemonConfig(model=str(card), switch_every=1, switch_confirm=2, steady=0.5)
    engine = load_engine(cfg.model, "cpu", 1)
    proc = FrameProcessor(cfg, engine, (W, H))

    def variants(p: FrameProcessor, frames: list[np.ndarray]) -> list[int]:
        chosen = []
        for frame in frames:
            pre, infer = p.pre_pool.acquire(), p.infer_pool.acquire()
            p.preprocess(frame, pre)
            p.infer(pre, infer)
            p.postprocess(frame, pre, infer, p.new_output())
            chosen.append(pre.variant)
            pre.release(), infer.release()
        return chosen

    assert variants(proc, [blurred, sharp, sharp, blurred]) == [0, 0, -1, -1]
    new = FrameProcessor(cfg.replace(strength=0.5), engine, (W, H), previous=proc)
    assert variants(new, [blurred, sharp]) == [0, 0]  # two blurred checks in a row: the model again, kept
    assert new.gate is not None and new.gate.frames == [4, 2]


def up_scaled(sharp: np.ndarray, factor: int) -> np.ndarray:
    small = cv2.resize(sharp, (W // factor, H // factor), interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)


def test_a_card_blur_model_takes_strongly_blurred_frames_and_the_gate_figure_serves_both(tmp_path: Path, monkeypatch) -> None:
    from vcam_support import write_pair_card
    import vcam.detect

    card = write_pair_card(tmp_path, gate=GATE, blur={"below": 0.41})
    sharp, _ = sharp_and_up_scaled()
    x2, x3 = up_scaled(sharp, 2), up_scaled(sharp, 3)
    proc, out = run(card, x3)
    assert proc.blur is not None and proc.blur.active and proc.active_model == "pair-blurred"
    np.testing.assert_array_equal(out[:H], offline_y(tmp_path / "pair-blurred.json", out_y_in(x3)))
    proc, out = run(card, x2)
    assert not proc.blur.active and proc.active_model == "pair"
    np.testing.assert_array_equal(out[:H], offline_y(tmp_path / "pair-default.json", out_y_in(x2)))
    proc, _ = run(card, sharp)  # passed by the gate: the blur switch is not consulted
    assert proc.gate.passing and proc.blur.frames == [0, 0] and proc.active_model is None
    # the gate measured this very plane: its figure is reused, no second measurement
    calls = []
    real = vcam.detect.Texture.__call__
    monkeypatch.setattr(vcam.detect.Texture, "__call__", lambda self, y: calls.append(1) or real(self, y))
    run(card, x3)
    assert len(calls) == 1
    proc, _ = run(card, x3, sharp_gate=False)  # with the gate off the blur switch measures on its own
    assert proc.gate is None and proc.active_model == "pair-blurred" and len(calls) == 2


def test_a_blur_switch_behind_a_gate_that_passed_everything_decides_at_once_after_a_rebuild(tmp_path: Path) -> None:
    """A strength change (or a work-size step) rebuilds the processor while the gate passes a sharp stream; when the
    stream turns strongly blurred, the blur model takes it on the gate's first check that sharpens, as on a fresh
    processor, not one cadence later."""
    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate=GATE, blur={"below": 0.41})
    sharp, _ = sharp_and_up_scaled()
    x3 = up_scaled(sharp, 3)
    cfg = DaemonConfig(model=str(card), switch_every=3, switch_confirm=2)
    engine = load_engine(cfg.model, "cpu", 1)

    def variants(p: FrameProcessor, frames: list[np.ndarray]) -> list[int]:
        chosen = []
        for frame in frames:
            pre = p.pre_pool.acquire()
            p.preprocess(frame, pre)
            chosen.append(pre.variant)
            pre.release()
        return chosen

    proc = FrameProcessor(cfg, engine, (W, H))
    assert variants(proc, [sharp] * 5) == [-1] * 5
    rebuilt = FrameProcessor(cfg.replace(strength=0.5), engine, (W, H), previous=proc)
    # the gate checks on frames 7 and 10 of the stream and lets go after its second blurred check (confirm 2)
    assert variants(rebuilt, [x3] * 6) == [-1, -1, -1, -1, 2, 2]
    assert rebuilt.blur.changes == 1 and rebuilt.blur.frames == [0, 2]


def up_scaled_x3_and_lens_blurred() -> tuple[np.ndarray, np.ndarray]:
    """A photo (BGR, 288 x 192) up-scaled x3 from a third of its size, and the same photo under a disc of radius 3:
    both strongly blurred by the textured figure; only the first reads as up-scaled."""
    sharp = panned_frames(288, 192, 1, "coffee")[0]
    small = cv2.resize(sharp, (96, 64), interpolation=cv2.INTER_AREA)
    disc = cv2.circle(np.zeros((7, 7), np.float32), (3, 3), 3, 1.0, -1)
    return (cv2.resize(small, (288, 192), interpolation=cv2.INTER_CUBIC),
            cv2.filter2D(sharp, -1, disc / disc.sum(), borderType=cv2.BORDER_REFLECT))


def test_a_lens_blur_model_takes_a_defocused_frame_and_leaves_an_up_scaled_one_to_the_card_model(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate=GATE, blur={"below": 0.5, "periodic_below": 5.0, "phase_below": 1.1})
    x3, lens = up_scaled_x3_and_lens_blurred()
    proc, out = run(card, lens)
    assert proc.blur is not None and proc.blur.lens_only == (5.0, 1.1) and proc.active_model == "pair-blurred"
    np.testing.assert_array_equal(out[:192], offline_y(tmp_path / "pair-blurred.json", out_y_in(lens)))
    proc, out = run(card, x3)  # as blurred by the textured figure, but up-scaled: the card's own model
    assert proc.blur.last < 0.5 and proc.blur.last_periodic > 5.0 and proc.active_model == "pair"
    np.testing.assert_array_equal(out[:192], offline_y(tmp_path / "pair-default.json", out_y_in(x3)))
    proc, _ = run(card, cv2.resize(lens, (W, H), interpolation=cv2.INTER_AREA))  # too small to tell: no lens model
    assert proc.blur is None and proc.active_model == "pair"


def test_an_up_scale_model_takes_an_up_scaled_frame_and_leaves_a_defocused_one_to_the_card_model(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate=GATE, blur={"below": 0.5, "periodic_below": 5.0, "phase_below": 1.1, "upscaled_only": True})
    x3, lens = up_scaled_x3_and_lens_blurred()
    proc, out = run(card, x3)
    assert proc.blur is not None and proc.blur.upscaled_only == (5.0, 1.1) and proc.active_model == "pair-blurred"
    np.testing.assert_array_equal(out[:192], offline_y(tmp_path / "pair-blurred.json", out_y_in(x3)))
    proc, out = run(card, lens)  # as blurred by the textured figure, but by a lens: the card's own model
    assert proc.blur.last < 0.5 and proc.blur.last_periodic < 5.0 and proc.active_model == "pair"
    np.testing.assert_array_equal(out[:192], offline_y(tmp_path / "pair-default.json", out_y_in(lens)))
    proc, _ = run(card, cv2.resize(x3, (W, H), interpolation=cv2.INTER_AREA))  # too small to tell: no blur model
    assert proc.blur is None and proc.active_model == "pair"


def test_a_lens_card_routes_each_frame_as_the_offline_restorer_picks(tmp_path: Path) -> None:
    """`sharpcam-kd evaluate` scores a card with kd/switch.py SwitchedRestorer: it must send each picture where the
    daemon sends that frame."""
    from kd.switch import SwitchedRestorer
    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate=GATE, blur={"below": 0.5, "periodic_below": 4.24, "phase_below": 1.1677})
    offline = SwitchedRestorer(card, 1)
    names = {id(offline.default): "pair", id(offline.alternate): "pair-alternate", id(offline.blurred): "pair-blurred"}
    disc = cv2.circle(np.zeros((7, 7), np.float32), (3, 3), 3, 1.0, -1)
    seen = set()
    for photo in ("coffee", "astronaut"):
        sharp = panned_frames(288, 192, 1, photo)[0]
        frames = [sharp, cv2.filter2D(sharp, -1, disc / disc.sum(), borderType=cv2.BORDER_REFLECT)]
        frames += [cv2.resize(cv2.resize(sharp, (288 // s, 192 // s), interpolation=cv2.INTER_AREA), (288, 192),
                              interpolation=cv2.INTER_CUBIC) for s in (2, 3)]
        for frame in frames:
            proc, _ = run(card, frame)
            rgb = np.ascontiguousarray(frame[:, :, ::-1])
            expected = None if offline.passes(rgb) else names[id(offline.pick(rgb))]
            assert proc.active_model == expected
            seen.add(expected)
    assert {None, "pair", "pair-blurred"} <= seen  # passed as sharp, the card's model, the lens model


def test_the_shipped_default_card_sends_a_picture_up_scaled_x3_to_its_blur_model_and_defocus_to_its_plain_half() -> None:
    """export/sharpcam-cs4-switch (since sitting 17: sharpcam-cs4-x3-int8 for up-scaled, strongly blurred frames; the
    cuts as README "Sitting 17" reports them): a real photo at its own size is passed through, up-scaled x2 it goes to
    the plain half, x3 to the blur model, and blurred by a lens below the same textured cut to the plain half."""
    from photos import photo

    card_path = Path(__file__).resolve().parent.parent / "export" / "sharpcam-cs4-switch.json"
    cfg = DaemonConfig(model=str(card_path))
    engine = load_engine(cfg.model, "cpu", 1)
    card = engine.card
    assert card.blur is not None and card.blur.card.name == "sharpcam-cs4-x3-int8" and card.blur.upscaled_only
    assert (card.switch.above, card.switch.detail_below, card.gate.above, card.gate.reblur_below, card.blur.below,
            card.blur.periodic_below, round(card.blur.phase_below, 4)) == (1.2916, 0.992, 0.6888, 0.7523, 0.4146, 4.2407, 1.1677)
    sharp = np.ascontiguousarray(photo("astronaut")[:, :, ::-1])
    size = (sharp.shape[1], sharp.shape[0])

    def up_scaled(factor: int) -> np.ndarray:
        small = cv2.resize(sharp, (size[0] // factor, size[1] // factor), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, size, interpolation=cv2.INTER_CUBIC)

    from kd.degrade import defocus_blur

    # a disc of radius 2; stronger lens blur (disc 3, Gaussian 2) often reads as up-scaled too (README "Sitting 17")
    frames = {"sharp": sharp, "x2": up_scaled(2), "x3": up_scaled(3), "lens": defocus_blur(sharp, 2.0)}
    routes = {}
    for name, frame in frames.items():
        proc = FrameProcessor(cfg, engine, size, offline=True)
        proc.process(frame, proc.new_output())
        routes[name] = proc.active_model
        if name == "lens":
            assert proc.blur is not None and proc.blur.last < card.blur.below  # strongly blurred, by the textured figure
    # None: passed through untouched; the card's own name: its plain half
    assert routes == {"sharp": None, "x2": "sharpcam-cs4-switch", "x3": "sharpcam-cs4-x3-int8", "lens": "sharpcam-cs4-switch"}


RAMP = {"statistic": "reblur", "step": 8, "from": 0.49, "to": 0.89, "periodic_from": 4.24, "phase_up_to": 0.9545}


def test_a_ramp_keeps_part_of_the_card_models_change_on_a_mild_up_scale_and_all_of_it_on_defocus(tmp_path: Path) -> None:
    from kd.switch import SwitchedRestorer
    from vcam.detect import StrengthRamp
    from vcam_support import write_pair_card

    from kd.degrade import bicubic_resize

    card = write_pair_card(tmp_path, ramp=RAMP)
    sharp = panned_frames(288, 192, 1, "coffee")[0]
    # x1.5 (area down, MATLAB-like bicubic up: OpenCV's sharper cubic reads as resampled on 720p frames, not on one this small)
    mild = np.ascontiguousarray(bicubic_resize(cv2.resize(sharp, (192, 128), interpolation=cv2.INTER_AREA), 288, 192))
    _, lens = up_scaled_x3_and_lens_blurred()
    proc, out = run(card, mild)
    assert proc.ramp is not None and proc.active_model == "pair"
    y_in = out_y_in(mild)
    share = StrengthRamp(288, 192, 8, 0.49, 0.89, 4.24, 0.9545)(y_in)
    assert 0.0 < share < 1.0 and proc.ramp.share == share
    # the runtime's blend of the card model's plane with the input, by the frame's share
    model = offline_y(tmp_path / "pair-default.json", y_in)
    np.testing.assert_array_equal(out[:192], cv2.addWeighted(y_in, 1.0 - share, model, share, 0.0, dtype=cv2.CV_8U))
    # kd evaluate's restorer blends the same picture the same way
    restorer = SwitchedRestorer(card, 1)
    assert restorer.share(np.ascontiguousarray(mild[:, :, ::-1])) == share
    proc, out = run(card, lens)  # lens blur is not resampled: the whole change
    assert proc.ramp.share == 1.0
    np.testing.assert_array_equal(out[:192], offline_y(tmp_path / "pair-default.json", out_y_in(lens)))
    proc, _ = run(card, cv2.resize(mild, (W, H), interpolation=cv2.INTER_AREA))  # too small to tell: no ramp
    assert proc.ramp is None
    proc, out = run(card, mild, strength=0.5)  # the share is of the strength
    np.testing.assert_array_equal(out[:192], cv2.addWeighted(y_in, 1.0 - 0.5 * share, model, 0.5 * share, 0.0, dtype=cv2.CV_8U))
