"""The degradation the models learn to undo, and the published SR protocol's resize.

HR -> bicubic down by `scale` -> bicubic back up, both MATLAB-compatible (antialiased cubic, a = -0.5,
uint8 rounding after each step). PIL's BICUBIC is that kernel (within 0.01 dB of MATLAB); OpenCV's
INTER_CUBIC (a = -0.75, no antialiasing) is a different problem and is never used here.
Optional extras: JPEG compression and mild Gaussian noise, drawn from an rng that the caller passes in.
Below them, the webcam degradations (`WebcamMix`, what the shipped default trains on) and the four fixed
degradations of the webcam benchmark (`WEBCAM_BENCHMARK`).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image


def modcrop(rgb_u8: np.ndarray, scale: int) -> np.ndarray:
    """Crops H x W x C (or H x W) so both sides are multiples of `scale` (top-left anchored)."""
    h, w = rgb_u8.shape[:2]
    return rgb_u8[: h - h % scale, : w - w % scale]


def bicubic_resize(rgb_u8: np.ndarray, width: int, height: int) -> np.ndarray:
    """MATLAB-like bicubic resize of an H x W x 3 (or H x W) uint8 array to height x width, uint8."""
    return np.asarray(Image.fromarray(rgb_u8).resize((width, height), Image.BICUBIC))


def bicubic_down_up(rgb_u8: np.ndarray, scale: int) -> np.ndarray:
    """The protocol's degraded input: bicubic /scale then x scale, uint8 after each step.

    `rgb_u8` must already be modcropped (H, W multiples of `scale`); returns the same shape."""
    h, w = rgb_u8.shape[:2]
    if h % scale or w % scale:
        raise ValueError(f"image {w}x{h} is not a multiple of scale {scale}: modcrop it first")
    small = bicubic_resize(rgb_u8, w // scale, h // scale)
    return bicubic_resize(small, w, h)


def jpeg_roundtrip(rgb_u8: np.ndarray, quality: int) -> np.ndarray:
    """Encodes and decodes with JPEG at `quality` (1..95): the blocking and ringing a codec adds."""
    buf = io.BytesIO()
    Image.fromarray(rgb_u8).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert(Image.fromarray(rgb_u8).mode))


def degrade(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    scales: tuple[int, ...] = (2,),
    jpeg_quality: tuple[int, int] | None = None,
    noise_sigma: tuple[float, float] | None = None,
) -> np.ndarray:
    """Random degradation for training: a scale drawn from `scales`, then optional JPEG (quality drawn
    uniformly from the inclusive range) and Gaussian noise (sigma in 0..255 units, drawn uniformly).

    `rgb_u8`: H x W x 3 uint8 with H, W multiples of every scale. Returns H x W x 3 uint8."""
    scale = int(scales[rng.integers(len(scales))]) if len(scales) > 1 else int(scales[0])
    lq = bicubic_down_up(rgb_u8, scale)
    if jpeg_quality is not None:
        lq = jpeg_roundtrip(lq, int(rng.integers(jpeg_quality[0], jpeg_quality[1] + 1)))
    if noise_sigma is not None:
        sigma = rng.uniform(noise_sigma[0], noise_sigma[1])
        noisy = lq.astype(np.float32) + rng.normal(0.0, sigma, size=lq.shape).astype(np.float32)
        lq = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
    return lq


# ---- webcam degradations: what a real camera and a video call do to a frame ----

_CV2_DOWN = {"bicubic": 2, "area": 3, "bilinear": 1}  # cv2.INTER_CUBIC, INTER_AREA, INTER_LINEAR


def _cv2():
    import cv2  # the runtime's dependency; imported here so the protocol helpers above need only PIL

    return cv2


def gaussian_blur(rgb_u8: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur (optics slightly out of focus, or a soft lens), symmetric borders, uint8."""
    cv2 = _cv2()
    return cv2.GaussianBlur(rgb_u8, (0, 0), sigmaX=float(sigma), borderType=cv2.BORDER_REFLECT_101)


def defocus_blur(rgb_u8: np.ndarray, radius: float) -> np.ndarray:
    """Disc (defocus) blur of `radius` px, anti-aliased edge, symmetric borders, uint8."""
    cv2 = _cv2()
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = np.clip(radius + 0.5 - np.hypot(yy, xx), 0.0, 1.0).astype(np.float32)
    return cv2.filter2D(rgb_u8, -1, disc / disc.sum(), borderType=cv2.BORDER_REFLECT_101)


