"""`sharpcam doctor` checks on fake /sys, /proc, /dev, /etc and /lib/modules trees."""

from __future__ import annotations

import grp
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from vcam import doctor
from vcam.card import card_fields, write_card
from vcam.devices import CAP_DEVICE_CAPS, CAP_STREAMING, CAP_VIDEO_CAPTURE, CAP_VIDEO_OUTPUT, DeviceProbe, V4l2Capability
from vcam.doctor import FAIL, OK, WARN, Check, SystemPaths, UserInfo

RELEASE = "6.8.0-45-generic"
SECURE_BOOT_VAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"


def fake_paths(root: Path) -> SystemPaths:
    paths = SystemPaths(
        sys=root / "sys", proc=root / "proc", dev=root / "dev", etc=root / "etc",
        lib_modules=root / "lib" / "modules", kernel_release=RELEASE,
    )
    for p in (paths.sys, paths.proc, paths.dev, paths.etc, paths.lib_modules / RELEASE):
        p.mkdir(parents=True, exist_ok=True)
    (paths.proc / "modules").write_text("uvcvideo 139264 0 - Live 0x0000000000000000\n")
    return paths


def install_module(paths: SystemPaths) -> None:
    ko = paths.lib_modules / RELEASE / "updates" / "dkms" / "v4l2loopback.ko.zst"
    ko.parent.mkdir(parents=True)
    ko.write_bytes(b"\x28\xb5\x2f\xfd")
    (paths.lib_modules / RELEASE / "modules.dep").write_text("updates/dkms/v4l2loopback.ko.zst: kernel/drivers/media/v4l2-core/videodev.ko.zst\n")


def load_module(paths: SystemPaths, labels: tuple[str, ...] = ("SharpCam",), exclusive_caps: str = "Y") -> None:
    """v4l2loopback loaded with one device per label at /dev/video10, 11, ..."""
    params = paths.sys / "module" / "v4l2loopback" / "parameters"
    params.mkdir(parents=True)
    (params / "exclusive_caps").write_text(",".join([exclusive_caps] * len(labels) + ["N"] * (8 - len(labels))) + "\n")
    with open(paths.proc / "modules", "a") as f:
        f.write("v4l2loopback 49152 0 - Live 0x0000000000000000\n")
    for i, label in enumerate(labels):
        add_node(paths, 10 + i, label, loopback=True)


def add_node(paths: SystemPaths, number: int, name: str, loopback: bool = False, gid: int = 0, mode: int = 0o660) -> Path:
    node_dir = paths.sys / "class" / "video4linux" / f"video{number}"
    node_dir.mkdir(parents=True)
    (node_dir / "name").write_text(name + "\n")
    (node_dir / "index").write_text("0\n")
    if loopback:
        (node_dir / "max_openers").write_text("10\n")
    node = paths.dev / f"video{number}"
    node.write_text("")
    os.chown(node, 0, gid)
    node.chmod(mode)
    return node


def fake_probe(path: Path) -> DeviceProbe:
    """Loopbacks are video10+, cameras below."""
    number = int(path.name.removeprefix("video"))
    if number >= 10:
        cap = V4l2Capability("v4l2 loopback", "SharpCam", "platform:v4l2loopback-000", 0, CAP_DEVICE_CAPS | CAP_VIDEO_OUTPUT, CAP_VIDEO_OUTPUT | CAP_STREAMING)
    else:
        cap = V4l2Capability("uvcvideo", "HD Pro Webcam C920", "usb-0000:00:14.0-1", 0, CAP_DEVICE_CAPS | CAP_VIDEO_CAPTURE, CAP_VIDEO_CAPTURE | CAP_STREAMING)
    return DeviceProbe(cap, ())


def video_gid() -> int:
    try:
        return grp.getgrnam("video").gr_gid
    except KeyError:
        pytest.skip("this machine has no 'video' group")


def user(gids: set[int], configured: set[str] = frozenset()) -> UserInfo:
    # uid 1000 differs from the test runner, so doctor judges permissions from the mode bits.
    return UserInfo(uid=1000 if os.getuid() != 1000 else 1001, name="alice", gids=frozenset(gids), configured_groups=frozenset(configured))


def add_process(paths: SystemPaths, pid: int, comm: str, cmdline: str, targets: list[Path]) -> None:
    fd_dir = paths.proc / str(pid) / "fd"
    fd_dir.mkdir(parents=True)
    (paths.proc / str(pid) / "comm").write_text(comm + "\n")
    (paths.proc / str(pid) / "cmdline").write_bytes(cmdline.replace(" ", "\0").encode() + b"\0")
    for fd, target in enumerate(targets, start=3):
        os.symlink(target, fd_dir / str(fd))


# ------------------------------------------------------------------ module / Secure Boot


