"""`python -m kd` / `sharpcam-kd`: prepare, train-teacher, distill, train-gt, profile, evaluate, export, card, quantize, pair, grid."""
from __future__ import annotations

import sys

import click

from kd.config import ConfigError, SplitConfig, TrainConfig, merge
from kd.evaluate import evaluate_command
from kd.export import card_command, export_command
from kd.grid import grid_command
from kd.interpolate import interpolate_command
from kd.mos import mos_group
from kd.profile import profile_command
from kd.quantize import quantize_command
from kd.switch import pair_command


class KdError(click.ClickException):
    """One line on stderr, exit 1, no traceback."""

    def show(self, file=None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def _parse_range(text: str | None, kind=int):
    if text is None:
        return None
    try:
        lo, hi = (kind(v) for v in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not LOW,HIGH (e.g. 30,90)") from None
    return (lo, hi)


def _run_training(mode: str, config: str | None, **flags) -> None:
    from kd.checkpoint import CheckpointError
    from kd.data import DataError
    from kd.train import TrainError, train

    flags["jpeg_quality"] = _parse_range(flags.pop("jpeg", None))
    flags["noise_sigma"] = _parse_range(flags.pop("noise", None), float)
    dirs = flags.pop("data", ())
    flags["data_dirs"] = tuple(dirs) if dirs else None
    scales = flags.pop("scales", None)
    flags["degrade_scales"] = tuple(int(s) for s in scales.split(",")) if scales else None
    milestones = flags.pop("lr_milestones", None)
    try:
        flags["lr_milestones"] = tuple(int(m) for m in milestones.split(",")) if milestones else None
    except ValueError:
        raise KdError(f"--lr-milestones {milestones!r}: give whole step numbers separated by commas, e.g. 8000,12000") from None
    flags["mode"] = mode
    try:
        cfg = merge(TrainConfig, config, flags, section="train")
        result = train(cfg)
    except (ConfigError, DataError, TrainError, CheckpointError) as e:
        raise KdError(str(e)) from None
    click.echo(f"{result['out']}: {result['stopped']} at epoch {result['epoch']}, step {result['step']}, "
               f"best val Y-PSNR {result['best_val_psnr']:.2f} dB")


def training_options(f):
    opts = [
        click.option("--config", type=click.Path(dir_okay=False), help="TOML recipe ([train] table); flags override it."),
        click.option("--out", help="Run folder (checkpoints, metrics.jsonl, plots)."),
        click.option("--model", type=click.Choice(["dncnn", "seed", "rt", "collapsible", "mixgrid"])),
        click.option("--width", type=int), click.option("--depth", type=int),
        click.option("--scale", type=int, help="rt: pixel-unshuffle factor (2 or 4)."),
        click.option("--reparam/--no-reparam", default=None, help="rt: re-parameterisable training blocks."),
        click.option("--kernel", type=int, help="collapsible, mixgrid: conv size (odd)."),
        click.option("--outer-kernel", type=int, help="collapsible: head and tail conv size (odd; default --kernel)."),
        click.option("--expand", type=int, help="collapsible, mixgrid: width of the linear over-parameterisation."),
        click.option("--coarse-width", type=int, help="mixgrid: the x4-grid body's width."),
        click.option("--coarse-depth", type=int, help="mixgrid: the x4-grid body's blocks."),
        click.option("--loss", type=click.Choice(["mse", "l1", "charbonnier"])),
        click.option("--loss-on-y/--loss-on-rgb", default=None, help="Loss on BT.601 luma (luma-only students) or RGB."),
        click.option("--lr-schedule", type=click.Choice(["step", "cosine"])),
        click.option("--webcam/--no-webcam", default=None, help="Train on the webcam degradation mix instead of bicubic."),
        click.option("--data", multiple=True, type=click.Path(file_okay=False), help="HR image folder (repeatable)."),
        click.option("--split", help="Folder of `prepare`'s split, used when it splits exactly --data. [default: runs/split]"),
        click.option("--init", type=click.Path(dir_okay=False), help="A fresh run starts from this checkpoint's weights (same model)."),
        click.option("--scales", help="Degradation scales, e.g. 2 or 2,4."),
        click.option("--jpeg", help="JPEG quality range LOW,HIGH (off by default)."),
        click.option("--noise", help="Gaussian noise sigma range LOW,HIGH in 0..255 units (off by default)."),
        click.option("--patch-size", type=int), click.option("--batch-size", type=int),
        click.option("--lr", type=float), click.option("--weight-decay", type=float),
        click.option("--lr-milestones", help="Steps at which lr is multiplied by --lr-gamma, e.g. 8000,12000."),
        click.option("--lr-gamma", type=float),
        click.option("--epochs", type=int), click.option("--steps-per-epoch", type=int),
        click.option("--patience", type=int), click.option("--seed", type=int), click.option("--threads", type=int),
        click.option("--max-minutes", type=float, help="Stop resumably after this many minutes (one sitting)."),
        click.option("--checkpoint-minutes", type=float, help="Minutes between two checkpoints within an epoch."),
        click.option("--cosine-minutes", type=float,
                     help="Cosine schedule: fit its length to this many minutes of training at the speed measured."),
        click.option("--device-patches/--cpu-patches", default=None,
                     help="Cut patches on the GPU from fixed inputs uploaded once (x2, or a webcam pool)."),
        click.option("--resume/--no-resume", default=None, help="Continue from OUT/last.pt (default: yes)."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """SharpCam training: teacher, distilled students, evaluation, ONNX export."""


@cli.command()
@click.option("--config", type=click.Path(dir_okay=False), help="TOML file ([split] table).")
@click.option("--data", multiple=True, type=click.Path(file_okay=False), help="HR image folder (repeatable).")
@click.option("--out", help="Where train.txt / val.txt / test.txt go.")
@click.option("--seed", type=int)
def prepare(config, data, out, seed) -> None:
    """Scan the HR folders and write the deterministic train / val / test split."""
    from pathlib import Path

    from kd.data import DataError, scan_images, split_files

    try:
        cfg = merge(SplitConfig, config, {"data_dirs": tuple(data) or None, "out": out, "seed": seed}, section="split")
        split = split_files(scan_images(cfg.data_dirs), cfg.seed, cfg.test_fraction, cfg.val_fraction)
    except (ConfigError, DataError) as e:
        raise KdError(str(e)) from None
    split.write(Path(cfg.out), cfg.data_dirs)
    click.echo(f"{len(split.train)} train / {len(split.val)} val / {len(split.test)} test images -> {cfg.out}")


@cli.command("train-teacher")
@training_options
def train_teacher(config, **flags) -> None:
    """Train the DnCNN teacher: MSE between restored and sharp image."""
    flags["model"] = flags["model"] or ("dncnn" if not config else None)
    _run_training("teacher", config, **flags)


@cli.command()
@training_options
@click.option("--teacher", type=click.Path(dir_okay=False), help="Frozen teacher checkpoint (best.pt).")
@click.option("--alpha", type=float, help="Weight of the ground-truth loss (0 = the spec: teacher only).")
@click.option("--teacher-cache/--no-teacher-cache", default=None,
              help="Teacher outputs on whole images computed once (default) or per step.")
def distill(config, **flags) -> None:
    """Distil a student from the frozen teacher: MSE between their residuals (+ alpha * GT MSE)."""
    _run_training("distill", config, **flags)


@cli.command("train-gt")
@training_options
def train_gt(config, **flags) -> None:
    """Train a student on ground truth only (no teacher): the KD-vs-no-KD baseline."""
    _run_training("gt", config, **flags)


@cli.command("unsharp-fit")
@click.option("--images", help="List file of training HR images. [default: runs/split/train.txt]")
@click.option("--crop", type=int, help="Centre crop per image, px. [default: 192]")
@click.option("--out", help="The frozen baseline (TOML). [default: kd/recipes/unsharp.toml]")
def unsharp_fit_command(images, crop, out) -> None:
    """Grid-search the unsharp baseline's sigma and amount once (x2, training split) and freeze them."""
    from kd.config import UnsharpFitConfig
    from kd.evaluate import EvalError
    from kd.webcam import unsharp_fit

    try:
        unsharp_fit(merge(UnsharpFitConfig, None, {"images": images, "crop": crop, "out": out}), log=click.echo)
    except (ConfigError, EvalError, OSError) as e:
        raise KdError(str(e)) from None


@cli.command("curves")
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The PNG to write.")
@click.option("--title", default="", help="A title over the plot.")
def curves_command(runs, out, title) -> None:
    """Plot the validation curves and learning rates of training RUNS (folders with metrics.jsonl) together."""
    import json
    from pathlib import Path

    from kd.plots import plot_curves, plot_runs

    series = []
    for run in runs:
        f = Path(run) / "metrics.jsonl"
        try:
            history = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        except (OSError, json.JSONDecodeError) as e:
            raise KdError(f"cannot read {f} ({e}): pass run folders written by training") from None
        series.append((Path(run).name, history))
        cfg_file = Path(run) / "config.json"
        loss = json.loads(cfg_file.read_text()).get("loss", "mse") if cfg_file.is_file() else "mse"
        plot_curves(history, Path(run) / "curves.png", f"{Path(run).name}", loss)  # redrawn with the loss named
    plot_runs(series, Path(out), title)
    click.echo(f"wrote {out}")


cli.add_command(mos_group, "mos")
cli.add_command(evaluate_command, "evaluate")
cli.add_command(export_command, "export")
cli.add_command(card_command, "card")
cli.add_command(quantize_command, "quantize")
cli.add_command(pair_command, "pair")
cli.add_command(grid_command, "grid")
cli.add_command(profile_command, "profile")
cli.add_command(interpolate_command, "interpolate")


def main() -> None:
    cli(prog_name="sharpcam-kd")


if __name__ == "__main__":
    main()
