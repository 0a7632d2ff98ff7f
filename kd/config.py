"""Frozen settings for every `kd` command. The only home of defaults: click and TOML recipes fill these in."""
from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable

import numpy as np

from kd.degrade import WEBCAM_BENCHMARK, WebcamMix

# ../shared beside the project checkout (CI clones the same way); commands run from the checkout.
# Relative on purpose: recipes and cards then name the data the same way on every machine.
SHARED_DATASETS = Path(os.environ.get("SHARPCAM_DATASETS", "../shared/datasets"))
DEFAULT_TRAIN_DIRS = tuple(str(SHARED_DATASETS / "train" / n) for n in ("T91", "BSD200", "General100"))
DEFAULT_EVAL_DIRS = tuple(str(SHARED_DATASETS / "eval" / n) for n in ("Set5", "Set14", "B100"))


# TrainConfig's overrides of the webcam mix's probabilities: setting -> WebcamMix field
_MIX_PROBABILITIES = {"webcam_p_jpeg": "p_jpeg", "webcam_p_jpeg_low_res": "p_jpeg_low_res",
                      "webcam_p_clean_x2": "p_clean_x2", "webcam_p_resize": "p_resize", "webcam_p_h264": "p_h264",
                      "webcam_p_blur": "p_blur", "webcam_p_defocus": "p_defocus"}
# ... and of its ranges: setting -> (WebcamMix field, the widest range it takes)
_MIX_RANGES = {"webcam_blur_sigma": ("blur_sigma", 5.0), "webcam_defocus_radius": ("defocus_radius", 6.0)}


# the webcam benchmark's cases a run can train on alone (webcam_case): patches are cut on a 2-pixel grid
WEBCAM_CASES = tuple(c for c in WEBCAM_BENCHMARK if c != "x3")


class ConfigError(ValueError):
    """A setting that cannot work; the message names the setting and the fix."""


@dataclass(frozen=True)
class SplitConfig:
    """`kd prepare`: the deterministic split of the HR originals."""

    data_dirs: tuple[str, ...] = DEFAULT_TRAIN_DIRS
    out: str = "runs/split"
    seed: int = 0
    test_fraction: float = 0.10  # held out from every training decision (the spec's test list)
    val_fraction: float = 0.20  # of what remains after the test list: train 80 / val 20

    def __post_init__(self) -> None:
        if not 0.0 <= self.test_fraction < 1.0 or not 0.0 < self.val_fraction < 1.0:
            raise ConfigError("test_fraction must be in [0, 1) and val_fraction in (0, 1)")


