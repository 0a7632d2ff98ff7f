"""The pipeline's offline uses: `sharpcam enhance` (a file through the same FrameProcessor as the
daemon) and `sharpcam bench` (the real threaded pipeline on in-memory frames to the null sink)."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vcam.config import IMAGE_SUFFIXES, DaemonConfig, SharpCamError
from vcam.engine import Engine, load_engine
from vcam.pipeline import Pipeline
from vcam.processor import FrameProcessor
from vcam.sinks import FILE_CODECS, FileSink, NullSink, partial_path
from vcam.sources import MemoryClipSource, MjpegClipSource, SourceLost, VideoFileSource, chart_frames, load_clip_frames, read_image
from vcam.transforms import to_bgr_u8

log = logging.getLogger("sharpcam")


def _enhance_image(cfg: DaemonConfig, engine: Engine | None, input_path: Path, output_path: Path) -> int:
    image = read_image(input_path)
    h, w = image.shape[:2]
    bgr = to_bgr_u8(image, np.empty((h, w, 3), np.uint8))
    proc = FrameProcessor(cfg, engine, (w, h), offline=True, picture=True)
    result = proc.to_bgr(proc.process(bgr, proc.new_output()), np.empty_like(bgr), bgr)
    if proc.gate is not None and proc.gate.passing:
        gate = proc.gate
        ratio = f", re-blur ratio {gate.last_ratio:.2f} below {gate.reblur_below:.2f}" if gate.reblur_below is not None else ""
        log.warning("%s is already sharp (textured %.2f above %.2f%s): written as it is; --no-sharp-gate sharpens it anyway",
                    input_path.name, gate.last, gate.above, ratio)
    if image.ndim == 3 and image.shape[2] == 4:  # keep the alpha channel of a BGRA image
        alpha = image[:, :, 3] if image.dtype == np.uint8 else (image[:, :, 3] // 257).astype(np.uint8)
        result = np.dstack([result, alpha])
    try:
        ok, encoded = cv2.imencode(output_path.suffix.lower(), result)
    except cv2.error:  # e.g. .pgm wants one channel, .ppm three: OpenCV raises instead of returning False
        ok = False
    if not ok:
        raise SharpCamError(
            f"cannot encode a {result.shape[2]}-channel image as {output_path.name}: use .png, .jpg, .bmp or .tif"
        )
    partial = partial_path(output_path)
    try:
        partial.write_bytes(encoded.tobytes())
        os.replace(partial, output_path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SharpCamError(f"cannot write {output_path} ({exc.strerror}): check the folder exists and is writable") from None
    return 1


def enhance_file(cfg: DaemonConfig, input_path: Path, output_path: Path, progress: bool = True) -> int:
    """Sharpens a video (-> video, same size, rate and frame count) or an image (-> image).

    Frames go through the same FrameProcessor as the daemon, one after another, so the result
    is what `start` would publish. Output is written under a .partial name and renamed at the
    end. Returns the number of frames written.
    """
    if not input_path.exists():
        raise SharpCamError(f"input {input_path} does not exist: pass an existing video or image file")
    if output_path.exists() and output_path.resolve() == input_path.resolve():
        raise SharpCamError(f"output {output_path} is the input file: pass another OUT path")
    if not output_path.parent.is_dir():
        raise SharpCamError(f"folder {output_path.parent} does not exist: create it or pass another OUT path")
    in_image = input_path.suffix.lower() in IMAGE_SUFFIXES
    out_suffix = output_path.suffix.lower()
    if in_image and out_suffix not in IMAGE_SUFFIXES:
        raise SharpCamError(f"{input_path.name} is an image, so OUT must be one too: end OUT in .png, .jpg, .bmp or .tif")
    if not in_image and out_suffix not in FILE_CODECS:
        raise SharpCamError(f"OUT {output_path.name} is not a video name: end it in {', '.join(FILE_CODECS)} (.mkv is lossless)")
    engine = load_engine(cfg.model, cfg.provider, cfg.threads)
    if in_image:
        return _enhance_image(cfg, engine, input_path, output_path)

    import click

    with VideoFileSource(input_path) as source:
        info = source.info
        proc = FrameProcessor(cfg, engine, (info.width, info.height), offline=True)
        frame_buf = np.empty((info.height, info.width, 3), np.uint8)
        out_buf = proc.new_output()
        bar: Any = (
            click.progressbar(length=source.frame_count or None, label=f"enhancing {input_path.name}", file=sys.stderr)
            if progress and source.frame_count > 0
            else contextlib.nullcontext()
        )
        with FileSink(output_path, info.width, info.height, info.fps) as sink, bar as ticker:
            while True:
                try:
                    frame = source.read_into(frame_buf)
                except SourceLost:
                    break
                if frame is not frame_buf:
                    raise SharpCamError(f"{input_path.name} changes frame size mid-stream: re-encode it at one size first")
                sink.send(proc.process(frame, out_buf))
                if ticker is not None:
                    ticker.update(1)
            written = sink.frames
    if proc.gate is not None and proc.gate.frames[1]:
        log.warning("%d of %d frames were already sharp and written as they are (--no-sharp-gate sharpens them too)",
                    proc.gate.frames[1], sum(proc.gate.frames))
    return written


def run_bench(cfg: DaemonConfig, clip: Path | None, duration: float, warmup: float, paced: bool = False,
              mjpeg: bool = False) -> dict[str, Any]:
    """Runs the real pipeline on in-memory frames (a clip or a test chart) to the null sink.

    Unpaced, the source waits for preprocess (no drops), so end-to-end fps is the pipeline's
    throughput. `paced` delivers frames at cfg.fps like a camera (latest wins, drops counted):
    the soak setting. Returns per-stage mean ms, fps, p50/p95 capture-to-publish latency, the
    longest gap between published frames, RSS growth and the settings.
    """
    engine = load_engine(cfg.model, cfg.provider, cfg.threads)
    if clip is not None:
        if not clip.is_file():
            raise SharpCamError(f"clip {clip} does not exist: pass an existing video or drop --clip")
        frames = load_clip_frames(clip, cfg.width, cfg.height)
        label = clip.name
    else:
        frames = chart_frames(cfg.width, cfg.height)
        label = "synthetic"
    if mjpeg:  # an MJPG webcam: every frame decoded when read, as the daemon decodes a camera (cfg.mjpeg_yuv)
        source = MjpegClipSource(frames, cfg.fps, label, realtime=paced, yuv=cfg.mjpeg_yuv)
    else:
        source = MemoryClipSource(frames, cfg.fps, label, realtime=paced)
    sink = NullSink(cfg.width, cfg.height, cfg.publish_fps)
    pipeline = Pipeline(cfg, source, lambda _cfg: source, sink, engine, backpressure=not paced, stop_at_end=False)
    with pipeline:
        snap = pipeline.run(duration=duration, warmup=warmup)
    stage_ms = snap["stage_ms"]
    return {
        "size": f"{cfg.width}x{cfg.height}",
        "model": cfg.model if engine is None else engine.card.name,
        "provider": cfg.provider,
        "threads": engine.threads if engine is not None else 0,
        "source": source.info.label,
        "source_format": source.info.fourcc,
        "seconds": snap["seconds"],
        "frames_out": snap["frames_out"],
        "fps": snap["fps_fresh"],
        "stage_ms": stage_ms,
        "stage_cpu_ms": snap["stage_cpu_ms"],
        # The pipeline's own cost per frame: preprocess + postprocess + publish (+ the infer
        # stage's hand-off when there is no model). Capture is the camera's, reported apart.
        "overhead_ms": sum(stage_ms[k] for k in ("pre", "post", "publish")) + (stage_ms["infer"] if engine is None else 0.0),
        "overhead_cpu_ms": sum(snap["stage_cpu_ms"][k] for k in ("pre", "post", "publish"))
        + (snap["stage_cpu_ms"]["infer"] if engine is None else 0.0),
        "latency_p50_ms": snap["latency_p50_ms"],
        "latency_p95_ms": snap["latency_p95_ms"],
        "dropped": snap["dropped"],
        "repeated": snap["repeated"],
        "skipped": snap["skipped"],
        "paced_fps": cfg.fps if paced else None,
        "max_gap_ms": snap["max_gap_ms"],
        "rss_mb": snap["rss_mb"],
        "rss_growth_mb": snap["rss_growth_mb"],
        "cpu_cores": snap["cpu_cores"],
        "model_scale": pipeline.auto_scale,  # < 1: the frame-rate hold ran the model at this fraction of the size
        # a card with a switch: frames the pre stage sent to its model and to its alternate (warm-up and
        # frames dropped before inference included)
        "switch_frames": list(proc.switch.frames) if (proc := pipeline.last_processor) is not None and proc.switch is not None else None,
        # a card with a gate: frames given to the model / passed through as already sharp
        "gate_frames": list(proc.gate.frames) if proc is not None and proc.gate is not None else None,
        # a card with a blur model: frames left to the model chosen before / sent to the blur model
        "blur_frames": list(proc.blur.frames) if proc is not None and proc.blur is not None else None,
        # a card with a strength ramp: the share of the card's model's change its frames kept at the end
        "ramp_share": proc.ramp.share if proc is not None and proc.ramp is not None else None,
        "cpu_count": os.cpu_count(),
        "load_avg_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }
