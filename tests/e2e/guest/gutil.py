"""Guest-side helpers (run INSIDE the qemu guest: Python 3.11, numpy 1.24, OpenCV 4.10, ffmpeg,
v4l2-ctl). No project imports here: the runtime is only ever run as `python3 -m vcam ...`.

Evidence goes to out/ in the share: results.json (named checks with details, measured values) and
captured frames as .npy, which the host compares with the references (tests/e2e/test_*.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import numpy as np

OUT = Path("out")
SETUP = json.loads((OUT / "setup.json").read_text())
W, H = SETUP["width"], SETUP["height"]
IN_DEV, OUT_DEV, CONTROL_DEV = SETUP["input_dev"], SETUP["output_dev"], SETUP["control_dev"]
PY_ENV = dict(os.environ, PYTHONPATH="/mnt/host/src", PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")


def log(msg: str) -> None:
    """One line to this script's log with the guest uptime (TCG makes everything slow: keep track)."""
    print(f"[{time.monotonic():8.2f}] {msg}", flush=True)


class Results:
    """Named checks + measured values, written to out/results.json after every change (a crash or a
    VM timeout still leaves everything recorded up to that point)."""

    def __init__(self) -> None:
        self.data: dict = {"checks": {}, "values": {}, "errors": []}
        self.save()

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.data["checks"][name] = {"ok": bool(ok), "detail": str(detail)[-2000:]}
        log(f"{'PASS' if ok else 'FAIL'} {name}: {str(detail)[-300:]}")
        self.save()
        return bool(ok)

    def value(self, name: str, v) -> None:
        self.data["values"][name] = v
        self.save()

    def error(self, where: str) -> None:
        """Record the current exception (a step crashed) and carry on with the next step."""
        tb = traceback.format_exc()
        self.data["errors"].append(f"{where}: {tb}")
        log(f"ERROR in {where}:\n{tb}")
        self.save()

    def save(self) -> None:
        tmp = OUT / "results.json.partial"
        tmp.write_text(json.dumps(self.data, indent=1))
        tmp.rename(OUT / "results.json")


