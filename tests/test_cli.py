"""vcam.cli: help texts, exit codes, one-line errors (no tracebacks), env vars and TOML,
enhance/bench end to end, signal handling in a subprocess, and no torch import."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vcam_support import read_all_frames
from vcam.cli import main

REPO = Path(__file__).resolve().parent.parent


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, needle: str) -> None:
    assert code == 1, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("sharpcam: error: "), err
    assert needle in lines[0] and "Traceback" not in err


@pytest.mark.parametrize("command", [[], ["start"], ["enhance"], ["bench"], ["devices"], ["doctor"], ["service"]])
def test_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main([*command, "--help"], capsys)
    assert code == 0 and "Usage:" in out


def test_start_help_shows_defaults_and_env_vars(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run_main(["start", "--help"], capsys)
    unwrapped = re.sub(r"-\s+", "-", " ".join(out.split()))  # click wraps long defaults at hyphens
    for needle in ("SHARPCAM_DEVICE", "SHARPCAM_STRENGTH", "--output-device", "--on-demand", "default: sharpcam-cs4-switch]"):
        assert needle in unwrapped


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["start", "--strength", "3"], "--strength 3.0 is outside 0..1"),
        (["start", "--fps", "-5"], "--fps -5.0 is not a frame rate"),
        (["start", "--provider", "tpu"], "unknown --provider"),
        (["start", "--model", "none", "--output", "null", "--device", "/dev/video99"], "camera /dev/video99 does not exist"),
        (["start", "--model", "no-such-model"], "model 'no-such-model' not found (installed: "),
        (["start", "--model", "none", "--output", "null", "--device", "nothing-here.mp4"], "input nothing-here.mp4 does not exist"),
        (["start", "--model", "none", "--output", "null", "--device", "no-such-cam"], "unknown device 'no-such-cam'"),
        (["start", "--model", "none", "--output", "null", "--output-device", "/dev/video10"], "--output-device '/dev/video10' has no effect"),
        (["enhance", "missing.mp4", "out.mp4", "--model", "none"], "does not exist"),
        (["bench", "--size", "720p", "--model", "none"], "--size '720p' is not WIDTHxHEIGHT"),
        (["bench", "--duration", "0", "--model", "none"], "--duration"),
    ],
)
def test_bad_input_exits_1_with_one_line(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(argv, capsys)
    assert_one_line_error(code, err, needle)


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_main(["start", "--fps", "fast"], capsys)[0] == 2
    assert run_main(["no-such-command"], capsys)[0] == 2
    assert run_main(["enhance", "only-one-arg"], capsys)[0] == 2
    code, _, err = run_main(["bench", "--no-mjpeg-yuv", "--model", "none"], capsys)
    assert code == 2 and "add --mjpeg" in err


def test_bad_model_files(tmp_path: Path, residual_card: Path, clip_mkv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import onnxruntime as ort

    from vcam.engine import PROVIDER_NAMES

    missing = next(p for p in ("cuda", "rocm", "coreml", "dml") if PROVIDER_NAMES[p] not in ort.get_available_providers())
    code, _, err = run_main(["start", "--model", str(residual_card), "--provider", missing], capsys)
    assert_one_line_error(code, err, f"provider '{missing}' is not available")
    # a card whose sha256 no longer matches its model, reached through a real input
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text(residual_card.read_text().replace('"sha256": "', '"sha256": "00', 1))
    (tmp_path / "sharpen-res.onnx").write_bytes(residual_card.with_suffix(".onnx").read_bytes())
    code, _, err = run_main(["enhance", str(clip_mkv), str(tmp_path / "b.mkv"), "--model", str(corrupt)], capsys)
    assert_one_line_error(code, err, "does not match its card")
    assert not (tmp_path / "b.mkv").exists()


def test_env_vars_and_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARPCAM_STRENGTH", "3")
    code, _, err = run_main(["start"], capsys)
    assert_one_line_error(code, err, "--strength 3.0")
    monkeypatch.delenv("SHARPCAM_STRENGTH")
    config = tmp_path / "sharpcam.toml"
    config.write_text("unsharp = 9\n")
    code, _, err = run_main(["--config", str(config), "start"], capsys)
    assert_one_line_error(code, err, "--unsharp 9.0")
    config.write_text("colour = 1\n")
    code, _, err = run_main(["--config", str(config), "start"], capsys)
    assert_one_line_error(code, err, "unknown setting 'colour'")


def test_enhance_command(tmp_path: Path, clip_mkv: Path, residual_card: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sharp.mkv"
    code, _, err = run_main(["enhance", str(clip_mkv), str(out), "--model", str(residual_card), "--threads", "1", "--no-progress"], capsys)
    assert code == 0, err
    assert len(read_all_frames(out)) == 12 and "wrote" in err
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    code, _, err = run_main(["enhance", str(notes), str(tmp_path / "x.mp4"), "--model", "none"], capsys)
    assert_one_line_error(code, err, "as a video")


def test_enhance_says_when_a_picture_is_already_sharp(tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog) -> None:
    import cv2
    import skimage.data

    from vcam_support import write_pair_card

    card = write_pair_card(tmp_path, gate={"statistic": "textured", "step": 8, "above": 0.69})
    sharp = tmp_path / "coffee.png"
    cv2.imwrite(str(sharp), skimage.data.coffee()[:, :, ::-1])
    out = tmp_path / "out.png"
    code, _, err = run_main(["enhance", str(sharp), str(out), "--model", str(card), "--threads", "1"], capsys)
    assert code == 0, err
    assert (cv2.imread(str(out)) == cv2.imread(str(sharp))).all()  # written as it is
    assert "coffee.png is already sharp" in caplog.text and "--no-sharp-gate" in caplog.text
    code, _, err = run_main(["enhance", str(sharp), str(out), "--model", str(card), "--threads", "1", "--no-sharp-gate"], capsys)
    assert code == 0, err
    assert not (cv2.imread(str(out)) == cv2.imread(str(sharp))).all()  # sharpened anyway


def test_bench_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(["bench", "--model", "none", "--size", "64x36", "--duration", "0.3", "--warmup", "0.1", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["size"] == "64x36" and report["frames_out"] > 0 and "latency_p95_ms" in report


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("NOTIFY_SOCKET", None)
    return env


def test_import_leaves_torch_out() -> None:
    code = "import sys, vcam.cli, vcam.pipeline, vcam.offline; sys.exit(1 if 'torch' in sys.modules or 'kd' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code], env=_env(), cwd=REPO, timeout=60).returncode == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly_and_completes_the_file(tmp_path: Path, clip_mkv: Path, sig: signal.Signals) -> None:
    out = tmp_path / "live.mp4"
    argv = [sys.executable, "-m", "vcam", "start", "--device", str(clip_mkv), "--loop", "--model", "none",
            "--output", str(out), "--fps", "30", "--stats-interval", "0"]
    proc = subprocess.Popen(argv, env=_env(), cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # wait until it runs (signal handlers installed)
            if "running:" in line:
                break
        time.sleep(0.5)  # let a few frames through
        proc.send_signal(sig)
        _, rest = proc.communicate(timeout=20)  # a hang guard, not a speed check
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "Traceback" not in rest and "stopped" in rest
    assert out.exists() and not (tmp_path / "live.partial.mp4").exists()
    assert len(read_all_frames(out)) > 0


def test_sigterm_during_enhance_leaves_no_partial_file(tmp_path: Path, residual_card: Path) -> None:
    from vcam_support import panned_frames, write_clip

    clip = write_clip(tmp_path / "long.mkv", panned_frames(320, 180, 400))
    out = tmp_path / "out.mkv"
    argv = [sys.executable, "-m", "vcam", "enhance", str(clip), str(out), "--model", str(residual_card), "--no-progress"]
    proc = subprocess.Popen(argv, env=_env(), cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60  # a hang guard
        while not (tmp_path / "out.partial.mkv").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0 and "Traceback" not in err
    assert not out.exists() and not (tmp_path / "out.partial.mkv").exists()


def test_sighup_reloads_settings_then_sigterm_stops(tmp_path: Path, clip_mkv: Path) -> None:
    config = tmp_path / "sharpcam.toml"
    config.write_text("strength = 1.0\n")
    out = tmp_path / "live.mkv"
    argv = [sys.executable, "-m", "vcam", "--config", str(config), "start", "--device", str(clip_mkv), "--loop",
            "--model", "none", "--output", str(out), "--stats-interval", "0"]
    proc = subprocess.Popen(argv, env=_env(), cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "running:" in line:
                break
        config.write_text("strength = 0.0\nmirror = true\n")
        proc.send_signal(signal.SIGHUP)
        reload_line = ""
        for reload_line in proc.stderr:
            if "reload" in reload_line:  # success or failure, either ends the wait
                break
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "reloaded settings" in reload_line, reload_line
    assert out.exists() and len(read_all_frames(out)) > 0


def test_start_waits_for_camera_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(["start", "--device", "/dev/video97", "--model", "none", "--output", "null"], capsys)
    assert_one_line_error(code, err, "does not exist")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(["--version"], capsys)
    assert code == 0 and out.startswith("sharpcam ")


def test_error_in_a_real_process_is_exactly_one_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes.mp4"
    notes.write_text("not a video")
    result = subprocess.run([sys.executable, "-m", "vcam", "enhance", str(notes), str(tmp_path / "o.mp4"), "--model", "none"],
                            env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"sharpcam: error: cannot read {notes} as a video: "
                                                  "pass a playable video file (.mp4, .avi, .mkv) or an image"]
