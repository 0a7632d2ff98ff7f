"""Host side of the end-to-end tests: boot the qemu guest (v4l2loopback inside), run a guest script
against a share folder, and collect its results as JSON.

The guest image is built by tests/e2e/build_guest.sh (the shared recipe ../shared/vm/vcam_vm.sh with
VCAM_CACHE=tests/e2e/cache). The guest has Python 3.11, numpy 1.24, OpenCV 4.10, onnxruntime 1.20.1,
pyvirtualcam, click, ffmpeg and v4l2-ctl but no pip: the project is copied into the share and put on
PYTHONPATH, never installed.

Share layout (the guest sees it at /mnt/host, its working directory):
    src/vcam, src/sharpcam_models   the runtime under test (copies of vcam/ and export/)
    guest/                          the guest-side scripts (copies of tests/e2e/guest/)
    model/                          the model + card the daemon runs
    clip/NN.png                     the input frames (real photos panned)
    out/                            what the guest writes: results.json, logs, frames
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
E2E = Path(__file__).resolve().parent

# Loopback devices: /dev/video9 plays the physical webcam (fed by ffmpeg), /dev/video10 is SharpCam,
# /dev/video11 is a control: a plain pyvirtualcam writer, to tell driver behaviour from SharpCam's.
# The webcam stand-in has exclusive_caps=0: v4l2loopback 0.12.7 (Debian bookworm) with
# exclusive_caps=1 refuses a second writer once the first closed (v4l2loopback issue #504), so the
# feeder could not come back after an "unplug"; SharpCam and the control keep exclusive_caps=1 as
# users load them (Chrome needs it).
INPUT_DEV = "/dev/video9"
OUTPUT_DEV = "/dev/video10"
CONTROL_DEV = "/dev/video11"
MODPROBE_ARGS = "devices=3 video_nr=9,10,11 card_label=Camera,SharpCam,Control exclusive_caps=0,1,1"

# The browser boot loads the one device exactly as the README tells users to: what a browser sees
# before and after SharpCam writes (exclusive_caps=1) is what the tests are about.
BROWSER_MODPROBE_ARGS = "devices=1 video_nr=10 card_label=SharpCam exclusive_caps=1"
# Two browsers open at once (the order trap) plus the daemon at 720p; see the boot's
# mem_available_min_mib for the headroom measured.
BROWSER_GUEST_MEM_MIB = 3072
BROWSER_BOOT_TIMEOUT_S = 1500

# Frame size used everywhere in the guest: onnxruntime under TCG is ~100x slower than on the host.
WIDTH, HEIGHT = 160, 90


def vm_script() -> Path:
    """The shared qemu recipe: $SHARPCAM_E2E_VM, else ../shared/vm/vcam_vm.sh beside the clone."""
    return Path(os.environ.get("SHARPCAM_E2E_VM", REPO.parent / "shared" / "vm" / "vcam_vm.sh"))


def cache_dir() -> Path:
    """Where the guest image lives: $VCAM_CACHE, else tests/e2e/cache (git-ignored)."""
    return Path(os.environ.get("VCAM_CACHE", E2E / "cache"))


def browser_cache_dir() -> Path:
    """Where the browser guest image lives: $SHARPCAM_E2E_BROWSER_CACHE, else tests/e2e/cache/browser."""
    return Path(os.environ.get("SHARPCAM_E2E_BROWSER_CACHE", E2E / "cache" / "browser"))


def browser_vm_script() -> Path:
    """The browser guest's recipe: build_guest.sh writes it (the shared recipe, package list extended)."""
    return browser_cache_dir() / "vcam_vm_browsers.sh"


def missing_prerequisites(browsers: bool = False) -> list[str]:
    """What stops the guest (the browser guest with `browsers`) from booting here, each with its fix;
    empty when it can boot."""
    missing = []
    fix = "bash tests/e2e/build_guest.sh" + (" browsers" if browsers else "")
    if shutil.which("qemu-system-x86_64") is None:
        missing.append(f"qemu-system-x86_64 not found (fix: {fix}, which installs it)")
    vm = browser_vm_script() if browsers else vm_script()
    if not vm.is_file():
        missing.append(f"{vm} not found (fix: {fix})" if browsers else
                       f"{vm} not found (fix: set SHARPCAM_E2E_VM to vcam_vm.sh)")
    c = browser_cache_dir() if browsers else cache_dir()
    for name in ("stamp", "vmlinuz", "initrd.img", "rootfs.ext4"):
        if not (c / name).is_file():
            missing.append(f"guest image not built: {c / name} missing (fix: {fix})")
            break
    return missing


