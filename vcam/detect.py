"""Which of a card's models runs on a frame: figures of the Y plane and switches with hysteresis.

A frame that was JPEG-compressed small and up-scaled x2 by the receiver (a bandwidth-starved stream) carries
its 8 x 8 blocks as a 16-pixel grid, where a model trained for that case alone gains ~0.7 dB and the
mix-trained default ~0.1 (README, sitting 8). `blockiness` finds that grid: the mean |first difference| of
the Y plane per column, folded modulo the period, at its strongest phase over the phase half a period away
(the same for rows, the two averaged). A block edge repeats every period and the opposite phase is a
block's middle; the up-scale's own 2-pixel pattern and full-size JPEG's 8-pixel grid look the same at both
phases, so they stay near 1.0. The ratio does not change with an offset or a gain of the plane, so limited-
and full-range luma give the same figure. `sharpcam-kd pair` chooses the cut with this same code.

H.264's own 16-px macroblocks make a grid too, in a frame that may be sharp (talking_512.mp4 as it is), where
the specialist would smooth real detail away (README, sitting 9). The second figure, `detail`, tells them
apart: mean |second difference| over mean |first difference| of the plane (rows and columns), low for a
frame up-scaled from a smaller one, whose finest pixels carry little of their own, and higher for a sharp
frame (`sharpcam-kd pair` cuts it between the two on the training split). A card's switch may ask for both:
blocky, and below a detail cut.

`Texture` is the sharp-picture figure (README, sitting 13): the same second-over-first ratio counted only where
|first difference| is at least `step` grey levels, so flat areas (rounding steps, a dark wall) do not read as
fine detail, as they do in `detail` (a mostly flat but sharp photo scored as blurred). A card's gate
(`sharpcam-kd pair` cuts it on the training split between the webcam benchmark's four blurred cases and
sharp pictures with sensor noise and a codec) leaves frames above its cut untouched: a model that sharpens
a picture that is already sharp draws its noise and codec marks larger (0.8-1.9 dB lost, sitting 12).
`BlurSwitch` reads the same figure at the other end: far below it, a frame is strongly blurred (up-scaled ~x3,
or defocused) and a card's third model, trained for such frames, may take it (sitting 15).

`Resampling` tells the two kinds of strongly blurred frame apart (sitting 16): a frame up-scaled from a smaller one
has pixels that lie at the source's samples and pixels interpolated between them, at a fixed pattern, so the mean
|second difference| per column rises and falls with the scale's period (a spectral peak at 1/scale; `periodic`, the
peak over the band's median), and a x2 up-scale's first differences alternate within and across source pixels
(`phase`); a lens blurs every pixel alike and leaves neither. Codec block grids (every 4, 8 or 16 px) are left out of
the spectrum, and with them up-scales whose period falls on theirs (x8/3, x3.2, x4). A card's blur model with these
cuts (`lens_only`) takes only frames that read as neither: lens blur; with `upscaled_only` (sitting 17) only frames
that read as either: up-scales.
"""

from __future__ import annotations

import cv2
import numpy as np

MIN_PERIODS = 4  # grid periods per side a plane needs: fewer, and one column per phase decides
# added to every phase's mean |difference| (grey levels), so that flat pictures (a test chart, a dark
# room) give ~1.0 instead of a ratio of two near-zero sums
FLOOR_LEVELS = 0.25


