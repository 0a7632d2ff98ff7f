"""vcam.pipeline: the threaded daemon (stall, disconnect/reconnect, on-demand, reload), the
offline enhance path (equal to running the model offline) and bench."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from vcam_support import panned_frames, read_all_frames, reference_output, write_clip
from vcam.config import DaemonConfig, SharpCamError
from vcam.engine import load_engine
from vcam.offline import enhance_file, run_bench
from vcam.pipeline import OnDemandGate, Pipeline
from vcam.processor import FrameProcessor
from vcam.stats import format_stats
from vcam.sources import SourceInfo, SourceLost

W, H = 160, 90


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Polls `condition`; the timeout only guards against a hang (no speed is asserted)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


class FakeCamera:
    """A camera that can be unplugged, stalled and plugged back in; counts opens and closes."""

    def __init__(self) -> None:
        self.frames = panned_frames(W, H, 8)
        self.plugged = True
        self.stalled = False
        self.opens = 0
        self.open_sources = 0
        self.index = 0

    def open(self, _cfg: DaemonConfig | None = None) -> "FakeCameraSource":
        if not self.plugged:
            raise SharpCamError("camera gone: plug it in")
        self.opens += 1
        self.open_sources += 1
        return FakeCameraSource(self)


class FakeCameraSource:
    def __init__(self, camera: FakeCamera) -> None:
        self.camera = camera
        self.info = SourceInfo(W, H, 30.0, "fake", "fake camera", live=True)
        self.closed = False

    def wait_next(self) -> None:
        pass

    def read_into(self, out: np.ndarray) -> np.ndarray:
        time.sleep(1 / 60)  # a camera delivers at its own pace
        while self.camera.stalled and self.camera.plugged:
            time.sleep(0.005)
        if not self.camera.plugged:
            raise SourceLost("unplugged")
        frame = self.camera.frames[self.camera.index % len(self.camera.frames)]
        self.camera.index += 1
        if frame.shape != out.shape:  # like the real sources: a new array when the size changed
            return frame.copy()
        np.copyto(out, frame)
        return out

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.camera.open_sources -= 1


class RecordingSink:
    """Keeps a copy of the last frames sent and whether each was the placeholder."""

    def __init__(self, width: int = W, height: int = H) -> None:
        self.width, self.height, self.fps = width, height, 30.0
        self.sent: list[np.ndarray] = []
        self.closed = False
        self.label = "recording"

    def send(self, frame: np.ndarray) -> None:
        self.sent.append(frame.copy())
        del self.sent[:-50]

    def close(self, complete: bool = True) -> None:
        self.closed = True


def start(pipeline: Pipeline) -> tuple[threading.Thread, list]:
    result: list = []
    thread = threading.Thread(target=lambda: result.append(pipeline.run(install_signals=False)))
    thread.start()
    return thread, result


def stop(pipeline: Pipeline, thread: threading.Thread) -> None:
    pipeline.request_stop()
    thread.join(10)
    assert not thread.is_alive()
    pipeline.close()


def daemon_cfg(**changes) -> DaemonConfig:
    base = dict(model="none", output="null", fps=30.0, reconnect_interval=0.05, stats_interval=0.0, on_demand_poll=0.05)
    base.update(changes)
    return DaemonConfig(**base)


def is_placeholder(frame: np.ndarray) -> bool:
    return tuple(frame[0, 0]) == (40, 32, 32) and tuple(frame[-1, -1]) == (40, 32, 32)


def test_disconnect_shows_placeholder_and_reconnects() -> None:
    camera = FakeCamera()
    sink = RecordingSink()
    pipeline = Pipeline(daemon_cfg(), camera.open(), camera.open, sink, None)
    counters = pipeline.stats.counters
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: counters.fresh >= 5, "first frames")
        assert any(np.array_equal(sink.sent[-1], f) for f in camera.frames)  # model none: exact passthrough
        camera.plugged = False
        wait_for(lambda: counters.placeholders >= 3, "placeholder frames")
        assert is_placeholder(sink.sent[-1])
        assert camera.open_sources == 0  # the lost camera was released
        fresh_before = counters.fresh
        camera.plugged = True
        wait_for(lambda: counters.fresh >= fresh_before + 5, "frames after reconnect")
        assert not is_placeholder(sink.sent[-1])
    finally:
        stop(pipeline, thread)
    assert camera.opens >= 2 and counters.reconnects >= 1
    assert camera.open_sources == 0 and sink.closed


def test_stall_resends_the_last_frame() -> None:
    camera = FakeCamera()
    sink = RecordingSink()
    pipeline = Pipeline(daemon_cfg(), camera.open(), camera.open, sink, None)
    counters = pipeline.stats.counters
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: counters.fresh >= 3, "first frames")
        camera.stalled = True
        wait_for(lambda: counters.repeated >= 4, "re-sent frames")
        last = sink.sent[-1]
        assert np.array_equal(sink.sent[-2], last) and not is_placeholder(last)
        assert counters.placeholders == 0
        fresh_before = counters.fresh
        camera.stalled = False
        wait_for(lambda: counters.fresh >= fresh_before + 3, "frames after the stall")
    finally:
        stop(pipeline, thread)
    assert format_stats(pipeline.stats.snapshot()).startswith("in ")


def test_on_demand_gate_logic() -> None:
    gate = OnDemandGate(grace_s=2.0)
    assert gate.update(0, 0.0) is False  # nobody reads: stay released
    assert gate.update(1, 1.0) is True  # a reader appears: run at once
    assert gate.update(0, 2.0) is True  # a short gap (app renegotiating) keeps it running
    assert gate.update(0, 2.9) is True
    assert gate.update(0, 3.0) is False  # grace over: release
    assert gate.update(2, 3.5) is True


def test_on_demand_releases_and_resumes_the_camera() -> None:
    camera = FakeCamera()
    readers = [0]
    sink = RecordingSink()
    pipeline = Pipeline(
        daemon_cfg(on_demand=True, output="camera"),
        camera.open(),
        camera.open,
        sink,
        None,
        reader_counter=lambda: readers[0],
    )
    counters = pipeline.stats.counters
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: pipeline.paused and camera.open_sources == 0, "camera released with no reader")
        wait_for(lambda: counters.placeholders >= 2, "paused placeholder")
        assert is_placeholder(sink.sent[-1])
        fresh_before = counters.fresh
        readers[0] = 1
        wait_for(lambda: counters.fresh >= fresh_before + 3, "frames once a reader appears")
        assert camera.open_sources == 1 and not pipeline.paused
    finally:
        stop(pipeline, thread)
    assert camera.open_sources == 0


def test_reload_swaps_settings_without_closing_the_sink(residual_card: Path) -> None:
    camera = FakeCamera()
    camera.frames = camera.frames[:1]  # a still scene: every frame identical
    sink = RecordingSink()
    cfg = daemon_cfg(model=str(residual_card), threads=1)
    reloaded = cfg.replace(strength=0.0, mirror=True)
    pipeline = Pipeline(cfg, camera.open(), camera.open, sink, load_engine(cfg.model, "cpu", 1), reload_config=lambda: reloaded)
    counters = pipeline.stats.counters
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: counters.fresh >= 3, "first frames")
        assert np.array_equal(sink.sent[-1], reference_output(residual_card, camera.frames[0]))
        pipeline.request_reload()
        mirrored = camera.frames[0][:, ::-1]
        wait_for(lambda: np.array_equal(sink.sent[-1], mirrored), "mirrored passthrough after reload")
        assert not sink.closed and pipeline.cfg.strength == 0.0
    finally:
        stop(pipeline, thread)


def test_frame_processor_strength_zero_is_bit_exact(residual_card: Path) -> None:
    cfg = DaemonConfig(model=str(residual_card), strength=0.0, work_size=(80, 44), unsharp=0.5, threads=1)
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (641, 359), offline=True)
    for frame in panned_frames(641, 359, 2, "coffee"):
        assert np.array_equal(proc.process(frame, np.empty_like(frame)), frame)


def test_frame_processor_work_size_mirror_unsharp(image_card: Path) -> None:
    cfg = DaemonConfig(model=str(image_card), work_size=(160, 90), mirror=True, unsharp=0.3, threads=1)
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (320, 180), offline=True)
    frame = panned_frames(320, 180, 1)[0]
    out = proc.process(frame, np.empty_like(frame))
    assert out.shape == frame.shape
    assert np.abs(out[:, ::-1].astype(int) - frame).mean() < 12  # same picture, mirrored


@pytest.mark.parametrize("card_fixture", ["residual_card", "image_card"])
def test_enhance_video_equals_the_model_run_offline(request, tmp_path: Path, clip_mkv: Path, clip_big_mkv: Path, card_fixture: str) -> None:
    card = request.getfixturevalue(card_fixture)
    for clip in (clip_mkv, clip_big_mkv):
        out = tmp_path / f"{clip.stem}-{card.stem}.mkv"
        frames = enhance_file(DaemonConfig(model=str(card), threads=1), clip, out, progress=False)
        inputs, outputs = read_all_frames(clip), read_all_frames(out)
        assert frames == len(inputs) == len(outputs)
        for src, got in zip(inputs, outputs, strict=True):
            assert got.shape == src.shape
            assert np.array_equal(got, reference_output(card, src))


def test_enhance_strength_zero_is_bit_exact(tmp_path: Path, clip_mkv: Path, residual_card: Path) -> None:
    out = tmp_path / "same.mkv"
    enhance_file(DaemonConfig(model=str(residual_card), strength=0.0), clip_mkv, out, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(read_all_frames(out), read_all_frames(clip_mkv), strict=True))


def test_enhance_mp4_keeps_size_and_frame_count(tmp_path: Path, residual_card: Path) -> None:
    clip = write_clip(tmp_path / "in.mp4", panned_frames(320, 180, 9))
    out = tmp_path / "out.mp4"
    assert enhance_file(DaemonConfig(model=str(residual_card), threads=1), clip, out, progress=False) == 9
    got = read_all_frames(out)
    assert len(got) == 9 and got[0].shape == (180, 320, 3)


@pytest.mark.parametrize("card_fixture", ["residual_card", "image_card"])
def test_enhance_odd_size_image_equals_the_model_run_offline(request, tmp_path: Path, card_fixture: str) -> None:
    card = request.getfixturevalue(card_fixture)
    frame = panned_frames(641, 359, 1, "coffee")[0]
    cv2.imwrite(str(tmp_path / "odd.png"), frame)
    enhance_file(DaemonConfig(model=str(card), threads=1), tmp_path / "odd.png", tmp_path / "odd-out.png", progress=False)
    got = cv2.imread(str(tmp_path / "odd-out.png"), cv2.IMREAD_UNCHANGED)
    assert got.shape == (359, 641, 3)
    assert np.array_equal(got, reference_output(card, frame))


def test_enhance_images_gray_and_bgra(tmp_path: Path, residual_card: Path) -> None:
    frame = panned_frames(161, 97, 1, "chelsea")[0]
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(tmp_path / "gray.png"), gray)
    enhance_file(DaemonConfig(model=str(residual_card), threads=1), tmp_path / "gray.png", tmp_path / "gray-out.png", progress=False)
    got = cv2.imread(str(tmp_path / "gray-out.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(got, reference_output(residual_card, cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)))
    bgra = cv2.cvtColor(frame, cv2.COLOR_BGR2BGRA)
    bgra[:, :, 3] = 200
    cv2.imwrite(str(tmp_path / "alpha.png"), bgra)
    enhance_file(DaemonConfig(model=str(residual_card), threads=1), tmp_path / "alpha.png", tmp_path / "alpha-out.png", progress=False)
    got = cv2.imread(str(tmp_path / "alpha-out.png"), cv2.IMREAD_UNCHANGED)
    assert got.shape == (97, 161, 4) and (got[:, :, 3] == 200).all()
    assert np.array_equal(got[:, :, :3], reference_output(residual_card, frame))


def test_enhance_bad_inputs(tmp_path: Path, clip_mkv: Path) -> None:
    cfg = DaemonConfig(model="none")
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    with pytest.raises(SharpCamError, match="as a video"):
        enhance_file(cfg, text, tmp_path / "o.mp4", progress=False)
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.partial.mp4").exists()
    with pytest.raises(SharpCamError, match="does not exist"):
        enhance_file(cfg, tmp_path / "missing.mp4", tmp_path / "o.mp4", progress=False)
    with pytest.raises(SharpCamError, match="not a video name"):
        enhance_file(cfg, clip_mkv, tmp_path / "o.txt", progress=False)
    with pytest.raises(SharpCamError, match="folder"):
        enhance_file(cfg, clip_mkv, tmp_path / "no" / "o.mkv", progress=False)
    with pytest.raises(SharpCamError, match="is the input"):
        enhance_file(cfg, clip_mkv, clip_mkv, progress=False)


def test_bench_reports_figures(residual_card: Path, clip_mkv: Path) -> None:
    for model, clip in (("none", None), (str(residual_card), clip_mkv)):
        # an --output-fps from a config file must not throttle an unpaced bench
        cfg = DaemonConfig(model=model, width=96, height=54, output="null", stats_interval=0.0, threads=1, output_fps=5.0)
        report = run_bench(cfg, clip, duration=0.4, warmup=0.1)
        assert report["frames_out"] > 0 and report["fps"] > 0
        assert set(report["stage_ms"]) == {"capture", "pre", "infer", "post", "publish"}
        assert report["latency_p95_ms"] >= report["latency_p50_ms"] > 0
        assert report["dropped"] == 0  # bench waits instead of dropping
        assert report["skipped"] == 0
        # unpaced, the pipeline is busy all the time: it uses real CPU, and no more than the machine has
        assert 0.05 < report["cpu_cores"] <= (os.cpu_count() or 1) + 0.5


def test_latest_wins_under_overload_never_runs_out_of_slots(residual_card: Path) -> None:
    """An unpaced source far faster than inference: frames are dropped, slots never run out."""
    from vcam.sources import MemoryClipSource

    source = MemoryClipSource(panned_frames(W, H, 4), 30.0, "fast")
    sink = RecordingSink()
    cfg = daemon_cfg(model=str(residual_card), threads=1)
    pipeline = Pipeline(cfg, source, lambda _c: source, sink, load_engine(cfg.model, "cpu", 1), stop_at_end=False)
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: pipeline.stats.counters.fresh >= 10 and pipeline.stats.dropped() > 0, "frames and drops")
    finally:
        stop(pipeline, thread)
    assert pipeline.error is None
    seqs = pipeline.stats.counters
    assert seqs.captured > seqs.fresh


def test_output_fps_below_the_camera_rate_skips_frames_before_any_work(residual_card: Path) -> None:
    """A 30 fps camera with --output-fps 10: about every third frame is processed and published,
    the others are left out at capture (no preprocess / inference spent on them), none re-sent."""
    from vcam.sources import MemoryClipSource

    source = MemoryClipSource(panned_frames(W, H, 6), 30.0, "camera", realtime=True)
    sink = RecordingSink()
    cfg = daemon_cfg(model=str(residual_card), threads=1, output_fps=10.0)
    pipeline = Pipeline(cfg, source, lambda _c: source, sink, load_engine(cfg.model, "cpu", 1), stop_at_end=False)
    counters = pipeline.stats.counters
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: counters.captured >= 45, "45 camera frames")
    finally:
        stop(pipeline, thread)
    assert pipeline.error is None
    assert counters.skipped >= counters.captured // 2
    processed = pipeline.stats.timers["infer"].count
    assert counters.captured / 4.5 <= processed <= counters.captured / 1.5
    # (slack for frames in flight at the stop, and for a thread late under load)
    assert abs(counters.fresh - processed) <= 3 and counters.repeated <= 5


def test_waits_for_a_missing_camera() -> None:
    camera = FakeCamera()
    camera.plugged = False
    sink = RecordingSink()
    pipeline = Pipeline(daemon_cfg(), None, camera.open, sink, None)
    counters = pipeline.stats.counters
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: counters.placeholders >= 2, "placeholder while the camera is missing")
        camera.plugged = True
        wait_for(lambda: counters.fresh >= 3, "frames once the camera appears")
    finally:
        stop(pipeline, thread)


def test_camera_changing_size_is_resized_to_the_open_sink() -> None:
    camera = FakeCamera()
    sink = RecordingSink()
    pipeline = Pipeline(daemon_cfg(), camera.open(), camera.open, sink, None)
    counters = pipeline.stats.counters
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: counters.fresh >= 3, "first frames")
        big = panned_frames(2 * W + 1, 2 * H + 1, 2, "rocket")
        camera.frames = big  # e.g. the camera came back in another mode

        def resized_frames_arrive() -> bool:
            last = sink.sent[-1]
            return last.shape == (H, W, 3) and np.abs(last.astype(int) - cv2.resize(big[0], (W, H)).astype(int)).mean() < 3 or (
                np.abs(last.astype(int) - cv2.resize(big[1], (W, H)).astype(int)).mean() < 3
            )

        wait_for(resized_frames_arrive, "resized frames")
    finally:
        stop(pipeline, thread)
    assert pipeline.error is None


class SlowSink(RecordingSink):
    """A sink whose writes take a while (a slow disk), recording a close that comes mid-write."""

    def __init__(self) -> None:
        super().__init__()
        self.sending = False
        self.closed_while_sending = False

    def send(self, frame: np.ndarray) -> None:
        self.sending = True
        time.sleep(0.4)
        super().send(frame)
        self.sending = False

    def close(self, complete: bool = True) -> None:
        self.closed_while_sending = self.sending
        super().close(complete)


def test_close_waits_for_a_send_in_progress() -> None:
    camera = FakeCamera()
    sink = SlowSink()
    pipeline = Pipeline(daemon_cfg(), camera.open(), camera.open, sink, None)
    thread, _ = start(pipeline)
    wait_for(lambda: sink.sending, "a send under way")
    pipeline.request_stop()
    thread.join(10)
    pipeline.close()
    assert sink.closed and not sink.closed_while_sending


def test_start_from_a_file_to_a_file_keeps_every_frame(tmp_path: Path) -> None:
    from vcam.cli import main

    frames = panned_frames(W, H, 40)
    clip = write_clip(tmp_path / "in.mkv", frames, fps=40.0)
    out = tmp_path / "out.mkv"
    with pytest.raises(SystemExit) as info:
        main(["start", "--device", str(clip), "--model", "none", "--output", str(out)])
    assert info.value.code in (0, None)
    written = read_all_frames(out)
    assert len(written) == 40  # none dropped, none repeated, whatever the machine's speed
    assert cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FPS) == pytest.approx(40.0)  # plays as long as the input
    assert all(np.array_equal(a, b) for a, b in zip(written, frames))


class CountingNotify:
    def __init__(self) -> None:
        self.pings = 0
        self.statuses: list[str] = []

    def ready(self) -> None:
        pass

    def watchdog(self) -> None:
        self.pings += 1

    def status(self, text: str) -> None:
        self.statuses.append(text)

    def stopping(self) -> None:
        pass


def test_a_frozen_inference_stage_stops_the_watchdog(residual_card: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vcam.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "STAGE_STALL_S", 0.5)
    cfg = daemon_cfg(model=str(residual_card), stats_interval=0.2)
    engine = load_engine(cfg.model, "cpu", 1)
    frozen, release = threading.Event(), threading.Event()
    real_run = engine.run

    def run(inp: np.ndarray, out: np.ndarray) -> None:
        if frozen.is_set():
            release.wait(30)  # a hung inference call
        real_run(inp, out)

    monkeypatch.setattr(engine, "run", run)
    camera, notify = FakeCamera(), CountingNotify()
    pipeline = Pipeline(cfg, camera.open(), camera.open, RecordingSink(), engine, notify=notify)
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: notify.pings >= 5, "watchdog pings while healthy")
        frozen.set()
        wait_for(lambda: any(stage == "infer" for stage, _ in pipeline.stalled_stages()), "infer seen stalled")
        pings = notify.pings
        time.sleep(0.5)
        assert notify.pings == pings  # publish keeps re-sending frames, but no longer pings systemd
        wait_for(lambda: any("STALLED infer" in s for s in notify.statuses), "the stats line naming the stage")
        release.set()
        wait_for(lambda: notify.pings > pings, "pings again once inference runs")
    finally:
        release.set()
        stop(pipeline, thread)


def test_frame_rate_hold_lowers_the_work_size_and_comes_back(residual_card: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vcam.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "AUTO_CHECK_S", 0.15)
    cfg = daemon_cfg(model=str(residual_card), fps=30.0)
    engine = load_engine(cfg.model, "cpu", 1)
    real_run = engine.run
    slow = threading.Event()
    slow.set()
    sizes: list[tuple[int, ...]] = []

    def run(inp: np.ndarray, out: np.ndarray) -> None:
        # a model that needs 50 ms a frame at full size (the budget at 30 fps is 33 ms), less when smaller
        sizes.append(inp.shape)
        if slow.is_set():
            time.sleep(0.05 * inp.shape[2] * inp.shape[3] / (H * W))
        real_run(inp, out)

    monkeypatch.setattr(engine, "run", run)
    camera = FakeCamera()
    sink = RecordingSink()
    pipeline = Pipeline(cfg, camera.open(), camera.open, sink, engine)
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: pipeline.auto_scale < 1.0, "the work size stepped down")
        wait_for(lambda: sizes[-1][2] < H, "the model fed smaller frames")
        assert all(f.shape == (H, W, 3) for f in sink.sent)  # published at the capture size throughout
        slow.clear()  # room to spare again
        wait_for(lambda: pipeline.auto_scale == 1.0, "the work size back up")
    finally:
        stop(pipeline, thread)
    assert pipeline.error is None


def test_a_forced_work_size_is_never_changed(residual_card: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vcam.pipeline as pipeline_module

    monkeypatch.setattr(pipeline_module, "AUTO_CHECK_S", 0.1)
    cfg = daemon_cfg(model=str(residual_card), work_size=(W, H))
    engine = load_engine(cfg.model, "cpu", 1)
    real_run = engine.run
    monkeypatch.setattr(engine, "run", lambda i, o: (time.sleep(0.06), real_run(i, o)))
    camera = FakeCamera()
    pipeline = Pipeline(cfg, camera.open(), camera.open, RecordingSink(), engine)
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: pipeline.stats.timers["infer"].count >= 12, "frames through a slow model")
        assert pipeline.auto_scale == 1.0
    finally:
        stop(pipeline, thread)


def test_y_model_publishes_i420_resends_it_and_fits_another_sink_size(tmp_path: Path) -> None:
    """The luma path through the threaded daemon: a card-v2 Y model's frames reach the sink as I420
    equal to the offline processing of a camera frame; a stall re-sends the same I420 frame; when the
    camera changes size, its I420 frames are converted and scaled to the open sink's size."""
    from vcam_support import make_luma_onnx, write_luma_card

    card = write_luma_card(make_luma_onnx(tmp_path / "y8.onnx"))
    cfg = daemon_cfg().replace(model=str(card))
    engine = load_engine(cfg.model, "cpu", 1)
    camera = FakeCamera()
    sink = RecordingSink()
    pipeline = Pipeline(cfg, camera.open(), camera.open, sink, engine)
    counters = pipeline.stats.counters
    proc = FrameProcessor(cfg, engine, (W, H), offline=True)
    expected = [proc.process(f, proc.new_output()).copy() for f in camera.frames]
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: counters.fresh >= 3, "first frames")
        assert sink.sent[-1].shape == (H * 3 // 2, W)
        assert any(np.array_equal(sink.sent[-1], e) for e in expected)
        camera.stalled = True
        wait_for(lambda: counters.repeated >= 3, "re-sent frames")
        assert np.array_equal(sink.sent[-1], sink.sent[-2])
        camera.stalled = False
        big = panned_frames(2 * W, 2 * H, 2, "rocket")
        camera.frames = big
        wait_for(lambda: sink.sent[-1].shape == (H, W, 3) and min(
            np.abs(sink.sent[-1].astype(int) - cv2.resize(b, (W, H)).astype(int)).mean() for b in big) < 6, "resized frames")
    finally:
        stop(pipeline, thread)
    assert pipeline.error is None


@pytest.mark.skipif(__import__("vcam.jpeg").jpeg.TurboJpegI420.load() is None, reason="needs libturbojpeg (.ci/run installs it)")
def test_an_mjpg_camera_goes_to_the_device_as_i420_without_bgr(tmp_path: Path) -> None:
    """The pipeline on an MJPG source decoded straight to YUV (capture slots hold I420): every published
    frame is the decoded frame with its Y sharpened as the model does offline and its chroma untouched."""
    from vcam_support import make_luma_onnx, write_luma_card

    from vcam.sources import MjpegClipSource, MjpegDecoder

    card = write_luma_card(make_luma_onnx(tmp_path / "y8.onnx"))
    frames = panned_frames(W, H, 3)
    source = MjpegClipSource(frames, 30.0, "mjpg")
    decoder = MjpegDecoder(yuv=True)
    decoded = [decoder.decode_into(j, np.empty((H * 3 // 2, W), np.uint8)) for j in source.jpegs]
    # each frame against the model run on it alone: no steadying across frames (its own tests: test_processor.py)
    cfg = daemon_cfg(model=str(card), threads=1, steady=0.0)
    engine = load_engine(cfg.model, "cpu", 1)
    expected = []
    for i420 in decoded:
        proc = FrameProcessor(cfg, engine, (W, H), offline=True, capture_format="i420")
        expected.append(proc.process(i420, proc.new_output()))
    sink = RecordingSink()
    pipeline = Pipeline(cfg, source, lambda _c: source, sink, engine, backpressure=True, stop_at_end=False)
    thread, _ = start(pipeline)
    try:
        wait_for(lambda: len(sink.sent) >= 6, "six published frames")
    finally:
        stop(pipeline, thread)
    assert pipeline.error is None
    fresh = [f for f in sink.sent if f.shape == (H * 3 // 2, W)]
    assert fresh and all(any(np.array_equal(f, e) for e in expected) for f in fresh)
    assert pipeline._capture_shape == (H * 3 // 2, W)  # capture slots held I420, never BGR
