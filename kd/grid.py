"""`kd grid`: a before/after picture — sharp original, blurred input and each model — on a real face.

The default image is scikit-image's bundled astronaut portrait (a real photo that ships in a PyPI
package, so the picture can be committed; the talking-head clips in ../shared/video may be looked
at but not committed)."""
from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from kd.config import DEFAULT_UNSHARP
from kd.degrade import WEBCAM_BENCHMARK, modcrop
from kd.evaluate import EvalError, load_hr_u8, make_restorer
from kd.webcam import WebcamBenchError, image_seed, load_unsharp
from kd.export import ExportError
from kd.checkpoint import CheckpointError
from kd.plots import comparison_grid

# (top, left, size) of the face in skimage.data.astronaut() (512 x 512)
ASTRONAUT_FACE = (40, 150, 192)


def face_crop() -> np.ndarray:
    import skimage.data

    y, x, s = ASTRONAUT_FACE
    return np.ascontiguousarray(skimage.data.astronaut()[y : y + s, x : x + s])


def grid_rows(models: list[str], hr_u8: np.ndarray, degradations: list[str], threads: int, zoom: int,
              unsharp: str | None = DEFAULT_UNSHARP) -> list[dict[str, np.ndarray]]:
    """One row per degradation (the webcam benchmark's, seeded as there): original, degraded input,
    the frozen unsharp baseline (unless `unsharp` is None), each model; columns H x W x 3 uint8.
    `zoom` > 1 adds, under each, a row of the centre enlarged."""
    hr = modcrop(hr_u8, 6)
    methods = ([load_unsharp(unsharp)] if unsharp else []) + [make_restorer(m, threads) for m in models]
    rows = []
    for d in degradations:
        lq = WEBCAM_BENCHMARK[d](hr, image_seed("grid", d, 0))
        row = {"sharp original": hr, "degraded input": lq}  # one key for every row: the grid's columns
        for r in methods:
            row[r.label] = r.restore(lq)
        rows.append(row)
        if zoom > 1:
            h, w = hr.shape[:2]
            ch, cw = h // zoom, w // zoom
            y, x = (h - ch) // 2, (w - cw) // 2
            rows.append({k: np.repeat(np.repeat(v[y : y + ch, x : x + cw], zoom, 0), zoom, 1) for k, v in row.items()})
    return rows


@click.command("grid")
@click.argument("models", nargs=-1)
@click.option("--image", type=click.Path(dir_okay=False, exists=True), help="HR image (default: the astronaut's face).")
@click.option("--degradation", "degradations", multiple=True, type=click.Choice(list(WEBCAM_BENCHMARK)),
              help="A row per degradation (repeatable). [default: x2]")
@click.option("--unsharp", default=DEFAULT_UNSHARP, show_default=True, help="The frozen unsharp baseline's column ('' = none).")
@click.option("--zoom", type=int, default=3, show_default=True, help="Second row: the centre enlarged this much (1 = off).")
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="runs/eval/faces.png", show_default=True)
def grid_command(models, image, degradations, unsharp, zoom, threads, out) -> None:
    """Before/after grid of MODELS (.pt, .onnx or .json) on a real face: original, degraded, unsharp, each model."""
    try:
        hr = load_hr_u8(Path(image)) if image else face_crop()
        if hr.ndim == 2:
            hr = np.stack([hr] * 3, axis=-1)
        rows = grid_rows(list(models), hr, list(degradations) or ["x2"], threads, zoom, unsharp or None)
    except (EvalError, ExportError, CheckpointError, WebcamBenchError, OSError) as e:
        raise click.ClickException(str(e)) from None
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    names = list(degradations) or ["x2"]
    comparison_grid(rows, Path(out), "rows: " + ", ".join(names) + (" (each with its centre enlarged below)" if zoom > 1 else ""))
    click.echo(f"wrote {out}")
