"""SharpCam runtime: webcam -> small CNN (onnxruntime) -> v4l2loopback virtual camera.

Never imports torch (nor kd/). See vcam/cli.py for the commands.
"""

import os as _os

# OpenCV and its FFmpeg print their own "[ WARN:0@...] can't open camera by index" / "moov atom
# not found" lines; SharpCam reports those failures as one clear line instead. To see them again
# when troubleshooting: OPENCV_LOG_LEVEL=INFO OPENCV_FFMPEG_LOGLEVEL=24 sharpcam ...
_os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
