"""SharpCam on a real v4l2loopback device in the qemu guest, read by real V4L2 clients (issue 5).

All tests read one guest boot (the `camera_run` fixture, guest/camera_checks.py): the input device is
fed by ffmpeg from a real clip (scikit-image's astronaut panned), `sharpcam start` sharpens it into
"SharpCam", and ffmpeg, v4l2-ctl and OpenCV read it. Frames are compared here, on the host.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import harness
from harness import E2E_EXIT_S, E2E_GAP_S, E2E_RELEASE_S, E2E_RESUME_S

# Mean absolute luma difference (levels of 255) allowed between what a client reads from SharpCam and
# the offline `sharpcam enhance` of the same input frame: two YUV round trips (YUYV in, YUV out).
MATCH_TOL = 3.0
# A frame is "not the unsharpened input" when it is at least this many levels closer to the sharpened
# frame than to the input frame (the shipped model changes a clean photo by ~3-5 levels on average).
SHARPENING_MARGIN = 1.0
MIN_DISTINCT_FRAMES = 2


def _check(run: harness.GuestRun, name: str) -> None:
    """Assert the guest-side check `name` passed, with its detail and the guest logs on failure."""
    checks = run.results.get("checks", {})
    assert name in checks, f"guest never got to check {name!r}; errors: {run.results.get('errors')}\n{run.log_tail()}"
    assert checks[name]["ok"], f"{name}: {checks[name]['detail']}\n{run.log_tail(3000)}"


def _frames(run: harness.GuestRun, name: str) -> np.ndarray:
    path = run.out / f"{name}.npz"
    assert path.is_file(), f"the guest saved no {name}.npz; errors: {run.results.get('errors')}\n{run.log_tail()}"
    return np.load(path)["frames"]


def test_doctor_without_module_prints_the_modprobe_fix(camera_run: harness.GuestRun) -> None:
    _check(camera_run, "doctor_unloaded_prints_fix")


def test_two_loopback_devices_and_feeder(camera_run: harness.GuestRun) -> None:
    _check(camera_run, "modprobe_loopback_devices")
    _check(camera_run, "feeder_plays_input_device")
    _check(camera_run, "input_device_readable")
    # The "webcam" really plays the clip: its frames are the clip's frames (YUYV round trip).
    idx, err = harness.nearest_frames(_frames(camera_run, "input_device"), _frames(camera_run, "clip_decoded"))
    assert err.max() <= MATCH_TOL, f"input device frames differ from the clip: {err.round(2)}"


def test_offline_enhance_in_guest_sharpens(camera_run: harness.GuestRun) -> None:
    _check(camera_run, "enhance_offline_runs")
    clip, enhanced = _frames(camera_run, "clip_decoded"), _frames(camera_run, "enhanced")
    assert enhanced.shape == clip.shape
    change = np.abs(harness.luma_f32(enhanced) - harness.luma_f32(clip)).mean()
    assert change >= 2 * SHARPENING_MARGIN, f"the model barely changes the frames ({change:.2f} levels)"
    print(f"[e2e] offline enhance changes the clip by {change:.2f} luma levels on average")


def test_daemon_publishes_to_sharpcam(camera_run: harness.GuestRun) -> None:
    _check(camera_run, "daemon_publishes_sharpcam")


def test_list_devices_shows_sharpcam(camera_run: harness.GuestRun) -> None:
    _check(camera_run, "list_devices_shows_sharpcam")


def test_output_format_is_app_friendly_with_frame_rate(camera_run: harness.GuestRun) -> None:
    """YUYV or I420 (what Chrome/Zoom/Teams take with exclusive_caps=1), the capture size, fps set."""
    info = camera_run.results.get("values", {}).get("output_format")
    assert info, f"no format recorded\n{camera_run.log_tail()}"
    assert info.get("fourcc") in ("YUYV", "YU12"), info
    assert (info.get("width"), info.get("height")) == (harness.WIDTH, harness.HEIGHT), info
    assert info.get("fps") == pytest.approx(10.0, abs=0.01), info


@pytest.mark.parametrize("client", ["ffmpeg", "v4l2ctl", "opencv"])
def test_client_reads_live_sharpened_frames(camera_run: harness.GuestRun, client: str) -> None:
    """Each client gets live frames of the right size that equal the offline enhance of the input frame
    they came from (within the YUV round trips) and are not the unsharpened input."""
    _check(camera_run, {"ffmpeg": "ffmpeg_reads_sharpcam", "v4l2ctl": "v4l2ctl_reads_sharpcam",
                        "opencv": "opencv_reads_sharpcam"}[client])
    got = _frames(camera_run, client)
    assert got.shape[1:] == (harness.HEIGHT, harness.WIDTH, 3)
    clip, enhanced = _frames(camera_run, "clip_decoded"), _frames(camera_run, "enhanced")
    idx, err_enh = harness.nearest_frames(got, enhanced)
    err_in = np.abs(harness.luma_f32(got) - harness.luma_f32(clip[idx])).mean(axis=(1, 2))
    matched = (err_enh <= MATCH_TOL) & (err_in >= err_enh + SHARPENING_MARGIN)
    detail = json.dumps({"ref_index": idx.tolist(), "err_vs_enhanced": err_enh.round(2).tolist(),
                         "err_vs_input": err_in.round(2).tolist()})
    # A reader may first get one stale buffered frame (v4l2loopback keeps the last one).
    assert matched.sum() >= len(got) - 1, f"frames do not match the offline enhance: {detail}"
    assert len(set(idx[matched].tolist())) >= MIN_DISTINCT_FRAMES, \
        f"frames are not live (always the same input frame): {detail}"


def _control(faults_run: harness.GuestRun) -> dict:
    """What the same checks gave against a plain pyvirtualcam writer (no SharpCam) on the control device."""
    control = faults_run.results.get("values", {}).get("control")
    assert control, f"the control experiment did not run\n{faults_run.log_tail()}"
    return control


def test_open_close_20_times_while_streaming(camera_run: harness.GuestRun, faults_run: harness.GuestRun) -> None:
    """Another app opens, reads and closes SharpCam 20 times while a consumer streams it: no error for
    either, no stall of the streaming one."""
    _check(camera_run, "open_close_20_no_error")
    oc = camera_run.results["values"]["open_close"]
    watcher = np.load(camera_run.out / "open_close_watcher.npz")
    t, failure_t = watcher["t"], watcher["failure_t"]
    # Stalls are judged up to the streaming consumer's first read failure: what follows is the
    # driver's doing when the control shows it too (below).
    end = min([oc["t1"], *failure_t.tolist()])
    during = t[(t >= oc["t0"]) & (t <= end)]
    gaps = np.diff(np.concatenate([[oc["t0"]], during, [end]]))
    assert gaps.max() <= E2E_GAP_S, f"the streaming consumer stalled {gaps.max():.2f} s during open/close"
    if len(failure_t):
        control = _control(faults_run)
        if control.get("watcher_failures"):
            pytest.xfail(f"v4l2loopback 0.12.7 itself: a consumer streaming the device gets read failures once "
                         f"another reader process closed it ({len(failure_t)} failures with SharpCam, "
                         f"{control['watcher_failures']} with a plain pyvirtualcam writer; new readers are fine)")
    assert len(failure_t) == 0, f"the streaming consumer had {len(failure_t)} read failures (none with a plain writer)"


def test_new_reader_after_open_close_cycles(camera_run: harness.GuestRun, faults_run: harness.GuestRun) -> None:
    """After the 20 open/close cycles an app that opens SharpCam still gets frames."""
    err = camera_run.results["values"]["open_close"].get("new_reader_after")
    assert err is not None, "not tried"
    if err and _control(faults_run).get("new_reader_after"):
        pytest.xfail(f"v4l2loopback 0.12.7 itself: no frames for a new reader after the cycles, with a plain "
                     f"pyvirtualcam writer too ({err})")
    assert not err, f"a new reader gets no frames after the open/close cycles: {err}"


def test_sigterm_exits_0_and_releases_both_devices_within_1s(camera_run: harness.GuestRun) -> None:
    _check(camera_run, "sigterm_exit_0")
    sig = camera_run.results["values"]["sigterm"]
    print(f"[e2e] SIGTERM -> devices released after {sig['devices_released_s']:.2f} s, exit after {sig['seconds']:.2f} s")
    assert sig["devices_released_s"] is not None and sig["devices_released_s"] <= E2E_RELEASE_S, sig


def test_sigterm_exit_time(camera_run: harness.GuestRun) -> None:
    """The issue's limit is 1 s on a real machine. Under TCG on 2 shared cores the Python teardown
    after the devices are released alone measured 0.4-1.7 s (devices released in 0.04-0.6 s), so the
    bound here is 2 s; `[e2e] SIGTERM` above prints the figure of each run."""
    seconds = camera_run.results["values"]["sigterm"]["seconds"]
    assert seconds <= E2E_EXIT_S, f"exit {seconds:.2f} s after SIGTERM"


def test_both_devices_free_after_exit(camera_run: harness.GuestRun) -> None:
    """No process holds either device; another reader gets camera frames; the output opens."""
    _check(camera_run, "devices_not_held_after_exit")
    _check(camera_run, "input_device_free_after_exit")
    _check(camera_run, "output_device_openable_after_exit")


def test_output_device_takes_a_new_writer_after_exit(camera_run: harness.GuestRun, faults_run: harness.GuestRun) -> None:
    """A restarted SharpCam (or another app) can publish to the virtual camera again."""
    err = camera_run.results.get("values", {}).get("output_second_writer_error")
    assert err is not None, f"not tried\n{camera_run.log_tail()}"
    if err:
        control = _control(faults_run)
        if control.get("second_writer_error"):
            pytest.xfail(f"v4l2loopback 0.12.7 with exclusive_caps=1 refuses a second writer once the first closed "
                         f"(v4l2loopback issue #504; plain pyvirtualcam too: {control['second_writer_error']}); "
                         f"fix on such systems: sudo modprobe -r v4l2loopback && sudo modprobe v4l2loopback ...")
    assert not err, f"a new writer cannot open the virtual camera after SharpCam exited: {err}"


def test_doctor_reports_the_loaded_module(camera_run: harness.GuestRun) -> None:
    doc = camera_run.results.get("values", {}).get("doctor_loaded")
    assert doc, f"doctor did not run\n{camera_run.log_tail()}"
    checks = {c["name"]: c for c in json.loads(doc["json"])["checks"]}
    module = checks.get("v4l2loopback module")
    assert module and module["status"] == "OK", f"{module}\n{doc['output']}"
    assert "SharpCam" in doc["output"], doc["output"]


def test_shipped_model_runs_in_the_guest(camera_run: harness.GuestRun) -> None:
    """`sharpcam enhance` with the default (shipped) model works with the guest's onnxruntime 1.20.1:
    same frame count and size, and it changes the frames."""
    if camera_run.results.get("values", {}).get("shipped_model") == "absent":
        pytest.skip(f"export/ ships no {camera_run.results['values'].get('default_model')} model (the default) yet")
    _check(camera_run, "shipped_model_enhance")
    clip, shipped = _frames(camera_run, "clip_decoded"), _frames(camera_run, "shipped")
    assert shipped.shape == clip.shape
    assert np.abs(harness.luma_f32(shipped) - harness.luma_f32(clip)).mean() > 0.1, "the model changes nothing"