@dataclasses.dataclass(frozen=True)
class GuestRun:
    """One VM boot: the guest command's exit code, its results and everything needed to debug it."""

    rc: int                 # exit code of the guest command; 125 = the VM gave no result
    seconds: float          # wall time of the whole boot
    results: dict           # out/results.json written by the guest script ({} if none)
    out: Path               # the share's out/ folder (logs, frames)
    console: str            # vcam_vm.sh's stderr: guest console on failure, boot log lines

    def log_tail(self, chars: int = 6000) -> str:
        """The last part of the guest console and of every guest log file, for failure messages."""
        parts = [f"--- vcam_vm.sh (rc={self.rc}, {self.seconds:.0f} s) ---\n{self.console[-chars:]}"]
        for p in sorted(self.out.glob("*.log")):
            parts.append(f"--- {p.name} ---\n{p.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)


def make_share(root: Path, model_card: Path, clip: np.ndarray | None = None,
               modprobe_args: str = MODPROBE_ARGS) -> Path:
    """Fill `root` with the runtime copy, guest scripts, model and clip frames; return root.

    clip: (N, H, W, 3) uint8 RGB input frames, their size the guest's frame size (default: the
    160x90 pan of `clip_frames_rgb_u8`); modprobe_args: the v4l2loopback options the guest loads."""
    src = root / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "vcam", src / "vcam", ignore=ignore)
    # export/ installs as the package sharpcam_models; without pip the copy carries that name.
    shutil.copytree(REPO / "export", src / "sharpcam_models", ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", "*.pt"))
    shutil.copytree(E2E / "guest", root / "guest", ignore=ignore)
    (root / "model").mkdir()
    card = json.loads(model_card.read_text())
    shutil.copy2(model_card, root / "model" / model_card.name)
    shutil.copy2(model_card.parent / card["file"], root / "model" / card["file"])
    clip = clip_frames_rgb_u8() if clip is None else clip
    write_clip_frames(root / "clip", clip)
    (root / "out").mkdir()
    (root / "out" / "setup.json").write_text(json.dumps({
        "input_dev": INPUT_DEV, "output_dev": OUTPUT_DEV, "control_dev": CONTROL_DEV, "modprobe_args": modprobe_args,
        "width": int(clip.shape[2]), "height": int(clip.shape[1]), "model": f"model/{model_card.name}",
    }, indent=2))
    return root


def clip_frames_rgb_u8(n: int = 16) -> np.ndarray:
    """(n, HEIGHT, WIDTH, 3) uint8 RGB: a pan across scikit-image's astronaut photo, 5 px per frame.

    Full-resolution crops (no resize) so the frames keep real edges for the sharpener to act on, and
    consecutive frames differ clearly, so a captured frame can be matched to its input frame.
    """
    from skimage import data

    photo = data.astronaut()                   # (512, 512, 3) uint8 RGB
    y0, x0, step = 40, 150, 5
    return np.stack([photo[y0:y0 + HEIGHT, x0 + i * step:x0 + i * step + WIDTH] for i in range(n)])


def hd_clip_frames_rgb_u8(n: int = 6, width: int = 1280, height: int = 720) -> np.ndarray:
    """(n, height, width, 3) uint8 RGB: a pan across a mosaic of scikit-image's astronaut photo,
    24 px per frame, for the browser tests that ask the camera for 1280x720.

    The photo is 512x512, so it is tiled rather than scaled up: every frame keeps the photo's real
    edges (which the sharpener changes visibly) and neighbouring frames differ clearly."""
    from skimage import data

    photo = data.astronaut()
    reps_y, reps_x = -(-height // 512) + 1, -(-(width + 24 * n) // 512) + 1
    mosaic = np.tile(photo, (reps_y, reps_x, 1))
    y0, x0, step = 100, 40, 24
    return np.stack([mosaic[y0:y0 + height, x0 + i * step:x0 + i * step + width] for i in range(n)])


def write_clip_frames(folder: Path, frames_rgb_u8: np.ndarray) -> None:
    """Write (N, H, W, 3) uint8 RGB frames as lossless PNGs folder/00.png .. (the guest's ffmpeg turns
    them into a video)."""
    import cv2

    folder.mkdir(parents=True)
    for i, rgb in enumerate(frames_rgb_u8):
        if not cv2.imwrite(str(folder / f"{i:02d}.png"), rgb[..., ::-1]):
            raise RuntimeError(f"cannot write {folder / f'{i:02d}.png'}")


def run_guest(share: Path, command: str, timeout_s: int = 480, modprobe_args: str = MODPROBE_ARGS,
              vm: Path | None = None, cache: Path | None = None, mem_mib: int | None = None) -> GuestRun:
    """Boot the guest with `share` at /mnt/host (its cwd), load v4l2loopback with `modprobe_args`, run
    `sh -c command` there and return its exit code, results.json and logs. vm/cache: another recipe and
    image (the browser guest); mem_mib: guest memory unless $VCAM_MEM says otherwise."""
    env = dict(os.environ, VCAM_CACHE=str(cache or cache_dir()), VCAM_MODPROBE=modprobe_args,
               VCAM_TIMEOUT=str(timeout_s), TMPDIR=str(share.parent))
    if mem_mib is not None:
        env.setdefault("VCAM_MEM", str(mem_mib))
    # q35, not the recipe's default microvm: microvm has no HPET/PM timer, so on a loaded host the
    # guest kernel fails to calibrate the TSC against the PIT and hangs right after "Probing EDD"
    # (seen here with a training job and other VMs on the 2 cores); q35 boots under the same load.
    env.setdefault("VCAM_MACHINE", "q35")
    t0 = time.monotonic()
    p = subprocess.run(["bash", str(vm or vm_script()), "run", str(share), command], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout_s + 60)
    seconds = time.monotonic() - t0
    results_path = share / "out" / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    return GuestRun(p.returncode, seconds, results, share / "out", p.stdout + p.stderr)


def guest_python(script: str, *args: str) -> str:
    """The guest shell command that runs guest/<script> with the runtime copy on PYTHONPATH."""
    # The script's own output goes to out/<script>.log (in failure messages); the exit code is the VM's.
    return ("export PYTHONPATH=/mnt/host/src PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1; "
            f"python3 guest/{script} {' '.join(args)} > out/{Path(script).stem}.log 2>&1")


# ------------------------------------------------------------------ frame comparisons (host side)
# Bounds on the guest's timings: outcomes with generous slack, not speed targets. The guest runs under
# software emulation (~100x slower than the host), where the README's "within a second" becomes noise;
# these catch a hang or a stop that never comes, not a slow machine.
E2E_GAP_S = 5.0  # longest gap between frames a consumer may see
E2E_RELEASE_S = 5.0  # devices released after SIGTERM
E2E_EXIT_S = 10.0  # process gone after SIGTERM
E2E_RESUME_S = 10.0  # first sharpened frame after the camera / a reader comes back
BORDER = 2  # pixels left out at each edge: padding/edge handling may differ between code paths


def luma_f32(rgb_u8: np.ndarray) -> np.ndarray:
    """(..., H, W, 3) uint8 RGB -> (..., H-2B, W-2B) float32 BT.601 luma in [0, 255], borders cut.

    Compared in luma because every V4L2 hop subsamples chroma (YUYV 4:2:2, I420 4:2:0) while the
    luma survives each RGB <-> YUV round trip within a level or two."""
    y = rgb_u8.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    return y[..., BORDER:-BORDER, BORDER:-BORDER]


def nearest_frames(captured_rgb_u8: np.ndarray, refs_rgb_u8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each captured frame, the reference frame closest in luma.

    captured (N, H, W, 3) and refs (K, H, W, 3) uint8 RGB -> (index (N,) int into refs, mean absolute
    luma difference (N,) float in levels)."""
    cap = luma_f32(captured_rgb_u8)[:, None]          # (N, 1, h, w)
    ref = luma_f32(refs_rgb_u8)[None]                 # (1, K, h, w)
    err = np.abs(cap - ref).mean(axis=(2, 3))         # (N, K)
    return err.argmin(axis=1), err.min(axis=1)