@dataclass(frozen=True)
class TrainConfig:
    """`kd train-teacher` / `kd distill` / `kd train-gt`: one explicit loop for all three.

    mode: "teacher" (loss to HR), "distill" (loss between student and teacher residuals, + alpha * loss
    to HR), "gt" (a student on ground truth only: the no-KD baseline). The loss is `loss` (the seed's
    MSE by default), on RGB or, with `loss_on_y`, on BT.601 luma (what luma-only students change)."""

    mode: str = "teacher"
    model: str = "dncnn"  # dncnn | seed | rt | collapsible | mixgrid
    width: int | None = None  # None: the model's own default
    depth: int | None = None
    scale: int | None = None  # rt and collapsible: pixel-unshuffle factor
    reparam: bool = False  # rt only: train with re-parameterisable blocks
    kernel: int | None = None  # collapsible and mixgrid: conv size
    outer_kernel: int | None = None  # collapsible only: head and tail conv size (None: `kernel`)
    expand: int | None = None  # collapsible and mixgrid: width of the linear over-parameterisation
    coarse_width: int | None = None  # mixgrid only: the x4-grid body's width
    coarse_depth: int | None = None  # mixgrid only: the x4-grid body's blocks
    loss: str = "mse"  # mse (the seed's) | l1 | charbonnier
    loss_on_y: bool = False
    # Stability (Eilertsen et al. 2019, "Single-frame regularization for temporally stable CNNs"): + this weight x
    # the loss between f(x + n) - f(x) and n, n Gaussian luma noise of `stability_sigma` grey levels, the same on
    # R, G and B: a model that passes a frame-to-frame change of the input through as it is, instead of drawing
    # it larger, does not make still areas shimmer (0 = off; one more forward pass a step)
    stability_weight: float = 0.0
    stability_sigma: float = 2.0
    lr_schedule: str = "step"  # step (lr_milestones x lr_gamma) | cosine (to lr * lr_min_ratio at epochs x steps_per_epoch)
    lr_min_ratio: float = 0.01
    webcam: bool = False  # train on the webcam degradation mix (kd/degrade.py WebcamMix), not bicubic
    # the mix's JPEG odds, quality range and share of JPEG at the low resolution (a small encoded stream
    # up-scaled by the receiver, the benchmark's x2 + JPEG q40) among the down-scaled frames; None:
    # WebcamMix's own (a codec-heavier mix for a trial)
    webcam_p_jpeg: float | None = None
    webcam_jpeg_quality: tuple[int, int] | None = None
    webcam_p_jpeg_low_res: float | None = None
    # the mix's share of plain x2 and of down-scaled frames (0 and 1: every patch down-scaled by the mix,
    # none left clean, as a specialist for small encoded streams trains)
    webcam_p_clean_x2: float | None = None
    webcam_p_resize: float | None = None
    # the range the mix draws its down-scale factor from (uniformly; WebcamMix's own is 1.5..3.0, which
    # puts the benchmark's x3 at its very edge)
    webcam_scale: tuple[float, float] | None = None
    # of the coded pictures, the share coded as one H.264 intra frame instead of JPEG (needs PyAV: .[video]),
    # at a CRF in webcam_h264_crf mapped from the JPEG quality draw
    webcam_p_h264: float | None = None
    webcam_h264_crf: tuple[int, int] | None = None
    # the mix's optical blur (on frames not down-scaled by more than x2.25): its odds, the share of it that is a disc
    # (defocus) rather than a Gaussian, and the ranges of sigma and radius (px); for a model of strongly blurred
    # frames (a card's blur model, sitting 15) that sees more and stronger blur than the default
    webcam_p_blur: float | None = None
    webcam_p_defocus: float | None = None
    webcam_blur_sigma: tuple[float, float] | None = None
    webcam_defocus_radius: tuple[float, float] | None = None
    # train on one of the webcam benchmark's fixed degradations (kd/degrade.py WEBCAM_BENCHMARK, e.g.
    # "x2+jpeg40") instead of the mix: a probe of what a design can reach on that case when trained for
    # nothing else, never a shipped model (its other cases go untrained; validation stays on plain x2, so
    # its best.pt is not its best on the case: take last.pt)
    webcam_case: str | None = None
    # 0: a fresh draw of the mix for every patch. N > 0: every training image degraded N times by the
    # mix, once (seeded), and patches cut from those fixed inputs: what cached teacher outputs need, so
    # distillation on the mix costs no teacher forward per step (and a ground-truth run on the same
    # pool is its same-data, same-budget baseline)
    webcam_pool: int = 0
    # with webcam_pool: 0 draws the pool from one sequential stream (sitting 4's pools); N > 0 draws
    # each (image, copy) from its own stream and degrades the images over N processes: the same pool
    # for any N > 0, in seconds instead of minutes for a large pool
    pool_workers: int = 0
    # cut the patches on the training device (a GPU) from the fixed inputs uploaded there once (x2 at
    # one scale, or a webcam pool): the CPU sampler feeds only ~35 batches of 64 x 128 px a second,
    # far below what a GPU trains a student at
    device_patches: bool = False
    # with the cosine schedule: after the first 300 steps of a sitting, shorten `epochs` so that the
    # cosine ends within this many minutes of training at the measured speed (one sitting on a lent
    # GPU); the fitted length is logged, kept in the checkpoint (a resumed run keeps it; a run cut off
    # before step 300 fits anew) and written to config.json (a rerun with `epochs` set to it follows
    # the same cosine except over its first 300 steps)
    cosine_minutes: float | None = None
    teacher: str | None = None  # checkpoint of the frozen teacher (distill)
    alpha: float = 0.0  # weight of the ground-truth loss in distillation (0 = the spec)
    teacher_cache: bool = True  # distill: teacher outputs on whole images once, not per step (fixed degradation only)
    data_dirs: tuple[str, ...] = DEFAULT_TRAIN_DIRS
    # `kd prepare`'s split (train.txt / val.txt) when that folder holds one, so a non-default prepare
    # never leaks its test images into training; None (or no such folder): the default split of
    # data_dirs, computed here with split_seed
    split: str | None = "runs/split"
    split_seed: int = 0
    degrade_scales: tuple[int, ...] = (2,)
    # scale augmentation: every training image also used bicubic-down-scaled to these fractions of its
    # size (e.g. [1.0, 0.9, 0.8, 0.7, 0.6], as VDSR / DnCNN-3 / FSRCNN trained on 291 images), before
    # any degradation; (1.0,): the images as they are
    hr_scales: tuple[float, ...] = (1.0,)
    jpeg_quality: tuple[int, int] | None = None  # e.g. (30, 90) for codec artefacts; off by default
    noise_sigma: tuple[float, float] | None = None  # e.g. (0.0, 3.0) in 0..255 units; off by default
    patch_size: int = 40
    batch_size: int = 16
    lr: float = 1e-4
    lr_milestones: tuple[int, ...] = ()  # steps at which lr is multiplied by lr_gamma (recomputed each step, so a resumed run can gain one)
    lr_gamma: float = 0.1
    weight_decay: float = 1e-5
    epochs: int = 100
    steps_per_epoch: int = 500
    patience: int = 10  # early stop after this many epochs without a better val PSNR
    val_crop: int = 128  # centre crop of each val image (keeps validation to seconds on a CPU)
    seed: int = 0
    threads: int = 2
    out: str = "runs/teacher"
    checkpoint_minutes: float = 5.0
    max_minutes: float | None = None  # stop (resumably) after this long: one sitting
    resume: bool = True  # continue from out/last.pt when it exists
    # a fresh run (no out/last.pt) starts from this checkpoint's weights (same architecture), e.g. the
    # x2 teacher fine-tuned on the webcam mix; the optimiser, schedule and step count start anew
    init: str | None = None
    # collapsible only: quantization-aware fine-tuning (int8 rounding of the body's weights and
    # activations in the forward, as `kd quantize` will round them); start it from a trained run (init)
    qat: bool = False
    # with qat: also round what an all-integer export rounds (head and tail in int8, the input on the Y
    # plane's grid, the tail's output and the head-to-tail sum), for `kd quantize` with integer ends
    qat_integer_ends: bool = False
    # with qat: round each body block as one conv with its input folded into the kernel (the export's
    # `--fold-identity` form, which `kd export` then uses by default for this checkpoint)
    qat_fold_identity: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("teacher", "distill", "gt"):
            raise ConfigError(f"mode must be teacher, distill or gt, not {self.mode!r}")
        if self.model not in ("dncnn", "seed", "rt", "collapsible", "mixgrid"):
            raise ConfigError(f"model must be dncnn, seed, rt, collapsible or mixgrid, not {self.model!r}")
        if self.loss not in ("mse", "l1", "charbonnier"):
            raise ConfigError(f"loss must be mse, l1 or charbonnier, not {self.loss!r}")
        if self.lr_schedule not in ("step", "cosine") or not 0 <= self.lr_min_ratio <= 1:
            raise ConfigError(f"lr_schedule must be step or cosine and lr_min_ratio in [0, 1], "
                              f"got {self.lr_schedule!r}, {self.lr_min_ratio}")
        if self.mode == "distill" and not self.teacher:
            raise ConfigError("distillation needs the teacher checkpoint: pass --teacher runs/teacher/best.pt")
        if self.model != "mixgrid" and (self.coarse_width is not None or self.coarse_depth is not None):
            raise ConfigError(f"coarse_width / coarse_depth are for model = \"mixgrid\", not {self.model!r}: drop them")
        if self.model == "mixgrid" and (self.scale is not None or self.outer_kernel is not None):
            raise ConfigError("mixgrid has fixed x2 / x4 grids and one kernel size: drop scale and outer_kernel")
        if self.model in ("collapsible", "mixgrid"):
            sizes = {"width": self.width, "coarse_width": self.coarse_width, "expand": self.expand}
            bad = [f"{k} = {v}" for k, v in sizes.items() if v is not None and v < 1]
            bad += [f"{k} = {v}" for k, v in (("depth", self.depth), ("coarse_depth", self.coarse_depth)) if v is not None and v < 0]
            bad += [f"{k} = {v}" for k, v in (("kernel", self.kernel), ("outer_kernel", self.outer_kernel))
                    if v is not None and (v < 1 or v % 2 != 1)]
            if bad:
                raise ConfigError(f"{', '.join(bad)}: widths and expand must be >= 1, depths >= 0, kernels odd and positive")
        need = math.lcm(self.grid_multiple(), *self.degrade_scales)
        if self.patch_size <= 0 or self.patch_size % need:
            raise ConfigError(f"patch_size {self.patch_size} must be a positive multiple of {need}")
        for name in ("batch_size", "epochs", "steps_per_epoch", "patience", "threads", "val_crop"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.lr <= 0 or self.weight_decay < 0 or self.alpha < 0:
            raise ConfigError("lr must be > 0, weight_decay and alpha >= 0")
        if not self.stability_weight >= 0 or not self.stability_sigma > 0:
            raise ConfigError(f"stability_weight must be >= 0 and stability_sigma > 0 (grey levels), "
                              f"got {self.stability_weight} and {self.stability_sigma}")
        milestones_ok = isinstance(self.lr_milestones, tuple) and all(isinstance(m, int) and m > 0 for m in self.lr_milestones)
        if not 0 < self.lr_gamma <= 1 or not milestones_ok:
            raise ConfigError(f"lr_gamma must be in (0, 1] and lr_milestones a list of positive steps (e.g. [8000]), "
                              f"got {self.lr_gamma}, {self.lr_milestones!r}")
        if self.qat and self.model != "collapsible":
            raise ConfigError(f"qat is for the collapsible students, not {self.model!r}: set model = \"collapsible\" or drop qat")
        if self.qat_integer_ends and not self.qat:
            raise ConfigError("qat_integer_ends refines quantization-aware training: set qat = true too")
        if self.qat_fold_identity and not self.qat:
            raise ConfigError("qat_fold_identity refines quantization-aware training: set qat = true too")
        for name in _MIX_PROBABILITIES:
            if (p := getattr(self, name)) is not None and not 0.0 <= p <= 1.0:
                raise ConfigError(f"{name} must be a probability in [0, 1], got {p}")
        q = self.webcam_jpeg_quality
        mix_set = [n for n in (*_MIX_PROBABILITIES, *_MIX_RANGES, "webcam_jpeg_quality", "webcam_h264_crf", "webcam_scale")
                   if getattr(self, n) is not None]
        for name, (_, widest) in _MIX_RANGES.items():
            r = getattr(self, name)
            if r is not None and not (len(r) == 2 and 0.0 < r[0] <= r[1] <= widest):
                raise ConfigError(f"{name} must be [low, high] with 0 < low <= high <= {widest:g} px, got {list(r)}")
        if q is not None and not (len(q) == 2 and 1 <= q[0] <= q[1] <= 100):
            raise ConfigError(f"webcam_jpeg_quality must be [low, high] with 1 <= low <= high <= 100, got {list(q)}")
        sc = self.webcam_scale
        if sc is not None and not (len(sc) == 2 and 1.0 < sc[0] <= sc[1] <= 4.0):
            raise ConfigError(f"webcam_scale must be [low, high] with 1 < low <= high <= 4, got {list(sc)}")
        c = self.webcam_h264_crf
        if c is not None and not (len(c) == 2 and 0 <= c[0] <= c[1] <= 51):
            raise ConfigError(f"webcam_h264_crf must be [low, high] with 0 <= low <= high <= 51, got {list(c)}")
        if c is not None and not self.webcam_p_h264:
            raise ConfigError("webcam_h264_crf sets the CRF of H.264 draws, and there are none: set webcam_p_h264 > 0 or drop it")
        if self.webcam_p_h264:
            try:
                import av  # noqa: F401
            except ImportError:
                raise ConfigError("webcam_p_h264 > 0 codes pictures with libx264 through PyAV, which is not installed: "
                                  "pip install -e '.[video]'") from None
        if mix_set and not self.webcam:
            raise ConfigError(f"{' / '.join(mix_set)} change the webcam mix: set webcam = true too")
        if self.webcam_case is not None:
            if self.webcam_case not in WEBCAM_CASES:
                raise ConfigError(f"webcam_case must be one of {', '.join(WEBCAM_CASES)}, got {self.webcam_case!r} "
                                  "(x3 needs patch windows on a 6-pixel grid, which the sampler does not cut)")
            if not self.webcam:
                raise ConfigError("webcam_case is a webcam-benchmark degradation: set webcam = true too")
            if mix_set:
                raise ConfigError(f"webcam_case replaces the webcam mix: drop {' / '.join(mix_set)}")
        if self.webcam_pool < 0 or (self.webcam_pool and not self.webcam):
            raise ConfigError(f"webcam_pool must be >= 0 and needs webcam = true, got {self.webcam_pool} with webcam = {str(self.webcam).lower()}")
        if self.pool_workers < 0 or (self.pool_workers and not self.webcam_pool):
            raise ConfigError(f"pool_workers must be >= 0 and needs webcam_pool > 0, got {self.pool_workers}")
        if self.device_patches and not self.fixed_input():
            raise ConfigError("device_patches needs fixed inputs: one degrade scale and no jpeg_quality / noise_sigma, "
                              "or webcam = true with webcam_pool > 0")
        if self.cosine_minutes is not None and (self.cosine_minutes <= 0 or self.lr_schedule != "cosine"):
            raise ConfigError(f"cosine_minutes must be > 0 and needs lr_schedule = \"cosine\", got {self.cosine_minutes}")
        if not self.hr_scales or len(set(self.hr_scales)) != len(self.hr_scales) or not all(0.25 <= r <= 1.0 for r in self.hr_scales):
            raise ConfigError(f"hr_scales must be distinct fractions in [0.25, 1.0] (e.g. [1.0, 0.8, 0.6]), got {list(self.hr_scales)}")
        if any(s not in (2, 3, 4) for s in self.degrade_scales):
            raise ConfigError(f"degrade_scales must be among 2, 3, 4, got {self.degrade_scales}")

    def lr_at(self, step: int) -> float:
        """The learning rate for training step `step` (0-based): step decay at the milestones, or a
        cosine from lr down to lr * lr_min_ratio over epochs x steps_per_epoch steps."""
        if self.lr_schedule == "cosine":
            t = min(step / (self.epochs * self.steps_per_epoch), 1.0)
            return self.lr * (self.lr_min_ratio + (1 - self.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * t)))
        return self.lr * self.lr_gamma ** sum(step >= m for m in self.lr_milestones)

    def fixed_input(self) -> bool:
        """Whether every training image has one fixed degraded version (or a fixed pool of them), so
        patches can be cut from whole degraded images (cached teacher targets, device patches)."""
        return self.jpeg_quality is None and self.noise_sigma is None and (
            self.webcam_pool > 0 if self.webcam else len(self.degrade_scales) == 1)

    def webcam_mix(self) -> WebcamMix | Callable[[np.ndarray, np.random.Generator], np.ndarray] | None:
        """The webcam degradation this run trains on, a function of (HR uint8, rng) (None: bicubic,
        `degrade_scales`)."""
        if not self.webcam:
            return None
        if self.webcam_case is not None:
            return WEBCAM_BENCHMARK[self.webcam_case]
        overrides: dict[str, Any] = {field: float(p) for name, field in _MIX_PROBABILITIES.items()
                                     if (p := getattr(self, name)) is not None}
        if self.webcam_jpeg_quality is not None:
            overrides["jpeg_quality"] = (int(self.webcam_jpeg_quality[0]), int(self.webcam_jpeg_quality[1]))
        if self.webcam_scale is not None:
            overrides["scale"] = (float(self.webcam_scale[0]), float(self.webcam_scale[1]))
        if self.webcam_h264_crf is not None:
            overrides["h264_crf"] = (int(self.webcam_h264_crf[0]), int(self.webcam_h264_crf[1]))
        for name, (field, _) in _MIX_RANGES.items():
            if (r := getattr(self, name)) is not None:
                overrides[field] = (float(r[0]), float(r[1]))
        return WebcamMix(**overrides)

    def grid_multiple(self) -> int:
        """The H/W multiple the student's pixel-unshuffle grids need (1 for full-resolution models)."""
        return {"rt": self.scale or 4, "collapsible": self.scale or 2, "mixgrid": 4}.get(self.model, 1)

    def model_args(self) -> tuple[str, dict[str, Any]]:
        """The architecture's class name and constructor arguments for this config."""
        args: dict[str, Any] = {}
        if self.width is not None:
            args["width"] = self.width
        if self.depth is not None:
            args["depth"] = self.depth
        if self.model == "rt":
            if self.scale is not None:
                args["scale"] = self.scale
            args["reparam"] = self.reparam
            return "RealtimeStudent", args
        if self.model == "collapsible":
            args.update({k: v for k in ("kernel", "outer_kernel", "expand", "scale") if (v := getattr(self, k)) is not None})
            return "CollapsibleStudent", args
        if self.model == "mixgrid":
            args.update({k: v for k in ("kernel", "expand", "coarse_width", "coarse_depth") if (v := getattr(self, k)) is not None})
            return "MixedGridStudent", args
        return ("DnCNN" if self.model == "dncnn" else "SeedStudent"), args


