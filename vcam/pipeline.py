"""The daemon: capture -> preprocess -> infer -> postprocess -> publish as five threads.

Stages hand frames over through single-slot "latest wins" mailboxes (vcam.mailbox) in
preallocated slots, so a slow stage drops stale frames instead of queueing them. The publish
stage keeps the output rate constant: it re-sends the last frame when the input stalls and
sends a "camera disconnected" placeholder while the capture stage keeps reopening the camera.
One stop event ends everything; SIGINT/SIGTERM set it, SIGHUP reloads config and model.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from vcam.config import DaemonConfig, SharpCamError
from vcam.engine import Engine, load_engine
from vcam.mailbox import Mailbox, Slot, SlotPool
from vcam.processor import CAPTURE_SLOTS, FrameProcessor, scaled_size
from vcam.sinks import Sink
from vcam.sources import Source, SourceLost
from vcam.stats import Stats, format_stats
from vcam.transforms import draw_placeholder, i420_to_bgr_u8, resize_into

log = logging.getLogger("sharpcam")

IDLE_WAIT_S = 0.05  # how long a stage blocks on its mailbox before looking at the stop flag
PUBLISH_JOIN_S = 5.0  # how long close() waits for a publish thread inside a slow sink write
# A stage whose loop has not come round for this long (or 4x its longest legitimate turn, for slow
# models) is stalled: the watchdog ping stops, so systemd (WatchdogSec=10) restarts the service.
STAGE_STALL_S = 5.0
WATCHED_STAGES = ("pre", "infer", "post", "publish")  # capture stalls are the camera's: placeholder + reopen
# Holding the frame rate: with no --work-size, the model's work size steps down through these fractions
# of the capture size while inference takes over AUTO_OVER of the frame period (AUTO_DOWN_AFTER checks
# in a row), and back up once the larger size would take under AUTO_ROOM of it (AUTO_UP_AFTER checks).
AUTO_SCALES = (1.0, 0.75, 0.5)
AUTO_CHECK_S = 1.0
AUTO_OVER, AUTO_ROOM = 0.9, 0.7
AUTO_DOWN_AFTER, AUTO_UP_AFTER = 2, 10
PAUSED_PERIOD_S = 0.5  # placeholder rate while --on-demand has released the camera (2 fps)
STALL_PLACEHOLDER_S = 3.0  # a camera silent this long gets the placeholder instead of its last frame
# Placeholder title and detail line, by why there is no camera picture.
PLACEHOLDER_TEXT = {
    "starting": ("starting camera...", ""),
    "disconnected": ("camera disconnected", "reconnecting..."),
    "stalled": ("camera not responding", "waiting for frames..."),
    "paused": ("SharpCam paused", "camera released until an app reads this device"),
}


class OnDemandGate:
    """Decides whether the camera should run, from how many other processes read the output.

    Runs as soon as a reader appears; pauses only after `grace_s` without readers (apps
    briefly close and reopen the device when they switch cameras or renegotiate formats).
    """

    def __init__(self, grace_s: float = 2.0) -> None:
        self.grace_s = grace_s
        self.active = False
        self._last_reader = -math.inf

    def update(self, readers: int, now: float) -> bool:
        """Feeds one scan result taken at `now` (seconds); returns whether to run."""
        if readers > 0:
            self._last_reader = now
            self.active = True
        elif self.active and now - self._last_reader >= self.grace_s:
            self.active = False
        return self.active


def count_readers(device: str) -> int:
    """Processes other than this one holding `device` open (what --on-demand watches)."""
    from vcam.devices import find_openers

    return len(find_openers(device, exclude_pids=(os.getpid(),)).openers)


SourceFactory = Callable[[DaemonConfig], Source]


class Pipeline:
    """The running daemon. Use as a context manager around `run()`.

    Args:
        cfg: settings (reloadable through `reload_config` on SIGHUP).
        source: the already opened source, owned from here on; None when the camera is not
            there yet (placeholder frames until `source_factory` succeeds).
        source_factory: reopens the source after loss (cameras) or a settings change.
        sink: the already opened sink; frames of another size are resized to it.
        engine: the loaded model, or None (identity).
        backpressure: capture waits for preprocess instead of dropping (offline sources, bench).
        resend: keep a constant output rate by re-sending the last frame (or a placeholder) when no
            new one comes; False writes every frame exactly once (a file written from a file).
        stop_at_end: stop when a non-looping file source ends (after its last frame is sent).
        reload_config: builds fresh settings on SIGHUP; None disables reloading.
        reader_counter: counts other readers of the output for --on-demand.
        notify: an SdNotify-like object (ready/watchdog/status/stopping), or None.
    """

    def __init__(
        self,
        cfg: DaemonConfig,
        source: Source | None,
        source_factory: SourceFactory,
        sink: Sink,
        engine: Engine | None,
        backpressure: bool = False,
        resend: bool = True,
        stop_at_end: bool = True,
        reload_config: Callable[[], DaemonConfig] | None = None,
        reader_counter: Callable[[], int] | None = None,
        notify: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cfg = cfg
        self._source: Source | None = source
        self._source_factory = source_factory
        self.sink = sink
        self._settings: tuple[DaemonConfig, Engine | None, int] = (cfg, engine, 0)  # cfg, model, generation
        self.backpressure = backpressure
        self.resend = resend
        self._beats = {stage: time.monotonic() for stage in WATCHED_STAGES}
        self._longest_turn = {stage: 0.0 for stage in WATCHED_STAGES}
        self.auto_scale = 1.0  # the model's work size / capture size, chosen by _adapt_work_size
        self.bypass = False  # `sharpcam ctl bypass on`: frames published untouched
        self._control_lock = threading.Lock()
        self._auto_seen = (0.0, 0)  # the infer timer's (total, count) at the last check
        self._auto_over = self._auto_room = 0
        self.stop_at_end = stop_at_end
        self._reload_config = reload_config
        self._reader_counter = reader_counter
        self._notify = notify
        self._clock = clock
        self.stop_event = threading.Event()
        self._reload_requested = threading.Event()
        self._reopen_source = threading.Event()
        self.mail_captured: Mailbox[Slot] = Mailbox("captured")
        self.mail_pre: Mailbox[Slot] = Mailbox("preprocessed")
        self.mail_infer: Mailbox[Slot] = Mailbox("inferred")
        self.mail_post: Mailbox[Slot] = Mailbox("postprocessed")
        self._mailboxes = [self.mail_captured, self.mail_pre, self.mail_infer, self.mail_post]
        self.stats = Stats(self._mailboxes, clock)
        self.connected = source is not None  # False while the camera is gone
        self.paused = False  # True while --on-demand has released the camera
        self._gate = OnDemandGate() if cfg.on_demand else None
        self._end_seq = 0  # seq of the last frame of a finished file source (0 = not ended)
        self._last_sent_seq = 0
        self._ready_sent = False
        self._threads: list[threading.Thread] = []
        self.error: BaseException | None = None
        self._capture_pool: SlotPool | None = None
        self._capture_shape: tuple[int, ...] = ()
        self._proc: FrameProcessor | None = None

    # ---- control -------------------------------------------------------------------------
    def request_stop(self, *_: object) -> None:
        """Ends the run (signal-handler safe: only sets flags)."""
        self.stop_event.set()

    def request_reload(self, *_: object) -> None:
        """Asks the control loop to reload settings and model (SIGHUP)."""
        self._reload_requested.set()

    def __enter__(self) -> "Pipeline":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops the threads and releases the source and the sink.

        A capture thread stuck in a driver call is left behind (it is a daemon thread and its
        device is released when the process exits) rather than delaying the exit.
        """
        self.stop_event.set()
        self._join(0.2)
        alive = any(t.is_alive() for t in self._threads)
        # The publish thread may be inside sink.send: the sink closes only once that thread is done
        # (it waits at most IDLE_WAIT_S between checks of the stop flag, plus one send).
        publisher = next((t for t in self._threads if t.name == "sharpcam-publish"), None)
        if publisher is not None:
            publisher.join(PUBLISH_JOIN_S)
        try:
            if self._source is not None and not alive:
                self._source.close()
                self._source = None
        finally:
            if publisher is not None and publisher.is_alive():
                log.error("the publish thread did not stop within %.0f s: %s left open for the process exit to release",
                          PUBLISH_JOIN_S, self.sink.label)
            else:
                self.sink.close(complete=self.error is None)

    # ---- main loop -------------------------------------------------------------------------
    def run(self, duration: float | None = None, warmup: float = 0.0, install_signals: bool = True) -> dict[str, Any]:
        """Runs until stopped (signal, end of file, `duration` seconds); returns the last stats snapshot.

        Logs one stats line every cfg.stats_interval seconds. `warmup` seconds at the start are
        left out of the returned figures.
        """
        previous = self._install_signals() if install_signals else {}
        try:
            self._start_threads()
            log.info("running: Ctrl-C or SIGTERM stops, SIGHUP reloads the settings and the model")
            started = self._clock()
            next_stats = started + (self.cfg.stats_interval or math.inf)
            next_poll = started
            next_auto = started + AUTO_CHECK_S
            warm = warmup <= 0
            if warm:
                self.stats.reset()
            while not self.stop_event.wait(0.05):
                now = self._clock()
                if self.error is not None:
                    break
                if not warm and now - started >= warmup:
                    self.stats.reset()
                    warm = True
                if duration is not None and now - started >= duration + warmup:
                    break
                if self._reload_requested.is_set():
                    self._reload_requested.clear()
                    self._reload()
                    next_stats = now + (self.cfg.stats_interval or math.inf)  # the interval may have changed
                if now >= next_auto:
                    next_auto = now + AUTO_CHECK_S
                    self._adapt_work_size()
                if self._gate is not None and now >= next_poll:
                    next_poll = now + self.cfg.on_demand_poll
                    self._poll_on_demand(now)
                if now >= next_stats:
                    next_stats = now + self.cfg.stats_interval
                    line = format_stats(self.stats.snapshot())
                    stalled = self.stalled_stages()
                    if stalled:
                        line += " | STALLED " + ", ".join(f"{stage} {age:.0f} s" for stage, age in stalled)
                    if self.auto_scale < 1.0:
                        line += f" | model at {100 * self.auto_scale:.0f}% size"
                    proc = self._proc
                    if proc is not None and proc.gate is not None and proc.gate.passing:
                        line += f" | sharp picture, passed through (textured {proc.gate.last:.2f})"
                    elif proc is not None and proc.switch is not None and math.isfinite(proc.switch.last):
                        line += f" | {proc.active_model} (blockiness {proc.switch.last:.2f})"
                        if proc.blur is not None and math.isfinite(proc.blur.last):
                            line += f" (textured {proc.blur.last:.2f})"
                    elif proc is not None and proc.blur is not None and math.isfinite(proc.blur.last):
                        line += f" | {proc.active_model} (textured {proc.blur.last:.2f})"
                    if proc is not None and proc.ramp is not None and proc.ramp.share < 1.0:
                        line += f" | {100 * proc.ramp.share:.0f}% of the change (a mild up-scale, re-blur ratio {proc.ramp.last_ratio:.2f})"
                    log.info("%s", line)
                    if self._notify is not None:
                        self._notify.status(line)
                    self.stats.reset()
            snapshot = self.stats.snapshot()
        finally:
            self.stop_event.set()
            if self._notify is not None:
                self._notify.stopping()
            self._join(0.8)
            self._restore_signals(previous)
        if self.error is not None:
            raise self.error
        return snapshot

    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {
            signal.SIGINT: signal.signal(signal.SIGINT, self.request_stop),
            signal.SIGTERM: signal.signal(signal.SIGTERM, self.request_stop),
        }
        if hasattr(signal, "SIGHUP"):
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self.request_reload)
        return previous

    @staticmethod
    def _restore_signals(previous: dict[int, Any]) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    def _start_threads(self) -> None:
        # The stages already run side by side; OpenCV's own worker pool on top would oversubscribe
        # the cores onnxruntime needs (and hide its work from the per-stage CPU figures).
        cv2.setNumThreads(1)
        self._beats = {stage: time.monotonic() for stage in WATCHED_STAGES}
        for name, target in (
            ("capture", self._capture_loop),
            ("pre", self._pre_loop),
            ("infer", self._infer_loop),
            ("post", self._post_loop),
            ("publish", self._publish_loop),
        ):
            thread = threading.Thread(target=self._guard(target), name=f"sharpcam-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _guard(self, loop: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                loop()
            except BaseException as exc:  # surfaced by run() in the main thread
                if self.error is None:
                    self.error = exc
                self.stop_event.set()

        return run

    def _join(self, timeout: float) -> None:
        for mailbox in self._mailboxes:
            mailbox.wake()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # ---- reload / on-demand -------------------------------------------------------------------
    def _reload(self) -> None:
        if self._reload_config is None:
            return
        if self._notify is not None and hasattr(self._notify, "reloading"):
            self._notify.reloading()
        try:
            new_cfg = self._reload_config()
            # Always reload the model: SIGHUP is how a replaced model file gets picked up.
            engine = load_engine(new_cfg.model, new_cfg.provider, new_cfg.threads)
        except SharpCamError as exc:
            log.error("reload failed, keeping the running settings: %s", exc)
            return
        old = self.cfg
        ignored = [n for n in ("output", "output_device", "output_fps", "on_demand") if getattr(new_cfg, n) != getattr(old, n)]
        if ignored:
            log.warning("reload: %s change(s) need a restart (the virtual camera stays open)", ", ".join(ignored))
            new_cfg = new_cfg.replace(**{n: getattr(old, n) for n in ignored})
        with self._control_lock:
            self._apply(new_cfg, engine)
        if any(getattr(new_cfg, n) != getattr(old, n) for n in ("device", "width", "height", "fps", "fourcc")):
            self._reopen_source.set()
        log.info("reloaded settings (model %s, strength %g)", new_cfg.model, new_cfg.strength)
        if self._notify is not None:
            self._notify.ready()

    def _apply(self, cfg: DaemonConfig, engine: Engine | None) -> None:
        """New settings and model for the stages, taking effect from the next frame captured."""
        effective = cfg.replace(strength=0.0) if self.bypass else cfg
        # One assignment, so the pre stage never sees new settings with the old model.
        self._settings = (effective, engine, self._settings[2] + 1)
        self.cfg = cfg

    # ---- live control (`sharpcam ctl`, vcam/control.py): called from the control thread -------------
    def set_strength(self, strength: float) -> None:
        """SharpCamError (nothing changed) for a value `--strength` would refuse."""
        with self._control_lock:
            self._apply(self.cfg.replace(strength=strength), self._settings[1])

    def set_bypass(self, on: bool) -> None:
        """Bypass: the camera's frames published untouched (bit-exact), the model kept loaded."""
        with self._control_lock:
            self.bypass = on
            self._apply(self.cfg, self._settings[1])

    def set_model(self, model: str) -> str:
        """Loads `model` (a name, card or .onnx, or "none") and swaps it in; returns its name."""
        with self._control_lock:
            engine = load_engine(model, self.cfg.provider, self.cfg.threads)
            self._apply(self.cfg.replace(model=model), engine)
            return engine.card.name if engine is not None else "none"

    @property
    def last_processor(self) -> FrameProcessor | None:
        """The processor of the latest frame size and settings (None before the first frame)."""
        return self._proc

    def control_stats(self) -> dict[str, Any]:
        """The current window's figures and the live settings, JSON-ready."""
        snap = self.stats.snapshot()
        engine = self._settings[1]
        proc = self._proc
        return {
            "model": engine.card.name if engine is not None else "none",
            # a card with a switch: the model its latest frame went to, and the statistic behind it
            "active_model": proc.active_model if proc is not None else None,
            "switch_statistic": (proc.switch.last if proc is not None and proc.switch is not None
                                 and math.isfinite(proc.switch.last) else None),
            # a card with a gate: whether it passes sharp frames through now, and its figure
            "gate_passing": proc.gate.passing if proc is not None and proc.gate is not None else None,
            "gate_statistic": (proc.gate.last if proc is not None and proc.gate is not None
                               and math.isfinite(proc.gate.last) else None),
            # a card with a blur model: whether the latest frame went to it, and the figure behind its choice
            "blur_active": (proc.active_model == proc.engine.blurred.card.name if proc is not None and proc.blur is not None
                            and proc.engine is not None and proc.engine.blurred is not None else None),
            "blur_statistic": (proc.blur.last if proc is not None and proc.blur is not None
                               and math.isfinite(proc.blur.last) else None),
            # a lens-blur or up-scale model: the resampling figures of the latest frame measured below the textured cut
            "blur_periodic": (proc.blur.last_periodic if proc is not None and proc.blur is not None
                              and math.isfinite(proc.blur.last_periodic) else None),
            "blur_phase": (proc.blur.last_phase if proc is not None and proc.blur is not None
                           and math.isfinite(proc.blur.last_phase) else None),
            # a card with a strength ramp: the share of the card's model's change frames left to it keep now
            "ramp_share": proc.ramp.share if proc is not None and proc.ramp is not None else None,
            "strength": self.cfg.strength,
            "bypass": self.bypass,
            "model_scale": self.auto_scale,
            "stalled": [stage for stage, _ in self.stalled_stages()],
            "fps_in": snap["fps_in"], "fps_out": snap["fps_out"], "fps_new": snap["fps_fresh"],
            "stage_ms": snap["stage_ms"], "dropped": snap["dropped"], "repeated": snap["repeated"],
            "latency_p50_ms": snap["latency_p50_ms"], "latency_p95_ms": snap["latency_p95_ms"],
            "cpu_cores": snap["cpu_cores"],
        }

    def _poll_on_demand(self, now: float) -> None:
        assert self._gate is not None
        readers = self._reader_counter() if self._reader_counter is not None else 1
        active = self._gate.update(readers, now)
        if active == (not self.paused):
            return
        self.paused = not active
        log.info("on-demand: %s", "a reader appeared, resuming the camera" if active else "no readers, camera released")

    # ---- stages ---------------------------------------------------------------------------------
    def _hand_on(self, mailbox: Mailbox[Slot], slot: Slot) -> bool:
        """Puts `slot` into the next stage's mailbox, releasing the unread slot it replaces (latest
        wins). With back-pressure it first waits for the mailbox to empty; False (slot released)
        when the pipeline stops meanwhile."""
        if self.backpressure:
            while not mailbox.wait_empty(IDLE_WAIT_S):
                if self.stop_event.is_set():
                    slot.release()
                    return False
        replaced = mailbox.put(slot)
        if replaced is not None:
            replaced.release()
        return True

    def _capture_buffers(self, shape: tuple[int, ...]) -> SlotPool:
        if self._capture_pool is None or self._capture_shape != shape:
            self._capture_pool = SlotPool(CAPTURE_SLOTS, lambda: {"frame": np.empty(shape, np.uint8)}, "capture")
            self._capture_shape = shape
        return self._capture_pool

    def _capture_loop(self) -> None:
        seq = 0
        timer = self.stats.timers["capture"]
        counters = self.stats.counters
        next_attempt = 0.0
        frame_shape = self._source.info.frame_shape if self._source is not None else ()
        skip_period = self._skip_period(self._source.info.fps) if self._source is not None else 0.0
        next_due = 0.0
        while not self.stop_event.is_set():
            if self.paused or self._reopen_source.is_set():
                self._reopen_source.clear()
                if self._source is not None:
                    self._source.close()
                    self._source = None
                if self.paused:
                    self.stop_event.wait(0.05)
                    continue
            if self._source is None:
                now = time.monotonic()
                if now < next_attempt:
                    self.stop_event.wait(min(0.05, next_attempt - now))
                    continue
                next_attempt = now + self.cfg.reconnect_interval
                try:
                    self._source = self._source_factory(self.cfg)
                except SharpCamError as exc:
                    if self.connected:
                        log.warning("%s; retrying every %gs", exc, self.cfg.reconnect_interval)
                    self.connected = False  # the publisher shows the placeholder meanwhile
                    continue
                self.connected = True
                counters.reconnects += 1
                info = self._source.info
                frame_shape = info.frame_shape
                skip_period = self._skip_period(info.fps)
                log.info("capture %s opened: %dx%d @ %g fps %s", info.label, info.width, info.height, info.fps, info.fourcc)
                continue
            live = self._source.info.live
            self._source.wait_next()
            pool = self._capture_buffers(frame_shape)
            slot = pool.acquire()
            timer.start()
            try:
                frame = self._source.read_into(slot["frame"])
            except SourceLost:
                slot.release()
                if live:
                    log.warning("camera lost; publishing a placeholder and reopening every %gs", self.cfg.reconnect_interval)
                    self.connected = False
                    self._source.close()
                    self._source = None
                    next_attempt = time.monotonic() + self.cfg.reconnect_interval
                    continue
                if self.stop_at_end:
                    self._end_seq = max(seq, 1)
                    return
                self.stop_event.wait(0.05)
                continue
            if frame is not slot["frame"]:  # the source changed size: new buffers for the new size
                slot.release()
                frame_shape = frame.shape
                pool = self._capture_buffers(frame_shape)
                slot = pool.acquire()
                np.copyto(slot["frame"], frame)
            timer.stop()
            counters.captured += 1
            now = time.monotonic()
            if skip_period:
                # An output rate below the camera's: leave frames out here, before any work is spent
                # on them. The 0.2-period slack absorbs camera jitter; after a stall the cadence
                # restarts from now instead of catching up in a burst.
                if now < next_due - 0.2 * skip_period:
                    slot.release()
                    counters.skipped += 1
                    continue
                next_due = max(next_due + skip_period, now + 0.5 * skip_period)
            seq += 1
            slot.seq, slot.t_capture = seq, now
            if not self._hand_on(self.mail_captured, slot):
                return

    def _skip_period(self, camera_fps: float) -> float:
        """Seconds between the camera frames to process when --output-fps is below the camera's rate
        (0: process every frame; always 0 with backpressure, where the source is not a clock)."""
        out = self.cfg.output_fps
        if self.backpressure:
            return 0.0
        camera = camera_fps if camera_fps and camera_fps > 0 else self.cfg.fps
        return 1.0 / out if out is not None and out < 0.95 * camera else 0.0

    def _processor_for(self, shape: tuple[int, ...]) -> FrameProcessor:
        """The processor for capture frames of `shape`: BGR (H, W, 3) or I420 (H * 3/2, W)."""
        proc = self._proc
        cfg, engine, generation = self._settings
        i420 = len(shape) == 2
        size = (shape[1], shape[0] * 2 // 3) if i420 else (shape[1], shape[0])
        fmt = "i420" if i420 else "bgr"
        scale = self.auto_scale
        if (proc is None or proc.geometry.capture != size or proc.capture_format != fmt or proc.generation != generation
                or proc.auto_scale != scale):
            run_cfg = cfg.replace(work_size=scaled_size(size, scale)) if scale < 1.0 and cfg.work_size is None else cfg
            proc = FrameProcessor(run_cfg, engine, size, generation, capture_format=fmt, previous=proc)
            proc.auto_scale = scale
            self._proc = proc
        return proc

    def _adapt_work_size(self) -> None:
        """One check of the frame-rate hold (main thread): compares the model's mean time since the last
        check with the frame period and steps the work size down or up (see AUTO_SCALES)."""
        cfg, engine, _ = self._settings
        timer = self.stats.timers["infer"]
        total, count = timer.total, timer.count
        seen_total, seen_count = self._auto_seen
        self._auto_seen = (total, count)
        if count < seen_count:  # the stats window was reset meanwhile
            return
        if engine is None or cfg.work_size is not None or self.backpressure or cfg.strength == 0.0 or count - seen_count < 3:
            return
        ms = 1000.0 * (total - seen_total) / (count - seen_count)
        fps = cfg.output_fps if cfg.output_fps is not None and cfg.output_fps < cfg.fps else cfg.fps
        budget = 1000.0 / fps
        i = AUTO_SCALES.index(self.auto_scale)
        if ms > AUTO_OVER * budget:
            self._auto_over, self._auto_room = self._auto_over + 1, 0
        elif i > 0 and ms * (AUTO_SCALES[i - 1] / AUTO_SCALES[i]) ** 2 < AUTO_ROOM * budget:
            self._auto_over, self._auto_room = 0, self._auto_room + 1
        else:
            self._auto_over = self._auto_room = 0
        if self._auto_over >= AUTO_DOWN_AFTER and i + 1 < len(AUTO_SCALES):
            self.auto_scale = AUTO_SCALES[i + 1]
            log.warning("the model takes %.0f ms a frame, over the %.0f ms a frame at %g fps allows: running it at "
                        "%.0f%% of the capture size (scaled back up) to hold the frame rate; --work-size sets a size",
                        ms, budget, fps, 100 * self.auto_scale)
        elif self._auto_room >= AUTO_UP_AFTER:
            self.auto_scale = AUTO_SCALES[i - 1]
            log.info("room to spare (model %.0f ms of a %.0f ms frame): running it at %.0f%% of the capture size",
                     ms, budget, 100 * self.auto_scale)
        else:
            return
        self._auto_over = self._auto_room = 0

    def _beat(self, stage: str) -> None:
        """The stage's loop came round: alive (called from the stage's own thread)."""
        now = time.monotonic()
        turn = now - self._beats[stage]
        if turn > self._longest_turn[stage] and turn < 60.0:
            self._longest_turn[stage] = turn
        self._beats[stage] = now

    def _stalled(self, stage: str, now: float) -> bool:
        return now - self._beats[stage] > max(STAGE_STALL_S, 4.0 * self._longest_turn[stage])

    def stalled_stages(self, now: float | None = None) -> list[tuple[str, float]]:
        """(stage, seconds since its loop last came round) for every watched stage that is stalled."""
        now = time.monotonic() if now is None else now
        return [(stage, now - self._beats[stage]) for stage in WATCHED_STAGES if self._stalled(stage, now)]

    def all_stages_alive(self) -> bool:
        """No watched stage stalled; allocates nothing (the publish loop asks at every frame)."""
        now = time.monotonic()
        for stage in WATCHED_STAGES:
            if self._stalled(stage, now):
                return False
        return True

    def _pre_loop(self) -> None:
        timer = self.stats.timers["pre"]
        while not self.stop_event.is_set():
            self._beat("pre")
            cap = self.mail_captured.take(IDLE_WAIT_S)
            if cap is None:
                continue
            timer.start()
            proc = self._processor_for(cap["frame"].shape)
            slot = proc.pre_pool.acquire()
            proc.preprocess(cap["frame"], slot)
            slot.carried = cap
            slot.seq, slot.t_capture = cap.seq, cap.t_capture
            timer.stop()
            slot.tag = proc
            if not self._hand_on(self.mail_pre, slot):
                return

    @staticmethod
    def _proc_of(slot: Slot) -> FrameProcessor:
        """The FrameProcessor that filled `slot`: it travels with the slot so that a reload or a
        size change never mixes buffers of two geometries."""
        proc = slot.tag
        assert isinstance(proc, FrameProcessor)
        return proc

    def _infer_loop(self) -> None:
        timer = self.stats.timers["infer"]
        while not self.stop_event.is_set():
            self._beat("infer")
            pre = self.mail_pre.take(IDLE_WAIT_S)
            if pre is None:
                continue
            proc = self._proc_of(pre)
            slot = proc.infer_pool.acquire()
            slot.carried = pre
            slot.seq, slot.t_capture = pre.seq, pre.t_capture
            timer.start()
            proc.infer(pre, slot)
            timer.stop()
            if not self._hand_on(self.mail_infer, slot):
                return

    def _post_loop(self) -> None:
        timer = self.stats.timers["post"]
        while not self.stop_event.is_set():
            self._beat("post")
            inferred = self.mail_infer.take(IDLE_WAIT_S)
            if inferred is None:
                continue
            pre = inferred.carried
            assert pre is not None and pre.carried is not None
            proc = self._proc_of(pre)
            timer.start()
            slot = proc.post_pool.acquire()
            proc.postprocess(pre.carried["frame"], pre, inferred, slot["frame"])
            slot.seq, slot.t_capture = inferred.seq, inferred.t_capture
            inferred.release()
            timer.stop()
            if not self._hand_on(self.mail_post, slot):
                return

    def _publish_loop(self) -> None:
        """Sends each new frame at once; when none came 1.5 periods after the last one, re-sends it
        (or a placeholder while the camera is gone) every period: a constant output rate."""
        sink = self.sink
        timer = self.stats.timers["publish"]
        counters = self.stats.counters
        period = 1.0 / self.cfg.publish_fps
        sink_shape = (sink.height, sink.width, 3)
        i420_shape = (sink.height * 3 // 2, sink.width)
        resized = np.empty(sink_shape, np.uint8)
        placeholder = np.empty(sink_shape, np.uint8)
        other_bgr: dict[tuple[int, ...], np.ndarray] = {}

        def send_sized(frame: np.ndarray) -> None:
            # A frame of another size (the camera reopened at a new size) is scaled to the sink's.
            if frame.shape != sink_shape and frame.shape != i420_shape:
                if frame.ndim == 2:  # I420 of another size: to BGR first (rare; one buffer per size)
                    shape = (frame.shape[0] * 2 // 3, frame.shape[1], 3)
                    if shape not in other_bgr:
                        other_bgr[shape] = np.empty(shape, np.uint8)
                    frame = i420_to_bgr_u8(frame, other_bgr[shape])
                resize_into(frame, resized)
                frame = resized
            sink.send(frame)

        placeholder_kind = ""
        current: Slot | None = None
        deadline = time.monotonic() + 1.5 * period
        last_fresh = time.monotonic()
        last_published = 0.0
        stats = self.stats
        try:
            while not self.stop_event.is_set():
                self._beat("publish")
                if self._end_seq and self._last_sent_seq >= self._end_seq:
                    self.stop_event.set()
                    break
                now = time.monotonic()
                item = self.mail_post.take(min(IDLE_WAIT_S, max(0.0, deadline - now)))
                timer.start()
                if item is not None:
                    if current is not None:
                        current.release()
                    current = item
                    send_sized(item["frame"])
                    counters.fresh += 1
                    self.stats.latency.add(time.monotonic() - item.t_capture)
                    self._last_sent_seq = item.seq
                    last_fresh = time.monotonic()
                    deadline = last_fresh + 1.5 * period
                else:
                    now = time.monotonic()
                    if now < deadline or not self.resend:
                        continue
                    # Due and nothing new: keep the cadence (resync after a long hiccup). While
                    # paused the placeholder goes out at a low rate, enough to keep readers alive.
                    step = max(period, PAUSED_PERIOD_S) if self.paused else period
                    deadline = deadline + step if now - deadline < step else now + step
                    if self.paused:
                        kind = "paused"
                    elif not self.connected:
                        kind = "disconnected"
                    elif current is None:
                        kind = "starting"
                    elif now - last_fresh > STALL_PLACEHOLDER_S:
                        kind = "stalled"
                    else:
                        kind = ""
                    if kind:
                        if kind != placeholder_kind:
                            draw_placeholder(placeholder, *PLACEHOLDER_TEXT[kind])
                            placeholder_kind = kind
                        sink.send(placeholder)
                        counters.placeholders += 1
                        if kind == "paused" and current is not None:
                            current.release()
                            current = None
                    else:
                        send_sized(current["frame"])
                        counters.repeated += 1
                counters.published += 1
                timer.stop()
                done = time.perf_counter()
                if last_published and done - last_published > stats.max_gap:
                    stats.max_gap = done - last_published
                last_published = done
                if self._notify is not None:
                    if not self._ready_sent:
                        self._notify.ready()
                        self._ready_sent = True
                    if self.all_stages_alive():  # every stage, not just this loop
                        self._notify.watchdog()
        finally:
            if current is not None:
                current.release()
