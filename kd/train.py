"""One explicit training loop for the teacher, distilled students and ground-truth-only students.

Resumable to the step (model, optimiser, rng states, early-stopping counters), checkpointing every few
minutes, DDP-aware through torchrun (gloo on CPU, nccl on GPU): every rank draws its own patch stream,
rank 0 validates, writes checkpoints, logs and plots.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from kd.checkpoint import atomic_save, model_from_checkpoint, read_checkpoint
from kd.config import TrainConfig, to_dict
from kd.degrade import WebcamMix
from kd.data import DevicePatchSampler, PatchSampler, Split, scan_images, split_files, val_pairs
from kd.losses import reconstruction_loss, stability_loss, student_loss
from kd.metrics import y_psnr_ssim
from kd.models import build_model, describe
from kd.plots import comparison_grid, plot_curves


POOL_STREAM = 0x9001  # the webcam pool's own random stream (with the run's seed)
DECIDE_EVERY = 10  # steps between two stop / checkpoint decisions under DDP (one broadcast each)
FIT_PROBE_STEPS = (50, 300)  # cosine_minutes: the speed is measured between these steps of a sitting


class TrainError(RuntimeError):
    """A training run that cannot start or continue; the message names the fix."""


def to_u8_hwc(t: torch.Tensor) -> np.ndarray:
    """1 x 3 x H x W float in [0, 1] -> H x W x 3 uint8 (rounded, as evaluations save images)."""
    return (t[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy())


class _Dist:
    """World size / rank, and the collectives the loop needs, as no-ops when not under torchrun."""

    def __init__(self) -> None:
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        self.on = self.world > 1
        if self.on and not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def gather(self, obj):
        if not self.on:
            return [obj]
        out = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def bcast(self, obj):
        if not self.on:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def close(self) -> None:
        if self.on and dist.is_initialized():
            dist.destroy_process_group()


def train(cfg: TrainConfig, progress: bool = True) -> dict:
    """Runs (or resumes) one training run; returns a summary dict. Writes into cfg.out:
    last.pt, best.pt, metrics.jsonl, curves.png, compare.png, config.json."""
    torch.set_num_threads(cfg.threads)
    dd = _Dist()
    device = torch.device(f"cuda:{dd.local_rank}" if torch.cuda.is_available() else "cpu")
    out = Path(cfg.out)
    if dd.main:
        out.mkdir(parents=True, exist_ok=True)

    split = Split.prepared(Path(cfg.split), cfg.data_dirs) if cfg.split else None
    if split is None:  # no `kd prepare` of these folders: the default split, as `kd prepare` makes it
        split = split_files(scan_images(cfg.data_dirs), seed=cfg.split_seed)
    if dd.main:
        split.write(out / "split", cfg.data_dirs)
    # the pool's draws depend on the seed alone (not the rank), so every rank and every arm of a
    # comparison sees the same fixed inputs
    sampler = PatchSampler(split.train, cfg.patch_size, cfg.degrade_scales, cfg.jpeg_quality, cfg.noise_sigma,
                           webcam=cfg.webcam_mix(), webcam_pool=cfg.webcam_pool,
                           pool_rng=np.random.default_rng([cfg.seed, POOL_STREAM]), pool_workers=cfg.pool_workers,
                           hr_scales=cfg.hr_scales)
    val_scale = cfg.degrade_scales[0]
    val = val_pairs(split.val, cfg.val_crop, val_scale, cfg.grid_multiple()) if dd.main else []

    arch, args = cfg.model_args()
    torch.manual_seed(cfg.seed)  # the weight initialisation is part of the run's seed
    model = build_model(arch, **args).to(device)
    teacher = None
    if cfg.mode == "distill":
        teacher, _ = model_from_checkpoint(cfg.teacher)
        teacher = teacher.to(device).requires_grad_(False)
    if teacher is not None and cfg.teacher_cache and cfg.fixed_input():
        sampler.set_targets(teacher_targets(teacher, sampler, cfg.teacher, device, dd, cfg.webcam_mix(), cfg.seed))
    if cfg.device_patches:
        targets = sampler.targets
        sampler = DevicePatchSampler(sampler, device)
        if targets is not None:
            sampler.set_targets(targets)
        del targets  # the device holds them now
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    state = {"step": 0, "epoch": 0, "step_in_epoch": 0, "best_val_psnr": -math.inf, "bad_epochs": 0,
             "history": [], "train_seconds": 0.0, "cpu_seconds": 0.0, "stopped": None}
    rng = np.random.default_rng([cfg.seed, dd.rank])
    last = out / "last.pt"
    if cfg.init and not (cfg.resume and last.is_file()):
        ck = read_checkpoint(Path(cfg.init))
        if ck["arch"] != arch or ck["args"] != args:
            raise TrainError(f"init {cfg.init} holds {ck['arch']}{ck['args']}, not {arch}{args}: pass a checkpoint of this model")
        model.load_state_dict(ck["model"])
        if dd.main:
            print(f"starting {out} from the weights of {cfg.init}", file=sys.stderr)
    if cfg.resume and last.is_file():
        ck = read_checkpoint(last)
        if ck["arch"] != arch or ck["args"] != args:
            raise TrainError(f"{last} holds {ck['arch']}{ck['args']}, not {arch}{args}: use another --out or --no-resume")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        state.update(ck["state"])
        if state.get("fitted_epochs"):  # a cosine fitted to a sitting keeps its length when resumed
            if dd.main and cfg.epochs != state["fitted_epochs"]:
                print(f"the cosine keeps the length fitted to its first sitting: epochs = {state['fitted_epochs']} "
                      f"(not {cfg.epochs})", file=sys.stderr)
            cfg = dataclasses.replace(cfg, epochs=state["fitted_epochs"], cosine_minutes=None)
        states = ck.get("rng_states") or []
        if len(states) == dd.world:
            rng.bit_generator.state = states[dd.rank]
        else:  # a different world size: a fresh but still deterministic stream per rank
            rng = np.random.default_rng([cfg.seed, dd.rank, state["step"]])
        if dd.main:
            print(f"resuming {out} at epoch {state['epoch']} step {state['step']} "
                  f"(best val {state['best_val_psnr']:.2f} dB)", file=sys.stderr)
        ran = ck.get("config", {})
        old = {"lr": ran.get("lr"), "lr_milestones": list(ran.get("lr_milestones") or ()), "lr_gamma": ran.get("lr_gamma")}
        new = {"lr": cfg.lr, "lr_milestones": list(cfg.lr_milestones), "lr_gamma": cfg.lr_gamma}
        if dd.main and old != new:
            print(f"learning-rate settings now {new} (the checkpoint ran with {old}): the config's apply from here",
                  file=sys.stderr)
    if cfg.qat:  # after the weights are in: the activation ranges start from the trained net's own
        model.set_fake_quant(True, cfg.qat_integer_ends, cfg.qat_fold_identity)
    if state["stopped"] == "early-stop":
        if dd.main:
            print(f"{out} already early-stopped; nothing to do (use another --out to train again)", file=sys.stderr)
        dd.close()
        return summary(cfg, model, state)

    net = nn.parallel.DistributedDataParallel(model) if dd.on else model
    info = describe(model)
    if dd.main:
        (out / "config.json").write_text(json.dumps({**to_dict(cfg), "arch": arch, "args": args, **info}, indent=1))
        arch_args = ", ".join(f"{k}={v}" for k, v in args.items())
        print(f"{cfg.mode}: {arch}({arch_args}) {info['params']:,} params, {info['macs_per_pixel']:,} MACs/px, "
              f"{len(split.train)} train"
              + (f" (at {len(cfg.hr_scales)} sizes: {len(sampler.hr)} pictures)" if len(cfg.hr_scales) > 1 else "")
              + f" / {len(split.val)} val images, world {dd.world}, device {device}",
              file=sys.stderr)

    def checkpoint(best: bool = False) -> None:
        rng_states = dd.gather(rng.bit_generator.state)
        if not dd.main:
            return
        ck = {"arch": arch, "args": args, "model": model.state_dict(), "optimizer": opt.state_dict(),
              "state": dict(state), "rng_states": rng_states, "config": to_dict(cfg), **info,
              "teacher": cfg.teacher}
        atomic_save(ck, last)
        if best:
            atomic_save({k: v for k, v in ck.items() if k not in ("optimizer", "rng_states")}, out / "best.pt")

    t_start, cpu_start = time.time(), time.process_time()
    t_ckpt = time.time()
    sitting_end = t_start + cfg.max_minutes * 60 if cfg.max_minutes else math.inf
    bar = None
    if dd.main and progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps_per_epoch, initial=state["step_in_epoch"], desc=f"epoch {state['epoch'] + 1}",
                   unit="step", mininterval=5, dynamic_ncols=True, file=sys.stderr)
    stop = None
    loss_sum, loss_n = 0.0, 0
    sitting_steps, t_sitting, t_probe = 0, time.time(), 0.0
    # SIGTERM/SIGINT (and SIGINT ignored by nohup'ed background jobs, hence both) only raise a flag:
    # the loop checkpoints at the next step and returns.
    stop_flag = threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop_flag.set())
    try:
        while state["epoch"] < cfg.epochs and stop is None:
            net.train()
            while state["step_in_epoch"] < cfg.steps_per_epoch:
                batch = [torch.as_tensor(a, device=device) for a in sampler.sample(cfg.batch_size, rng)]
                lq, hr = batch[0], batch[1]
                out_t = net(lq)
                if cfg.mode == "distill":
                    if len(batch) == 3:  # cached teacher output
                        t_out = batch[2]
                    else:
                        with torch.no_grad():
                            t_out = teacher(lq)
                    loss = student_loss(out_t, t_out, lq, hr, cfg.alpha, cfg.loss, cfg.loss_on_y)
                else:
                    loss = reconstruction_loss(out_t, hr, cfg.loss, cfg.loss_on_y)
                if cfg.stability_weight:
                    n, _, h, w = lq.shape
                    noise = torch.as_tensor(rng.normal(0.0, cfg.stability_sigma / 255.0, (n, 1, h, w)).astype(np.float32), device=device)
                    loss = loss + cfg.stability_weight * stability_loss(out_t, net(lq + noise), noise, cfg.loss, cfg.loss_on_y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                for group in opt.param_groups:  # from the config, not the checkpoint: a resumed run may add a decay
                    group["lr"] = cfg.lr_at(state["step"])
                opt.step()
                loss_sum += loss.item()
                loss_n += 1
                state["step"] += 1
                state["step_in_epoch"] += 1
                sitting_steps += 1
                if cfg.cosine_minutes is not None and sitting_steps == FIT_PROBE_STEPS[0]:
                    t_probe = time.time()
                elif cfg.cosine_minutes is not None and sitting_steps == FIT_PROBE_STEPS[1]:
                    cfg = _fit_cosine(cfg, state, t_sitting, t_probe, dd, out)
                if bar is not None:
                    bar.update(1)
                    if state["step"] % 20 == 0:
                        bar.set_postfix(loss=f"{loss_sum / max(loss_n, 1):.2e}", refresh=False)
                # Rank 0's clock and signal decide for every rank (DDP: a rank that checkpoints or stops
                # alone would wait forever in the next collective), every DECIDE_EVERY steps.
                if dd.on and state["step"] % DECIDE_EVERY:
                    continue
                now = time.time()
                time_up, interrupted, ckpt_due = dd.bcast(
                    (now >= sitting_end, stop_flag.is_set(), now - t_ckpt >= cfg.checkpoint_minutes * 60))
                if time_up:
                    stop = "time-limit"
                    break
                if interrupted:
                    stop = "interrupted"
                    break
                if ckpt_due:
                    _account(state, t_start, cpu_start)
                    t_start, cpu_start = time.time(), time.process_time()
                    checkpoint()
                    t_ckpt = time.time()
            if stop is not None:
                break
            # End of an epoch: validate, log, checkpoint, plot, maybe stop early.
            state["epoch"] += 1
            state["step_in_epoch"] = 0
            _account(state, t_start, cpu_start)
            t_start, cpu_start = time.time(), time.process_time()
            improved = False
            if dd.main:
                rec = validate(model, val, val_scale, device, teacher)
                rec.update(epoch=state["epoch"], step=state["step"], train_loss=loss_sum / max(loss_n, 1),
                           lr=opt.param_groups[0]["lr"], train_hours=state["train_seconds"] / 3600,
                           cpu_hours=state["cpu_seconds"] / 3600, time=time.time())
                rec.pop("grid")
                state["history"].append(rec)
                # Rewritten whole from the history each epoch: a fresh run never inherits an older
                # run's lines, and a resumed one always matches its checkpoint.
                tmp = out / "metrics.jsonl.partial"
                tmp.write_text("".join(json.dumps(r) + "\n" for r in state["history"]))
                os.replace(tmp, out / "metrics.jsonl")
                improved = rec["val_psnr"] > state["best_val_psnr"] + 1e-4
                if improved:
                    state["best_val_psnr"] = rec["val_psnr"]
                    state["bad_epochs"] = 0
                else:
                    state["bad_epochs"] += 1
                if state["bad_epochs"] >= cfg.patience:
                    state["stopped"] = "early-stop"
                plot_curves(state["history"], out / "curves.png", f"{cfg.mode} {arch} {args}", cfg.loss)
                grid = validate(model, val[:3], val_scale, device, teacher, grid=True)["grid"]
                comparison_grid(grid, out / "compare.png", f"epoch {state['epoch']}")
                if bar is not None:
                    bar.write(f"epoch {state['epoch']}: train {rec['train_loss']:.3e} val {rec['val_loss']:.3e} "
                              f"PSNR {rec['val_psnr']:.2f} dB (input {rec['val_psnr_input']:.2f}) "
                              f"SSIM {rec['val_ssim']:.4f}{' *' if improved else ''}")
            loss_sum, loss_n = 0.0, 0
            state["stopped"] = dd.bcast(state["stopped"])
            checkpoint(best=improved)
            t_ckpt = time.time()
            if state["stopped"] == "early-stop":
                stop = "early-stop"
            if bar is not None and stop is None and state["epoch"] < cfg.epochs:
                bar.reset(total=cfg.steps_per_epoch)
                bar.set_description(f"epoch {state['epoch'] + 1}")
        if stop is None:
            stop = "max-epochs"
            state["stopped"] = stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar is not None:
            bar.close()
    if stop in ("time-limit", "interrupted", "max-epochs"):
        state["stopped"] = stop
        _account(state, t_start, cpu_start)
        checkpoint()
    if dd.main:
        print(f"stopped ({stop}) at epoch {state['epoch']} step {state['step']}; best val "
              f"{state['best_val_psnr']:.2f} dB; {state['train_seconds'] / 3600:.2f} h, "
              f"{state['cpu_seconds'] / 3600:.2f} CPU-h; checkpoints in {out}", file=sys.stderr)
    dd.close()
    return summary(cfg, model, state)


@torch.no_grad()
def teacher_targets(teacher: nn.Module, sampler: PatchSampler, teacher_path: str, device, dd,
                    webcam: WebcamMix | None = None, seed: int = 0) -> list[np.ndarray]:
    """The frozen teacher's output on every fixed whole degraded training image (`sampler.fixed_inputs()`),
    computed once and cached beside the teacher (keyed by its sha256, the picture list with any hr_scales
    copies, the scale or the webcam pool's size, mix and seed), so every student distilled from it shares
    the cache: distillation then costs no teacher forward per step, and the soft targets have no
    patch-border effects."""
    scale = sampler.scales[0]
    inputs = sampler.fixed_inputs()
    h = hashlib.sha256(Path(teacher_path).read_bytes())
    tag = f"pool{sampler.pool}" if sampler.pool else f"x{scale}"
    mix = getattr(webcam, "__name__", None) or repr(webcam)  # a benchmark case by its name, not its address
    h.update(f"{tag}:".encode() + (f"{mix}:{seed}:".encode() if sampler.pool else b"")
             + sampler.image_list_key().encode())
    if sampler.pool:  # the pool's pixels themselves: a change in the mix's code or in OpenCV's JPEG rebuilds it
        for lq in inputs:
            h.update(lq.data)
    key = h.hexdigest()
    cache = Path(teacher_path).parent / f"targets-{tag}-{key[:12]}.npz"
    if cache.is_file():
        # plain arrays (allow_pickle off): a cache found beside a teacher can never run code
        with np.load(cache, allow_pickle=False) as data:
            if str(data["key"]) == key and len(data.files) - 1 == len(inputs):
                return [data[f"t{i}"] for i in range(len(inputs))]
    targets = []
    items = inputs
    if dd.main:
        from tqdm import tqdm

        items = tqdm(items, desc="teacher outputs (cached once)", unit="img", file=sys.stderr)
    if device.type == "cpu":
        # onnxruntime runs the (BN-folded) teacher ~3x faster than torch on a CPU: minutes, not a quarter hour.
        import tempfile

        from kd.export import export_onnx, inference_model, ort_session

        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = Path(tmp) / "teacher.onnx"
            export_onnx(inference_model(copy.deepcopy(teacher)), onnx_path, 64, 64)
            session = ort_session(onnx_path, torch.get_num_threads())
        run = lambda x: session.run(None, {"input": x})[0]
    else:
        run = lambda x: teacher(torch.from_numpy(x).to(device)).cpu().numpy()
    for lq in items:
        x = np.ascontiguousarray(lq.transpose(2, 0, 1))[None].astype(np.float32) / 255.0
        targets.append(run(x)[0].transpose(1, 2, 0).astype(np.float16))
    if dd.main:
        tmp = cache.with_name(cache.name + ".partial")
        with open(tmp, "wb") as f:
            np.savez(f, key=np.array(key), **{f"t{i}": t for i, t in enumerate(targets)})
        os.replace(tmp, cache)
    return targets


def _fit_cosine(cfg: TrainConfig, state: dict, t_sitting: float, t_probe: float, dd, out: Path) -> TrainConfig:
    """cosine_minutes: the config with `epochs` shortened so that the cosine ends within the minutes
    given, at the speed of the probe steps (8 % kept for validation epochs and checkpoints)."""
    now = time.time()
    rate = (FIT_PROBE_STEPS[1] - FIT_PROBE_STEPS[0]) / max(now - t_probe, 1e-9)
    left = cfg.cosine_minutes * 60 - (now - t_sitting)
    epochs = int((state["step"] + 0.92 * rate * max(left, 0.0)) // cfg.steps_per_epoch)
    epochs = dd.bcast(min(cfg.epochs, max(epochs, state["epoch"] + 1)))
    state["fitted_epochs"] = epochs
    cfg = dataclasses.replace(cfg, epochs=epochs, cosine_minutes=None)
    if dd.main:
        from tqdm import tqdm

        tqdm.write(f"{rate:.1f} steps/s: the cosine now ends at step {epochs * cfg.steps_per_epoch:,} "
                   f"(epochs = {epochs}), within the {left / 60:.1f} minutes left", file=sys.stderr)
        cfg_json = out / "config.json"
        tmp = cfg_json.with_name(cfg_json.name + ".partial")
        tmp.write_text(json.dumps({**json.loads(cfg_json.read_text()), **to_dict(cfg)}, indent=1))
        os.replace(tmp, cfg_json)
    return cfg


def _account(state: dict, t_start: float, cpu_start: float) -> None:
    state["train_seconds"] += time.time() - t_start
    state["cpu_seconds"] += time.process_time() - cpu_start


def summary(cfg: TrainConfig, model: nn.Module, state: dict) -> dict:
    return {"out": cfg.out, "step": state["step"], "epoch": state["epoch"], "best_val_psnr": state["best_val_psnr"],
            "stopped": state["stopped"], **describe(model)}


@torch.no_grad()
def validate(model: nn.Module, pairs, scale: int, device, teacher: nn.Module | None = None, grid: bool = False) -> dict:
    """Mean val loss (MSE in [0,1]) and Y-PSNR/SSIM (published protocol) of model and blurred input."""
    model.eval()
    losses, ps, ss, ps_in, ss_in, rows = [], [], [], [], [], []
    for lq_np, hr_np in pairs:
        lq, hr = torch.from_numpy(lq_np).to(device), torch.from_numpy(hr_np).to(device)
        out = model(lq)
        losses.append(float(reconstruction_loss(out, hr)))
        out_u8, hr_u8, lq_u8 = to_u8_hwc(out), to_u8_hwc(hr), to_u8_hwc(lq)
        p, s = y_psnr_ssim(out_u8, hr_u8, scale)
        p0, s0 = y_psnr_ssim(lq_u8, hr_u8, scale)
        ps.append(p), ss.append(s), ps_in.append(p0), ss_in.append(s0)
        if grid:
            row = {"blurred input": lq_u8}
            if teacher is not None:
                row["teacher"] = to_u8_hwc(teacher(lq))
            row["model"] = out_u8
            row["sharp original"] = hr_u8
            rows.append(row)
    model.train()
    return {"val_loss": float(np.mean(losses)), "val_psnr": float(np.mean(ps)), "val_ssim": float(np.mean(ss)),
            "val_psnr_input": float(np.mean(ps_in)), "val_ssim_input": float(np.mean(ss_in)), "grid": rows}
