"""`sharpcam`: the command line. start (the daemon), enhance (offline), bench, devices, doctor, service.

Options, `SHARPCAM_*` environment variables and `--config file.toml` only fill in
vcam.config.DaemonConfig, which owns every default. Heavy modules (onnxruntime, the pipeline) are
imported inside the commands so that `sharpcam --help` is quick; torch is never imported.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from vcam.config import DaemonConfig, SharpCamError, build_config, default_of, parse_size
from vcam.devices import devices_command
from vcam.doctor import doctor_command
from vcam.options import ENV_PREFIX, capture_options, config_option, given_params, model_options, output_options
from vcam.service import service_group

log = logging.getLogger("sharpcam")

def _config(ctx: click.Context, params: dict[str, Any], **fixed: Any) -> tuple[DaemonConfig, Callable[[], DaemonConfig]]:
    """DaemonConfig from defaults < --config TOML < env/flags < `fixed`; and a rebuild function for SIGHUP."""
    toml_path: Path | None = (ctx.obj or {}).get("config")
    overrides = {**given_params(ctx, params), **fixed}

    def build() -> DaemonConfig:
        return build_config(toml_path, overrides)

    return build(), build


def _version() -> str:
    """The installed distribution's version, or a note when run from a source checkout."""
    from importlib import metadata

    try:
        return metadata.version("sharpcam")
    except metadata.PackageNotFoundError:
        return "(source checkout, not installed)"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s sharpcam: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar=f"{ENV_PREFIX}_CONFIG",
    show_envvar=True,
    help="TOML file with settings (keys named like the options); flags and env vars override it.",
)
@click.option("--verbose", "-v", is_flag=True, help="More log output.")
@click.version_option(version=_version(), prog_name="sharpcam", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """SharpCam: sharpen your webcam with a small CNN and publish it as the "SharpCam" virtual camera.

    Quick start: sudo modprobe v4l2loopback video_nr=10 card_label=SharpCam exclusive_caps=1;
    then `sharpcam start --device 0` and pick "SharpCam" in your video app.
    """
    ctx.ensure_object(dict)
    ctx.obj["config"] = config_path
    ctx.obj["verbose"] = verbose


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(0)


@cli.command()
@capture_options
@model_options
@output_options
@click.pass_context
def start(ctx: click.Context, **params: Any) -> None:
    """Run the daemon: camera -> model -> virtual camera, until Ctrl-C / SIGTERM (SIGHUP reloads)."""
    cfg, rebuild = _config(ctx, params)
    _setup_logging(ctx.obj["verbose"])
    # Until the pipeline runs (and installs its own handlers): SIGTERM unwinds through the
    # context managers and exits 0, SIGHUP has nothing to reload yet.
    previous = {signal.SIGTERM: signal.signal(signal.SIGTERM, _exit_on_signal)}
    if hasattr(signal, "SIGHUP"):
        previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    dumps_stacks = False
    if hasattr(signal, "SIGUSR1"):  # `kill -USR1 <pid>` prints every thread's stack: for a stuck daemon
        try:
            faulthandler.register(signal.SIGUSR1, all_threads=True)
            dumps_stacks = True
        except (AttributeError, ValueError, OSError):  # stderr is not a real file (embedded use)
            pass
    try:
        _run_daemon(cfg, rebuild)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if dumps_stacks:
            faulthandler.unregister(signal.SIGUSR1)


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _run_daemon(cfg: DaemonConfig, rebuild: Callable[[], DaemonConfig]) -> None:
    from vcam.engine import load_engine
    from vcam.notify import SdNotify
    from vcam.pipeline import Pipeline, count_readers
    from vcam.sinks import OUTPUT_CAMERA, OUTPUT_NULL, default_output_device, open_sink
    from vcam.sources import is_camera_spec, open_source

    engine = load_engine(cfg.model, cfg.provider, cfg.threads)
    if engine is not None:
        log.info("model %s (%s, %s) on %s with %d threads", engine.card.name, engine.card.output_kind, engine.card.precision, cfg.provider, engine.threads)
        if engine.alternate is not None and engine.card.switch is not None:
            spec = engine.card.switch
            detail = f" and detail below {spec.detail_below:.2f}" if spec.detail_below is not None else ""
            log.info("  and %s (%s) for frames whose %s is above %.2f%s (a small encoded stream, up-scaled)",
                     engine.alternate.card.name, engine.alternate.card.precision, spec.statistic, spec.above, detail)
        blur = engine.card.blur
        if engine.blurred is not None and blur is not None:
            test = blur.resampling_test
            log.info("  and %s (%s) for frames whose %s figure is below %.2f (strongly blurred)%s",
                     engine.blurred.card.name, engine.blurred.card.precision, blur.statistic, blur.below, f", {test}" if test else "")
        if engine.card.ramp is not None:
            log.info("  and on the rest, %s", engine.card.ramp.text())
        gate = engine.card.gate
        if gate is not None and cfg.sharp_gate:
            ratio = f" and re-blur ratio below {gate.reblur_below:.2f}" if gate.reblur_below is not None else ""
            log.info("  no model on frames whose %s figure is above %.2f%s (already sharp; --no-sharp-gate sharpens them)",
                     gate.statistic, gate.above, ratio)
    output_device = cfg.output_device
    if cfg.output == OUTPUT_CAMERA and output_device is None:
        output_device = default_output_device()

    def reopen(current: DaemonConfig) -> Any:
        return open_source(current.device, current.width, current.height, current.fps, current.fourcc, realtime=True, loop=current.loop,
                           mjpeg_yuv=current.mjpeg_yuv)

    asked = f"asked {cfg.width}x{cfg.height} @ {cfg.fps:g} fps {cfg.fourcc or 'default'}"
    try:
        source = reopen(cfg)
    except SharpCamError as exc:
        if not (cfg.wait_for_camera and is_camera_spec(cfg.device)):
            raise
        source = None
        log.warning("%s; waiting for it (placeholder until then)", exc)
    if source is not None:
        info = source.info
        size = (info.width, info.height)
        log.info("capture %s: %dx%d @ %g fps %s (%s)", info.label, info.width, info.height, info.fps, info.fourcc, asked)
    else:
        size = (cfg.width, cfg.height)
    # A file or folder written to a file: no clock to keep, so every frame is kept (the source waits),
    # none is written twice, and the file plays at the source's rate unless --output-fps says otherwise.
    file_to_file = not is_camera_spec(cfg.device) and cfg.output not in (OUTPUT_CAMERA, OUTPUT_NULL)
    out_fps = (cfg.output_fps or source.info.fps) if file_to_file and source is not None and source.info.fps > 0 else cfg.publish_fps
    try:
        sink = open_sink(cfg.output, output_device, size[0], size[1], out_fps)
    except BaseException:
        if source is not None:
            source.close()
        raise
    log.info("publishing to %s at %dx%d @ %g fps", sink.label, size[0], size[1], out_fps)
    notify = SdNotify.from_env()
    reader_counter = (lambda: count_readers(output_device)) if cfg.on_demand and output_device else None
    pipeline = Pipeline(
        cfg,
        source,
        reopen,
        sink,
        engine,
        backpressure=file_to_file,
        resend=not file_to_file,
        stop_at_end=not is_camera_spec(cfg.device) and not cfg.loop,
        reload_config=rebuild,
        reader_counter=reader_counter,
        notify=notify,
    )
    from vcam.control import ControlServer

    with pipeline, ControlServer(pipeline):
        pipeline.run()
    c = pipeline.stats.counters
    log.info("stopped: %d frames published (%d new, %d repeated, %d placeholders), %d dropped", c.published, c.fresh,
             c.repeated, c.placeholders, pipeline.stats.dropped())


@cli.command()
@click.argument("input_path", metavar="IN", type=click.Path(path_type=Path))
@click.argument("output_path", metavar="OUT", type=click.Path(path_type=Path))
@model_options
@click.option("--progress/--no-progress", default=True, help="Show a progress bar.")
@click.pass_context
def enhance(ctx: click.Context, input_path: Path, output_path: Path, progress: bool, **params: Any) -> None:
    """Sharpen a video or an image file offline: same size and frame count (no audio)."""
    from vcam.offline import enhance_file

    cfg, _ = _config(ctx, params)
    # SIGTERM ends it like Ctrl-C: the partial output is removed on the way out, never left behind.
    previous = signal.signal(signal.SIGTERM, _raise_interrupt) if threading.current_thread() is threading.main_thread() else None
    try:
        frames = enhance_file(cfg, input_path, output_path, progress=progress)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    click.echo(f"wrote {output_path} ({frames} frame{'s' if frames != 1 else ''})", err=True)


@cli.command()
@click.option("--size", default=None,
              help=f"Frame size WIDTHxHEIGHT, e.g. 1920x1080  [default: the width x height settings, {default_of('width')}x{default_of('height')}]")
@click.option("--clip", type=click.Path(dir_okay=False, path_type=Path), help="Real video to cycle through (default: synthetic test-chart frames).")
@config_option("--duration", field="bench_duration", type=float, help="Seconds to measure (after the warm-up).")
@config_option("--warmup", field="bench_warmup", type=float, help="Seconds to run before measuring.")
@click.option("--fps", "paced_fps", type=float, default=None,
              help="Deliver frames at this rate like a camera (soak test); default: as fast as the pipeline takes them.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--mjpeg", is_flag=True, help="Deliver the frames as an MJPG webcam does (4:2:2 JPEG), decoded per frame as the daemon decodes a camera's MJPG (see --mjpeg-yuv).")
@config_option("--mjpeg-yuv/--no-mjpeg-yuv", field="mjpeg_yuv", help="With --mjpeg: decode straight to YUV with libturbojpeg when installed (else OpenCV's BGR decode).")
@model_options
@click.pass_context
def bench(ctx: click.Context, size: str | None, clip: Path | None, paced_fps: float | None, as_json: bool, mjpeg: bool, **params: Any) -> None:
    """Measure the whole pipeline to the null sink: per-stage ms, end-to-end fps, p50/p95 latency.

    `--model none` measures the overhead without inference.
    """
    from vcam.offline import run_bench

    if ctx.get_parameter_source("mjpeg_yuv") == click.core.ParameterSource.COMMANDLINE and not mjpeg:
        raise click.UsageError("--mjpeg-yuv / --no-mjpeg-yuv choose how --mjpeg frames are decoded: add --mjpeg")
    fixed: dict[str, Any] = {"output": "null", "stats_interval": 0.0}
    if size is not None:
        fixed["width"], fixed["height"] = parse_size(size)
    if paced_fps is not None:
        fixed["fps"] = paced_fps
    cfg, _ = _config(ctx, params, **fixed)
    if not as_json:
        _setup_logging(ctx.obj["verbose"])
    report = run_bench(cfg, clip, cfg.bench_duration, cfg.bench_warmup, paced=paced_fps is not None, mjpeg=mjpeg)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    stages = report["stage_ms"]
    click.echo(f"sharpcam bench: {report['size']} model={report['model']} provider={report['provider']} threads={report['threads']} "
               f"source={report['source']} ({report['seconds']:.1f} s, {report['frames_out']} frames)")
    cpu = report["stage_cpu_ms"]
    click.echo("  per-stage ms (wall):      " + "  ".join(f"{k} {v:.2f}" for k, v in stages.items()))
    click.echo("  per-stage ms (CPU time):  " + "  ".join(f"{k} {v:.2f}" for k, v in cpu.items()))
    click.echo(f"  pipeline overhead (pre+post+publish+hand-offs): {report['overhead_ms']:.2f} ms/frame wall, "
               f"{report['overhead_cpu_ms']:.2f} ms CPU")
    click.echo(f"  CPU: {100 * report['cpu_cores']:.0f}% of one core (the whole process, {report['cpu_count']} CPUs here)")
    if report["model_scale"] < 1.0:
        click.echo(f"  the model ran at {100 * report['model_scale']:.0f}% of the frame size to hold {report['paced_fps']:g} fps "
                   "(--work-size forces a size)")
    if report["switch_frames"] is not None:
        default, alternate = report["switch_frames"]
        click.echo(f"  switch: {alternate} of {default + alternate} frames went to the alternate model (a small encoded stream, up-scaled)")
    if report["gate_frames"] is not None:
        modelled, passed = report["gate_frames"]
        click.echo(f"  gate: {passed} of {modelled + passed} frames were already sharp and passed through without the model")
    if report["blur_frames"] is not None:
        kept, blurred = report["blur_frames"]
        click.echo(f"  blur: {blurred} of the {kept + blurred} frames left to the card's model went to the one for strongly "
                   "blurred frames")
    click.echo(f"  end-to-end: {report['fps']:.1f} fps, latency p50 {report['latency_p50_ms']:.1f} ms, p95 {report['latency_p95_ms']:.1f} ms")
    click.echo(f"  longest gap between frames {report['max_gap_ms']:.0f} ms, dropped {report['dropped']}, "
               f"RSS {report['rss_mb']:.0f} MB ({report['rss_growth_mb']:+.1f} MB), load {report['load_avg_1m']:.1f} on {report['cpu_count']} CPUs")


@cli.command()
@click.argument("command", type=click.Choice(["strength", "bypass", "model", "stats"]))
@click.argument("value", required=False)
def ctl(command: str, value: str | None) -> None:
    """Change a running daemon without restarting it: strength X | bypass on|off | model NAME | stats.

    Talks to the daemon of this user over $XDG_RUNTIME_DIR/sharpcam/control.sock; the change applies
    from the next frame and the virtual camera stays open.
    """
    from vcam.control import send_command

    answer = send_command(f"{command} {value}" if value is not None else command)
    if answer.startswith("error"):
        raise SharpCamError(answer.split(":", 1)[1].strip() if ":" in answer else answer)
    click.echo(answer)


cli.add_command(devices_command)
cli.add_command(doctor_command)
cli.add_command(service_group)


def main(argv: list[str] | None = None) -> None:
    """Entry point: click handles usage errors (exit 2); our errors print one line (exit 1)."""
    try:
        cli.main(args=argv, prog_name="sharpcam", auto_envvar_prefix=ENV_PREFIX, standalone_mode=True)
    except SharpCamError as exc:
        click.echo(f"sharpcam: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("sharpcam: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("SHARPCAM_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300] or type(exc).__name__
        click.echo(f"sharpcam: internal error: {type(exc).__name__}: {text} (rerun with SHARPCAM_DEBUG=1 for a traceback and report it)", err=True)
        sys.exit(1)

