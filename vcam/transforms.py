"""Frame conversions with preallocated buffers: camera BGR uint8 <-> model NCHW float32 (RGB models),
and camera BGR uint8 -> I420 -> the model's Y plane -> I420 out (luma models, and no model).

Every `run`/`*_into` function writes into arrays allocated once per frame size; nothing here
allocates per frame. OpenCV does the per-pixel work (SIMD, releases the GIL) so that the
preprocess and postprocess threads run beside onnxruntime.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vcam.card import Y_BLACK, Y_SPAN


@dataclass(frozen=True)
class FrameGeometry:
    """Sizes of one frame's way through the model, all (width, height) in pixels.

    capture: the camera frame; work: what the model sees (capture size unless --work-size);
    padded: work rounded up to the model's pad_multiple (edge-replicated, cropped back after).
    """

    capture: tuple[int, int]
    work: tuple[int, int]
    padded: tuple[int, int]

    @classmethod
    def make(cls, capture: tuple[int, int], work: tuple[int, int] | None, pad_multiple: int) -> "FrameGeometry":
        work = work or capture
        m = max(1, pad_multiple)
        padded = (-(-work[0] // m) * m, -(-work[1] // m) * m)
        return cls(capture=capture, work=work, padded=padded)

    @property
    def tensor_shape(self) -> tuple[int, int, int, int]:
        """(1, 3, padded height, padded width)."""
        return self.tensor_shape_of(3)

    def tensor_shape_of(self, channels: int) -> tuple[int, int, int, int]:
        """(1, channels, padded height, padded width)."""
        return (1, channels, self.padded[1], self.padded[0])

    @property
    def resizes(self) -> bool:
        return self.work != self.capture


def to_bgr_u8(frame: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Any decoded frame -> BGR uint8 (H, W, 3) in `out` (same H, W).

    Accepts grayscale (H, W) or (H, W, 1), BGR (H, W, 3), BGRA (H, W, 4), uint8 or uint16
    (16-bit values are scaled by 1/257 to 0..255).
    """
    if frame.dtype == np.uint16:
        frame = cv2.convertScaleAbs(frame, alpha=1.0 / 257.0)
    elif frame.dtype != np.uint8:
        raise ValueError(f"unsupported frame dtype {frame.dtype}")
    if frame.ndim == 2 or frame.shape[2] == 1:
        cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR, dst=out)
    elif frame.shape[2] == 4:
        cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR, dst=out)
    elif frame.shape[2] == 3:
        if frame is not out:
            np.copyto(out, frame)
    else:
        raise ValueError(f"unsupported frame shape {frame.shape}")
    return out


class Preprocessor:
    """BGR uint8 (H, W, 3) capture frame -> model input float32 (1, 3, Hp, Wp).

    Resizes to the work size (INTER_AREA), pads right/bottom by edge replication to the pad
    multiple, reorders channels to the model's colour order and scales 0..255 to 0..value_max.
    Scratch buffers are owned here; call `run` from one thread only.
    """

    def __init__(self, geometry: FrameGeometry, color_order: str, value_max: float) -> None:
        self.geometry = geometry
        (ww, wh), (pw, ph) = geometry.work, geometry.padded
        self._work_u8 = np.empty((wh, ww, 3), np.uint8) if geometry.resizes else None
        self._pad = (ph - wh, pw - ww)
        self._padded_u8 = np.empty((ph, pw, 3), np.uint8) if self._pad != (0, 0) else None
        self._planes_u8 = [np.empty((ph, pw), np.uint8) for _ in range(3)]
        # tensor channel i <- BGR plane _order[i]
        self._order = (2, 1, 0) if color_order.upper() == "RGB" else (0, 1, 2)
        self._scale = np.float32(float(value_max) / 255.0)

    def run(self, bgr_u8: np.ndarray, input_nchw: np.ndarray) -> None:
        """Writes the model input for `bgr_u8` (capture size) into `input_nchw` (geometry.tensor_shape)."""
        src = bgr_u8
        if self._work_u8 is not None:
            cv2.resize(src, self.geometry.work, dst=self._work_u8, interpolation=cv2.INTER_AREA)
            src = self._work_u8
        if self._padded_u8 is not None:
            pad_h, pad_w = self._pad
            cv2.copyMakeBorder(src, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE, dst=self._padded_u8)
            src = self._padded_u8
        cv2.split(src, self._planes_u8)
        for channel, plane in enumerate(self._order):
            # dtype pins a float32 loop under both numpy 1.x (value-based casting) and 2.x.
            np.multiply(self._planes_u8[plane], self._scale, out=input_nchw[0, channel], dtype=np.float32)


