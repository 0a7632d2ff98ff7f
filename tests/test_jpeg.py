"""vcam.jpeg: MJPG straight to I420 with libturbojpeg, against OpenCV's decode + BGR -> I420 on a real
photo, for each subsampling a camera may send; into the caller's buffer; bad input named."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from photos import photo

from vcam.jpeg import JpegError, TurboJpegI420, decode_bgr_into

DECODER = TurboJpegI420.load()
pytestmark = pytest.mark.skipif(DECODER is None, reason="needs libturbojpeg (apt install libturbojpeg0; .ci/run installs it)")

SAMPLING = {"4:2:2": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422, "4:2:0": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420,
            "4:4:4": cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444}


def jpeg_of(bgr: np.ndarray, sampling: str = "4:2:2", quality: int = 85) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, SAMPLING[sampling]])
    assert ok
    return buf


@pytest.mark.parametrize("sampling", list(SAMPLING))
def test_planes_equal_opencvs_decode_then_i420(sampling: str) -> None:
    bgr = np.ascontiguousarray(photo("astronaut")[:, :, ::-1][:360, :480])
    jpeg = jpeg_of(bgr, sampling)
    out = np.empty(DECODER.i420_shape(jpeg), np.uint8)
    assert DECODER.decode_into(jpeg, out) is out and out.shape == (540, 480)
    reference = cv2.cvtColor(decode_bgr_into(jpeg), cv2.COLOR_BGR2YUV_I420)
    diff = np.abs(out.astype(int) - reference)
    # the same JPEG planes; OpenCV's route rounds twice more (YCbCr -> BGR -> limited-range YUV) and
    # clips the few out-of-gamut colours in BGR, which moves their Y
    assert np.percentile(diff[:360], 99) <= 1 and np.percentile(diff[:360], 99.9) <= 3 and diff[:360].mean() < 0.3
    assert diff[360:].mean() < 1.0 and np.percentile(diff[360:], 99) <= 6  # chroma resampled on another route


def test_full_range_levels_become_bt601_limited_range() -> None:
    for level, y, c in ((0, 16, 128), (255, 235, 128)):
        jpeg = jpeg_of(np.full((16, 32, 3), level, np.uint8))
        out = DECODER.decode_into(jpeg, np.empty(DECODER.i420_shape(jpeg), np.uint8))
        assert np.abs(out[:16].astype(int) - y).max() <= 1 and np.abs(out[16:].astype(int) - c).max() <= 1


def test_grey_jpegs_get_neutral_chroma_and_buffers_are_reused() -> None:
    grey = np.ascontiguousarray(photo("camera")[:240, :320])
    ok, buf = cv2.imencode(".jpg", grey[:, :, 0])
    out = np.empty(DECODER.i420_shape(buf), np.uint8)
    DECODER.decode_into(buf, out)
    assert (out[240:] == 128).all()
    jpeg = jpeg_of(grey)
    DECODER.decode_into(jpeg, np.empty(DECODER.i420_shape(jpeg), np.uint8))
    scratch = {k: v.ctypes.data for k, v in DECODER._scratch.items()}
    DECODER.decode_into(jpeg, np.empty(DECODER.i420_shape(jpeg), np.uint8))
    assert {k: v.ctypes.data for k, v in DECODER._scratch.items()} == scratch  # no new scratch per frame


def test_what_cannot_become_i420_is_refused_in_one_line() -> None:
    for junk in (b"\xff\xd8 not really a jpeg", b"hello, not a jpeg"):
        with pytest.raises(JpegError, match="not a readable JPEG"):
            DECODER.i420_shape(np.frombuffer(junk, np.uint8))
    odd = jpeg_of(np.zeros((15, 20, 3), np.uint8))
    with pytest.raises(JpegError, match="odd size"):
        DECODER.i420_shape(odd)
    jpeg = jpeg_of(np.zeros((16, 32, 3), np.uint8))
    with pytest.raises(JpegError, match="the buffer is for"):
        DECODER.decode_into(jpeg, np.empty((48, 64), np.uint8))
    closed = TurboJpegI420.load()
    closed.close()
    with pytest.raises(JpegError, match="closed"):
        closed.decode_into(jpeg, np.empty((24, 32), np.uint8))
