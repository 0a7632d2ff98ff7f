"""Guest boot 1: `sharpcam start` between real v4l2loopback devices, read by real V4L2 clients.

Steps (each recorded in out/results.json; a failing step does not stop the next ones):
 1. `sharpcam doctor` with v4l2loopback NOT loaded (prints the modprobe fix), then modprobe 3 devices
    (Camera /dev/video9, SharpCam /dev/video10, Control /dev/video11: harness.MODPROBE_ARGS).
 2. The clip (PNG frames from the host) -> lossless clip.mkv; `sharpcam enhance` it -> the reference.
 3. The feeder: ffmpeg plays clip.mkv in a loop into the input device (the "physical webcam").
 4. `sharpcam start --device IN --output-device OUT` with the model from the host.
 5. v4l2-ctl --list-devices / --get-fmt-video / --get-parm on the output device.
 6. ffmpeg -f v4l2, v4l2-ctl --stream-mmap and OpenCV read frames (saved for the host to compare).
 7. One consumer opens/closes the device 20 times while another streams continuously.
 8. SIGTERM: exit code and time to exit; then both devices open for another process.
 9. `sharpcam doctor` with the module loaded.
10. The default shipped model (DaemonConfig's default), if any, through `sharpcam enhance` with no --model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from gutil import (CONTROL_DEV, IN_DEV, OUT, OUT_DEV, PY_ENV, SETUP, Daemon, Feeder, H, Results, W, device_format, doctor,
                   ffmpeg_read_rgb, holders, log, make_clip, open_close_cycles, opencv_read_rgb, raw_to_rgb, read_video_rgb, sh,
                   try_new_writer, v4l2ctl_read, wait_capture_ready, wait_input_ready)

FPS = 10
CLIP = "/tmp/clip.mkv"
R = Results()


def daemon_args() -> list[str]:
    return ["--device", IN_DEV, "--width", str(W), "--height", str(H), "--fps", str(FPS),
            "--model", SETUP["model"], "--threads", "1", "--output-device", OUT_DEV,
            "--stats-interval", "2",
            # Pinned: under emulation the model cannot keep the frame rate, and the frame-rate hold would
            # run it at a smaller size; these checks compare with the full-size offline enhance (the hold
            # has unit tests of its own, tests/test_pipeline.py).
            "--work-size", f"{W}x{H}"]


def doctor_unloaded() -> None:
    sh(["rmmod", "v4l2loopback"])
    loaded = "v4l2loopback" in open("/proc/modules").read()
    p = doctor()
    (OUT / "doctor_unloaded.txt").write_text(f"rc={p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
    text = p.stdout + p.stderr
    R.value("doctor_unloaded", {"rc": p.returncode, "module_was_loaded": loaded, "output": text[-3000:]})
    R.check("doctor_unloaded_prints_fix",
            not loaded and p.returncode != 0 and "modprobe v4l2loopback" in text and "Traceback" not in text,
            f"rc={p.returncode} module_loaded={loaded}\n{text[-1500:]}")


def modprobe() -> None:
    p = sh(["modprobe", "v4l2loopback", *SETUP["modprobe_args"].split()])
    R.check("modprobe_loopback_devices", p.returncode == 0 and all(map(os.path.exists, (IN_DEV, OUT_DEV, CONTROL_DEV))),
            f"rc={p.returncode} {p.stderr}")


def clip_and_enhance() -> None:
    make_clip("clip", CLIP, FPS)
    frames = read_video_rgb(CLIP)
    np.savez_compressed(OUT / "clip_decoded.npz", frames=frames)
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "vcam", "enhance", "--model", SETUP["model"], "--threads", "1",
                        "--no-progress", CLIP, "/tmp/enhanced.mkv"],
                       capture_output=True, text=True, timeout=300, env=PY_ENV, cwd="/mnt/host")
    R.value("enhance_seconds", round(time.monotonic() - t0, 2))
    (OUT / "enhance.log").write_text(p.stdout + p.stderr)
    enhanced = read_video_rgb("/tmp/enhanced.mkv") if p.returncode == 0 else None
    ok = enhanced is not None and len(enhanced) == len(frames)
    R.check("enhance_offline_runs", ok, f"rc={p.returncode} frames in={len(frames)} "
            f"out={0 if enhanced is None else len(enhanced)} {(p.stdout + p.stderr)[-800:]}")
    if enhanced is not None:
        np.savez_compressed(OUT / "enhanced.npz", frames=enhanced)


def clients(d: Daemon) -> None:
    out = sh(["v4l2-ctl", "--list-devices"]).stdout
    R.value("list_devices", out)
    R.check("list_devices_shows_sharpcam", "SharpCam" in out and OUT_DEV in out.split("SharpCam", 1)[1][:200], out)
    info = device_format(OUT_DEV)
    R.value("output_format", info)

    # enough frames to see several model outputs: the shipped model runs ~1.5 frames/s under TCG
    frames, err = ffmpeg_read_rgb(OUT_DEV, 30)
    R.check("ffmpeg_reads_sharpcam", frames is not None, err)
    if frames is not None:
        np.savez_compressed(OUT / "ffmpeg.npz", frames=frames)

    n = 20
    raw, err = v4l2ctl_read(OUT_DEV, n)
    fourcc = info.get("fourcc", "")
    frame_bytes = {"YU12": W * H * 3 // 2, "YUYV": W * H * 2}.get(fourcc, 0)
    ok = raw is not None and frame_bytes > 0 and len(raw) == n * frame_bytes
    R.check("v4l2ctl_reads_sharpcam", ok, err or f"fourcc={fourcc} bytes={len(raw)} want {n * frame_bytes}")
    if ok:
        np.savez_compressed(OUT / "v4l2ctl.npz", frames=raw_to_rgb(raw, fourcc, n))

    frames, err = opencv_read_rgb(OUT_DEV, 20)
    R.check("opencv_reads_sharpcam", frames is not None, err)
    if frames is not None:
        np.savez_compressed(OUT / "opencv.npz", frames=frames)


def open_close_20(d: Daemon) -> None:
    oc = open_close_cycles(OUT_DEV)
    oc.pop("watcher").save("open_close_watcher")
    R.value("open_close", oc)
    R.check("open_close_20_no_error", not oc["errors"] and d.alive(),
            f"errors={oc['errors']} daemon_alive={d.alive()}")


def sigterm_and_release(d: Daemon, feeder: Feeder) -> None:
    rc, dt, released = d.sigterm(devices=(IN_DEV, OUT_DEV))
    R.value("sigterm", {"rc": rc, "seconds": round(dt, 3), "devices_released_s": released})
    R.check("sigterm_exit_0", rc == 0, f"rc={rc} after {dt:.2f} s\n{d.log_tail()}")
    R.check("sigterm_exit_within_1s", rc is not None and dt <= 1.0, f"{dt:.3f} s")
    # the feeder (the "camera" itself) writes the input device: not a holder that counts
    held = {dev: [p for p in holders(dev) if p != feeder.proc.pid] for dev in (IN_DEV, OUT_DEV)}
    R.check("devices_not_held_after_exit", not any(held.values()), f"holders: {held}")
    # The input device: another reader can open it and get frames (the feeder still plays).
    frames, err = opencv_read_rgb(IN_DEV, 2)
    R.check("input_device_free_after_exit", frames is not None, err)
    # The output device: another process can open it ...
    try:
        os.close(os.open(OUT_DEV, os.O_RDWR))
        R.check("output_device_openable_after_exit", True, "open(O_RDWR) works")
    except OSError as e:
        R.check("output_device_openable_after_exit", False, repr(e))
    # ... and a new writer can publish to it (a restarted SharpCam, another virtual-camera app).
    R.value("output_second_writer_error", try_new_writer(OUT_DEV))


def doctor_loaded() -> None:
    """With the module loaded, the feeder playing and SharpCam stopped: doctor as a user runs it."""
    args = ["--device", IN_DEV, "--model", SETUP["model"]]
    p = doctor(args)
    (OUT / "doctor_loaded.txt").write_text(f"rc={p.returncode}\n--- stdout\n{p.stdout}\n--- stderr\n{p.stderr}")
    pj = doctor([*args, "--json"])
    R.value("doctor_loaded", {"rc": p.returncode, "output": (p.stdout + p.stderr)[-3000:],
                              "json_rc": pj.returncode, "json": pj.stdout[-6000:]})


def shipped_model() -> None:
    """The default model export/ ships (DaemonConfig's default), through `sharpcam enhance` with no --model,
    in the guest's onnxruntime 1.20.1 (which reads ONNX IR <= 10)."""
    default = subprocess.run([sys.executable, "-c", "from vcam.config import default_of; print(default_of('model'))"],
                             capture_output=True, text=True, timeout=120, env=PY_ENV, cwd="/mnt/host").stdout.strip()
    R.value("default_model", default)
    if not default or not os.path.exists(f"src/sharpcam_models/{default}.json"):
        R.value("shipped_model", "absent")
        return
    R.value("shipped_model", "present")
    p = subprocess.run([sys.executable, "-m", "vcam", "enhance", "--threads", "1", "--no-progress", CLIP,
                        "/tmp/shipped.mkv"], capture_output=True, text=True, timeout=600, env=PY_ENV,
                       cwd="/mnt/host")
    (OUT / "shipped_enhance.log").write_text(p.stdout + p.stderr)
    frames = read_video_rgb("/tmp/shipped.mkv") if p.returncode == 0 else None
    R.check("shipped_model_enhance", frames is not None, f"rc={p.returncode} {(p.stdout + p.stderr)[-800:]}")
    if frames is not None:
        np.savez_compressed(OUT / "shipped.npz", frames=frames)


def main() -> int:
    feeder = Feeder(CLIP, IN_DEV, FPS)
    daemon = None
    steps = [("doctor_unloaded", doctor_unloaded), ("modprobe", modprobe), ("clip_and_enhance", clip_and_enhance)]
    for name, fn in steps:
        log(f"step {name}")
        try:
            fn()
        except Exception:  # noqa: BLE001 - record and go on: the next steps still tell something
            R.error(name)
    try:
        log("step feeder")
        feeder.start()
        t = wait_input_ready(IN_DEV, 60)
        R.check("feeder_plays_input_device", t is not None, f"ready after {t} s")
        frames, err = ffmpeg_read_rgb(IN_DEV, 4)
        if frames is not None:
            np.savez_compressed(OUT / "input_device.npz", frames=frames)
        R.check("input_device_readable", frames is not None, err)

        log("step daemon")
        daemon = Daemon(daemon_args())
        t = wait_capture_ready(OUT_DEV, 120)
        R.value("daemon_ready_s", t)
        R.check("daemon_publishes_sharpcam", t is not None and daemon.alive(),
                f"ready after {t} s, alive={daemon.alive()}\n{daemon.log_tail()}")
        if t is not None:
            time.sleep(3)   # past the first frames (placeholder until the model's first output)
            for name, fn in (("clients", clients), ("open_close_20", open_close_20)):
                log(f"step {name}")
                try:
                    fn(daemon)
                except Exception:  # noqa: BLE001
                    R.error(name)
        log("step sigterm")
        if daemon.alive():
            sigterm_and_release(daemon, feeder)
        else:
            R.check("sigterm_exit_0", False, f"daemon already exited rc={daemon.proc.returncode}\n{daemon.log_tail()}")
        log("step doctor_loaded")
        try:
            doctor_loaded()
        except Exception:  # noqa: BLE001
            R.error("doctor_loaded")
    except Exception:  # noqa: BLE001
        R.error("stream")
    finally:
        if daemon is not None and daemon.alive():
            daemon.proc.kill()
        feeder.stop()
    log("step shipped_model")
    try:
        shipped_model()
    except Exception:  # noqa: BLE001
        R.error("shipped_model")
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
