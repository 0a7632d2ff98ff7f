"""The daemon's settings: one frozen dataclass that holds every default and validates itself.

Click options, `SHARPCAM_*` environment variables and an optional TOML file only fill in
`DaemonConfig`; nothing else in `vcam/` carries a default of its own.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]


class SharpCamError(Exception):
    """A user-facing failure: the message is one line naming the problem and the fix.

    `sharpcam` prints it as `sharpcam: error: <message>` and exits with `exit_code`, never
    with a traceback.
    """

    exit_code = 1


OUTPUT_CAMERA = "camera"  # publish to a v4l2loopback virtual camera
OUTPUT_NULL = "null"  # discard frames (benchmarks)
MODEL_NONE = "none"  # no inference stage: measures the pipeline overhead alone
PROVIDERS = ("cpu", "cuda", "tensorrt", "openvino", "rocm", "dml", "coreml")


@dataclass(frozen=True)
class DaemonConfig:
    """Everything `sharpcam start`, `enhance` and `bench` can be told.

    Sizes are in pixels, rates in frames per second, times in seconds.
    """

    # Capture: a device index ("0"), /dev/videoN, /dev/v4l/by-id/..., a video file, an image
    # folder or a glob/printf pattern of images.
    device: str = "0"
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    fourcc: str = "MJPG"  # asked of cameras; "" leaves the camera's default format
    mjpeg_yuv: bool = True  # decode an MJPG camera straight to I420 (libturbojpeg, when installed), not via BGR
    loop: bool = False  # restart video files / image sequences at their end
    wait_for_camera: bool = False  # start even if the camera is not there yet (placeholder until it is)

    # Model and inference.
    model: str = "sharpcam-cs4-switch"  # card path, .onnx path (card beside it), name in sharpcam_models, or "none"
    provider: str = "cpu"
    threads: int = 0  # inference threads; 0 = one per CPU core (at most 8)
    work_size: tuple[int, int] | None = None  # (width, height) the model runs at; None = capture size
    # A model card with a switch (vcam/detect.py): its statistics are taken every `switch_every` frames and the
    # model changes after `switch_confirm` checks in a row on the other side of the cuts (0.5-1 s at 30 fps): a
    # stream's kind changes over seconds, not frames
    switch_every: int = 15
    switch_confirm: int = 2
    # A model card with a gate: frames it finds already sharp (vcam/detect.py SharpGate, checked as the switch is)
    # are left untouched and the model does not run on them; off: the model works on every frame
    sharp_gate: bool = True

    # Postprocess.
    strength: float = 1.0  # 0 = exact passthrough, 1 = the model's output
    unsharp: float = 0.0  # extra unsharp-mask amount after the model (0 = off; ~0.3 is light)
    # A stream through a Y-plane model: where the picture stands still, the model's change is averaged over
    # frames with this weight on the past (vcam/transforms.py SteadyChange; 0 = off), so sensor noise and codec
    # flutter that the model draws larger do not shimmer; moving pixels take each frame's change as it is
    steady: float = 0.8
    mirror: bool = False  # horizontal flip, as a selfie view

    # Publish.
    output: str = OUTPUT_CAMERA  # "camera", "null" or a video file path
    output_device: str | None = None  # None = the loopback labelled "SharpCam", else the first
    output_fps: float | None = None  # None = same as `fps`
    on_demand: bool = False  # release the camera while no app reads the virtual camera

    # Behaviour.
    stats_interval: float = 5.0  # seconds between two stats lines (0 = none)
    reconnect_interval: float = 0.5  # seconds between two attempts to reopen a lost camera
    first_frame_timeout: float = 2.0  # open the sink at the requested size if no frame by then
    on_demand_poll: float = 0.5  # seconds between two "is anyone reading?" scans

    # `sharpcam bench` (the frame size is width x height above).
    bench_duration: float = 10.0  # seconds measured, after the warm-up
    bench_warmup: float = 2.0  # seconds run before measuring (left out of the figures)

    def __post_init__(self) -> None:
        validate(self)

    @property
    def publish_fps(self) -> float:
        """The constant rate the sink publishes at."""
        return self.output_fps if self.output_fps is not None else self.fps

    def replace(self, **changes: Any) -> "DaemonConfig":
        """A copy with `changes` applied (validated again)."""
        return dataclasses.replace(self, **changes)


MAX_STEADY = 0.95  # --steady's weight on the past: 0.95 averages over ~40 frames, more than a second at 30 fps


def _fail(problem: str, fix: str) -> None:
    raise SharpCamError(f"{problem}: {fix}")


def validate(cfg: DaemonConfig) -> None:
    """Raises SharpCamError (one line) on the first nonsensical setting."""
    if not cfg.device.strip():
        _fail("empty --device", "pass a camera index (0), /dev/videoN, a video file or an image folder")
    for name in ("width", "height"):
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 16 <= value <= 7680:
            _fail(f"--{name} {value!r} is out of range", "pass a whole number of pixels between 16 and 7680")
    for name, value in (("fps", cfg.fps), ("output-fps", cfg.output_fps)):
        if value is None and name == "output-fps":
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value <= 240:
            _fail(f"--{name} {value!r} is not a frame rate", "pass a positive number up to 240, e.g. 30")
    if len(cfg.fourcc) not in (0, 4):
        _fail(f"--fourcc {cfg.fourcc!r} is not four characters", "pass e.g. MJPG or YUYV, or '' for the camera default")
    if not cfg.model.strip():
        _fail("empty --model", "pass a model card (.json), an .onnx file, a model name, or 'none'")
    if cfg.provider.lower() not in PROVIDERS:
        _fail(f"unknown --provider {cfg.provider!r}", f"pass one of {', '.join(PROVIDERS)}")
    if not isinstance(cfg.threads, int) or not 0 <= cfg.threads <= 256:
        _fail(f"--threads {cfg.threads!r} is out of range", "pass 0 (one per core) or a positive count")
    for name in ("switch_every", "switch_confirm"):
        value = getattr(cfg, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
            _fail(f"{name.replace('_', '-')} = {value!r} is out of range", "write a whole number of frames (checks) from 1 to 1000")
    if cfg.work_size is not None:
        w, h = cfg.work_size
        if not (16 <= w <= 7680 and 16 <= h <= 7680):
            _fail(f"--work-size {w}x{h} is out of range", "pass WIDTHxHEIGHT between 16 and 7680, e.g. 960x540")
    if not isinstance(cfg.strength, (int, float)) or not 0.0 <= cfg.strength <= 1.0:
        _fail(f"--strength {cfg.strength!r} is outside 0..1", "pass 0 (passthrough) up to 1 (full model output)")
    if not isinstance(cfg.unsharp, (int, float)) or not 0.0 <= cfg.unsharp <= 5.0:
        _fail(f"--unsharp {cfg.unsharp!r} is outside 0..5", "pass 0 (off) or a small amount such as 0.3")
    if not isinstance(cfg.steady, (int, float)) or isinstance(cfg.steady, bool) or not 0.0 <= cfg.steady <= MAX_STEADY:
        _fail(f"--steady {cfg.steady!r} is outside 0..{MAX_STEADY}",
              f"pass 0 (off) up to {MAX_STEADY} (more would take seconds to follow a change), e.g. 0.8 (the default)")
    if not cfg.output.strip():
        _fail("empty --output", "pass 'camera', 'null' or a video file such as out.mp4")
    if cfg.output not in (OUTPUT_CAMERA, OUTPUT_NULL) and Path(cfg.output).suffix.lower() not in VIDEO_SUFFIXES:
        _fail(
            f"--output {cfg.output!r} is neither 'camera', 'null' nor a video file",
            f"pass a file ending in {', '.join(sorted(VIDEO_SUFFIXES))}",
        )
    if cfg.output_device is not None and cfg.output != OUTPUT_CAMERA:
        _fail(f"--output-device {cfg.output_device!r} has no effect with --output {cfg.output}",
              "drop --output-device, or publish to the virtual camera with --output camera")
    for name in ("stats_interval", "reconnect_interval", "first_frame_timeout", "on_demand_poll"):
        value = getattr(cfg, name)
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            _fail(f"--{name.replace('_', '-')} {value!r} is negative", "pass a number of seconds >= 0")
    if not isinstance(cfg.bench_duration, (int, float)) or not math.isfinite(cfg.bench_duration) or cfg.bench_duration <= 0:
        _fail(f"--duration {cfg.bench_duration!r} is not positive", "pass a number of seconds > 0, e.g. --duration 10")
    if not isinstance(cfg.bench_warmup, (int, float)) or not math.isfinite(cfg.bench_warmup) or cfg.bench_warmup < 0:
        _fail(f"--warmup {cfg.bench_warmup!r} is negative", "pass a number of seconds >= 0, e.g. --warmup 2")
    if cfg.on_demand and cfg.output != OUTPUT_CAMERA:
        _fail("--on-demand needs --output camera", "drop --on-demand or publish to the virtual camera")


VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".avi", ".mkv"})
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})

_SIZE_RE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")


def parse_size(text: str, option: str = "--size") -> tuple[int, int]:
    """'1280x720' -> (1280, 720). Raises SharpCamError on anything else."""
    match = _SIZE_RE.match(text)
    if not match:
        _fail(f"{option} {text!r} is not WIDTHxHEIGHT", f"pass e.g. {option} 1280x720")
    return int(match.group(1)), int(match.group(2))


_FIELDS = {f.name: f for f in dataclasses.fields(DaemonConfig)}


def _coerce(name: str, value: Any) -> Any:
    """A TOML / CLI value into the field's type (sizes may be given as "WxH" strings)."""
    if name == "work_size":
        if value is None or isinstance(value, tuple):
            return value
        if isinstance(value, str):
            return None if value.lower() in ("", "none", "capture") else parse_size(value, "--work-size")
        if isinstance(value, list) and len(value) == 2:
            return (int(value[0]), int(value[1]))
        _fail(f"work_size {value!r} is not WIDTHxHEIGHT", "write e.g. work_size = \"960x540\"")
    if name in ("fps", "output_fps", "strength", "unsharp", "steady", "stats_interval", "reconnect_interval",
                "first_frame_timeout", "on_demand_poll", "bench_duration", "bench_warmup") and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if name in ("device", "model", "output", "output_device") and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if _FIELDS[name].type in (bool, "bool") and not isinstance(value, bool):
        # A quoted "false" is a non-empty string, which Python would take as true.
        key = name.replace("_", "-")
        _fail(f"{key} = {value!r} is not true or false", f"write {key} = true or {key} = false (no quotes)")
    return value