def test_module_not_installed(tmp_path: Path) -> None:
    check = doctor.check_module(fake_paths(tmp_path))
    assert check.status == FAIL and "not installed" in check.summary
    assert any("apt install v4l2loopback-dkms" in fix for fix in check.fixes)
    assert doctor.MODPROBE_COMMAND in check.fixes


def test_module_installed_but_not_loaded(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    install_module(paths)
    check = doctor.check_module(paths)
    assert check.status == FAIL and "not loaded" in check.summary
    assert check.fixes == (doctor.MODPROBE_COMMAND,)
    # the advice loads the module with the options the shipped boot-time file sets
    shipped = (Path(__file__).resolve().parent.parent / "systemd" / "v4l2loopback.conf").read_text()
    options = next(l.split("v4l2loopback", 1)[1].split() for l in shipped.splitlines() if l.startswith("options v4l2loopback"))
    assert doctor.MODPROBE_COMMAND.split("modprobe v4l2loopback", 1)[1].split() == options


def test_kernel_without_module_support_gets_no_apt_advice(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    (paths.proc / "modules").unlink()  # CONFIG_MODULES=n: the kernel has no /proc/modules
    check = doctor.check_module(paths)
    assert check.status == FAIL and "cannot load modules" in check.summary
    assert not any("apt install" in fix or "modprobe" in fix for fix in check.fixes)


def test_module_loaded_seen_in_proc_modules_alone(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    (paths.proc / "modules").write_text("v4l2loopback 49152 0 - Live 0x0000000000000000\n")
    assert doctor.check_module(paths).status == OK


def enable_secure_boot(paths: SystemPaths, on: bool = True) -> None:
    efivars = paths.sys / "firmware" / "efi" / "efivars"
    efivars.mkdir(parents=True)
    (efivars / SECURE_BOOT_VAR).write_bytes(bytes([6, 0, 0, 0, 1 if on else 0]))


def test_secure_boot_rejecting_the_module(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    install_module(paths)
    enable_secure_boot(paths)
    log = "[   12.3] v4l2loopback: loading out-of-tree module taints kernel.\n[   12.4] modprobe: Key was rejected by service\n"
    check = doctor.check_secure_boot(paths, log)
    assert check.status == FAIL and "Key was rejected by service" in check.summary
    assert any("mokutil --import" in fix for fix in check.fixes)


def test_unsigned_module_taint_message_is_not_a_rejection(tmp_path: Path) -> None:
    """A non-enforcing kernel logs this and loads the module anyway (as in the e2e guest)."""
    paths = fake_paths(tmp_path)
    install_module(paths)
    log = "[   19.6] v4l2loopback: module verification failed: signature and/or required key missing - tainting kernel\n"
    assert doctor.check_secure_boot(paths, log).status == OK


def test_secure_boot_on_without_evidence_is_a_warning(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    enable_secure_boot(paths)
    assert doctor.secure_boot_enabled(paths) is True
    check = doctor.check_secure_boot(paths, None)
    assert check.status == WARN and "Key was rejected by service" in check.summary


def test_secure_boot_off_or_module_loaded_is_fine(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    enable_secure_boot(paths, on=False)
    assert doctor.check_secure_boot(paths, "").status == OK
    lockdown = paths.sys / "kernel" / "security" / "lockdown"
    lockdown.parent.mkdir(parents=True)
    lockdown.write_text("none [integrity] confidentiality\n")
    assert doctor.lockdown_mode(paths) == "integrity"
    assert doctor.check_secure_boot(paths, "").status == WARN
    load_module(paths)
    assert doctor.check_secure_boot(paths, "").status == OK


def test_load_at_boot(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    check = doctor.check_persistence(paths)
    assert check.status == WARN and check.fixes == doctor.PERSIST_COMMANDS
    repo_systemd = Path(__file__).resolve().parents[1] / "systemd"
    (paths.etc / "modules-load.d").mkdir()
    (paths.etc / "modprobe.d").mkdir()
    # The files the project ships are exactly what the check looks for.
    (paths.etc / "modules-load.d" / "sharpcam.conf").write_text((repo_systemd / "sharpcam-modules.conf").read_text())
    (paths.etc / "modprobe.d" / "sharpcam-v4l2loopback.conf").write_text((repo_systemd / "v4l2loopback.conf").read_text())
    assert doctor.check_persistence(paths).status == OK


# ------------------------------------------------------------------ virtual camera


def test_virtual_camera_label_and_exclusive_caps(tmp_path: Path) -> None:
    from vcam.devices import LoopbackDevice

    paths = fake_paths(tmp_path)
    assert doctor.check_virtual_camera(paths, []).status == FAIL
    load_module(paths, labels=("Dummy video device (0x0000)",))
    dummy = [LoopbackDevice(str(paths.dev / "video10"), "Dummy video device (0x0000)")]
    check = doctor.check_virtual_camera(paths, dummy)
    assert check.status == WARN and "none is labelled SharpCam" in check.summary
    assert check.fixes[0] == doctor.RELOAD_COMMAND
    assert doctor.check_virtual_camera(paths, []).summary == "v4l2loopback is loaded but has no devices"

    other = fake_paths(tmp_path / "b")
    load_module(other, exclusive_caps="N")
    labelled = [LoopbackDevice(str(other.dev / "video10"), "SharpCam")]
    check = doctor.check_virtual_camera(other, labelled)
    assert check.status == WARN and "exclusive_caps is off" in check.summary


def test_virtual_camera_opened_by_another_app_first(tmp_path: Path) -> None:
    from vcam.devices import LoopbackDevice

    paths = fake_paths(tmp_path)
    load_module(paths)
    node = paths.dev / "video10"
    loopbacks = [LoopbackDevice(str(node), "SharpCam")]
    assert doctor.check_virtual_camera_users(paths, loopbacks, ()).status == OK
    add_process(paths, 4242, "zoom", "/opt/zoom/zoom", [node])
    check = doctor.check_virtual_camera_users(paths, loopbacks, ())
    assert check.status == WARN
    assert "zoom (pid 4242)" in check.summary and "VIDIOC_S_FMT" in check.summary and "Errno 22" in check.summary
    assert any(doctor.RELOAD_COMMAND in fix for fix in check.fixes)
    # Once SharpCam itself publishes there, a reading app is the normal case.
    add_process(paths, 4300, "sharpcam", "/usr/bin/python3 /home/alice/.local/bin/sharpcam start", [node])
    check = doctor.check_virtual_camera_users(paths, loopbacks, ())
    assert check.status == OK and "SharpCam is publishing" in check.summary


# ------------------------------------------------------------------ permissions / camera


def test_permissions(tmp_path: Path) -> None:
    gid = video_gid()
    paths = fake_paths(tmp_path)
    node = str(add_node(paths, 0, "HD Pro Webcam C920", gid=gid))
    assert doctor.check_permissions(user({1000, gid}), [node]).status == OK

    outsider = doctor.check_permissions(user({1000}), [node])
    assert outsider.status == FAIL and "cannot open" in outsider.summary
    assert "sudo usermod -aG video $USER" in outsider.fixes

    added_but_not_relogged = doctor.check_permissions(user({1000}, {"video"}), [node])
    assert added_but_not_relogged.status == FAIL
    assert "log out and back in" in added_but_not_relogged.fixes[0]

    assert doctor.check_permissions(user({1000}), []).status == WARN


def test_camera(tmp_path: Path) -> None:
    from vcam.devices import discover

    paths = fake_paths(tmp_path)
    assert doctor.check_camera(paths, (), "0", ()).status == FAIL
    add_node(paths, 0, "HD Pro Webcam C920")
    add_node(paths, 2, "HD Pro Webcam C920")
    cameras = discover(paths.sys, paths.dev, fake_probe).cameras
    ok = doctor.check_camera(paths, cameras, "0", ())
    assert ok.status == OK and "HD Pro Webcam C920" in ok.summary
    assert doctor.check_camera(paths, cameras, "/dev/video2", ()).status == OK
    wrong = doctor.check_camera(paths, cameras, "5", ())
    assert wrong.status == FAIL and "is not a camera" in wrong.summary
    add_process(paths, 777, "cheese", "cheese", [paths.dev / "video0"])
    busy = doctor.check_camera(paths, cameras, "0", ())
    assert busy.status == WARN and "cheese (pid 777)" in busy.summary
    video_file = tmp_path / "clip.mp4"
    video_file.write_bytes(b"")
    assert doctor.check_camera(paths, cameras, str(video_file), ()).status == OK
    assert doctor.check_camera(paths, cameras, str(tmp_path / "missing.mp4"), ()).status == FAIL


# ------------------------------------------------------------------ model / service


def write_identity_model(folder: Path) -> Path:
    """A real 1x1-conv identity ONNX model and its card (export/README.md), built without torch."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    weight = np.eye(3, dtype=np.float32).reshape(3, 3, 1, 1)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["input", "w"], ["output"])],
        "identity",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "height", "width"])],
        [numpy_helper.from_array(weight, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx_path = folder / "identity.onnx"
    onnx_path.write_bytes(model.SerializeToString())
    card_path = folder / "identity.json"
    write_card(card_path, card_fields("identity", onnx_path, pad_multiple=4))
    return card_path


def test_model(tmp_path: Path) -> None:
    card = write_identity_model(tmp_path)
    ok = doctor.check_model(str(card), "cpu")
    assert ok.status == OK and "sha256 verified" in ok.summary
    assert doctor.check_model("none", "cpu").status == OK
    missing = doctor.check_model(str(tmp_path / "nope.json"), "cpu")
    assert missing.status == FAIL
    (tmp_path / "identity.onnx").write_bytes(b"corrupted")
    tampered = doctor.check_model(str(card), "cpu")
    assert tampered.status == FAIL and "sha256" in tampered.summary


def test_service_check_spots_a_sandbox_the_kernel_refuses(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    unit = tmp_path / "sharpcam.service"
    assert doctor.check_service(unit, paths).status == OK
    from vcam.service import render_unit

    unit.write_text(render_unit())
    assert doctor.check_service(unit, paths).status == OK
    sysctl = paths.proc / "sys" / "kernel" / "apparmor_restrict_unprivileged_userns"
    sysctl.parent.mkdir(parents=True)
    sysctl.write_text("1\n")
    refused = doctor.check_service(unit, paths)
    assert refused.status == FAIL and "AppArmor" in refused.summary
    unit.write_text(render_unit(namespace_sandbox=False))
    assert doctor.check_service(unit, paths).status == OK


# ------------------------------------------------------------------ whole run / CLI


def healthy_machine(tmp_path: Path) -> tuple[SystemPaths, UserInfo]:
    gid = video_gid()
    paths = fake_paths(tmp_path)
    install_module(paths)
    load_module(paths)
    os.chown(paths.dev / "video10", 0, gid)
    add_node(paths, 0, "HD Pro Webcam C920", gid=gid)
    (paths.etc / "modules-load.d").mkdir()
    (paths.etc / "modules-load.d" / "sharpcam.conf").write_text("v4l2loopback\n")
    (paths.etc / "modprobe.d").mkdir()
    (paths.etc / "modprobe.d" / "sharpcam.conf").write_text("options v4l2loopback video_nr=10 card_label=SharpCam exclusive_caps=1\n")
    return paths, user({1000, gid})


def test_run_checks_on_a_healthy_machine(tmp_path: Path) -> None:
    paths, alice = healthy_machine(tmp_path)
    checks = doctor.run_checks(
        paths, alice, model="none", provider="cpu", device="0", unit_path=tmp_path / "none.service",
        kernel_log=lambda: pytest.fail("the kernel log is only read when the module is missing"),
        probe=fake_probe, turbojpeg=lambda: True,
    )
    assert [c.status for c in checks] == [OK] * len(checks), doctor.format_checks(checks)
    assert doctor.format_checks(checks).endswith("everything looks fine")


def test_run_checks_on_a_bare_machine(tmp_path: Path) -> None:
    paths = fake_paths(tmp_path)
    checks = doctor.run_checks(
        paths, user({1000}), model="none", provider="cpu", device="0", unit_path=tmp_path / "none.service",
        kernel_log=lambda: "", probe=fake_probe, turbojpeg=lambda: False,
    )
    by_name = {c.name: c for c in checks}
    assert by_name["MJPG decoding"].status == WARN and "apt install libturbojpeg0" in by_name["MJPG decoding"].fixes[0]
    assert by_name["v4l2loopback module"].status == FAIL
    assert by_name["virtual camera"].status == FAIL
    assert by_name["camera"].status == FAIL
    text = doctor.format_checks(checks)
    assert "FAIL  v4l2loopback module: not installed" in text
    assert "        fix: sudo modprobe v4l2loopback video_nr=10 card_label=SharpCam exclusive_caps=1" in text


@pytest.mark.parametrize(("statuses", "exit_code"), [((OK, WARN), 0), ((OK, FAIL, WARN), 1)])
def test_cli_exit_code_and_json(monkeypatch: pytest.MonkeyPatch, statuses: tuple[str, ...], exit_code: int) -> None:
    canned = tuple(Check(f"check {i}", s, f"summary {i}", ("do this",) if s != OK else ()) for i, s in enumerate(statuses))
    monkeypatch.setattr(doctor, "run_checks", lambda *args, **kwargs: canned)
    runner = CliRunner()
    text = runner.invoke(doctor.doctor_command, ["--model", "none"])
    assert text.exit_code == exit_code, text.output
    assert "summary 0" in text.output
    as_json = runner.invoke(doctor.doctor_command, ["--model", "none", "--json"])
    assert as_json.exit_code == exit_code
    data = json.loads(as_json.output)
    assert data["ok"] is (exit_code == 0)
    assert [c["status"] for c in data["checks"]] == list(statuses)


def test_cli_runs_for_real_on_this_machine() -> None:
    """Whatever this machine has, doctor finishes with a report, no traceback, exit 0 or 1."""
    result = CliRunner().invoke(doctor.doctor_command, ["--model", "none"])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "v4l2loopback module:" in result.output


def test_cli_bad_config_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("strength = 3\n")
    result = CliRunner().invoke(doctor.doctor_command, ["--config", str(bad)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "strength" in result.output
