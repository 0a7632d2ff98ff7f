"""vcam.control: `sharpcam ctl` against a running pipeline over its Unix socket."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from test_pipeline import FakeCamera, RecordingSink, daemon_cfg, start, stop, wait_for
from vcam.cli import main
from vcam.config import SharpCamError
from vcam.control import ControlServer, send_command
from vcam.engine import load_engine
from vcam.pipeline import Pipeline


@pytest.fixture
def running(tmp_path: Path, residual_card: Path):
    cfg = daemon_cfg(model=str(residual_card), stats_interval=0.0)
    camera = FakeCamera()
    sink = RecordingSink()
    pipeline = Pipeline(cfg, camera.open(), camera.open, sink, load_engine(cfg.model, "cpu", 1))
    path = tmp_path / "run" / "sharpcam" / "control.sock"
    thread, _ = start(pipeline)
    with ControlServer(pipeline, path) as server:
        wait_for(lambda: pipeline.stats.counters.fresh >= 3, "first frames")
        yield pipeline, camera, sink, server
    stop(pipeline, thread)


def _is_camera_frame(frame: np.ndarray, camera: FakeCamera) -> bool:
    return any(np.array_equal(frame, f) for f in camera.frames)


def test_socket_is_private(running) -> None:
    _, _, _, server = running
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600 and stat.S_ISSOCK(server.path.stat().st_mode)
    assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700


def test_strength_and_bypass_change_the_published_frames(running) -> None:
    pipeline, camera, sink, server = running
    assert not _is_camera_frame(sink.sent[-1], camera)  # the model sharpens
    assert send_command("strength 0", server.path) == "ok strength 0"
    wait_for(lambda: _is_camera_frame(sink.sent[-1], camera), "bit-exact passthrough at strength 0")
    assert send_command("strength 1", server.path) == "ok strength 1"
    wait_for(lambda: not _is_camera_frame(sink.sent[-1], camera), "sharpened frames again")
    assert send_command("bypass on", server.path) == "ok bypass on"
    wait_for(lambda: _is_camera_frame(sink.sent[-1], camera), "bypass")
    assert pipeline.cfg.strength == 1.0  # bypass keeps the user's strength for later
    assert send_command("bypass off", server.path) == "ok bypass off"
    wait_for(lambda: not _is_camera_frame(sink.sent[-1], camera), "bypass off")
    assert not sink.closed  # the virtual camera never closed


def test_stats_is_json(running) -> None:
    pipeline, _, _, server = running
    stats = json.loads(send_command("stats", server.path))
    assert stats["strength"] == 1.0 and stats["bypass"] is False and stats["fps_out"] > 0
    assert set(stats["stage_ms"]) >= {"pre", "infer", "post", "publish"}


def test_bad_commands_change_nothing(running) -> None:
    pipeline, _, _, server = running
    assert send_command("strength 0.5", server.path) == "ok strength 0.5"
    before = pipeline._settings
    for line, needle in (("strength 3", "--strength 3.0 is outside 0..1"), ("model no-such-model", "not found (installed: ")):
        answer = send_command(line, server.path)
        assert answer.startswith("error: ") and needle in answer and "\n" not in answer
    assert pipeline._settings is before and pipeline.cfg.strength == 0.5
    with pytest.raises(SharpCamError, match="unknown command"):
        send_command("frobnicate", server.path)
    with pytest.raises(SharpCamError, match="bypass on or bypass off"):
        send_command("bypass maybe", server.path)


def test_model_swaps_without_closing_the_camera(running) -> None:
    pipeline, camera, sink, server = running
    assert send_command("model none", server.path) == "ok model none"
    wait_for(lambda: _is_camera_frame(sink.sent[-1], camera), "the identity model")
    assert not sink.closed


def test_another_users_connection_is_refused(tmp_path: Path, residual_card: Path) -> None:
    cfg = daemon_cfg(model=str(residual_card))
    camera = FakeCamera()
    pipeline = Pipeline(cfg, camera.open(), camera.open, RecordingSink(), load_engine(cfg.model, "cpu", 1))
    # a server that serves only some other uid: to it, this test process is the stranger
    with ControlServer(pipeline, tmp_path / "s" / "control.sock", uid=os.getuid() + 1) as server:
        answer = send_command("strength 0", server.path)
    assert answer.startswith("error: refused") and pipeline.cfg.strength == 1.0
    pipeline.close()


def test_ctl_without_a_daemon_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    with pytest.raises(SystemExit) as info:
        main(["ctl", "strength", "0.5"])
    err = capsys.readouterr().err
    assert info.value.code == 1 and err.startswith("sharpcam: error: no running sharpcam daemon") and err.count("\n") == 1


def test_ctl_against_a_running_sharpcam_start(tmp_path: Path, clip_mkv: Path, residual_card: Path) -> None:
    import subprocess
    import sys
    import time

    from test_cli import _env

    env = {**_env(), "XDG_RUNTIME_DIR": str(tmp_path)}
    argv = [sys.executable, "-m", "vcam", "start", "--device", str(clip_mkv), "--loop", "--model", str(residual_card),
            "--output", "null", "--stats-interval", "0"]
    proc = subprocess.Popen(argv, env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    sock = tmp_path / "sharpcam" / "control.sock"
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "running:" in line:
                break
        ctl = lambda *args: subprocess.run([sys.executable, "-m", "vcam", "ctl", *args], env=env, capture_output=True, text=True, timeout=60)
        r = ctl("strength", "0.4")
        assert r.returncode == 0 and r.stdout.strip() == "ok strength 0.4", r.stderr
        stats = json.loads(ctl("stats").stdout)
        assert stats["strength"] == 0.4 and stats["model"] == "sharpen-res"
        bad = ctl("strength", "7")
        assert bad.returncode == 1 and bad.stderr.startswith("sharpcam: error: --strength 7.0 is outside 0..1")
        proc.terminate()
        proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and not sock.exists()  # the socket goes with the daemon


def test_no_runtime_folder_means_no_control_not_no_daemon(tmp_path: Path, residual_card: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the socket's folder would go
    cfg = daemon_cfg(model=str(residual_card))
    camera = FakeCamera()
    pipeline = Pipeline(cfg, camera.open(), camera.open, RecordingSink(), load_engine(cfg.model, "cpu", 1))
    with ControlServer(pipeline, blocker / "sharpcam" / "control.sock") as server:
        assert server._sock is None  # logged, not raised
    pipeline.close()


def test_a_refusal_sent_before_the_command_is_read_still_reaches_the_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A daemon that refuses a stranger answers and hangs up without reading; when that happens before
    the client has sent its line (a loaded machine: CI once saw it), the client gets the refusal, not
    a BrokenPipeError."""
    import socket
    import threading

    from vcam import control

    path = tmp_path / "control.sock"
    hung_up = threading.Event()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def refuse() -> None:
        conn, _ = server.accept()
        conn.sendall(b"error: refused: uid 1 is not this daemon's user\n")
        conn.close()
        hung_up.set()

    class LateClient(socket.socket):  # sends only once the daemon has hung up
        def connect(self, address) -> None:
            super().connect(address)
            assert hung_up.wait(5)

    thread = threading.Thread(target=refuse)
    thread.start()
    monkeypatch.setattr(control.socket, "socket", LateClient)
    try:
        assert send_command("strength 0", path) == "error: refused: uid 1 is not this daemon's user"
    finally:
        thread.join(5)
        server.close()
