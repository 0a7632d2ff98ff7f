# Issue 11's question "decode MJPG straight to YUV if a well-kept library does it faster than OpenCV's
# decode + cvtColor": one 720p frame of the shared clip as a 4:2:2 JPEG (what UVC webcams send), one
# thread, median of 30. simplejpeg 1.9 (libjpeg-turbo) has no YUV-planes decoder (only an encoder);
# PyTurboJPEG 1.x has one (tjDecompressToYUVPlanes) on the system libturbojpeg (Debian 12 ships
# libjpeg-turbo 2.1, which PyTurboJPEG 2.x refuses). Its planes are the JPEG's own 4:2:2; I420 then
# needs every second chroma row (a strided copy, timed with it).
# apt install libturbojpeg0; pip install simplejpeg "PyTurboJPEG<2"; then
# python runs/mjpg_decode.py > runs/mjpg_decode.txt
import platform
import time

import cv2
import numpy as np
import simplejpeg
from turbojpeg import TurboJPEG

cap = cv2.VideoCapture("../shared/video/talking_720p.mp4")
ok, bgr = cap.read()
ok, jpg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85, cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_422])
data = jpg.tobytes()
i420 = np.empty((1080, 1280), np.uint8)
cv2.setNumThreads(1)


def ms(f, n=30):
    f()
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return 1000 * float(np.median(ts))


print(f"# {platform.processor() or platform.machine()}, opencv {cv2.__version__}, simplejpeg {simplejpeg.__version__}, {len(data)} byte JPEG")
print(f"OpenCV imdecode -> BGR          {ms(lambda: cv2.imdecode(jpg, cv2.IMREAD_COLOR)):6.2f} ms")
print(f"simplejpeg decode_jpeg -> BGR    {ms(lambda: simplejpeg.decode_jpeg(data, colorspace='BGR')):6.2f} ms")
print(f"cvtColor BGR -> I420             {ms(lambda: cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420, dst=i420)):6.2f} ms")
tj = TurboJPEG()
u420, v420 = np.empty((360, 640), np.uint8), np.empty((360, 640), np.uint8)


def turbo_i420():
    y, u, v = tj.decode_to_yuv_planes(data)
    np.copyto(u420, u[::2]), np.copyto(v420, v[::2])


print(f"PyTurboJPEG decode -> BGR        {ms(lambda: tj.decode(data)):6.2f} ms")
print(f"PyTurboJPEG decode -> YUV planes {ms(lambda: tj.decode_to_yuv_planes(data)):6.2f} ms")
print(f"  + 4:2:2 -> 4:2:0 chroma rows   {ms(turbo_i420):6.2f} ms (total)")

# Sitting 4: what the daemon now does (vcam/jpeg.py, libturbojpeg through ctypes, no PyTurboJPEG):
# planes straight into the I420 buffer, 4:2:2 chroma row pairs averaged, full -> limited range LUTs.
from vcam.jpeg import TurboJpegI420  # noqa: E402

own = TurboJpegI420.load()
if own is not None:
    own_i420 = np.empty(own.i420_shape(jpg), np.uint8)
    print(f"vcam.jpeg -> I420 (limited range) {ms(lambda: own.decode_into(jpg, own_i420)):6.2f} ms (what `sharpcam` does)")
    print(f"OpenCV imdecode + cvtColor I420  {ms(lambda: cv2.cvtColor(cv2.imdecode(jpg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2YUV_I420, dst=i420)):6.2f} ms (before)")
