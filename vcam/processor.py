"""One frame's way through the model: preprocess, infer and postprocess for one frame size, engine and
set of settings, with the slot pools whose buffers those fix (vcam.mailbox)."""

from __future__ import annotations

import logging
from typing import Callable

import cv2
import numpy as np

from vcam.config import DaemonConfig
from vcam.detect import Blockiness, BlockSwitch, BlurSwitch, Resampling, SharpGate, StrengthRamp, Texture
from vcam.engine import VARIANT_BLURRED, VARIANT_DEFAULT, Engine
from vcam.mailbox import Slot, SlotPool
from vcam.transforms import (FrameGeometry, LumaPostprocessor, LumaPreprocessor, Postprocessor, Preprocessor,
                             add_luma_change_u8, finish_u8, i420_to_bgr_u8)

# Slots per pool = the places one can be at once (vcam.mailbox). infer: the infer stage, its
# mailbox, the post stage. pre: the pre stage, its mailbox, and one inside each infer slot.
# capture: the capture stage, its mailbox, and one inside each pre slot. post: the post stage,
# its mailbox, the publisher's current frame.
INFER_SLOTS = 3
PRE_SLOTS = 2 + INFER_SLOTS
CAPTURE_SLOTS = 2 + PRE_SLOTS
POST_SLOTS = 3
# a slot's variant for a frame the card's gate finds already sharp: no model runs, its Y passes untouched
PASS_THROUGH = -1

log = logging.getLogger("sharpcam")