def resize_u8(rgb_u8: np.ndarray, width: int, height: int, method: str) -> np.ndarray:
    """Resize with a camera/encoder-style filter: bicubic (MATLAB-like, PIL), area or bilinear (OpenCV)."""
    if method == "bicubic":
        return bicubic_resize(rgb_u8, width, height)
    return _cv2().resize(rgb_u8, (width, height), interpolation=_CV2_DOWN[method])


def add_sensor_noise(rgb_u8: np.ndarray, rng: np.random.Generator, sigma_read: float, gain: float) -> np.ndarray:
    """Sensor noise in 0..255 units: Gaussian read noise `sigma_read` plus signal-dependent (shot) noise
    of variance `gain` x level, independent per channel; rounded to uint8."""
    x = rgb_u8.astype(np.float32)
    sigma = np.sqrt(sigma_read**2 + gain * x)
    return np.clip(np.rint(x + sigma * rng.standard_normal(x.shape, dtype=np.float32)), 0, 255).astype(np.uint8)


def jpeg_cv2(rgb_u8: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip with 4:2:0 chroma (OpenCV/libjpeg's default), as webcams' MJPG and most codecs."""
    cv2 = _cv2()
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb_u8[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])


def h264_intra(rgb_u8: np.ndarray, crf: int) -> np.ndarray:
    """H x W x 3 uint8 through libx264 as one intra frame (yuv420p, constant quality `crf`,
    preset medium, one thread: the same bytes from run to run with one PyAV build) and back: H.264's 4 x 4 transforms, intra
    prediction and in-loop deblocking, which JPEG's 8 x 8 blocks do not teach. Needs PyAV (`.[video]`)."""
    try:
        import av
    except ImportError as e:  # the mix is built long before the first H.264 draw: say it at once
        raise ImportError("H.264 in the webcam mix needs PyAV: pip install -e '.[video]'") from e
    h, w = rgb_u8.shape[:2]
    # 4:2:0 needs even sides; a down-scaled window can be odd: repeat the last row / column, crop after
    x = np.pad(rgb_u8, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="h264") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = x.shape[1], x.shape[0], "yuv420p"
        stream.options = {"crf": str(int(crf)), "preset": "medium", "threads": "1"}
        for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(x), format="rgb24")):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    buf.seek(0)
    with av.open(buf, mode="r", format="h264") as inp:
        return np.ascontiguousarray(next(inp.decode(video=0)).to_ndarray(format="rgb24")[:h, :w])


