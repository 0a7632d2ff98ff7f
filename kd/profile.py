"""`kd profile`: times real training steps for each mix of threads, batch, patch size and precision.

What the teacher's settings were picked by: the table gives ms per step split into data / forward /
backward / optimiser, and throughput in patches and megapixels per second (a bigger patch is more
pixels per step, so compare Mpx/s). Steps are the training loop's own (same sampler, loss and Adam);
the model is rebuilt from the same seed for every row. Run it on a quiet machine: other jobs on the
cores show up as slower rows.
"""
from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from kd.config import ConfigError, ProfileConfig, TrainConfig
from kd.data import DataError, PatchSampler, scan_images, split_files
from kd.export import write_json_atomic
from kd.losses import reconstruction_loss
from kd.models import build_model, describe


def _now() -> float:
    return time.perf_counter()


def profile(cfg: ProfileConfig, log=click.echo) -> list[dict[str, Any]]:
    """Times every row of the grid; writes `cfg.out`.json and .md; returns the rows."""
    for p in cfg.patch_sizes:  # the same patch-size rules as training (e.g. a multiple of the rt scale)
        TrainConfig(model=cfg.model, width=cfg.width, depth=cfg.depth, patch_size=p)
    train_cfg = TrainConfig(model=cfg.model, width=cfg.width, depth=cfg.depth)  # the optimiser settings training uses
    arch, args = train_cfg.model_args()
    files = split_files(scan_images(cfg.data_dirs)).train
    threads_before = torch.get_num_threads()
    rows = []
    samplers: dict[int, PatchSampler] = {}
    grid = list(itertools.product(cfg.threads, cfg.patch_sizes, cfg.batch_sizes, cfg.precisions))
    try:
        for n, (threads, patch, batch, precision) in enumerate(grid, 1):
            if patch not in samplers:
                samplers[patch] = PatchSampler(files, patch)
            torch.set_num_threads(threads)
            torch.manual_seed(cfg.seed)
            model = build_model(arch, **args).train()
            opt = torch.optim.Adam(model.parameters(), lr=train_cfg.lr, weight_decay=train_cfg.weight_decay)
            rng = np.random.default_rng(cfg.seed)
            autocast = (torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16"
                        else contextlib.nullcontext())
            times = []
            cpu0, wall0 = time.process_time(), _now()
            for step in range(cfg.warmup + cfg.steps):
                t0 = _now()
                lq, hr = (torch.from_numpy(a) for a in samplers[patch].sample(batch, rng))
                t1 = _now()
                with autocast:
                    out = model(lq)
                    loss = reconstruction_loss(out.float(), hr)
                t2 = _now()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                t3 = _now()
                opt.step()
                t4 = _now()
                if step >= cfg.warmup:
                    times.append((t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0))
                if step == cfg.warmup - 1:
                    cpu0, wall0 = time.process_time(), _now()
            cpu_per_wall = (time.process_time() - cpu0) / max(_now() - wall0, 1e-9)
            med = np.median(np.array(times), axis=0) * 1000
            row = {"threads": threads, "patch": patch, "batch": batch, "precision": precision,
                   "ms_step": float(med[4]), "ms_data": float(med[0]), "ms_forward": float(med[1]),
                   "ms_backward": float(med[2]), "ms_optimizer": float(med[3]),
                   "patches_per_s": batch / (med[4] / 1000), "mpx_per_s": batch * patch * patch / (med[4] / 1000) / 1e6,
                   "cpu_per_wall": cpu_per_wall, "steps": cfg.steps}
            rows.append(row)
            log(f"[{n}/{len(grid)}] {threads} thr, {patch} px, batch {batch}, {precision}: {row['ms_step']:.0f} ms/step, "
                f"{row['patches_per_s']:.0f} patches/s, {row['mpx_per_s']:.3f} Mpx/s")
    finally:
        torch.set_num_threads(threads_before)
    info = describe(build_model(arch, **args))
    write_report(Path(cfg.out), rows, arch, args, info)
    return rows


def write_report(out: Path, rows: list[dict[str, Any]], arch: str, args: dict, info: dict) -> None:
    """`out`.json (every row) and `out`.md (a table, fastest Mpx/s first)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"arch": arch, "args": args, **info, "cpu_count": os.cpu_count(), "torch": torch.__version__}
    write_json_atomic(out.with_suffix(".json"), {"model": meta, "rows": rows})
    best = max(r["mpx_per_s"] for r in rows)
    lines = [f"Training step of {arch}{args} ({info['params']:,} params), torch {torch.__version__}, "
             f"{os.cpu_count()} CPUs: `sharpcam-kd profile` (median of {rows[0]['steps']} steps)", "",
             "| threads | patch | batch | precision | ms/step | data / fwd / bwd / opt ms | patches/s | Mpx/s | vs best | CPU/wall |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: -r["mpx_per_s"]):
        lines.append(f"| {r['threads']} | {r['patch']} | {r['batch']} | {r['precision']} | {r['ms_step']:.0f} | "
                     f"{r['ms_data']:.0f} / {r['ms_forward']:.0f} / {r['ms_backward']:.0f} / {r['ms_optimizer']:.0f} | "
                     f"{r['patches_per_s']:.0f} | {r['mpx_per_s']:.3f} | {r['mpx_per_s'] / best:.2f} | {r['cpu_per_wall']:.2f} |")
    tmp = out.with_suffix(".md.partial")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out.with_suffix(".md"))


def _default(name: str) -> str:
    """ProfileConfig's default for `name`, as the help text shows it (defaults live only there)."""
    value = next(f.default for f in dataclasses.fields(ProfileConfig) if f.name == name)
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _ints(text: str | None, name: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise click.ClickException(f"--{name} {text!r}: give whole numbers separated by commas, e.g. 16,32") from None


@click.command("profile")
@click.option("--model", type=click.Choice(["dncnn", "seed", "rt"]), default=None, help=f"[default: {_default('model')}]")
@click.option("--width", type=int, default=None)
@click.option("--depth", type=int, default=None)
@click.option("--threads", default=None, help=f"Thread counts to try, e.g. 1,2. [default: {_default('threads')}]")
@click.option("--batch-size", default=None, help=f"Batch sizes, e.g. 16,32. [default: {_default('batch_sizes')}]")
@click.option("--patch-size", default=None, help=f"Patch sizes, e.g. 40,64. [default: {_default('patch_sizes')}]")
@click.option("--precision", default=None, help=f"fp32 and/or bf16 (CPU autocast). [default: {_default('precisions')}]")
@click.option("--steps", type=int, default=None, help=f"Timed steps per row. [default: {_default('steps')}]")
@click.option("--data", multiple=True, type=click.Path(file_okay=False), help="HR image folder (repeatable).")
@click.option("--out", default=None, help=f"Writes OUT.json and OUT.md. [default: {_default('out')}]")
def profile_command(model, width, depth, threads, batch_size, patch_size, precision, steps, data, out) -> None:
    """Time real training steps over threads x patch x batch x precision; pick the fastest Mpx/s."""
    given = {"model": model, "width": width, "depth": depth, "threads": _ints(threads, "threads"),
             "batch_sizes": _ints(batch_size, "batch-size"), "patch_sizes": _ints(patch_size, "patch-size"),
             "precisions": tuple(p.strip() for p in precision.split(",")) if precision else None,
             "steps": steps, "data_dirs": tuple(data) or None, "out": out}
    try:
        cfg = ProfileConfig(**{k: v for k, v in given.items() if v is not None})
        profile(cfg)
    except (ConfigError, DataError, OSError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"wrote {cfg.out}.md and {cfg.out}.json")