class Postprocessor:
    """Model output float32 (1, 3, Hp, Wp) -> BGR uint8 (H, W, 3) at capture size.

    Per pixel, in 0..255 units with x the model input and y the model output (both scaled by
    255/value_max) and s the strength:
        image:    out = (1 - s) * x + s * y
        residual: out = x + s * y
    then cropped to the work size, rounded to nearest (ties to even) and saturated to uint8,
    resized back to the capture size (INTER_LINEAR), unsharp-masked (`unsharp` > 0:
    out + a * (out - gauss_sigma1(out))) and mirrored. With `output_nchw=None` the model is the
    identity (y = x), which measures the pipeline overhead without inference.
    Scratch buffers are owned here; call `run` from one thread only.
    """

    def __init__(
        self,
        geometry: FrameGeometry,
        color_order: str,
        value_max: float,
        output_kind: str,
        strength: float,
        unsharp: float,
        mirror: bool,
    ) -> None:
        self.geometry = geometry
        (cw, ch), (ww, wh) = geometry.capture, geometry.work
        self._planes_u8 = [np.empty((wh, ww), np.uint8) for _ in range(3)]
        self._work_u8 = np.empty((wh, ww, 3), np.uint8) if geometry.resizes else None
        self._blur_u8 = np.empty((ch, cw, 3), np.uint8) if unsharp > 0 else None
        # BGR plane b <- tensor channel _order[b]
        self._order = (2, 1, 0) if color_order.upper() == "RGB" else (0, 1, 2)
        to_255 = 255.0 / float(value_max)
        if output_kind == "residual":
            self._alpha_x, self._beta_y = to_255, to_255 * strength
        else:
            self._alpha_x, self._beta_y = to_255 * (1.0 - strength), to_255 * strength
        self._identity_alpha = to_255
        self.unsharp = unsharp
        self.mirror = mirror

    def run(self, input_nchw: np.ndarray, output_nchw: np.ndarray | None, bgr_u8: np.ndarray) -> None:
        """Writes the finished capture-size frame into `bgr_u8` ((H, W, 3) uint8)."""
        ww, wh = self.geometry.work
        for plane, channel in enumerate(self._order):
            x = input_nchw[0, channel, :wh, :ww]
            if output_nchw is None:
                cv2.addWeighted(x, self._identity_alpha, x, 0.0, 0.0, dst=self._planes_u8[plane], dtype=cv2.CV_8U)
            else:
                y = output_nchw[0, channel, :wh, :ww]
                cv2.addWeighted(x, self._alpha_x, y, self._beta_y, 0.0, dst=self._planes_u8[plane], dtype=cv2.CV_8U)
        if self._work_u8 is not None:
            cv2.merge(self._planes_u8, self._work_u8)
            cv2.resize(self._work_u8, self.geometry.capture, dst=bgr_u8, interpolation=cv2.INTER_LINEAR)
        else:
            cv2.merge(self._planes_u8, bgr_u8)
        finish_u8(bgr_u8, self.unsharp, self.mirror, self._blur_u8)


def finish_u8(bgr_u8: np.ndarray, unsharp: float, mirror: bool, blur_u8: np.ndarray | None) -> None:
    """In place on BGR uint8 (H, W, 3): optional unsharp mask (needs `blur_u8` scratch), optional mirror."""
    if unsharp > 0 and blur_u8 is not None:
        cv2.GaussianBlur(bgr_u8, (0, 0), 1.0, dst=blur_u8)
        cv2.addWeighted(bgr_u8, 1.0 + unsharp, blur_u8, -unsharp, 0.0, dst=bgr_u8)
    if mirror:
        cv2.flip(bgr_u8, 1, dst=bgr_u8)