def sh(cmd: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    """Run a command, capture text output; never raises on a non-zero exit."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def is_capture_ready(dev: str) -> bool:
    """True when `dev` offers Video Capture (with exclusive_caps=1 only while a writer streams)."""
    p = sh(["v4l2-ctl", "-d", dev, "-D"], timeout=20)
    caps = p.stdout.split("Device Caps", 1)[-1]
    return p.returncode == 0 and "Video Capture" in caps


def wait_capture_ready(dev: str, timeout: float) -> float | None:
    """Seconds until `dev` became readable, None if it did not within timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if is_capture_ready(dev):
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def wait_input_ready(dev: str, timeout: float) -> float | None:
    """Seconds until the feeder has set its format on `dev` (exclusive_caps=0: the device offers capture
    from the start, but VIDIOC_G_FMT fails until a writer has set the format), None on timeout."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        p = sh(["v4l2-ctl", "-d", dev, "--get-fmt-video"], timeout=20)
        if p.returncode == 0 and f"{W}/{H}" in p.stdout.replace(" ", ""):
            return time.monotonic() - t0
        time.sleep(0.2)
    return None


def reload_module() -> str:
    """rmmod + modprobe v4l2loopback with the suite's options: "" on success, else the error text.
    Needed before a second SharpCam writer on v4l2loopback 0.12.7 (issue #504)."""
    p = sh(["rmmod", "v4l2loopback"])
    q = sh(["modprobe", "v4l2loopback", *SETUP["modprobe_args"].split()])
    return "" if q.returncode == 0 else f"rmmod rc={p.returncode} {p.stderr} modprobe rc={q.returncode} {q.stderr}"


def make_clip(png_dir: str, out_path: str, fps: int) -> None:
    """PNG frames -> lossless FFV1 video (bgr0): the feeder's source and `sharpcam enhance`'s input."""
    p = sh(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-framerate", str(fps),
            "-i", f"{png_dir}/%02d.png", "-c:v", "ffv1", "-pix_fmt", "bgr0", out_path], timeout=120)
    if p.returncode != 0:
        raise RuntimeError(f"ffmpeg could not make {out_path}: {p.stderr[-500:]}")


class Feeder:
    """ffmpeg playing the clip in a loop into the input loopback device: the 'physical webcam'.

    ffmpeg reports its progress every 0.1 s, so `first_frame_t` tells when the camera really
    delivered again after a (re)start (ffmpeg itself takes seconds to start under TCG)."""

    def __init__(self, clip: str, dev: str = IN_DEV, fps: int = 10, pix_fmt: str = "yuyv422") -> None:
        self.cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
                    "-stats_period", "0.1", "-re", "-stream_loop", "-1", "-i", clip, "-vf", f"fps={fps}",
                    "-pix_fmt", pix_fmt, "-f", "v4l2", dev]
        self.proc: subprocess.Popen | None = None
        self.n_starts = 0
        self.first_frame_t: float | None = None

    def start(self) -> None:
        self.n_starts += 1
        self.first_frame_t = None
        self.logf = open(OUT / f"feeder{self.n_starts}.log", "w")
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.logf, text=True)
        threading.Thread(target=self._progress, args=(self.proc,), daemon=True).start()

    def _progress(self, proc: subprocess.Popen) -> None:
        for line in proc.stdout:
            if self.first_frame_t is None and line.startswith("frame=") and line.strip() != "frame=0":
                self.first_frame_t = time.monotonic()

    def stop(self) -> None:
        """Unplug the camera: the writer goes away."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)   # ffmpeg closes the device cleanly on SIGINT
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class Daemon:
    """`python3 -m vcam start ...` as a subprocess with its log in out/<name>.log."""

    def __init__(self, args: list[str], name: str = "daemon") -> None:
        self.args = [sys.executable, "-m", "vcam", "start", *args]
        self.name = name
        self.logf = open(OUT / f"{name}.log", "w")
        log(f"start: {' '.join(self.args)}")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, env=PY_ENV, cwd="/mnt/host")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, chars: int = 1500) -> str:
        self.logf.flush()
        return (OUT / f"{self.name}.log").read_text(errors="replace")[-chars:]

    def sigterm(self, timeout: float = 15, devices: tuple[str, ...] = ()) -> tuple[int | None, float, float | None]:
        """Send SIGTERM; return (exit code or None if still running after timeout, seconds to exit,
        seconds until the process held none of `devices` any more, None if it still held one)."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        released = None
        rc = None
        while time.monotonic() - t0 < timeout:
            rc = self.proc.poll()
            now = time.monotonic()
            if released is None and (rc is not None or not any(self.fds_to(d) for d in devices)):
                released = now - t0
            if rc is not None:
                break
            time.sleep(0.01)
        dt = time.monotonic() - t0
        if rc is None:
            # Before the kill, ask for every thread's stack (vcam's faulthandler on SIGUSR1): a daemon that
            # does not stop leaves in its log where it hangs.
            self.proc.send_signal(signal.SIGUSR1)
            time.sleep(2)
            self.proc.kill()
            self.proc.wait()
        return rc, dt, released

    def fds_to(self, dev: str) -> int:
        """How many file descriptors of the daemon point at `dev` (is the camera held open?)."""
        n = 0
        try:
            for fd in os.listdir(f"/proc/{self.proc.pid}/fd"):
                try:
                    n += os.readlink(f"/proc/{self.proc.pid}/fd/{fd}") == dev
                except OSError:
                    pass
        except FileNotFoundError:
            pass
        return n


def read_video_rgb(path: str) -> np.ndarray | None:
    """Every frame of a video as (N, H, W, 3) uint8 RGB, None if it has none."""
    import cv2

    frames = []
    cap = cv2.VideoCapture(path)
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr[..., ::-1])
    cap.release()
    return np.stack(frames) if frames else None


def ffmpeg_read_rgb(dev: str, n: int, timeout: float = 120) -> tuple[np.ndarray | None, str]:
    """n frames from `dev` through ffmpeg -f v4l2, as (n, H, W, 3) uint8 RGB; (None, error) on failure.

    -fps_mode passthrough: otherwise ffmpeg's constant-frame-rate logic duplicates the first frame.
    """
    try:
        p = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "v4l2", "-i", dev,
                            "-frames:v", str(n), "-fps_mode", "passthrough", "-f", "rawvideo",
                            "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"ffmpeg did not deliver {n} frames within {timeout} s"
    if p.returncode != 0 or len(p.stdout) != n * W * H * 3:
        return None, f"rc={p.returncode} bytes={len(p.stdout)} (want {n * W * H * 3}) {p.stderr[-400:]!r}"
    return np.frombuffer(p.stdout, np.uint8).reshape(n, H, W, 3), ""


