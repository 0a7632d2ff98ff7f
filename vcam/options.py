"""The options of `sharpcam start` (and of the commands that share them), in one place that both the
command line (vcam/cli.py) and `sharpcam service install` (vcam/service.py, which validates the options
it writes into the unit) import: neither has to import the other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from vcam.config import PROVIDERS, DaemonConfig, build_config, default_of

ENV_PREFIX = "SHARPCAM"


def config_option(*decls: str, field: str, help: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option that fills DaemonConfig.`field`; its default and env var come from there."""
    kwargs.setdefault("default", default_of(field))
    kwargs.setdefault("show_default", kwargs["default"] is not None)
    return click.option(
        *decls, field, help=help, envvar=f"{ENV_PREFIX}_{field.upper()}", show_envvar=True, **kwargs
    )


def _options(*decorators: Callable[[Callable[..., Any]], Callable[..., Any]]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """One decorator applying `decorators` in the order written (so --help lists them in that order)."""

    def apply(func: Callable[..., Any]) -> Callable[..., Any]:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


capture_options = _options(
    config_option("--device", "-d", field="device", help="Camera index, /dev/videoN, /dev/v4l/by-id/..., video file or image folder."),
    config_option("--width", field="width", type=int, help="Capture width asked of the camera (it may give another)."),
    config_option("--height", field="height", type=int, help="Capture height asked of the camera."),
    config_option("--fps", field="fps", type=float, help="Capture rate asked of the camera; also the output rate."),
    config_option("--fourcc", field="fourcc", help="Pixel format asked of the camera ('' = camera default)."),
    config_option("--mjpeg-yuv/--no-mjpeg-yuv", field="mjpeg_yuv",
                  help="Decode an MJPG camera straight to YUV with libturbojpeg when installed (else OpenCV's BGR decode)."),
    config_option("--loop/--no-loop", field="loop", help="Restart a video file / image folder at its end."),
    config_option("--wait-for-camera/--no-wait-for-camera", field="wait_for_camera",
         help="Start even if the camera is missing (placeholder until it appears); for services."),
)


model_options = _options(
    config_option("--model", "-m", field="model", help="Model card (.json), .onnx file, installed model name, or 'none' (no inference)."),
    config_option("--provider", field="provider", help=f"inference provider: {', '.join(PROVIDERS)} (openvino = the OpenVINO runtime)."),
    config_option("--threads", field="threads", type=int, help="inference threads (0 = one per core, at most 8)."),
    config_option("--work-size", field="work_size", help="Run the model at WIDTHxHEIGHT and scale back (default: capture size)."),
    config_option("--strength", "-s", field="strength", type=float, help="Blend 0 (exact passthrough) .. 1 (full model output)."),
    config_option("--unsharp", field="unsharp", type=float, help="Extra unsharp-mask amount after the model (0 = off, 0.3 = light)."),
    config_option("--steady", field="steady", type=float, help="Y-plane models on a stream: where the picture stands still, average the model's change over frames with this weight on the past (0 = off), so noise it sharpens does not shimmer."),
    config_option("--mirror/--no-mirror", field="mirror", help="Flip horizontally (selfie view)."),
    config_option("--sharp-gate/--no-sharp-gate", field="sharp_gate",
                  help="A card with a gate: leave frames that are already sharp untouched (no model run on them)."),
)


output_options = _options(
    config_option("--output", "-o", field="output", help="'camera' (v4l2loopback), 'null', or a video file (.mp4, .mkv, .avi)."),
    config_option("--output-device", field="output_device", help="Loopback device (default: the one labelled SharpCam, else the first)."),
    config_option("--output-fps", field="output_fps", type=float, help="Constant output rate (default: --fps); below the camera's rate, frames in between are skipped unprocessed."),
    config_option("--on-demand/--always-on", field="on_demand", help="Release the camera while no app reads the virtual camera."),
    config_option("--stats-interval", field="stats_interval", type=float, help="Seconds between stats lines (0 = none)."),
)


def given_params(ctx: click.Context, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the user set on the command line or through the environment."""
    sources = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
    return {name: value for name, value in params.items() if ctx.get_parameter_source(name) in sources}



def parse_start_args(config_file: Path | None, start_args: Sequence[str]) -> DaemonConfig:
    """The settings `sharpcam [--config FILE] start ARGS` would run with (defaults < TOML < env < ARGS).

    Raises click.ClickException for an option `start` does not know and SharpCamError for a value
    DaemonConfig refuses: the same checks `start` makes."""

    @click.command("start")
    @capture_options
    @model_options
    @output_options
    def start(**_params: Any) -> None:
        pass

    ctx = start.make_context("sharpcam start", list(start_args))
    return build_config(config_file, given_params(ctx, ctx.params))