def resize_into(src_u8: np.ndarray, dst_u8: np.ndarray) -> None:
    """Copies (or resizes, INTER_LINEAR, when the sizes differ) BGR uint8 `src_u8` into `dst_u8`."""
    if src_u8.shape == dst_u8.shape:
        np.copyto(dst_u8, src_u8)
    else:
        cv2.resize(src_u8, (dst_u8.shape[1], dst_u8.shape[0]), dst=dst_u8, interpolation=cv2.INTER_LINEAR)


def draw_placeholder(out: np.ndarray, title: str, detail: str = "") -> np.ndarray:
    """Draws a dark frame with a centred `title` (and a smaller `detail` line) into BGR uint8 `out`."""
    h, w = out.shape[:2]
    out[:] = (40, 32, 32)
    font = cv2.FONT_HERSHEY_SIMPLEX
    scale = max(0.3, w / 900.0)
    thickness = max(1, int(round(scale * 2)))
    lines = [(title, scale, (235, 235, 235)), (detail, scale * 0.6, (170, 170, 170))]
    y = h // 2
    for text, s, colour in lines:
        if not text:
            continue
        (tw, th), _ = cv2.getTextSize(text, font, s, thickness)
        cv2.putText(out, text, ((w - tw) // 2, y), font, s, colour, thickness, cv2.LINE_AA)
        y += int(th * 2.2)
    return out


def i420_planes(i420_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y (H, W), U (H/2, W/2) and V (H/2, W/2) planes of an I420 (H * 3/2, W) uint8 frame."""
    rows, w = i420_u8.shape
    h = rows * 2 // 3
    flat = i420_u8.reshape(-1)
    q = (h // 2) * (w // 2)
    return i420_u8[:h], flat[h * w : h * w + q].reshape(h // 2, w // 2), flat[h * w + q :].reshape(h // 2, w // 2)


class LumaPreprocessor:
    """BGR uint8 (H, W, 3) capture frame -> its I420 (the frame's one colour conversion) and the model
    input: the Y plane (1, 1, Hp, Wp), uint8 as I420 holds it or float32 (Y - 16) / 219.

    Only Y is resized (INTER_AREA) to the work size and edge-padded to the pad multiple; chroma is not
    touched again until it goes out. An odd capture size is first edge-padded to even (I420 needs it).
    Scratch buffers are owned here; call `run` from one thread only.
    """

    def __init__(self, geometry: FrameGeometry, dtype: np.dtype) -> None:
        self.geometry = geometry
        (cw, ch), (ww, wh), (pw, ph) = geometry.capture, geometry.work, geometry.padded
        self.even = (cw + cw % 2, ch + ch % 2)
        self._even_bgr_u8 = np.empty((self.even[1], self.even[0], 3), np.uint8) if self.even != (cw, ch) else None
        self._work_y_u8 = np.empty((wh, ww), np.uint8) if geometry.resizes else None
        self._pad = (ph - wh, pw - ww)
        self._float = np.dtype(dtype) == np.float32
        self._padded_y_u8 = np.empty((ph, pw), np.uint8) if self._float else None

    @property
    def i420_shape(self) -> tuple[int, int]:
        return (self.even[1] * 3 // 2, self.even[0])

    def run(self, bgr_u8: np.ndarray, i420_u8: np.ndarray, input_nchw: np.ndarray | None) -> None:
        """Writes the I420 of `bgr_u8` into `i420_u8` (i420_shape) and, unless None, the model input
        into `input_nchw` (geometry.tensor_shape with one channel)."""
        src = bgr_u8
        if self._even_bgr_u8 is not None:
            cw, ch = self.geometry.capture
            cv2.copyMakeBorder(src, 0, self.even[1] - ch, 0, self.even[0] - cw, cv2.BORDER_REPLICATE, dst=self._even_bgr_u8)
            src = self._even_bgr_u8
        cv2.cvtColor(src, cv2.COLOR_BGR2YUV_I420, dst=i420_u8)
        if input_nchw is not None:
            self._model_input(i420_u8, input_nchw)

    def run_i420(self, capture_i420_u8: np.ndarray, i420_u8: np.ndarray, input_nchw: np.ndarray | None) -> None:
        """The same from an I420 capture frame (an MJPG camera decoded straight to YUV, even size): a
        copy into `i420_u8` instead of the colour conversion."""
        np.copyto(i420_u8, capture_i420_u8)
        if input_nchw is not None:
            self._model_input(i420_u8, input_nchw)

    def _model_input(self, i420_u8: np.ndarray, input_nchw: np.ndarray) -> None:
        cw, ch = self.geometry.capture
        y = i420_u8[:ch, :cw]
        if self._work_y_u8 is not None:
            cv2.resize(y, self.geometry.work, dst=self._work_y_u8, interpolation=cv2.INTER_AREA)
            y = self._work_y_u8
        plane = self._padded_y_u8 if self._float else input_nchw[0, 0]
        pad_h, pad_w = self._pad
        if pad_h or pad_w:
            cv2.copyMakeBorder(y, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE, dst=plane)
        else:
            np.copyto(plane, y)
        if self._float:
            cv2.addWeighted(plane, 1.0 / Y_SPAN, plane, 0.0, -Y_BLACK / Y_SPAN, dst=input_nchw[0, 0], dtype=cv2.CV_32F)


# A pixel is still while the 5 x 5 mean of its input's |change| since the previous frame stays below this many
# grey levels: a still scene's sensor noise and codec flutter stay under it (sigma 2-3 noise moves a pixel by
# ~2-4 levels a frame), a moving edge does not.
STILL_LEVELS = 6
# In a noisier picture the bar rises with the noise: NOISE_FACTOR x the noise's sigma (a still pixel's 5 x 5 mean
# |change| is ~1.13 sigma), up to MAX_STILL_LEVELS. Sigma is the smaller of two estimates, each a low decile over
# every NOISE_STRIDE-th pixel of every NOISE_STRIDE-th row: of the 5 x 5 mean |change| (~0.91 sigma while a tenth of
# the picture stands still; a pan lifts it) and of |Immerkaer's 3 x 3 noise filter| on this frame at full
# resolution (~0.75 sigma in flat areas, whatever moves; texture lifts it). A pan is not noise to the second, texture
# not to the first; only a pan over fine texture that fills a small picture lifts both (grass at 200 x 120), and
# such texture moving slowly is then steadied (its change trails by a few frames). Flat clipped areas (crushed
# blacks, blown highlights) over a tenth of the picture, or a codec's smoothing of the noise, make the estimate read
# low: the bar then stays at STILL_LEVELS, sitting 11's.
NOISE_FACTOR = 2.25
NOISE_STRIDE = 4
NOISE_EVERY = 4  # frames between two estimates: noise changes with the light, not from frame to frame (~1 ms at 720p)
MAX_STILL_LEVELS = 16
_DECILE = 0.1
_MOTION_DECILE = 0.91  # of a still pixel's 5 x 5 mean |change|, in sigmas: 1.13 - 1.28 x 0.17
_IMMERKAER_DECILE = 6 * 0.1257  # the filter's response to white noise is N(0, 6 sigma); |.|'s low decile
_IMMERKAER_F32 = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


class SteadyChange:
    """A Y-plane model's change of the picture (model - input, in grey levels), averaged over time where the
    picture stands still.

    A sharpening model draws each frame's sensor noise and codec flutter a little larger, so still areas
    shimmer more than the camera's own picture (README, sitting 11: ~2x on a still, noisy scene through H.264).
    Where a pixel is still (its input's 5 x 5 mean |change| below the still bar: STILL_LEVELS, or more in a noisy
    picture, `still_levels`: see NOISE_FACTOR), its change is `weight` x the
    previous frame's + (1 - weight) x this frame's (an exponential average over ~(1 + w) / (1 - w) frames); where
    it moves, this frame's change as it is, so nothing trails a moving edge. The first frame is taken as it is.
    The average is kept in int16 128ths of a level (no float buffer on the uint8 path): each update rounds it to
    a 128th, so it stops within 0.5 / (1 - w) 128ths of where it should settle, under half a level up to w = 0.99
    (a change of at most 255 levels is 32,640 128ths, inside int16). Limits: the bar stops at MAX_STILL_LEVELS, so
    a picture noisier than sigma ~7 levels is steadied less and less; a pan over fine texture that fills a small
    picture lifts the bar (see NOISE_FACTOR); an edge that moves by under a pixel a frame can count as still, and
    its change then follows over a few frames; after the model pair's switch changes model, still pixels blend
    from one model's change to the other's over ~10 frames.
    Buffers are allocated once; call `update` from one thread only.
    """

    FRACTION_BITS = 7

    def __init__(self, width: int, height: int, weight: float) -> None:
        if not 0.0 < weight < 1.0:
            raise ValueError(f"the steadying weight is in (0, 1), not {weight}")
        self.weight = weight
        self._previous_x_u8 = np.empty((height, width), np.uint8)
        self._motion_u8 = np.empty((height, width), np.uint8)
        self._moving_u8 = np.empty((height, width), np.uint8)
        sample = ((height + NOISE_STRIDE - 1) // NOISE_STRIDE, (width + NOISE_STRIDE - 1) // NOISE_STRIDE)
        self._motion_sample_u8 = np.empty(sample, np.uint8)
        self._response_full_s16 = np.empty((height, width), np.int16)
        self._response_s16 = np.empty(sample, np.int16)
        self._decile_index = int(_DECILE * (sample[0] * sample[1] - 1))
        self.noise_levels = 0.0  # the input's noise sigma in grey levels, averaged over frames
        self._estimated = False
        self._frames = 0
        self.still_levels = STILL_LEVELS
        self._now_s16 = np.empty((height, width), np.int16)
        self._average_s16 = np.empty((height, width), np.int16)  # in 128ths of a level (FRACTION_BITS)
        self.change_s16 = np.empty((height, width), np.int16)  # the steadied change, whole levels (rounded)
        self._fresh = True

    def carry_on_from(self, previous: "SteadyChange") -> None:
        """Takes over another's average and last input (same size): a new processor for the same stream (a
        strength change, a reload) goes on steadying instead of starting again from one frame."""
        if previous.change_s16.shape == self.change_s16.shape and not previous._fresh:
            np.copyto(self._average_s16, previous._average_s16)
            np.copyto(self._previous_x_u8, previous._previous_x_u8)
            self.noise_levels, self.still_levels, self._estimated = previous.noise_levels, previous.still_levels, previous._estimated
            self._fresh = False

    def _still_levels(self, x_u8: np.ndarray) -> int:
        """The still bar for this frame, from its input plane and its 5 x 5 mean |change| (`_motion_u8`)."""
        i, step = self._decile_index, NOISE_STRIDE
        np.copyto(self._motion_sample_u8, self._motion_u8[::step, ::step])
        # at full resolution: on the sample its neighbours would be 4 px apart and it would read texture as noise
        cv2.filter2D(x_u8, cv2.CV_16S, _IMMERKAER_F32, dst=self._response_full_s16, borderType=cv2.BORDER_REPLICATE)
        np.copyto(self._response_s16, self._response_full_s16[::step, ::step])
        np.abs(self._response_s16, out=self._response_s16)
        # ndarray.partition works in place: no buffer per frame
        self._motion_sample_u8.reshape(-1).partition(i)
        self._response_s16.reshape(-1).partition(i)
        sigma = min(float(self._motion_sample_u8.flat[i]) / _MOTION_DECILE, float(self._response_s16.flat[i]) / _IMMERKAER_DECILE)
        # ~3 estimates (~12 frames) of memory: one frame of a sudden move or cut does not lift the bar
        self.noise_levels = 0.7 * self.noise_levels + 0.3 * sigma if self._estimated else sigma
        self._estimated = True
        return int(min(MAX_STILL_LEVELS, max(STILL_LEVELS, round(NOISE_FACTOR * self.noise_levels))))

    def update(self, x_u8: np.ndarray, model_u8: np.ndarray) -> np.ndarray:
        """This frame's input and model planes ((H, W) uint8) -> the steadied change (`change_s16`)."""
        bits = self.FRACTION_BITS
        # numpy, not cv2, for the two mixed-type steps here: ~3x faster on a 720p plane (AMD EPYC, one thread)
        np.subtract(model_u8, x_u8, out=self._now_s16, dtype=np.int16)
        np.left_shift(self._now_s16, bits, out=self._now_s16)
        if self._fresh:
            np.copyto(self._average_s16, self._now_s16)
            self._fresh = False
        else:
            cv2.absdiff(x_u8, self._previous_x_u8, dst=self._motion_u8)
            cv2.blur(self._motion_u8, (5, 5), dst=self._motion_u8)
            if self._frames % NOISE_EVERY == 0:
                self.still_levels = self._still_levels(x_u8)
            self._frames += 1
            cv2.threshold(self._motion_u8, self.still_levels - 1, 255, cv2.THRESH_BINARY, dst=self._moving_u8)
            cv2.addWeighted(self._average_s16, self.weight, self._now_s16, 1.0 - self.weight, 0.0, dst=self._average_s16)
            cv2.copyTo(self._now_s16, self._moving_u8, self._average_s16)
        np.copyto(self._previous_x_u8, x_u8)
        np.add(self._average_s16, 1 << (bits - 1), out=self.change_s16)  # round half up, then to whole levels
        np.right_shift(self.change_s16, bits, out=self.change_s16)
        return self.change_s16


class LumaPostprocessor:
    """Model output Y (1, 1, Hp, Wp) + the input's I420 -> the finished frame: I420 (H * 3/2, W) at an
    even capture size, BGR (H, W, 3) at an odd one.

    Y, with x the input plane, y the model's, s the strength (times the frame's share, a card's strength ramp):
    out = (1 - s) x + s y at the work size
    (rounded, saturated). With a work size below the capture size, the model's change (y - x) is
    scaled back up (INTER_LINEAR) and added to the capture-size Y instead, so the frame keeps every
    pixel of the camera's own detail. With `steady` > 0 (a stream of frames), the change (y - x) is
    first averaged over time where the picture stands still (SteadyChange) and out = x + s x change.
    Then the optional unsharp mask (Y only) and mirror (every plane). U and V pass through untouched.
    Scratch buffers are owned here; call `run` from one thread only.
    """

    def __init__(self, geometry: FrameGeometry, dtype: np.dtype, strength: float, unsharp: float, mirror: bool,
                 steady: float) -> None:
        self.geometry = geometry
        (cw, ch), (ww, wh) = geometry.capture, geometry.work
        self.even = (cw + cw % 2, ch + ch % 2)
        self.odd = self.even != (cw, ch)
        self._float = np.dtype(dtype) == np.float32
        self._model_y_u8 = np.empty((wh, ww), np.uint8) if self._float else None
        if geometry.resizes:
            self._delta_s16 = np.empty((wh, ww), np.int16)
            self._delta_cap_s16 = np.empty((ch, cw), np.int16)
        # the model's input plane in levels, for the float form: what the change is taken against
        self._work_x_u8 = np.empty((wh, ww), np.uint8) if (geometry.resizes or steady > 0) and self._float else None
        self._blur_u8 = np.empty((ch, cw), np.uint8) if unsharp > 0 else None
        self._even_i420_u8 = np.empty((self.even[1] * 3 // 2, self.even[0]), np.uint8) if self.odd else None
        self._even_bgr_u8 = np.empty((self.even[1], self.even[0], 3), np.uint8) if self.odd else None
        self.strength, self.unsharp, self.mirror = strength, unsharp, mirror
        self.steady = SteadyChange(ww, wh, steady) if steady > 0 else None

    def output_shape(self) -> tuple[int, ...]:
        cw, ch = self.geometry.capture
        return (ch, cw, 3) if self.odd else (ch * 3 // 2, cw)

    def run(self, i420_in_u8: np.ndarray, input_nchw: np.ndarray, output_nchw: np.ndarray, out_u8: np.ndarray,
            passthrough: bool = False, share: float = 1.0) -> None:
        """Writes the finished frame (output_shape()) into `out_u8`. `passthrough`: no model output (a sharp frame
        the card's gate leaves alone): the input's Y as it is, then unsharp and mirror; steadying keeps its state.
        `share`: of the model's change, this frame's (a card's strength ramp), on top of the strength."""
        strength = self.strength * share
        i420 = self._even_i420_u8 if self.odd else out_u8
        cw, ch = self.geometry.capture
        ww, wh = self.geometry.work
        np.copyto(i420[ch:], i420_in_u8[ch:])  # chroma, and the padding row of an odd height
        x_cap, y_out = i420_in_u8[:ch, :cw], i420[:ch, :cw]
        model = output_nchw[0, 0, :wh, :ww]
        if self._float and not passthrough:
            cv2.addWeighted(model, Y_SPAN, model, 0.0, Y_BLACK, dst=self._model_y_u8, dtype=cv2.CV_8U)
            model = self._model_y_u8
        if passthrough:
            np.copyto(y_out, x_cap)
        elif self.steady is not None:
            change = self.steady.update(self._work_input(input_nchw), model)
            if self.geometry.resizes:
                change = cv2.resize(change, (cw, ch), dst=self._delta_cap_s16, interpolation=cv2.INTER_LINEAR)
            if strength == 1.0:
                cv2.add(x_cap, change, dst=y_out, dtype=cv2.CV_8U)
            else:
                cv2.addWeighted(x_cap, 1.0, change, strength, 0.0, dst=y_out, dtype=cv2.CV_8U)
        elif self.geometry.resizes:
            x_work = self._work_input(input_nchw)
            cv2.subtract(model, x_work, dst=self._delta_s16, dtype=cv2.CV_16S)
            cv2.resize(self._delta_s16, (cw, ch), dst=self._delta_cap_s16, interpolation=cv2.INTER_LINEAR)
            cv2.addWeighted(x_cap, 1.0, self._delta_cap_s16, strength, 0.0, dst=y_out, dtype=cv2.CV_8U)
        elif strength == 1.0:
            np.copyto(y_out, model)
        else:
            cv2.addWeighted(x_cap, 1.0 - strength, model, strength, 0.0, dst=y_out, dtype=cv2.CV_8U)
        if self.odd:
            i420[:ch, cw:] = i420_in_u8[:ch, cw:]  # the padding column
        if self._blur_u8 is not None:
            cv2.GaussianBlur(y_out, (0, 0), 1.0, dst=self._blur_u8)
            cv2.addWeighted(y_out, 1.0 + self.unsharp, self._blur_u8, -self.unsharp, 0.0, dst=y_out)
        if self.odd:
            cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420, dst=self._even_bgr_u8)
            np.copyto(out_u8, self._even_bgr_u8[:ch, :cw])
            if self.mirror:
                cv2.flip(out_u8, 1, dst=out_u8)
        elif self.mirror:
            for plane in i420_planes(out_u8):
                cv2.flip(plane, 1, dst=plane)

    def _work_input(self, input_nchw: np.ndarray) -> np.ndarray:
        """The model's input plane at the work size, uint8 (the float form is turned back into levels)."""
        ww, wh = self.geometry.work
        x = input_nchw[0, 0, :wh, :ww]
        if self._work_x_u8 is None:
            return x
        cv2.addWeighted(x, Y_SPAN, x, 0.0, Y_BLACK, dst=self._work_x_u8, dtype=cv2.CV_8U)
        return self._work_x_u8


def add_luma_change_u8(colour_u8: np.ndarray, y_in_u8: np.ndarray, y_out_u8: np.ndarray) -> np.ndarray:
    """A colour picture (H, W, 3) uint8, any channel order, with a Y-plane model's change of limited-range
    luma (y_out - y_in, (H, W) uint8 planes) added to all three channels alike (in 0..255 units, rounded,
    saturated): the picture keeps its full-resolution colour and gets the model's luma. Offline use."""
    delta = (y_out_u8.astype(np.float32) - y_in_u8) * np.float32(255.0 / Y_SPAN)
    return np.clip(np.rint(colour_u8 + delta[:, :, None]), 0, 255).astype(np.uint8)


def i420_to_bgr_u8(i420_u8: np.ndarray, bgr_u8: np.ndarray) -> np.ndarray:
    """I420 uint8 (H * 3/2, W) -> BGR uint8 (H, W, 3) in `bgr_u8` (OpenCV, BT.601 limited range)."""
    cv2.cvtColor(i420_u8, cv2.COLOR_YUV2BGR_I420, dst=bgr_u8)
    return bgr_u8