def v4l2ctl_read(dev: str, n: int, path: str = "/tmp/stream.raw",
                 timeout: float = 120) -> tuple[bytes | None, str]:
    """n raw frames from `dev` via v4l2-ctl --stream-mmap (the device's own pixel format)."""
    if os.path.exists(path):
        os.unlink(path)
    try:
        p = sh(["v4l2-ctl", "-d", dev, "--stream-mmap", f"--stream-count={n}", f"--stream-to={path}"],
               timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"v4l2-ctl did not deliver {n} frames within {timeout} s"
    data = Path(path).read_bytes() if os.path.exists(path) else b""
    if p.returncode != 0 or not data:
        return None, f"rc={p.returncode} bytes={len(data)} {p.stderr[-400:]!r}"
    return data, ""


def raw_to_rgb(data: bytes, fourcc: str, n: int) -> np.ndarray:
    """n raw frames (YU12/I420 or YUYV, W x H) -> (n, H, W, 3) uint8 RGB with OpenCV's BT.601."""
    import cv2

    if fourcc in ("YU12", "I420"):
        planes = np.frombuffer(data, np.uint8)[: n * W * H * 3 // 2].reshape(n, H * 3 // 2, W)
        return np.stack([cv2.cvtColor(f, cv2.COLOR_YUV2RGB_I420) for f in planes])
    if fourcc == "YUYV":
        packed = np.frombuffer(data, np.uint8)[: n * W * H * 2].reshape(n, H, W, 2)
        return np.stack([cv2.cvtColor(f, cv2.COLOR_YUV2RGB_YUYV) for f in packed])
    raise ValueError(f"unexpected pixel format {fourcc}")


def device_format(dev: str) -> dict:
    """Width, height, fourcc and frame rate the device reports (v4l2-ctl --get-fmt-video/--get-parm)."""
    fmt = sh(["v4l2-ctl", "-d", dev, "--get-fmt-video"]).stdout
    parm = sh(["v4l2-ctl", "-d", dev, "--get-parm"]).stdout
    info: dict = {"fmt_text": fmt.strip(), "parm_text": parm.strip()}
    for line in fmt.splitlines():
        key, _, val = line.strip().partition(":")
        if key.strip() == "Width/Height":
            w, h = val.strip().split("/")
            info["width"], info["height"] = int(w), int(h)
        elif key.strip() == "Pixel Format":
            info["fourcc"] = val.strip().split()[0].strip("'")
    for line in parm.splitlines():
        if "Frames per second" in line:
            info["fps"] = float(line.split(":", 1)[1].split()[0])
    return info


class CaptureLog:
    """A consumer reading `dev` continuously with OpenCV in a thread, keeping (guest time, RGB frame)
    of every frame, plus the read failures. Used to watch what apps see across faults."""

    def __init__(self, dev: str = OUT_DEV) -> None:
        self.dev = dev
        self.times: list[float] = []
        self.frames: list[np.ndarray] = []
        self.failures: list[tuple[float, str]] = []
        self.t_open = 0.0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "CaptureLog":
        self.thread.start()
        return self

    def _run(self) -> None:
        import cv2

        self.t_open = time.monotonic()
        cap = cv2.VideoCapture(self.dev, cv2.CAP_V4L2)
        if not cap.isOpened():
            self.failures.append((time.monotonic(), "open failed"))
            return
        while not self.stop_event.is_set():
            ok, bgr = cap.read()
            if ok and bgr is not None and bgr.shape == (H, W, 3):
                self.times.append(time.monotonic())
                self.frames.append(bgr[..., ::-1].copy())
            else:
                self.failures.append((time.monotonic(), "read failed" if not ok else f"shape {bgr.shape}"))
                time.sleep(0.05)
        cap.release()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)

    def save(self, name: str) -> None:
        """out/<name>.npz: frames (N, H, W, 3) uint8 RGB, t (N,) guest seconds, failures."""
        frames = np.stack(self.frames) if self.frames else np.zeros((0, H, W, 3), np.uint8)
        np.savez_compressed(OUT / f"{name}.npz", frames=frames, t=np.array(self.times), t_open=self.t_open,
                            failure_t=np.array([f[0] for f in self.failures]))


def opencv_read_rgb(dev: str, n: int) -> tuple[np.ndarray | None, str]:
    """Open `dev` with OpenCV (CAP_V4L2), read n frames, release: (n, H, W, 3) uint8 RGB or an error."""
    import cv2

    cap = cv2.VideoCapture(dev, cv2.CAP_V4L2)
    try:
        if not cap.isOpened():
            return None, "VideoCapture did not open"
        frames = []
        for i in range(n):
            ok, bgr = cap.read()
            if not ok or bgr is None:
                return None, f"read {i} failed"
            if bgr.shape != (H, W, 3):
                return None, f"frame shape {bgr.shape}, want {(H, W, 3)}"
            frames.append(bgr[..., ::-1].copy())
        return np.stack(frames), ""
    finally:
        cap.release()


def doctor(args: list[str] = ()) -> subprocess.CompletedProcess:
    """`python3 -m vcam doctor` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "vcam", "doctor", *args], capture_output=True, text=True,
                          timeout=180, env=PY_ENV, cwd="/mnt/host")


def holders(dev: str) -> list[int]:
    """PIDs with an open file descriptor on `dev` (a /proc scan, as fuser does)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == dev:
                    pids.append(int(pid))
                    break
            except OSError:
                pass
    return pids


def try_new_writer(dev: str) -> str:
    """Open `dev` as a new pyvirtualcam writer and send one frame: "" on success, else the error."""
    try:
        import pyvirtualcam

        with pyvirtualcam.Camera(width=W, height=H, fps=10, device=dev) as cam:
            cam.send(np.full((H, W, 3), 128, np.uint8))
        return ""
    except Exception as e:  # noqa: BLE001 - the error text is the evidence
        return repr(e)


def open_close_cycles(dev: str, n: int = 20) -> dict:
    """While a CaptureLog consumer streams `dev`, another app (a separate process, guest/open_close.py)
    opens it, reads a frame and closes it n times. Returns the cycle errors and the streaming
    consumer's frames/failures with times."""
    watcher = CaptureLog(dev).start()
    time.sleep(2)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "guest/open_close.py", dev, str(n)], capture_output=True, text=True,
                       timeout=300)
    t1 = time.monotonic()
    try:
        cycles = json.loads(p.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        cycles = {"errors": [f"open_close.py rc={p.returncode}: {p.stderr[-500:]}"], "cycle_s": []}
    time.sleep(1)
    watcher.stop()
    # and an app that opens the device afterwards still gets frames
    frames, err = opencv_read_rgb(dev, 3)
    return {"t0": t0, "t1": t1, "cycle_s": cycles["cycle_s"], "errors": cycles["errors"], "watcher": watcher,
            "new_reader_after": "" if frames is not None else err,
            "watcher_failures": len(watcher.failures),
            "watcher_failures_after_t1": sum(1 for t, _ in watcher.failures if t > t1)}


def control_experiment(R: "Results", clip_frames_rgb: np.ndarray) -> None:
    """The same consumer checks against a plain pyvirtualcam writer on CONTROL_DEV (no SharpCam), so a
    failure seen with SharpCam can be told apart from v4l2loopback's own behaviour."""
    import pyvirtualcam

    stop = threading.Event()
    started = threading.Event()
    err: list[str] = []

    def writer() -> None:
        try:
            with pyvirtualcam.Camera(width=W, height=H, fps=10, device=CONTROL_DEV) as cam:
                i = 0
                while not stop.is_set():
                    cam.send(clip_frames_rgb[i % len(clip_frames_rgb)])
                    i += 1
                    if i == 3:
                        started.set()
                    cam.sleep_until_next_frame()
        except Exception as e:  # noqa: BLE001
            err.append(repr(e))
            started.set()

    th = threading.Thread(target=writer, daemon=True)
    th.start()
    started.wait(30)
    oc = open_close_cycles(CONTROL_DEV) if not err else {}
    stop.set()
    th.join(10)
    time.sleep(0.5)
    reopen = try_new_writer(CONTROL_DEV)
    R.value("control", {"writer_error": err[0] if err else "", "open_close_errors": oc.get("errors"),
                        "watcher_failures": oc.get("watcher_failures"),
                        "watcher_failures_after_t1": oc.get("watcher_failures_after_t1"),
                        "new_reader_after": oc.get("new_reader_after"),
                        "second_writer_error": reopen, "holders_after_close": holders(CONTROL_DEV)})