@dataclass(frozen=True)
class WebcamMix:
    """The random webcam degradation the shipped default trains on; each field is a probability or the
    inclusive range a value is drawn from (uniformly). 0..255 units for noise.

    Order, as in a camera and a call: optics blur -> down-scale (sensor/encoder resolution) -> sensor
    noise -> JPEG at the low resolution or after the up-scale -> up-scale back to the frame size."""

    p_clean_x2: float = 0.2  # plain protocol x2 bicubic, nothing else: keeps the published-protocol score
    scale: tuple[float, float] = (1.5, 3.0)
    p_resize: float = 0.9
    methods: tuple[str, ...] = ("bicubic", "area", "bilinear")
    p_blur: float = 0.5
    p_defocus: float = 0.3  # of the blurred ones: a disc instead of a Gaussian
    blur_sigma: tuple[float, float] = (0.4, 1.6)
    defocus_radius: tuple[float, float] = (0.8, 2.2)
    p_noise: float = 0.6
    read_sigma: tuple[float, float] = (0.5, 4.0)
    shot_gain: tuple[float, float] = (0.0, 0.08)  # 0.08 x 200 -> sigma 4; with read 4: ~5.7/255 at most
    p_jpeg: float = 0.7
    jpeg_quality: tuple[int, int] = (30, 95)
    p_jpeg_low_res: float = 0.5  # JPEG before the up-scale (a small encoded stream) vs after (MJPG at full size)
    # Of the coded pictures: H.264 (one libx264 intra frame) instead of JPEG. Its CRF is the JPEG quality
    # draw mapped onto h264_crf (the lowest quality to the highest CRF), so turning it on draws nothing
    # more from the rng and leaves every other draw as it was.
    p_h264: float = 0.0
    h264_crf: tuple[int, int] = (18, 38)

    def __call__(self, rgb_u8: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """H x W x 3 uint8 (H, W even) -> the same shape, degraded; every draw comes from `rng`."""
        h, w = rgb_u8.shape[:2]
        u = rng.random(8)  # one vector of coin flips: the draw order never depends on earlier outcomes
        if u[0] < self.p_clean_x2:
            return bicubic_down_up(rgb_u8, 2)
        x = rgb_u8
        resized = u[3] < self.p_resize
        s = rng.uniform(*self.scale)
        # Optical blur on top of a strong down-scale gives pictures no 3x3 net can restore (and no
        # webcam sends): the blur's odds fall from p_blur at x1.5 to none from x2.25 on.
        p_blur = self.p_blur * (min(1.0, max(0.0, (2.25 - s) / 0.75)) if resized else 1.0)
        if u[1] < p_blur:
            if u[2] < self.p_defocus:
                x = defocus_blur(x, rng.uniform(*self.defocus_radius))
            else:
                x = gaussian_blur(x, rng.uniform(*self.blur_sigma))
        if resized:
            down = self.methods[rng.integers(len(self.methods))]
            up = ("bicubic", "bilinear")[rng.integers(2)]  # area does not up-scale
            x = resize_u8(x, max(1, round(w / s)), max(1, round(h / s)), down)
        if u[4] < self.p_noise:
            x = add_sensor_noise(x, rng, rng.uniform(*self.read_sigma), rng.uniform(*self.shot_gain))
        jpeg = u[5] < self.p_jpeg
        q = int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1))
        low_res_jpeg = u[6] < self.p_jpeg_low_res
        code = self._h264 if u[7] < self.p_h264 else jpeg_cv2
        if jpeg and (low_res_jpeg or not resized):
            x = code(x, q)
        if resized:
            x = resize_u8(x, w, h, up)
            if jpeg and not low_res_jpeg:
                x = code(x, q)
        return x

    def h264_crf_for(self, quality: int) -> int:
        """The CRF an H.264 draw uses for JPEG quality draw `quality`: linear, lowest quality -> highest CRF (a
        single JPEG quality maps to the lowest CRF, h264_crf[0])."""
        lo, hi = self.jpeg_quality
        t = (quality - lo) / (hi - lo) if hi > lo else 1.0
        return int(round(self.h264_crf[1] - t * (self.h264_crf[1] - self.h264_crf[0])))

    def _h264(self, rgb_u8: np.ndarray, quality: int) -> np.ndarray:
        return h264_intra(rgb_u8, self.h264_crf_for(quality))