def read_toml(path: Path) -> dict[str, Any]:
    """The settings in a TOML file: top-level keys named like the options (dashes or underscores).

    A `[sharpcam]` table is accepted too. Unknown keys are refused (they are usually typos).
    """
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise SharpCamError(f"config file {path} does not exist: create it or drop --config") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SharpCamError(f"cannot read config file {path} ({exc}): fix the TOML syntax or drop --config") from None
    if isinstance(data.get("sharpcam"), dict):
        data = data["sharpcam"]
    settings: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in _FIELDS:
            known = ", ".join(sorted(n.replace("_", "-") for n in _FIELDS))  # as the README and the flags spell them
            raise SharpCamError(f"unknown setting {key!r} in {path}: use one of {known}")
        settings[name] = value
    return settings


def build_config(toml_path: Path | None, overrides: Mapping[str, Any]) -> DaemonConfig:
    """Defaults, then the TOML file, then `overrides` (flags and environment), validated.

    `overrides` holds only the settings the user actually gave (field name -> value).
    """
    settings: dict[str, Any] = read_toml(toml_path) if toml_path is not None else {}
    settings.update(overrides)
    kwargs: dict[str, Any] = {}
    for name, value in settings.items():
        if name not in _FIELDS:
            raise SharpCamError(f"unknown setting {name!r}: use one of {', '.join(sorted(_FIELDS))}")
        kwargs[name] = _coerce(name, value)
    try:
        return DaemonConfig(**kwargs)
    except TypeError as exc:  # e.g. a string where TOML should have had a number
        raise SharpCamError(f"bad setting ({exc}): check the value types in the config file") from None


def default_of(name: str) -> Any:
    """The default of a DaemonConfig field (for --help texts)."""
    value = _FIELDS[name].default
    return None if value is dataclasses.MISSING else value


__all__ = [
    "DaemonConfig",
    "SharpCamError",
    "build_config",
    "default_of",
    "parse_size",
    "read_toml",
    "OUTPUT_CAMERA",
    "OUTPUT_NULL",
    "MODEL_NONE",
    "PROVIDERS",
    "VIDEO_SUFFIXES",
    "IMAGE_SUFFIXES",
]