class FrameProcessor:
    """Preprocess / infer / postprocess for one frame size with one engine and one set of settings.

    Three paths. Luma (`luma`: a "Y" model): the capture frame becomes I420 once, the model sees only
    the Y plane (uint8 for the shipped models), chroma passes through, and the finished frame is I420,
    the virtual camera's format (BGR only at an odd size). RGB (v1 cards: the seed, the teacher):
    BGR -> float32 NCHW -> model -> BGR. Copy (`engine` None, or strength 0): the capture frame as it
    is, BGR, bit-exact (then unsharp-masked with no model, and mirrored, if asked); the sink's one
    conversion gives the device the same I420 the luma path would. Owns the slot pools whose buffer
    shapes depend on the geometry. Each method is called from one thread only (the stage that owns it).

    A card with a switch (luma path): the pre stage measures the capture frame's Y plane (vcam/detect.py)
    and marks the slot for the card's model or its alternate; the infer stage runs that one. A `picture`
    (one image, no stream) decides alone; a new processor for a stream takes over the switch state of the
    `previous` one, so a strength change, a reload or a work-size step does not re-decide at once, and (at
    the same work size) its steadying (`--steady`), so it does not start again from one frame.

    A card with a gate (luma path): a frame the gate finds already sharp (vcam/detect.py SharpGate, with the
    switch's hysteresis) skips the model and keeps its own Y; strength, unsharp and mirror apply as usual.
    With `--steady`, the steadied change is left as it was while the gate passes frames, so still pixels
    blend back into the model's change over a few frames when it resumes.

    A card with a blur model (luma path): a frame the gate does not pass and the switch leaves to the card's
    model goes to the blur model instead while its textured figure is below the card's cut and, for a lens-blur model,
    its resampling figures are below theirs (vcam/detect.py BlurSwitch, the same hysteresis, on the gate's cadence and
    figure when the gate is on).

    A card with a strength ramp (luma path): a frame left to the card's own model keeps only part of its change where
    it reads as a mild up-scale (vcam/detect.py StrengthRamp, checked on every `switch-every`-th frame left to that
    model, with `switch-confirm` steps; the slot carries the share).
    """

    def __init__(
        self,
        cfg: DaemonConfig,
        engine: Engine | None,
        capture_size: tuple[int, int],
        generation: int = 0,
        offline: bool = False,
        capture_format: str = "bgr",
        picture: bool = False,
        previous: "FrameProcessor | None" = None,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.generation = generation
        # "bgr" (H, W, 3) or "i420" (H * 3/2, W, an MJPG camera decoded straight to YUV): the luma path
        # takes I420 as it is; the others turn it into BGR once (the copy path passes it on untouched)
        self.capture_format = capture_format
        self.auto_scale = 1.0  # set by the pipeline's frame-rate hold (work size / capture size)
        self.passthrough = cfg.strength == 0.0
        card = engine.card if engine is not None else None
        self.copy = card is None or self.passthrough
        self.luma = not self.copy and card.planes == "Y"
        pad_multiple = card.pad_multiple if card else 1
        self.geometry = FrameGeometry.make(capture_size, None if self.copy else cfg.work_size, pad_multiple)
        cw, ch = capture_size
        self.output_shape: tuple[int, ...] = (ch, cw, 3)
        pre_buffers: Callable[[], dict[str, np.ndarray]] = dict
        infer_buffers: Callable[[], dict[str, np.ndarray]] = dict
        i420_in = capture_format == "i420"
        # I420 capture on a path that works in BGR: one conversion, into this buffer
        self._capture_bgr_u8: np.ndarray | None = None
        self.switch: BlockSwitch | None = None
        self.gate: SharpGate | None = None
        self.blur: BlurSwitch | None = None
        self.ramp: StrengthRamp | None = None
        if self.copy:
            unsharp = 0.0 if self.passthrough else cfg.unsharp
            self._unsharp = unsharp
            self._blur_u8 = np.empty((ch, cw, 3), np.uint8) if unsharp > 0 else None
            if i420_in and unsharp == 0 and not cfg.mirror:  # the camera's YUV passes through bit-exact
                self.output_shape = (ch * 3 // 2, cw)
        elif self.luma:
            dtype = np.dtype(card.dtype)
            tensor_shape = self.geometry.tensor_shape_of(1)
            self.luma_pre = LumaPreprocessor(self.geometry, dtype)
            # a picture has no frame before it to steady against
            self.luma_post = LumaPostprocessor(self.geometry, dtype, cfg.strength, cfg.unsharp, cfg.mirror,
                                               0.0 if picture else cfg.steady)
            old_post = previous.luma_post if previous is not None and previous.luma else None
            if self.luma_post.steady is not None and old_post is not None and old_post.steady is not None:
                self.luma_post.steady.carry_on_from(old_post.steady)
            i420_shape = self.luma_pre.i420_shape
            pre_buffers = lambda: {"i420": np.empty(i420_shape, np.uint8), "input": np.empty(tensor_shape, dtype)}
            infer_buffers = lambda: {"output": np.empty(tensor_shape, dtype)}
            self.output_shape = self.luma_post.output_shape()
            spec = card.switch
            if spec is not None and engine.alternate is not None and Blockiness.fits(cw, ch, spec.period):
                # The statistic is taken at capture size even when the model runs smaller (--work-size, the
                # frame-rate hold): the stream's grid is the capture's; the specialist is trained on grids
                # of 12-24 px (JPEG at x1.5-3 below the frame), which a 75 % work size keeps.
                every, confirm = (1, 1) if picture else (cfg.switch_every, cfg.switch_confirm)
                self.switch = BlockSwitch(cw, ch, spec.period, spec.above, every, confirm, spec.detail_below)
                old = previous.switch if previous is not None else None
                if old is not None and (old.cut, old.detail_below, old.period) == (spec.above, spec.detail_below, spec.period):
                    self.switch.carry_on_from(old)
            gate = card.gate
            if gate is not None and cfg.sharp_gate and min(cw, ch) >= Texture.MIN_SIDE:
                every, confirm = (1, 1) if picture else (cfg.switch_every, cfg.switch_confirm)
                self.gate = SharpGate(cw, ch, gate.step, gate.above, every, confirm, gate.reblur_below)
                old_gate = previous.gate if previous is not None else None
                if old_gate is not None and (old_gate.step, old_gate.above, old_gate.reblur_below) == (gate.step, gate.above, gate.reblur_below):
                    self.gate.carry_on_from(old_gate)
            blur = card.blur
            # a lens-blur (or up-scale) model without its resampling figures (a frame too small to measure them) is
            # left out: the frames it would take might be the other kind, which the card's model handles
            min_side = Texture.MIN_SIDE if blur is None or blur.resampling_cuts is None else Resampling.MIN_SIDE
            if blur is not None and engine.blurred is not None and min(cw, ch) >= min_side:
                every, confirm = (1, 1) if picture else (cfg.switch_every, cfg.switch_confirm)
                follows = self.gate is not None and self.gate.step == blur.step
                self.blur = BlurSwitch(cw, ch, blur.step, blur.below, every, confirm, follows_gate=follows, lens_only=blur.lens_only,
                                       upscaled_only=blur.upscaled_cuts)
                old_blur = previous.blur if previous is not None else None
                if old_blur is not None and (old_blur.step, old_blur.below, old_blur.lens_only, old_blur.upscaled_only) == (
                        blur.step, blur.below, blur.lens_only, blur.upscaled_cuts):
                    self.blur.carry_on_from(old_blur)
            ramp = card.ramp
            if ramp is not None and min(cw, ch) >= Resampling.MIN_SIDE:  # too small to read a resampling: full strength
                every, confirm = (1, 1) if picture else (cfg.switch_every, cfg.switch_confirm)
                self.ramp = StrengthRamp(cw, ch, ramp.step, ramp.ramp_from, ramp.ramp_to, ramp.periodic_from, ramp.phase_up_to,
                                         every, confirm)
                old_ramp = previous.ramp if previous is not None else None
                if old_ramp is not None and old_ramp.settings == self.ramp.settings:
                    self.ramp.carry_on_from(old_ramp)
        else:
            tensor_shape = self.geometry.tensor_shape
            self.pre = Preprocessor(self.geometry, card.color_order, card.value_max)
            self.post = Postprocessor(self.geometry, card.color_order, card.value_max, card.output_kind, cfg.strength,
                                      cfg.unsharp, cfg.mirror)
            pre_buffers = lambda: {"input": np.empty(tensor_shape, np.float32)}
            infer_buffers = lambda: {"output": np.empty(tensor_shape, np.float32)}
            if i420_in:
                self._capture_bgr_u8 = np.empty((ch, cw, 3), np.uint8)
        # `offline` (process() in one thread) needs one slot of each.
        self.infer_pool = SlotPool(1 if offline else INFER_SLOTS, infer_buffers, "infer")
        self.pre_pool = SlotPool(1 if offline else PRE_SLOTS, pre_buffers, "pre")
        out_shape = self.output_shape
        self.post_pool = SlotPool(1 if offline else POST_SLOTS, lambda: {"frame": np.empty(out_shape, np.uint8)}, "post")

    @property
    def output_format(self) -> str:
        """"i420" (H * 3/2, W) or "bgr" (H, W, 3): what `postprocess` writes."""
        return "bgr" if len(self.output_shape) == 3 else "i420"

    def preprocess(self, frame_u8: np.ndarray, pre_slot: Slot) -> None:
        """Capture frame (capture_format: BGR (H, W, 3) or I420 (H * 3/2, W) uint8) -> pre_slot: the
        model's "input" (and "i420" on the luma path)."""
        if self.luma:
            if self.capture_format == "i420":
                self.luma_pre.run_i420(frame_u8, pre_slot["i420"], pre_slot["input"])
            else:
                self.luma_pre.run(frame_u8, pre_slot["i420"], pre_slot["input"])
            # the gate first: while it passes frames through, the switches are neither measured nor counted;
            # then the blockiness switch, then (on frames left to the card's model) the blur switch
            if self.gate is not None and self._gate(pre_slot):
                return
            if self.switch is not None:
                self._choose(pre_slot)
            if self.blur is not None and pre_slot.variant == VARIANT_DEFAULT:
                self._choose_blurred(pre_slot)
            if self.ramp is not None and pre_slot.variant == VARIANT_DEFAULT:
                self._share(pre_slot)
        elif not self.copy:
            self.pre.run(self._as_bgr(frame_u8), pre_slot["input"])

    def _choose(self, pre_slot: Slot) -> None:
        switch, engine = self.switch, self.engine
        assert switch is not None and engine is not None and engine.alternate is not None and engine.card.switch is not None
        cw, ch = self.geometry.capture
        changes = switch.changes
        pre_slot.variant = switch.choose(pre_slot["i420"][:ch, :cw])
        if switch.changes != changes:  # a change of stream, seconds apart: worth a line
            spec = engine.card.switch
            cuts = f"cut {spec.above:.2f}" + (f", detail {switch.detail:.2f} (cut {spec.detail_below:.2f})" if spec.detail_below else "")
            log.info("%s %.2f (%s): model %s", spec.statistic, switch.last, cuts, self.active_model)

    def _choose_blurred(self, pre_slot: Slot) -> None:
        blur, gate = self.blur, self.gate
        assert blur is not None
        cw, ch = self.geometry.capture
        changes = blur.changes
        y_u8 = pre_slot["i420"][:ch, :cw]
        if blur.follows_gate and gate is not None:  # on the gate's cadence, with the figure it just measured
            blurred = blur.follow(gate.last if gate.fresh else None, y_u8)
        else:
            blurred = blur.choose(y_u8)
        if blurred:
            pre_slot.variant = VARIANT_BLURRED
        if blur.changes != changes:  # a change of camera focus or stream, seconds apart: worth a line
            lens = (f", periodic {blur.last_periodic:.1f} / phase {blur.last_phase:.3f} (cuts {blur.cuts[0]:.1f} / {blur.cuts[1]:.3f}"
                    f"{', up-scales only' if blur.upscaled_only is not None else ''})"
                    if blur.cuts is not None and blur.last < blur.below else "")
            log.info("textured %.2f (blur cut %.2f)%s: model %s", blur.last, blur.below, lens, self.active_model)

    def _share(self, pre_slot: Slot) -> None:
        ramp = self.ramp
        assert ramp is not None
        cw, ch = self.geometry.capture
        changes = ramp.changes
        pre_slot.share = ramp(pre_slot["i420"][:ch, :cw])
        if ramp.changes != changes:  # a change of camera mode or stream, seconds apart: worth a line
            if ramp.share < 1.0:
                log.info("periodic %.1f / phase %.3f, re-blur ratio %.2f: a mild up-scale, %.0f%% of the change",
                         ramp.last_periodic, ramp.last_phase, ramp.last_ratio, 100 * ramp.share)
            else:
                log.info("periodic %.1f / phase %.3f: not a mild up-scale, the whole change", ramp.last_periodic, ramp.last_phase)

    def _gate(self, pre_slot: Slot) -> bool:
        """Whether the gate passes this frame through (and marks the slot so)."""
        gate = self.gate
        assert gate is not None
        cw, ch = self.geometry.capture
        changes = gate.changes
        passing = gate.passes(pre_slot["i420"][:ch, :cw])
        if passing:
            pre_slot.variant = PASS_THROUGH
        if gate.changes != changes:  # a change of scene or camera, seconds apart: worth a line
            ratio = f", re-blur ratio {gate.last_ratio:.2f} (cut {gate.reblur_below:.2f})" if gate.reblur_below is not None and gate.last > gate.above else ""
            log.info("textured %.2f (cut %.2f)%s: %s", gate.last, gate.above, ratio,
                     "a sharp picture, passed through untouched" if passing else "sharpening")
        return passing

    @property
    def active_model(self) -> str | None:
        """The name of the model the pre stage chose for its latest frame (None without a model, or while the
        gate passes sharp frames through)."""
        if self.copy or self.engine is None or (self.gate is not None and self.gate.passing):
            return None
        if self.switch is not None and self.switch.active and self.engine.alternate is not None:
            return self.engine.alternate.card.name
        if self.blur is not None and self.blur.active and self.engine.blurred is not None:
            return self.engine.blurred.card.name
        return self.engine.card.name

    def _as_bgr(self, frame_u8: np.ndarray) -> np.ndarray:
        if self.capture_format == "i420":
            assert self._capture_bgr_u8 is not None
            return i420_to_bgr_u8(frame_u8, self._capture_bgr_u8)
        return frame_u8

    def infer(self, pre_slot: Slot, infer_slot: Slot) -> None:
        """pre_slot["input"] -> infer_slot["output"] (same shape), or nothing without a model."""
        if not self.copy and pre_slot.variant != PASS_THROUGH:
            self.engine.run_variant(pre_slot.variant, pre_slot["input"], infer_slot["output"])

    def postprocess(self, frame_u8: np.ndarray, pre_slot: Slot, infer_slot: Slot, out_u8: np.ndarray) -> None:
        """Model input/output (or, on the copy path, the capture frame `frame_u8`) -> the finished frame
        `out_u8` (output_shape: I420 or BGR uint8) at capture size."""
        if self.luma:
            self.luma_post.run(pre_slot["i420"], pre_slot["input"], infer_slot["output"], out_u8,
                               passthrough=pre_slot.variant == PASS_THROUGH, share=pre_slot.share)
        elif self.copy:
            if out_u8.shape == frame_u8.shape:
                np.copyto(out_u8, frame_u8)
            else:  # I420 capture with unsharp or mirror: those work in BGR
                i420_to_bgr_u8(frame_u8, out_u8)
            if out_u8.ndim == 3:
                finish_u8(out_u8, self._unsharp, self.cfg.mirror, self._blur_u8)
        else:
            self.post.run(pre_slot["input"], infer_slot["output"], out_u8)

    def new_output(self) -> np.ndarray:
        """A buffer for `process`'s result (offline use)."""
        return np.empty(self.output_shape, np.uint8)

    def to_bgr(self, frame_u8: np.ndarray, bgr_u8: np.ndarray, source_bgr_u8: np.ndarray | None = None) -> np.ndarray:
        """A finished frame (output_shape) as BGR uint8 (H, W, 3) in `bgr_u8` (offline use: images).
        With the luma path's `source_bgr_u8` (the frame it was made from), the change of Y is added
        to B, G and R of the source instead, so a picture keeps its full-resolution colour (I420, the
        device's format, halves it); the luma is the same."""
        if self.output_format == "i420" and source_bgr_u8 is not None:
            h = bgr_u8.shape[0]
            y_in = cv2.cvtColor(source_bgr_u8, cv2.COLOR_BGR2YUV_I420)[:h]
            np.copyto(bgr_u8, add_luma_change_u8(source_bgr_u8, y_in, frame_u8[:h]))
            return bgr_u8
        if self.output_format == "i420":
            return i420_to_bgr_u8(frame_u8, bgr_u8)
        np.copyto(bgr_u8, frame_u8)
        return bgr_u8

    def process(self, bgr_u8: np.ndarray, out_u8: np.ndarray) -> np.ndarray:
        """All three steps in the calling thread (offline use): BGR uint8 in -> `out_u8` (output_shape)."""
        pre_slot = self.pre_pool.acquire()
        infer_slot = self.infer_pool.acquire()
        try:
            self.preprocess(bgr_u8, pre_slot)
            self.infer(pre_slot, infer_slot)
            self.postprocess(bgr_u8, pre_slot, infer_slot, out_u8)
        finally:
            infer_slot.release()
            pre_slot.release()
        return out_u8


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """(width, height) times `scale`, rounded to even numbers (at least 16 px)."""
    return tuple(max(16, int(round(v * scale / 2)) * 2) for v in size)  # type: ignore[return-value]