def _coerce(cls, key: str, value: Any) -> Any:
    """TOML gives lists; the frozen dataclasses hold tuples."""
    return tuple(value) if isinstance(value, list) else value


def load_toml(path: str | Path, cls, section: str | None = None) -> dict[str, Any]:
    """Reads a TOML recipe (optionally one [section]) into keyword arguments for `cls`, refusing
    unknown keys with a one-line message."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found: check the path") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML ({e}): fix the syntax") from None
    if section is not None:
        data = data.get(section, data)
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} in {path}: known are {', '.join(sorted(known))}")
    return {k: _coerce(cls, k, v) for k, v in data.items()}


def merge(cls, toml_path: str | None, overrides: dict[str, Any], section: str | None = None):
    """Defaults <- TOML recipe <- command-line flags that were actually given (not None)."""
    kwargs = load_toml(toml_path, cls, section) if toml_path else {}
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    return cls(**kwargs)


def to_dict(cfg) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


@dataclass(frozen=True)
class ProfileConfig:
    """`kd profile`: the grid of settings to time, and how long to time each."""

    model: str = "dncnn"  # dncnn | seed | rt
    width: int | None = None
    depth: int | None = None
    threads: tuple[int, ...] = (1, 2)
    batch_sizes: tuple[int, ...] = (16, 32)
    patch_sizes: tuple[int, ...] = (40, 64)
    precisions: tuple[str, ...] = ("fp32", "bf16")  # bf16 = torch.autocast on the CPU
    steps: int = 6  # timed steps per row (median reported)
    warmup: int = 2
    data_dirs: tuple[str, ...] = DEFAULT_TRAIN_DIRS
    seed: int = 0
    out: str = "runs/profile/teacher"

    def __post_init__(self) -> None:
        for name in ("threads", "batch_sizes", "patch_sizes"):
            values = getattr(self, name)
            if not values or any(v <= 0 for v in values):
                raise ConfigError(f"{name} must be positive numbers, got {values}")
        if not self.precisions or (bad := sorted(set(self.precisions) - {"fp32", "bf16"})):
            raise ConfigError(f"precision {', '.join(self.precisions) or '(none)'} unknown: use fp32 and/or bf16")
        for name in ("width", "depth"):
            value = getattr(self, name)
            if value is not None and value < (1 if name == "width" else 0):
                raise ConfigError(f"{name} must be positive, got {value}")
        if self.steps < 1 or self.warmup < 0:
            raise ConfigError(f"steps must be >= 1 and warmup >= 0, got {self.steps}, {self.warmup}")


# ---- evaluation / export / quantization settings (below this line) ----


# Owned by the evaluation / export / quantization helper: kd/evaluate.py, kd/export.py, kd/quantize.py.
DEFAULT_TEST_LIST = "runs/split/test.txt"  # written by `kd prepare` (kd/data.py Split.write)
DEFAULT_TRAIN_LIST = "runs/split/train.txt"
ONNX_OPSET = 17  # pinned: what the runtime's onnxruntime (>= 1.17) and OpenVINO both run


@dataclass(frozen=True)
class EvalConfig:
    """`kd evaluate`: models x image sets, published protocol + the spec's test split + ONNX speed.

    models: torch checkpoints (.pt), ONNX models (.onnx with its card beside it, or the .json card).
    sets: folders of HR images, scored with the published SR protocol at `scale`.
    test_list: a text file of HR image paths (one per line) for the spec's protocol (centre crop
    `test_crop` px, x2 bicubic, RGB SSIM / MSE); skipped when the file does not exist and was not asked for.
    """

    models: tuple[str, ...] = ()
    sets: tuple[str, ...] = DEFAULT_EVAL_DIRS
    scale: int = 2
    blurred: bool = True  # include the "blurred input" (bicubic down/up) row
    test_list: str | None = DEFAULT_TEST_LIST
    test_crop: int = 256
    test_scale: int = 2
    fps: bool = True  # time every ONNX model at fps_sizes
    fps_sizes: tuple[tuple[int, int], ...] = ((1280, 720), (1920, 1080))  # width, height
    fps_runs: int = 20
    fps_warmup: int = 2
    fps_budget_s: float = 120.0  # per size: stop timing after this long once 3 runs are in (the teacher: 10+ s a 720p frame)
    threads: int = 2  # onnxruntime intra-op threads (quality and speed) and torch threads
    out: str = "runs/eval/results"  # writes <out>.md, <out>.json and (models timed) <out>.png

    def __post_init__(self) -> None:
        if self.scale not in (2, 3, 4) or self.test_scale not in (2, 3, 4):
            raise ConfigError(f"scale must be 2, 3 or 4, got {self.scale} / {self.test_scale}")
        if self.test_crop <= 0 or self.test_crop % self.test_scale:
            raise ConfigError(f"test_crop {self.test_crop} must be a positive multiple of test_scale {self.test_scale}")
        for name in ("fps_runs", "threads", "fps_budget_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.fps_warmup < 0:
            raise ConfigError(f"fps_warmup must be >= 0, got {self.fps_warmup}")
        if not self.models and not self.blurred:
            raise ConfigError("nothing to evaluate: pass model paths or keep the blurred-input row")
        if any(w <= 0 or h <= 0 for w, h in self.fps_sizes):
            raise ConfigError(f"fps sizes must be positive WIDTHxHEIGHT, got {self.fps_sizes}")
        names = [Path(s).name for s in self.sets]
        if len(set(names)) != len(names):
            raise ConfigError(f"two --set folders share a name ({', '.join(names)}): the table names sets by folder")


DEFAULT_CLIPS = tuple(str(SHARED_DATASETS.parent / "video" / n) for n in ("talking_720p.mp4", "talking_512.mp4"))
DEFAULT_UNSHARP = "kd/recipes/unsharp.toml"  # written once by `kd unsharp-fit`, then frozen


@dataclass(frozen=True)
class WebcamBenchConfig:
    """`kd evaluate --webcam`: models vs the degraded input and a frozen unsharp mask on the four webcam
    degradations (image folders), still-area flicker and sharpness (clips), ringing (a synthetic card)."""

    models: tuple[str, ...] = ()
    sets: tuple[str, ...] = DEFAULT_EVAL_DIRS
    clips: tuple[str, ...] = DEFAULT_CLIPS
    clip_frames: int = 60
    clip_images: int = 4  # frames of each clip also scored as originals under the four degradations
    clip_max_width: int = 640  # area-downscaled above this: the flicker ratio needs frames, not pixels
    still_threshold: float = 2.0  # grey levels of 5x5-mean input change below which a pixel is "still"
    unsharp: str = DEFAULT_UNSHARP
    seed: int = 0
    threads: int = 2
    out: str = "runs/eval/webcam"

    def __post_init__(self) -> None:
        if self.clip_frames < 2 or self.clip_max_width < 16 or self.threads < 1 or self.still_threshold <= 0 or self.clip_images < 0:
            raise ConfigError("clip_frames must be >= 2, clip_images >= 0, clip_max_width >= 16, threads >= 1 and still_threshold > 0")


@dataclass(frozen=True)
class PairConfig:
    """`kd pair`: a card that switches per frame from `default` to `alternate` above a blockiness cut and
    below a detail cut, passes frames through above a textured cut (the gate) and, with `blurred`, sends frames
    below a lower textured cut to that third model, all chosen on the training split (kd/switch.py)."""

    default: str = ""  # the plain model's card
    alternate: str = ""  # the specialist's card, in the same folder
    name: str = ""  # the pair's card name, written beside the default's
    images: str = DEFAULT_TRAIN_LIST  # training-split images the cut is chosen on (never evaluation images)
    target: str = "x2+jpeg40"  # the benchmark case the alternate is for; the other three are the rest
    period: int = 16  # px: 8 x 8 JPEG blocks at half size, up-scaled x2
    seed: int = 0  # the benchmark's per-image degradation seed
    # the gate's textured figure (vcam/detect.py Texture) counts differences of at least this many grey levels
    # (chosen in sitting 13 on the training split among 2, 3, 4, 6, 8: runs/eval/sharp-detect-s13.md); 0: no gate
    gate_step: int = 8
    # a second cut for the gate, on the re-blur ratio (vcam/detect.py Reblur), chosen among the pictures the first passes
    # (since sitting 14: line art up-scaled reads as sharp on the first figure alone; runs/eval/lineart-s14.md)
    gate_reblur: bool = True
    # a third model, in the same folder, for strongly blurred frames: those whose textured figure (at blur_step, the
    # gate's own step so one measurement serves both) is below a cut chosen between `blurred_target` and the other
    # three benchmark cases; "" for none
    blurred: str = ""
    blurred_target: str = "x3"
    blur_step: int = 8
    # the blurred frames' model is for lens blur (sitting 16): of those frames, only the ones whose resampling figures
    # (vcam/detect.py Resampling) are below two more cuts, chosen between kd/degrade.py's up-scaled and lens-blurred
    # cases (RESAMPLED_CASES, LENS_CASES) on the same split, go to it
    blurred_lens: bool = False
    # the inverse (sitting 17): the blurred frames' model is for up-scales, and takes only the frames whose resampling
    # figures reach one of the same two cuts (lens blur stays with the default)
    blurred_upscaled: bool = False
    # a strength ramp (sitting 18): frames left to the default that read as resampled keep a share of its change that
    # rises with their re-blur ratio (at blur_step), the ends chosen on the training split (kd/switch.py choose_ramp)
    ramp: bool = False
    # and, if given, only among ramps under which none of the benchmark's four cases loses more than this many dB (its
    # mean on the training split) against the default's whole change
    ramp_benchmark_loss: float | None = None

    def __post_init__(self) -> None:
        if not self.default or not self.alternate or not self.name:
            raise ConfigError("a pair needs --default, --alternate and --name: the two cards and the new card's name")
        if not 2 <= self.period <= 64 or self.period % 2:
            raise ConfigError(f"period {self.period} must be an even number of pixels from 2 to 64 (what a card's switch takes)")
        if not 0 <= self.gate_step <= 255:
            raise ConfigError(f"gate_step {self.gate_step} must be 1..255 grey levels, or 0 for no gate")
        if not 1 <= self.blur_step <= 255:
            raise ConfigError(f"blur_step {self.blur_step} must be 1..255 grey levels")
        if self.blurred_lens and not self.blurred:
            raise ConfigError("blurred_lens describes the blurred frames' model: pass its card with --blurred too")
        loss = self.ramp_benchmark_loss
        if loss is not None and not (self.ramp and isinstance(loss, (int, float)) and not isinstance(loss, bool)
                                     and 0 <= loss < math.inf):
            raise ConfigError(f"ramp_benchmark_loss {self.ramp_benchmark_loss} bounds a ramp's loss: pass a number of dB >= 0, "
                              "with --ramp")
        if self.blurred_upscaled and not self.blurred:
            raise ConfigError("blurred_upscaled describes the blurred frames' model: pass its card with --blurred too")
        if self.blurred_upscaled and self.blurred_lens:
            raise ConfigError("the blurred frames' model is for lens blur (--blurred-lens) or for up-scales "
                              "(--blurred-upscaled), not both: pass one")
        if self.blurred and self.gate_step and self.blur_step != self.gate_step:
            raise ConfigError(f"blur_step {self.blur_step} differs from gate_step {self.gate_step}: give both the same step, so one "
                              "measurement serves both")
        if Path(self.name).name != self.name or self.name.endswith(".json"):
            raise ConfigError(f"name {self.name!r} must be a plain card name (no folder, no .json): the card goes beside the default's")


@dataclass(frozen=True)
class UnsharpFitConfig:
    """`kd unsharp-fit`: the unsharp baseline's sigma and amount, grid-searched once under x2 bicubic on
    the training split (never on evaluation images), then frozen in `out`."""

    images: str = DEFAULT_TRAIN_LIST
    crop: int = 192
    sigmas: tuple[float, ...] = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5)
    amounts: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(1, 21))
    out: str = DEFAULT_UNSHARP

    def __post_init__(self) -> None:
        if self.crop < 16 or not self.sigmas or not self.amounts or min(self.sigmas) <= 0 or min(self.amounts) <= 0:
            raise ConfigError("crop must be >= 16 and sigmas / amounts non-empty and positive")


@dataclass(frozen=True)
class ExportConfig:
    """`kd export`: checkpoint -> BN-folded, re-param-fused ONNX (dynamic H/W) + parity + model card."""

    checkpoint: str = ""
    name: str = "sharpcam-rt"
    out: str = "export"
    opset: int = ONNX_OPSET
    exporter: str = "torchscript"  # torchscript | dynamo (see kd/export.py for why torchscript)
    # RGB: 1 x 3 x H x W float32 in [0, 1] (every model); Y: the I420 luma plane, 1 x 1 x H x W uint8 in
    # and out (luma students only), so the runtime never builds a full-resolution float tensor
    planes: str = "RGB"
    export_size: tuple[int, int] = (64, 64)  # height, width traced; parity runs at other shapes
    parity_sizes: tuple[tuple[int, int], ...] = ((72, 120), (136, 88))  # height, width
    parity_tol: float = 1e-4  # max abs error in [0, 1] space
    metrics: str | None = None  # a `kd evaluate` JSON whose row for this model goes into the card
    metrics_label: str | None = None  # which row (default: the row whose source is the checkpoint)
    # the x8 self-ensemble (kd/models/ensemble.py) in the ONNX: for full-resolution RGB teachers, which run
    # offline at 8x the cost; the real-time students (Y plane, pixel-unshuffle grids) are refused
    self_ensemble: bool = False
    # collapsible students: each body block's input folded into its conv kernel (int8 then rounds a block
    # once); None: as the checkpoint's QAT rounded it (its recipe's qat_fold_identity), else not
    fold_identity: bool | None = None
    threads: int = 2

    def __post_init__(self) -> None:
        if not self.checkpoint:
            raise ConfigError("no checkpoint given: pass the .pt file written by training (e.g. runs/rt/best.pt)")
        if not self.name or any(c in self.name for c in "/\\ ") or self.name.endswith((".onnx", ".json")):
            raise ConfigError(f"model name {self.name!r} must be a plain name like sharpcam-rt (no path, no extension)")
        if self.opset < 13:
            raise ConfigError(f"opset {self.opset} too old: use {ONNX_OPSET}")
        if self.parity_tol <= 0:
            raise ConfigError("parity_tol must be positive")
        if self.exporter not in ("torchscript", "dynamo"):
            raise ConfigError(f"exporter must be torchscript or dynamo, not {self.exporter!r}")
        if self.planes not in ("RGB", "Y"):
            raise ConfigError(f"planes must be RGB or Y, not {self.planes!r}")
        if self.self_ensemble and self.planes == "Y":
            raise ConfigError("the self-ensemble is for RGB teachers, not Y-plane students: "
                              "drop --self-ensemble (self_ensemble = false) or --planes Y")
        if self.fold_identity not in (None, True, False):
            raise ConfigError(f"fold_identity must be true or false (or left out: as the checkpoint's QAT), not {self.fold_identity!r}")


@dataclass(frozen=True)
class QuantizeConfig:
    """`kd quantize`: fp32 ONNX + card -> static int8 QDQ (per-channel weights) + card + check vs fp32."""

    model: str = ""  # the fp32 card (.json) or .onnx with its card beside it
    calib: tuple[str, ...] = (DEFAULT_TRAIN_LIST,)  # HR folders or list files; the train split keeps test images out
    calib_images: int = 32  # images drawn (seeded) from calib
    calib_crop: int = 128  # random crop per image, px (a multiple of the card's pad_multiple)
    calib_scale: int = 2
    calib_webcam: bool = False  # degrade the calibration crops with the webcam mix instead of x calib_scale
    calib_method: str = "minmax"  # minmax | percentile | entropy
    seed: int = 0
    check: tuple[str, ...] = (DEFAULT_EVAL_DIRS[0],)  # folders for the dB-lost check (published protocol)
    check_scale: int = 2
    name: str | None = None  # default: <fp32 name>-int8
    out: str | None = None  # default: the fp32 card's folder
    quantize_ops: tuple[str, ...] = ("Conv", "Relu")  # the rest (pixel shuffle, residual add) stays float
    float_input_ops: bool = True  # the ops reading the full-resolution input stay float (no input requantization)
    float_nodes: tuple[str, ...] = ()  # more nodes kept float by name, e.g. ("/head/Conv", "/Relu")
    # 7-bit weights: x86 CPUs without VNNI (AVX2, most AVX-512) sum u8 x s8 pairs in int16, which full
    # 8-bit weights can overflow; measured no loss (Set5 x2 34.95 vs 34.94 dB with 8 bits, on AVX2)
    reduce_range: bool = True
    fps_size: tuple[int, int] = (1280, 720)  # width, height for the speed comparison
    fps_runs: int = 20
    fps_budget_s: float = 120.0  # stop timing after this long once 3 runs are in
    threads: int = 2

    def __post_init__(self) -> None:
        if not self.model:
            raise ConfigError("no model given: pass the fp32 card, e.g. export/sharpcam-rt.json")
        if self.calib_method not in ("minmax", "percentile", "entropy"):
            raise ConfigError(f"calib_method must be minmax, percentile or entropy, not {self.calib_method!r}")
        if self.calib_images <= 0 or self.calib_crop <= 0 or self.fps_runs <= 0 or self.threads <= 0:
            raise ConfigError("calib_images, calib_crop, fps_runs and threads must be positive")
        if not self.quantize_ops:
            raise ConfigError("quantize_ops is empty: name the op types to run in int8, e.g. Conv,Relu")