# The webcam benchmark's four fixed degradations (`sharpcam-kd evaluate --webcam`): name -> function of
# (HR uint8 with sides multiples of 6, rng). Only the noise draws from rng, which the benchmark seeds
# per image. JPEG q40 after the x2 down-scale: a small encoded stream, up-scaled by the receiver.
def _x2(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return bicubic_down_up(hr, 2)


def _x2_jpeg40(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = hr.shape[:2]
    return bicubic_resize(jpeg_cv2(bicubic_resize(hr, w // 2, h // 2), 40), w, h)


def _blur_noise_jpeg60(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return jpeg_cv2(add_sensor_noise(gaussian_blur(hr, 1.2), rng, 4.0, 0.0), 60)


def _x3(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return bicubic_down_up(hr, 3)


WEBCAM_BENCHMARK = {
    "x2": _x2,
    "x2+jpeg40": _x2_jpeg40,
    "blur1.2+noise4+jpeg60": _blur_noise_jpeg60,
    "x3": _x3,
}


def _camera_noise(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return add_sensor_noise(hr, rng, 2.0, 0.04)


# A picture that is already sharp, as a good camera in good light sends it at full size: sensor noise (read sigma
# 2, shot gain 0.04) and its codec's marks only (README, sitting 12). A model should leave these alone; the pair's
# gate is cut between them and WEBCAM_BENCHMARK (kd/switch.py). The H.264 case needs PyAV (`.[video]`).
SHARP_CASES = {
    "noise": _camera_noise,
    "MJPG q85": lambda hr, rng: jpeg_cv2(hr, 85),
    "noise + MJPG q85": lambda hr, rng: jpeg_cv2(_camera_noise(hr, rng), 85),
    "noise + H.264 intra CRF 23": lambda hr, rng: h264_intra(_camera_noise(hr, rng), 23),
}


def _area_down_bicubic_up(hr: np.ndarray, factor: float, rng: np.random.Generator, codec=None) -> np.ndarray:
    """A camera or a stream `factor` below the frame's size: area down, sensor noise at that size, an optional codec
    there, MATLAB-like bicubic back up."""
    h, w = hr.shape[:2]
    small = _camera_noise(resize_u8(hr, max(1, round(w / factor)), max(1, round(h / factor)), "area"), rng)
    return bicubic_resize(codec(small) if codec else small, w, h)


def _lens(hr: np.ndarray, rng: np.random.Generator, blur, codec=None) -> np.ndarray:
    x = _camera_noise(blur(hr), rng)
    return codec(x) if codec else x


# What tells an up-scaled frame from a lens-blurred one (vcam/detect.py Resampling; a card's lens-blur model, sitting 16).
# `sharpcam-kd pair --blurred-lens` cuts the periodic figure between RESAMPLED_CASES["periodic"] and LENS_CASES, and
# the phase figure between RESAMPLED_CASES["phase"] (x2, whose centred up-scale leaves no periodic peak) and LENS_CASES.
# RESAMPLED_CASES["blind"], up-scales whose period falls on the codec grids' that the periodic figure leaves out, choose
# nothing: the card records how many of them read as lens blur.
# Sensor noise (read sigma 2, shot gain 0.04) everywhere; codecs where a stream or a webcam's MJPG puts them. H.264
# cases need PyAV (`.[video]`).
RESAMPLED_CASES = {
    "periodic": {
        "x3": _x3,
        "x2.5 area + noise": lambda hr, rng: _area_down_bicubic_up(hr, 2.5, rng),
        "x3 area + noise, JPEG q60 after": lambda hr, rng: jpeg_cv2(_area_down_bicubic_up(hr, 3.0, rng), 60),
        "x3.5 area + noise + H.264 CRF 23": lambda hr, rng: _area_down_bicubic_up(hr, 3.5, rng, lambda x: h264_intra(x, 23)),
    },
    "phase": {
        "x2": _x2,
        "x2+jpeg40": _x2_jpeg40,
        "x2 area + noise + H.264 CRF 30": lambda hr, rng: _area_down_bicubic_up(hr, 2.0, rng, lambda x: h264_intra(x, 30)),
    },
    "blind": {
        "x8/3 area + noise": lambda hr, rng: _area_down_bicubic_up(hr, 8 / 3, rng),
        "x3.2 area + noise": lambda hr, rng: _area_down_bicubic_up(hr, 3.2, rng),
        "x4 area + noise": lambda hr, rng: _area_down_bicubic_up(hr, 4.0, rng),
    },
}
LENS_CASES = {
    "gauss 1.5 + noise": lambda hr, rng: _lens(hr, rng, lambda x: gaussian_blur(x, 1.5)),
    "gauss 2 + noise + JPEG q60": lambda hr, rng: _lens(hr, rng, lambda x: gaussian_blur(x, 2.0), lambda x: jpeg_cv2(x, 60)),
    "disc 2 + noise + MJPG q85": lambda hr, rng: _lens(hr, rng, lambda x: defocus_blur(x, 2.0), lambda x: jpeg_cv2(x, 85)),
    "disc 3 + noise + H.264 CRF 30": lambda hr, rng: _lens(hr, rng, lambda x: defocus_blur(x, 3.0), lambda x: h264_intra(x, 30)),
}


def _bicubic_down_up(hr: np.ndarray, factor: float) -> np.ndarray:
    h, w = hr.shape[:2]
    return bicubic_resize(bicubic_resize(hr, round(w / factor), round(h / factor)), w, h)


# Mild up-scales (sitting 18): a camera or a stream a little below the frame's size (540p-576p shown at 720p). The
# plain half sharpens them as if they were x2 and loses to its input; `sharpcam-kd pair --ramp` fits its strength ramp
# (vcam/detect.py StrengthRamp) on these with the cases above, and runs/mild_s18.py measures five of them on pictures
# the training split does not hold. x4/3's period of 4 px is one the periodic figure leaves out (the phase figure reads it).
MILD_CASES = {
    "x1.25": lambda hr, rng: _bicubic_down_up(hr, 1.25),
    "x4/3": lambda hr, rng: _bicubic_down_up(hr, 4 / 3),
    "x1.5": lambda hr, rng: _bicubic_down_up(hr, 1.5),
    "x1.75": lambda hr, rng: _bicubic_down_up(hr, 1.75),
    "x4/3 area + noise": lambda hr, rng: _area_down_bicubic_up(hr, 4 / 3, rng),
    "x1.5 area + noise": lambda hr, rng: _area_down_bicubic_up(hr, 1.5, rng),
}
PERIOD4_CASES = ("x4/3", "x4/3 area + noise")  # what the ramp's phase cut is chosen on (below it)
