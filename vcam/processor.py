"""One frame's way through the model: preprocess, infer and postprocess for one frame size, engine and
set of settings, with the slot pools whose buffers those fix (vcam.mailbox)."""

from __future__ import annotations

import numpy as np

from vcam.config import DaemonConfig
from vcam.engine import Engine
from vcam.mailbox import Slot, SlotPool
from vcam.transforms import FrameGeometry, Postprocessor, Preprocessor, finish_u8

# Slots per pool = the places one can be at once (vcam.mailbox). infer: the infer stage, its
# mailbox, the post stage. pre: the pre stage, its mailbox, and one inside each infer slot.
# capture: the capture stage, its mailbox, and one inside each pre slot. post: the post stage,
# its mailbox, the publisher's current frame.
INFER_SLOTS = 3
PRE_SLOTS = 2 + INFER_SLOTS
CAPTURE_SLOTS = 2 + PRE_SLOTS
POST_SLOTS = 3

class FrameProcessor:
    """Preprocess / infer / postprocess for one frame size with one engine and one set of settings.

    `engine` None means no inference (the identity). strength 0 is an exact passthrough: the
    capture frame is copied (then mirrored if asked) and the model is not run.
    Owns the slot pools whose buffer shapes depend on the geometry. Each method is called from
    one thread only (the stage that owns it).
    """

    def __init__(
        self,
        cfg: DaemonConfig,
        engine: Engine | None,
        capture_size: tuple[int, int],
        generation: int = 0,
        offline: bool = False,
    ) -> None:
        self.cfg = cfg
        self.engine = engine
        self.generation = generation
        self.auto_scale = 1.0  # set by the pipeline's frame-rate hold (work size / capture size)
        self.passthrough = cfg.strength == 0.0
        card = engine.card if engine is not None else None
        color_order = card.color_order if card else "BGR"
        value_max = card.value_max if card else 1.0
        pad_multiple = card.pad_multiple if card else 1
        work = None if self.passthrough else cfg.work_size
        self.geometry = FrameGeometry.make(capture_size, work, pad_multiple)
        self.pre = Preprocessor(self.geometry, color_order, value_max)
        self.post = Postprocessor(
            self.geometry,
            color_order,
            value_max,
            card.output_kind if card else "image",
            cfg.strength,
            cfg.unsharp,
            cfg.mirror,
        )
        cw, ch = capture_size
        tensor_shape = self.geometry.tensor_shape
        needs_tensors = not self.passthrough
        # `offline` (process() in one thread) needs one slot of each.
        self.infer_pool = SlotPool(
            1 if offline else INFER_SLOTS,
            lambda: {"output": np.empty(tensor_shape, np.float32)} if needs_tensors and engine is not None else {},
            "infer",
        )
        self.pre_pool = SlotPool(
            1 if offline else PRE_SLOTS,
            lambda: {"input": np.empty(tensor_shape, np.float32)} if needs_tensors else {},
            "pre",
        )
        self.post_pool = SlotPool(1 if offline else POST_SLOTS, lambda: {"bgr": np.empty((ch, cw, 3), np.uint8)}, "post")

    def preprocess(self, bgr_u8: np.ndarray, pre_slot: Slot) -> None:
        """Capture BGR uint8 (H, W, 3) -> pre_slot["input"], float32 geometry.tensor_shape."""
        if not self.passthrough:
            self.pre.run(bgr_u8, pre_slot["input"])

    def infer(self, pre_slot: Slot, infer_slot: Slot) -> None:
        """pre_slot["input"] -> infer_slot["output"] (same shape), or nothing without a model."""
        if not self.passthrough and self.engine is not None:
            self.engine.run(pre_slot["input"], infer_slot["output"])

    def postprocess(self, bgr_u8: np.ndarray, pre_slot: Slot, infer_slot: Slot, out_u8: np.ndarray) -> None:
        """Model input/output (and, for strength 0, the capture frame `bgr_u8`) -> BGR uint8
        `out_u8` (H, W, 3) at capture size."""
        if self.passthrough:
            np.copyto(out_u8, bgr_u8)
            finish_u8(out_u8, 0.0, self.cfg.mirror, None)
            return
        output = infer_slot["output"] if self.engine is not None else None
        self.post.run(pre_slot["input"], output, out_u8)

    def process(self, bgr_u8: np.ndarray, out_u8: np.ndarray) -> np.ndarray:
        """All three steps in the calling thread (offline use): BGR uint8 in -> BGR uint8 `out_u8`."""
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