class Blockiness:
    """The blockiness of (H, W) uint8 planes of one size at a `period`-pixel grid (~1.0 for most pictures
    and for a flat plane). Scratch buffers are allocated once; call from one thread only."""

    @staticmethod
    def fits(width: int, height: int, period: int) -> bool:
        """Whether a plane of this size is large enough to measure (MIN_PERIODS periods per side)."""
        return min(width, height) >= MIN_PERIODS * period

    def __init__(self, width: int, height: int, period: int = 16) -> None:
        if period < 2 or period % 2 or not self.fits(width, height, period):
            raise ValueError(f"blockiness needs an even period >= 2 and a plane of {MIN_PERIODS} periods a side, "
                             f"not {period} on {width}x{height}")
        self.size, self.period = (width, height), period
        self._dx_u8 = np.empty((height, width - 1), np.uint8)
        self._dy_u8 = np.empty((height - 1, width), np.uint8)
        self._col_s32 = np.empty((1, width - 1), np.int32)
        self._row_s32 = np.empty((height - 1, 1), np.int32)
        self._fold_f64 = np.empty(period, np.float64)
        self._dx_s16 = np.empty((height, width - 1), np.int16)
        self._dy_s16 = np.empty((height - 1, width), np.int16)
        self._ddx_s16 = np.empty((height, width - 2), np.int16)
        self._ddy_s16 = np.empty((height - 2, width), np.int16)
        self.detail = float("nan")  # the detail figure of the latest plane measured

    def __call__(self, y_u8: np.ndarray) -> float:
        w, h = self.size
        if y_u8.shape != (h, w):
            raise ValueError(f"blockiness of a {y_u8.shape[1]}x{y_u8.shape[0]} plane with buffers for {w}x{h}")
        cv2.absdiff(y_u8[:, 1:], y_u8[:, :-1], dst=self._dx_u8)
        cv2.absdiff(y_u8[1:], y_u8[:-1], dst=self._dy_u8)
        cv2.reduce(self._dx_u8, 0, cv2.REDUCE_SUM, dst=self._col_s32, dtype=cv2.CV_32S)
        cv2.reduce(self._dy_u8, 1, cv2.REDUCE_SUM, dst=self._row_s32, dtype=cv2.CV_32S)
        self.detail = self._detail(y_u8)
        return 0.5 * (self._ratio(self._col_s32.reshape(-1), h) + self._ratio(self._row_s32.reshape(-1), w))

    def _detail(self, y_u8: np.ndarray) -> float:
        """Mean |second difference| over mean |first difference|, columns and rows together."""
        cv2.subtract(y_u8[:, 1:], y_u8[:, :-1], dst=self._dx_s16, dtype=cv2.CV_16S)
        cv2.subtract(y_u8[1:], y_u8[:-1], dst=self._dy_s16, dtype=cv2.CV_16S)
        cv2.subtract(self._dx_s16[:, 1:], self._dx_s16[:, :-1], dst=self._ddx_s16)
        cv2.subtract(self._dy_s16[1:], self._dy_s16[:-1], dst=self._ddy_s16)
        first = float(self._col_s32.sum(dtype=np.int64) + self._row_s32.sum(dtype=np.int64))  # the |first differences|
        second = cv2.norm(self._ddx_s16, cv2.NORM_L1) + cv2.norm(self._ddy_s16, cv2.NORM_L1)
        n1, n2 = self._dx_s16.size + self._dy_s16.size, self._ddx_s16.size + self._ddy_s16.size
        floor = FLOOR_LEVELS  # a flat plane: ~1.0 rather than 0 / 0
        return (second / n2 + floor) / (first / n1 + floor)

    def _ratio(self, sums: np.ndarray, per_sum: int) -> float:
        """`sums`: one sum of `per_sum` |differences| per column (or row)."""
        p = self.period
        n = len(sums) // p * p
        np.sum(sums[:n].reshape(-1, p), axis=0, out=self._fold_f64)
        fold = self._fold_f64
        floor = FLOOR_LEVELS * per_sum * (n // p)  # every phase sums the same number of differences
        return float(max((fold[k] + floor) / (fold[(k + p // 2) % p] + floor) for k in range(p)))


def blockiness(y_u8: np.ndarray, period: int = 16) -> float:
    """One plane's blockiness (allocates its scratch: offline use)."""
    return Blockiness(y_u8.shape[1], y_u8.shape[0], period)(y_u8)


def block_figures(y_u8: np.ndarray, period: int = 16) -> tuple[float, float]:
    """One plane's (blockiness, detail) (allocates its scratch: offline use)."""
    measure = Blockiness(y_u8.shape[1], y_u8.shape[0], period)
    return measure(y_u8), measure.detail


class Texture:
    """The `textured` figure of (H, W) uint8 planes of one size: mean |second difference| over mean |first
    difference| (rows and columns together), both counted only where the first difference is at least `step`
    grey levels (~0.75-1.3 for a sharp picture, ~0.3-0.65 for a natural one up-scaled or blurred, up to ~0.8 for
    line art up-scaled; 0.0 for a flat plane, which has no texture to tell). Scratch buffers are allocated once;
    call from one thread only."""

    MIN_SIDE = 8

    def __init__(self, width: int, height: int, step: int) -> None:
        if not 1 <= step <= 255 or min(width, height) < self.MIN_SIDE:
            raise ValueError(f"the textured figure needs a step of 1..255 levels and a plane of {self.MIN_SIDE} px a side, "
                             f"not {step} on {width}x{height}")
        self.size, self.step = (width, height), step
        self._abs_u8 = [np.empty((height, width - 1), np.uint8), np.empty((height - 1, width), np.uint8)]
        self._d1_s16 = [np.empty((height, width - 1), np.int16), np.empty((height - 1, width), np.int16)]
        self._d2_s16 = [np.empty((height, width - 2), np.int16), np.empty((height - 2, width), np.int16)]
        self._mask_u8 = [np.empty((height, width - 2), np.uint8), np.empty((height - 2, width), np.uint8)]

    def __call__(self, y_u8: np.ndarray) -> float:
        w, h = self.size
        if y_u8.shape != (h, w):
            raise ValueError(f"textured figure of a {y_u8.shape[1]}x{y_u8.shape[0]} plane with buffers for {w}x{h}")
        num = den = 0.0
        for axis, (abs_u8, d1, d2, mask) in enumerate(zip(self._abs_u8, self._d1_s16, self._d2_s16, self._mask_u8)):
            a, b = (y_u8[:, 1:], y_u8[:, :-1]) if axis == 0 else (y_u8[1:], y_u8[:-1])
            cv2.absdiff(a, b, dst=abs_u8)
            cv2.subtract(a, b, dst=d1, dtype=cv2.CV_16S)
            # the second difference at i is d1[i + 1] - d1[i], counted where |d1[i]| >= step
            head, tail = (d1[:, :-1], d1[:, 1:]) if axis == 0 else (d1[:-1], d1[1:])
            abs_head = abs_u8[:, :-1] if axis == 0 else abs_u8[:-1]
            cv2.subtract(tail, head, dst=d2)
            cv2.threshold(abs_head, self.step - 1, 255, cv2.THRESH_BINARY, dst=mask)
            num += cv2.norm(d2, cv2.NORM_L1, mask)
            den += cv2.norm(abs_head, cv2.NORM_L1, mask)
        return num / max(den, 1.0)


def textured(y_u8: np.ndarray, step: int) -> float:
    """One plane's textured figure (allocates its scratch: offline use)."""
    return Texture(y_u8.shape[1], y_u8.shape[0], step)(y_u8)


class Reblur:
    """The re-blur ratio of (H, W) uint8 planes of one size: the textured figure of the plane blurred again (x2
    area-down, linear-up) over the plane's own. Among pictures whose textured figure is high, re-blurring takes much
    of a sharp one's fine detail away (~0.4-0.7) and less of one up-scaled already (~0.72-0.9), line art included,
    which keeps a high textured figure (its 1-2 px lines stay steep) but not a low ratio (README, sitting 14). Not a
    figure on its own: blurred and noisy pictures read 0.54-0.8 here, but their textured figure is low. Scratch
    buffers are allocated once; call from one thread only."""

    def __init__(self, width: int, height: int, step: int) -> None:
        self.texture = Texture(width, height, step)
        self._half_u8 = np.empty((max(1, height // 2), max(1, width // 2)), np.uint8)
        self._again_u8 = np.empty((height, width), np.uint8)

    def __call__(self, y_u8: np.ndarray, figure: float | None = None) -> float:
        """The ratio; `figure`: the plane's own textured figure if already measured."""
        own = self.texture(y_u8) if figure is None else figure
        w, h = self.texture.size
        cv2.resize(y_u8, self._half_u8.shape[::-1], dst=self._half_u8, interpolation=cv2.INTER_AREA)
        cv2.resize(self._half_u8, (w, h), dst=self._again_u8, interpolation=cv2.INTER_LINEAR)
        return self.texture(self._again_u8) / max(own, 1e-6)


def reblur_ratio(y_u8: np.ndarray, step: int) -> float:
    """One plane's re-blur ratio (allocates its scratch: offline use)."""
    return Reblur(y_u8.shape[1], y_u8.shape[0], step)(y_u8)


class Resampling:
    """Two figures of resampling on (H, W) uint8 planes of one size, each the smaller over rows and columns (an
    up-scale acts on both; a stripe pattern on one):
    - `periodic`: the spectrum of the mean |second difference| per column (outlier columns clipped, Hann window, mean
      removed), its highest bin between 0.15 and 0.5 cycles/px, codec grids' frequencies (k/16) left out, over the
      band's median: ~2-4 for a picture never resampled, blurred by a lens or not; ~5-90 for one up-scaled x2.4..x3.5
      whose frequency 1/scale (or its alias) is not one of those left out. Blind to up-scales at k/16 (x8/3, x3.2, x4:
      1280x720 from 480x270, 400x225 or 320x180), and to a centred x2, which is symmetric about its samples and leaves
      no such peak;
    - `phase`: the mean |first difference| per column folded modulo 4, the weaker of one parity's two phases over the
      stronger of the other's (the larger of the two ways round): ~1.0 without resampling, ~1.1-1.6 after a x2 bicubic
      up-scale (a = -0.5, MATLAB's; its differences alternate within and across source pixels); a codec grid lifts one
      phase only, a lens none. Weaker after other kernels: OpenCV's cubic (a = -0.75) and bilinear interpolate a smooth
      source alike within and across its pixels, and leave 1.0-1.3.
    Scratch buffers (and each axis' band of DFT bins) are made once; call from one thread only."""

    MIN_SIDE = 128  # shorter profiles leave few bins in the band between the codec grids' frequencies
    BAND = (0.15, 0.5)
    GRID = 16  # codec grids (JPEG's 8 px, H.264's 4, 8 and 16): their harmonics k/16 are left out of the band

    def __init__(self, width: int, height: int) -> None:
        if min(width, height) < self.MIN_SIDE:
            raise ValueError(f"the resampling figures need a plane of {self.MIN_SIDE} px a side, not {width}x{height}")
        self.size = (width, height)
        self._axes = []
        for axis, (n_d1, rows) in enumerate(((width - 1, height), (height - 1, width))):
            n = n_d1 - 1  # second differences per row (or column)
            shape_d1 = (rows, n_d1) if axis == 0 else (n_d1, rows)
            shape_d2 = (rows, n) if axis == 0 else (n, rows)
            freq = np.arange(n // 2 + 1) / n
            band = (freq >= self.BAND[0]) & (freq < self.BAND[1])
            for k in range(1, self.GRID + 1):
                band &= np.abs(freq - k / self.GRID) > 2.5 / n  # a Hann window's main lobe is 2 bins each side
            self._axes.append({
                "d1_s16": np.empty(shape_d1, np.int16), "abs1_s16": np.empty(shape_d1, np.int16),
                "abs2_s16": np.empty(shape_d2, np.int16),
                # float32 sums of whole grey levels are exact below 2^24 (a 4K plane's sums stay under 2.3e6), and
                # OpenCV reduces into float32 many times faster than into float64 along rows
                "sum1_f32": np.empty((1, n_d1) if axis == 0 else (n_d1, 1), np.float32),
                "sum2_f32": np.empty((1, n) if axis == 0 else (n, 1), np.float32),
                "window_f64": np.hanning(n), "profile_f64": np.empty(n, np.float64), "scratch_f64": np.empty(n, np.float64),
                "profile1_f64": np.empty(n_d1, np.float64), "scratch1_f64": np.empty(n_d1, np.float64),
                "spectrum_c128": np.empty(n // 2 + 1, np.complex128), "power_f64": np.empty(n // 2 + 1, np.float64),
                "band": np.flatnonzero(band), "band_f64": np.empty(int(band.sum()), np.float64),
                "fold_f64": np.empty(4, np.float64), "axis": axis,
            })
        self.phase = float("nan")  # the phase figure of the latest plane measured

    def __call__(self, y_u8: np.ndarray) -> float:
        """The periodic figure of this plane; the phase figure is left in `phase`."""
        w, h = self.size
        if y_u8.shape != (h, w):
            raise ValueError(f"resampling figures of a {y_u8.shape[1]}x{y_u8.shape[0]} plane with buffers for {w}x{h}")
        periodic, phase = [], []
        for axis, ax in enumerate(self._axes):
            a, b = (y_u8[:, 1:], y_u8[:, :-1]) if axis == 0 else (y_u8[1:], y_u8[:-1])
            d1 = ax["d1_s16"]
            cv2.subtract(a, b, dst=d1, dtype=cv2.CV_16S)
            head, tail = (d1[:, :-1], d1[:, 1:]) if axis == 0 else (d1[:-1], d1[1:])
            cv2.absdiff(tail, head, dst=ax["abs2_s16"])
            cv2.absdiff(d1, 0, dst=ax["abs1_s16"])
            cv2.reduce(ax["abs2_s16"], axis, cv2.REDUCE_SUM, dst=ax["sum2_f32"], dtype=cv2.CV_32F)
            cv2.reduce(ax["abs1_s16"], axis, cv2.REDUCE_SUM, dst=ax["sum1_f32"], dtype=cv2.CV_32F)
            periodic.append(self._peak(ax))
            phase.append(self._phase(ax))
        self.phase = min(phase)
        return min(periodic)

    @staticmethod
    def _robust(sums_f32: np.ndarray, profile_f64: np.ndarray, scratch_f64: np.ndarray) -> np.ndarray:
        """`sums_f32` into `profile_f64`, clipped to its 10th-90th percentile range widened by that range on each side:
        one strong line, or the edges of a letterbox's bars, would otherwise spread their power over the whole band
        (lifting its median) or lift one phase, and hide an up-scale's pattern (README, sitting 16)."""
        profile_f64[:] = sums_f32.reshape(-1)
        scratch_f64[:] = profile_f64
        n = len(scratch_f64)
        lo_k, hi_k = n // 10, n - 1 - n // 10
        scratch_f64.partition((lo_k, hi_k))
        lo, hi = scratch_f64[lo_k], scratch_f64[hi_k]
        np.clip(profile_f64, lo - (hi - lo), hi + (hi - lo), out=profile_f64)
        return profile_f64

    def _peak(self, ax: dict) -> float:
        profile = self._robust(ax["sum2_f32"], ax["profile_f64"], ax["scratch_f64"])  # sums: a scale drops out
        profile -= profile.mean()
        np.multiply(profile, ax["window_f64"], out=profile)
        ax["spectrum_c128"][:] = np.fft.rfft(profile)  # one small array per check (not per frame)
        np.abs(ax["spectrum_c128"], out=ax["power_f64"])
        band = ax["band_f64"]
        np.take(ax["power_f64"], ax["band"], out=band)
        peak = float(band.max())
        band.partition(len(band) // 2)
        return (peak + 1e-9) / (float(band[len(band) // 2]) + 1e-9)  # a flat plane: 1.0

    def _phase(self, ax: dict) -> float:
        d = self._robust(ax["sum1_f32"], ax["profile1_f64"], ax["scratch1_f64"])
        n = len(d) // 4 * 4
        fold = ax["fold_f64"]
        np.sum(d[:n].reshape(-1, 4), axis=0, out=fold)
        fold /= (n // 4) * ax["abs1_s16"].shape[ax["axis"]]  # the mean |difference| per phase, in grey levels
        fold += FLOOR_LEVELS
        even, odd = (fold[0], fold[2]), (fold[1], fold[3])
        return float(max(min(even) / max(odd), min(odd) / max(even)))


def resampling_figures(y_u8: np.ndarray) -> tuple[float, float]:
    """One plane's (periodic, phase) (allocates its scratch: offline use)."""
    measure = Resampling(y_u8.shape[1], y_u8.shape[0])
    return measure(y_u8), measure.phase


class _Hysteresis:
    """A 0/1 choice taken on every `every`-th frame and changed only after `confirm` checks in a row that want
    the other side; the first check decides at once (a single picture has no history)."""

    def __init__(self, every: int, confirm: int) -> None:
        if every < 1 or confirm < 1:
            raise ValueError(f"a switch checks every >= 1 frames and confirms over >= 1 checks, not {every} and {confirm}")
        self.every, self.confirm = every, confirm
        self.active = 0
        self.changes = 0
        self.frames = [0, 0]  # frames on side 0 / side 1
        self._frame = 0
        self._streak = 0
        self._decided = False  # whether any check was made: until then the next one decides at once

    def carry_on_from(self, previous: "_Hysteresis") -> None:
        """Takes over another's state; one that was never asked (a switch behind a gate that passed every frame)
        leaves nothing to carry, so the first check still decides at once and on the cadence's first frame."""
        self.active, self.changes, self.frames = previous.active, previous.changes, list(previous.frames)
        self._frame, self._streak, self._decided = previous._frame, previous._streak, previous._decided

    def due(self) -> bool:
        """Whether this frame is checked (call once per frame, then `decide` if it is)."""
        self._frame += 1
        return (self._frame - 1) % self.every == 0

    def decide(self, wanted: int) -> None:
        if wanted == self.active:
            self._streak = 0
        elif not self._decided or self._streak + 1 >= self.confirm:
            self.active, self._streak = wanted, 0
            self.changes += 1
        else:
            self._streak += 1
        self._decided = True

    def count(self) -> int:
        self.frames[self.active] += 1
        return self.active


class _Checked:
    """What a per-frame choice with hysteresis (`_state`) reports: the side it is on, how often it changed, and the
    frames counted on each side."""

    _state: _Hysteresis

    @property
    def active(self) -> int:
        return self._state.active

    @property
    def changes(self) -> int:
        return self._state.changes

    @property
    def frames(self) -> list[int]:
        return self._state.frames


class SharpGate(_Checked):
    """Per frame, whether the picture is already sharp (its textured figure above `above` and, with `reblur_below`,
    its re-blur ratio below that), so that the model's change is left out (and the model not run). Checked on every
    `every`-th frame; it changes side only after `confirm` checks in a row on the other side of the cuts, so a stream
    near a cut does not blink between sharpened and not. `frames`: frames given to the model / passed through. Call
    `passes` from one thread only."""

    def __init__(self, width: int, height: int, step: int, above: float, every: int = 1, confirm: int = 1,
                 reblur_below: float | None = None) -> None:
        self._reblur = Reblur(width, height, step)
        self._measure = self._reblur.texture
        self._state = _Hysteresis(every, confirm)
        self.step, self.above, self.reblur_below = step, above, reblur_below
        self.last = float("nan")  # the latest figure (for the stats line)
        self.last_ratio = float("nan")  # the latest re-blur ratio (measured only above `above`)
        self.fresh = False  # whether `last` was measured on the latest plane given to `passes`

    @property
    def passing(self) -> bool:
        return bool(self._state.active)

    def carry_on_from(self, previous: "SharpGate") -> None:
        """Takes over a gate's state: a new processor for the same stream keeps passing (or not)."""
        self._state.carry_on_from(previous._state)
        self.last, self.last_ratio = previous.last, previous.last_ratio

    def passes(self, y_u8: np.ndarray) -> bool:
        """Whether this frame ((H, W) uint8 Y plane of the capture frame) passes through untouched."""
        self.fresh = self._state.due()
        if self.fresh:
            self.last = self._measure(y_u8)
            sharp = self.last > self.above
            if sharp and self.reblur_below is not None:  # the second figure only where the first says sharp
                self.last_ratio = self._reblur(y_u8, self.last)
                sharp = self.last_ratio < self.reblur_below
            self._state.decide(int(sharp))
        return bool(self._state.count())


class BlurSwitch(_Checked):
    """Per frame, 0 (the model chosen so far) or 1 (the card's model for strongly blurred frames: a textured figure
    below `below`; ~0.3-0.45 for a picture up-scaled x3, ~0.45-0.7 for one up-scaled x2), with `BlockSwitch`'s
    hysteresis; `frames`: frames left to the model chosen before / sent to the blur model. With `lens_only`
    (periodic cut, phase cut), a model for lens blur: a frame below `below` goes to it only if its `Resampling`
    figures are both below those cuts too (measured only then), so frames up-scaled from a smaller one stay with the
    model chosen before. With `upscaled_only` (the same two cuts), the inverse, a model for up-scales: only a frame
    where at least one figure reaches its cut, so lens blur stays with the model chosen before. Two ways to drive it:
    `follow`, with the figure a gate at the same step has just measured on this plane (so one measurement serves both,
    on the gate's cadence, and no textured-figure buffers of its own), or `choose`, which measures on its own cadence
    (a card whose gate is off). Call from one thread only."""

    def __init__(self, width: int, height: int, step: int, below: float, every: int = 1, confirm: int = 1,
                 follows_gate: bool = False, lens_only: tuple[float, float] | None = None,
                 upscaled_only: tuple[float, float] | None = None) -> None:
        if lens_only is not None and upscaled_only is not None:
            raise ValueError("a blur model is for lens blur or for up-scales, not both")
        self.follows_gate = follows_gate
        self._measure = None if follows_gate else Texture(width, height, step)
        self.cuts = lens_only if lens_only is not None else upscaled_only  # the resampling cuts, either way
        self._resampling = Resampling(width, height) if self.cuts is not None else None
        self._state = _Hysteresis(every, confirm)
        self.step, self.below, self.lens_only, self.upscaled_only = step, below, lens_only, upscaled_only
        self.last = float("nan")  # the latest figure (for the stats line)
        self.last_periodic = self.last_phase = float("nan")  # the latest resampling figures (measured below `below`)

    def carry_on_from(self, previous: "BlurSwitch") -> None:
        """Takes over a blur switch's state: a new processor for the same stream keeps its model."""
        self._state.carry_on_from(previous._state)
        self.last, self.last_periodic, self.last_phase = previous.last, previous.last_periodic, previous.last_phase

    def choose(self, y_u8: np.ndarray) -> int:
        """1 if this frame ((H, W) uint8 Y plane of the capture frame) goes to the blur model, measured here."""
        if self.follows_gate:
            raise RuntimeError("this blur switch follows a gate's figure: call follow()")
        if self._state.due():
            self._check(self._measure(y_u8), y_u8)
        return self._state.count()

    def follow(self, figure: float | None, y_u8: np.ndarray) -> int:
        """1 if this frame goes to the blur model; `figure`: the textured figure (at `step`) a gate has just measured
        on this very plane `y_u8`, or None where it measured nothing (the side is kept)."""
        if figure is not None:
            self._check(figure, y_u8)
        return self._state.count()

    def _check(self, figure: float, y_u8: np.ndarray) -> None:
        self.last = figure
        blurred = figure < self.below
        if blurred and self._resampling is not None:
            assert self.cuts is not None
            self.last_periodic = self._resampling(y_u8)
            self.last_phase = self._resampling.phase
            lens = self.last_periodic < self.cuts[0] and self.last_phase < self.cuts[1]
            blurred = lens if self.lens_only is not None else not lens
        self._state.decide(int(blurred))


class StrengthRamp:
    """Per frame left to the card's plain model, the share of its change to keep, 0..1 (sitting 18): a frame up-scaled
    only a little (x1.25-x1.75: 540p-576p shown at 720p) is sharpened by the plain model as if it were x2, and loses to
    its input; such a frame reads as resampled (its `Resampling` periodic figure at or above `periodic_from`, or its
    phase figure at or below `phase_up_to`: x4/3, whose period 4 the periodic figure leaves out, folds unevenly modulo
    4) and keeps less detail under a re-blur (vcam/detect.py `Reblur` at `step`: ~0.62-0.72 where x2 reads ~0.73-0.8).
    Such a frame keeps (ratio - from) / (to - from) of the change, clipped to 0..1; any other frame all of it.
    Measured on every `every`-th frame it is given; after each check the share moves 1/`confirm` of the way to the new
    target (the first check sets it; within 1/256 it lands on it), so a stream near the edges does not step between
    looks. `changes` counts the checks after which the share went below 1 or back to 1 (the daemon logs those). Call
    from one thread only."""

    def __init__(self, width: int, height: int, step: int, ramp_from: float, ramp_to: float, periodic_from: float,
                 phase_up_to: float, every: int = 1, confirm: int = 1) -> None:
        if not 0 < ramp_from < ramp_to or every < 1 or confirm < 1:
            raise ValueError(f"a strength ramp needs 0 < from < to, every >= 1 and confirm >= 1, not {ramp_from}, {ramp_to}, "
                             f"{every}, {confirm}")
        self._reblur = Reblur(width, height, step)
        self._resampling = Resampling(width, height)
        self.step, self.ramp_from, self.ramp_to = step, ramp_from, ramp_to
        self.periodic_from, self.phase_up_to, self.every, self.confirm = periodic_from, phase_up_to, every, confirm
        self.share = 1.0  # what the frames get now
        self.target = 1.0  # what the latest check asked for
        self.last_ratio = self.last_periodic = self.last_phase = float("nan")  # the latest figures (for the stats line)
        self.checks = 0
        self.changes = 0
        self._frame = 0

    @property
    def settings(self) -> tuple[int, float, float, float, float]:
        """What the share depends on: a new processor carries a ramp on only where these are the same."""
        return self.step, self.ramp_from, self.ramp_to, self.periodic_from, self.phase_up_to

    def carry_on_from(self, previous: "StrengthRamp") -> None:
        """Takes over a ramp's state: a new processor for the same stream keeps the share it had reached."""
        self.share, self.target, self.checks, self._frame = previous.share, previous.target, previous.checks, previous._frame
        self.changes = previous.changes
        self.last_ratio, self.last_periodic, self.last_phase = previous.last_ratio, previous.last_periodic, previous.last_phase

    def resampled(self) -> bool:
        """Whether the latest check read the frame as resampled."""
        return self.last_periodic >= self.periodic_from or self.last_phase <= self.phase_up_to

    def target_of(self, y_u8: np.ndarray) -> float:
        """The share this plane ((H, W) uint8 Y) asks for, measured now (the re-blur ratio only where it counts)."""
        self.last_periodic = self._resampling(y_u8)
        self.last_phase = self._resampling.phase
        if not self.resampled():
            return 1.0
        self.last_ratio = self._reblur(y_u8)
        return min(1.0, max(0.0, (self.last_ratio - self.ramp_from) / (self.ramp_to - self.ramp_from)))

    def __call__(self, y_u8: np.ndarray) -> float:
        """The share of the model's change for this frame ((H, W) uint8 Y plane of the capture frame)."""
        self._frame += 1
        if (self._frame - 1) % self.every == 0:
            self.target = self.target_of(y_u8)
            was_full = self.share == 1.0
            self.share = self.target if self.checks == 0 else self.share + (self.target - self.share) / self.confirm
            if abs(self.share - self.target) < 1.0 / 256:
                self.share = self.target
            self.checks += 1
            if (self.share == 1.0) != was_full:
                self.changes += 1
        return self.share


class BlockSwitch(_Checked):
    """Per frame, 0 (the card's model) or 1 (its alternate, for frames whose blockiness is above `cut` and,
    with `detail_below`, whose detail is below that).

    The statistic is taken on every `every`-th frame only, and the choice changes only after `confirm`
    checks in a row on the other side of the cut: a stream is small-and-up-scaled for seconds at a
    time, and a model that changes with every frame near the cut would flicker between two looks. The
    first check decides at once (a single picture has no history). `frames`: frames sent to the card's model / to
    its alternate. Call `choose` from one thread only.
    """

    def __init__(self, width: int, height: int, period: int, cut: float, every: int = 1, confirm: int = 1,
                 detail_below: float | None = None) -> None:
        self._state = _Hysteresis(every, confirm)
        self._measure = Blockiness(width, height, period)
        self.period, self.cut, self.every, self.confirm, self.detail_below = period, cut, every, confirm, detail_below
        self.last = float("nan")  # the latest blockiness (for the stats line)

    def carry_on_from(self, previous: "BlockSwitch") -> None:
        """Takes over a switch's state (its model, checks in a row, counts): a new processor for the same
        stream (a strength change, a reload, a work-size step) keeps the model it was running."""
        self._state.carry_on_from(previous._state)
        self.last = previous.last
        self._measure.detail = previous._measure.detail

    def choose(self, y_u8: np.ndarray) -> int:
        """The model for this frame ((H, W) uint8 Y plane of the capture frame)."""
        if self._state.due():
            self.last = self._measure(y_u8)
            self._state.decide(int(self.last > self.cut and (self.detail_below is None or self._measure.detail < self.detail_below)))
        return self._state.count()

    @property
    def detail(self) -> float:
        """The latest detail figure (nan before the first check)."""
        return self._measure.detail
