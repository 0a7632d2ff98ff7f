"""Fixtures for the end-to-end tests: each fixture is ONE guest boot whose results many tests read.

The tests run only when SHARPCAM_E2E=1 (each boot takes a minute or more of both CPU cores under
TCG); then a missing qemu or guest image is an error, not a skip, so CI cannot pass without them.
Without SHARPCAM_E2E they are skipped with the reason and what is missing.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import harness
from tiny_model import write_luma_unsharp_model, write_unsharp_model

# The guest images and each boot's share live in cache/; a browser-image build in progress holds a
# whole Debian tree there, whose Python files are not this project's tests.
collect_ignore_glob = ["cache/*"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def guest_ready() -> None:
    """Skip (not enabled) or fail (enabled, but the guest cannot boot) before any boot is tried."""
    missing = harness.missing_prerequisites()
    if os.environ.get("SHARPCAM_E2E") != "1":
        why = "; ".join(missing) if missing else "guest image present"
        pytest.skip(f"end-to-end tests need SHARPCAM_E2E=1 (they boot a qemu guest, minutes of CPU); {why}")
    if missing:
        pytest.fail("SHARPCAM_E2E=1 but the guest cannot boot: " + "; ".join(missing), pytrace=False)


@pytest.fixture(scope="session")
def e2e_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Card of a tiny fixed unsharp-mask ONNX model (IR 8, readable by the guest's onnxruntime 1.20.1),
    ~4 frames/s at 160x90 under TCG: the fault and on-demand timings are SharpCam's, not the model's."""
    return write_unsharp_model(tmp_path_factory.mktemp("e2e_model"))


@pytest.fixture(scope="session")
def camera_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Card of the model boot 1's daemon and offline enhance run: $SHARPCAM_E2E_MODEL, else the tiny
    unsharp mask in the card-v2 Y-plane form, so the guest's daemon runs the luma path the default
    model takes and hands I420 straight to v4l2loopback (boot 2 runs the RGB path with `e2e_model`; the
    shipped default itself runs through `sharpcam enhance` in boot 1). A fixed, strong mask, because the
    checks tell the model's output from its input through the device's YUV hops: the trained default
    changes a clean frame by ~1 grey level, within those hops."""
    if os.environ.get("SHARPCAM_E2E_MODEL"):
        return Path(os.environ["SHARPCAM_E2E_MODEL"]).resolve()
    return write_luma_unsharp_model(tmp_path_factory.mktemp("e2e_luma_model"))


def _boot(model: Path, script: str, name: str, clip: np.ndarray | None = None,
          modprobe_args: str = harness.MODPROBE_ARGS, **guest: object) -> harness.GuestRun:
    # Kept after the session (replaced by the next run) so a failure can be looked into.
    root = harness.cache_dir() / "runs" / name
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    # The guest loads v4l2loopback with these options at boot and the checks read them from setup.json:
    # both must get the same ones.
    share = harness.make_share(root / "share", model, clip=clip, modprobe_args=modprobe_args)
    run = harness.run_guest(share, harness.guest_python(script), modprobe_args=modprobe_args, **guest)
    print(f"\n[e2e] {name}: guest boot took {run.seconds:.0f} s, rc={run.rc}")
    if run.rc != 0 or not run.results:
        pytest.fail(f"guest run {name} gave no results (rc={run.rc})\n{run.log_tail()}", pytrace=False)
    return run


@pytest.fixture(scope="session")
def camera_run(guest_ready: None, camera_model: Path) -> harness.GuestRun:
    """Boot 1 (guest/camera_checks.py): doctor, enhance, daemon + clients, open/close, SIGTERM."""
    return _boot(camera_model, "camera_checks.py", "camera")


@pytest.fixture(scope="session")
def faults_run(guest_ready: None, e2e_model: Path) -> harness.GuestRun:
    """Boot 2 (guest/fault_checks.py): camera unplugged and back, on-demand release and resume."""
    return _boot(e2e_model, "fault_checks.py", "faults")


@pytest.fixture(scope="session")
def browser_run(camera_model: Path) -> harness.GuestRun:
    """Boot 3, on the browser image (guest/browser_checks.py): Chromium and Firefox ESR open the page
    before `sharpcam start` (the order trap), then read "SharpCam" at 1280x720. The card-v2 luma
    unsharp mask as in boot 1: at 720p it takes ~1-2 s a frame under TCG, so the input is a 1 frame/s
    clip and the check is that the browsers' frames are the model's output, not a frame rate."""
    missing = harness.missing_prerequisites(browsers=True)
    if os.environ.get("SHARPCAM_E2E") != "1":
        why = "; ".join(missing) if missing else "browser guest image present"
        pytest.skip(f"browser end-to-end tests need SHARPCAM_E2E=1 (a qemu guest, ~10 min of CPU); {why}")
    if missing:
        pytest.fail("SHARPCAM_E2E=1 but the browser guest cannot boot: " + "; ".join(missing), pytrace=False)
    return _boot(camera_model, "browser_checks.py", "browsers", clip=harness.hd_clip_frames_rgb_u8(),
                 modprobe_args=harness.BROWSER_MODPROBE_ARGS, vm=harness.browser_vm_script(),
                 cache=harness.browser_cache_dir(), mem_mib=harness.BROWSER_GUEST_MEM_MIB,
                 timeout_s=harness.BROWSER_BOOT_TIMEOUT_S)
