"""HR image folders -> deterministic split -> random (degraded, sharp) patch pairs, on the fly.

Randomness only comes from the np.random.Generator the caller passes in, so a seed (and a saved
generator state on resume) reproduces the exact patch stream.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from kd.degrade import WebcamMix, bicubic_down_up, bicubic_resize, degrade, jpeg_roundtrip, modcrop

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


class DataError(ValueError):
    """Unusable data (missing folder, no images, unreadable file); the message names the fix."""


def scan_images(dirs: tuple[str, ...] | list[str]) -> list[Path]:
    """All PNG/JPEG/BMP files under the folders, sorted (so the split does not depend on the filesystem)."""
    files: list[Path] = []
    for d in dirs:
        p = Path(d)
        if not p.is_dir():
            raise DataError(f"image folder {p} does not exist: pass existing folders of HR images")
        found = sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
        if not found:
            raise DataError(f"no PNG/JPEG/BMP images in {p}: point at a folder of HR images")
        files += found
    return files


@dataclass(frozen=True)
class Split:
    train: tuple[Path, ...]
    val: tuple[Path, ...]
    test: tuple[Path, ...]

    def write(self, out: Path, data_dirs: tuple[str, ...] | list[str] = ()) -> None:
        """train.txt / val.txt / test.txt with paths relative to `out` (valid on any machine with the
        same layout, e.g. ../shared beside the checkout), and split.json with the counts and the
        folders split (relative too), by which training recognises a split of its own data."""
        out.mkdir(parents=True, exist_ok=True)
        rel = lambda p: os.path.relpath(Path(p).resolve(), out.resolve())
        for name in ("train", "val", "test"):
            (out / f"{name}.txt").write_text("".join(f"{rel(p)}\n" for p in getattr(self, name)))
        info = {k: len(getattr(self, k)) for k in ("train", "val", "test")}
        (out / "split.json").write_text(json.dumps({**info, "data_dirs": [rel(d) for d in data_dirs]}))

    @classmethod
    def prepared(cls, folder: Path, data_dirs: tuple[str, ...] | list[str]) -> "Split | None":
        """`kd prepare`'s split in `folder` if it is a split of exactly `data_dirs`, else None."""
        try:
            made_from = json.loads((folder / "split.json").read_text()).get("data_dirs")
        except (OSError, ValueError, AttributeError):
            return None
        if not (folder / "train.txt").is_file() or not made_from:
            return None
        if sorted((folder / d).resolve() for d in made_from) != sorted(Path(d).resolve() for d in data_dirs):
            return None
        return cls.read(folder, data_dirs)

    @classmethod
    def read(cls, folder: Path, data_dirs: tuple[str, ...] | list[str]) -> "Split":
        """The split `write` made (relative or absolute paths); every train/val image must lie under
        one of `data_dirs` and none may be in the test list."""
        parts = {}
        for name in ("train", "val", "test"):
            f = folder / f"{name}.txt"
            paths = []
            for line in f.read_text().splitlines() if f.is_file() else []:
                line = line.strip()
                if line and not line.startswith("#"):
                    p = Path(line) if Path(line).is_absolute() else folder / line
                    paths.append(p.resolve())
            parts[name] = tuple(paths)
        roots = [Path(d).resolve() for d in data_dirs]
        for p in parts["train"] + parts["val"]:
            if not p.is_file():
                raise DataError(f"{folder} lists {p}, which does not exist: run `sharpcam-kd prepare` again")
            if not any(p.is_relative_to(r) for r in roots):
                raise DataError(f"{folder} lists {p}, outside the training folders ({', '.join(map(str, data_dirs))}): "
                                f"run `sharpcam-kd prepare` with the same --data, or pass another split folder")
        if set(parts["test"]) & set(parts["train"] + parts["val"]):
            raise DataError(f"{folder}: a test image is also in train/val: run `sharpcam-kd prepare` again")
        if not parts["train"] or not parts["val"]:
            raise DataError(f"{folder} has an empty train or val list: run `sharpcam-kd prepare` again")
        return cls(**parts)


def split_files(files: list[Path], seed: int = 0, test_fraction: float = 0.1, val_fraction: float = 0.2) -> Split:
    """Deterministic split: `test_fraction` of the originals held out, the rest train/val."""
    order = np.random.default_rng(seed).permutation(len(files))
    shuffled = [files[i] for i in order]
    n_test = int(round(len(files) * test_fraction))
    rest = shuffled[n_test:]
    n_val = max(1, int(round(len(rest) * val_fraction)))
    if len(rest) - n_val < 1:
        raise DataError(f"only {len(files)} images: too few to split; add images")
    return Split(train=tuple(sorted(rest[n_val:])), val=tuple(sorted(rest[:n_val])), test=tuple(sorted(shuffled[:n_test])))


def load_rgb_u8(path: Path) -> np.ndarray:
    """H x W x 3 uint8 RGB (grayscale and palette images converted)."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError) as e:
        raise DataError(f"cannot read image {path} ({e}): remove or replace it") from None


def augment(pair: tuple[np.ndarray, ...], rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """The same random flip + 90-degree rotation applied to every array of the pair (H x W x C)."""
    k = int(rng.integers(4))
    flip = bool(rng.integers(2))
    out = []
    for a in pair:
        a = np.rot90(a, k, axes=(0, 1))
        if flip:
            a = a[:, ::-1]
        out.append(a)
    return tuple(out)


class PatchSampler:
    """Draws batches of (lq, hr) patches, N x 3 x P x P float32 in [0, 1].

    The bicubic degradation is applied to whole images once per scale and cached (it is deterministic
    and matches the evaluation protocol exactly, with no patch-border artefacts); JPEG and noise, which
    are random, are applied per patch. With `webcam`, each patch is instead degraded by that mix on a
    crop `WEBCAM_MARGIN` px larger on every side (where the image allows), so blur and resampling see
    real pixels at the patch border, not padding. With `webcam_pool` N > 0, each whole image is instead
    degraded N times by the mix once, from `pool_rng`, and patches are cut from those fixed inputs (what
    cached teacher targets need). With `hr_scales`, every image is also used bicubic-down-scaled to each
    of those sizes (antialiased, as the protocol's resize) before any degradation: the scale
    augmentation with which VDSR, DnCNN-3 and FSRCNN stretch a few hundred training images."""

    WEBCAM_MARGIN = 16

    def __init__(
        self,
        files: tuple[Path, ...] | list[Path],
        patch_size: int,
        scales: tuple[int, ...] = (2,),
        jpeg_quality: tuple[int, int] | None = None,
        noise_sigma: tuple[float, float] | None = None,
        webcam: WebcamMix | None = None,
        webcam_pool: int = 0,
        pool_rng: np.random.Generator | None = None,
        pool_workers: int = 0,
        hr_scales: tuple[float, ...] = (1.0,),
    ) -> None:
        self.patch_size, self.scales, self.webcam = patch_size, tuple(scales), webcam
        self.jpeg_quality, self.noise_sigma = jpeg_quality, noise_sigma
        m = int(np.lcm.reduce(self.scales))
        self.grid = 2 if webcam else m  # patch origins are multiples of this (the webcam mix works on even windows)
        self.hr: list[np.ndarray] = []
        self.files: list[Path] = []  # the images kept (large enough for a patch), aligned with hr
        self.fractions: list[float] = []  # the hr_scales fraction of each kept image, aligned with hr
        for f in files:
            full = load_rgb_u8(f)
            h, w = full.shape[:2]
            for r in hr_scales:
                if min(h, w) * r < patch_size:  # too small for a patch even before the modcrop
                    continue
                img = modcrop(full if r == 1.0 else bicubic_resize(full, round(w * r), round(h * r)), m)
                if min(img.shape[:2]) >= patch_size:
                    self.hr.append(img)
                    self.files.append(Path(f))
                    self.fractions.append(r)
        if not self.hr:
            raise DataError(f"no training image is at least {patch_size} px on each side"
                            + (" at the hr_scales sizes: lower patch_size or add 1.0 to hr_scales" if 1.0 not in hr_scales
                               else ": lower patch_size"))
        self.lq = {} if webcam else {s: [bicubic_down_up(h, s) for h in self.hr] for s in self.scales}
        self.pool = int(webcam_pool)
        self.pool_lq: list[list[np.ndarray]] = []
        if self.pool:
            if webcam is None or pool_rng is None:
                raise DataError("a webcam pool needs the webcam mix and a pool_rng")
            if pool_workers:
                self.pool_lq = _parallel_pool(self.hr, webcam, self.pool, pool_rng, pool_workers)
            else:
                self.pool_lq = [[webcam(h, pool_rng) for _ in range(self.pool)] for h in self.hr]
        areas = np.array([h.shape[0] * h.shape[1] for h in self.hr], dtype=np.float64)
        self.weights = areas / areas.sum()  # sample by area so every pixel is equally likely
        self.targets: list[np.ndarray] | None = None

    def image_list_key(self) -> str:
        """The training pictures, one per line (a down-scaled copy as `path@fraction`): what a teacher's
        cached outputs are keyed by; with no hr_scales, the file list alone (older caches stay valid)."""
        return "\n".join(f"{f}" if r == 1.0 else f"{f}@{r}" for f, r in zip(self.files, self.fractions))

    def fixed_inputs(self) -> list[np.ndarray]:
        """The whole degraded images (H x W x 3 uint8) that patches are cut from, in the order soft
        targets follow: one per image (bicubic at one scale), or N per image, image-major (webcam pool)."""
        if self.jpeg_quality is not None or self.noise_sigma is not None or (self.webcam is not None and not self.pool) \
                or (not self.pool and len(self.scales) != 1):
            raise DataError("cached teacher targets need a fixed input: one scale and no per-patch JPEG/noise, "
                            "or the webcam mix with webcam_pool > 0")
        return [lq for per in self.pool_lq for lq in per] if self.pool else self.lq[self.scales[0]]

    def set_targets(self, targets: list[np.ndarray]) -> None:
        """Soft targets aligned with `fixed_inputs()` (H x W x 3 float16 in [0, 1]: a frozen teacher's
        output on each whole degraded image). `sample` then also returns the matching target patches."""
        if [t.shape for t in targets] != [lq.shape for lq in self.fixed_inputs()]:
            raise DataError("teacher targets do not match the training images: rebuild the cache")
        self.targets = targets

    def _webcam_patch(self, j: int, y: int, x: int, rng: np.random.Generator) -> np.ndarray:
        p, m = self.patch_size, self.WEBCAM_MARGIN
        img = self.hr[j]
        y0, y1 = _even_window(y - m, y + p + m, img.shape[0])
        x0, x1 = _even_window(x - m, x + p + m, img.shape[1])
        lq = self.webcam(np.ascontiguousarray(img[y0:y1, x0:x1]), rng)
        return lq[y - y0 : y - y0 + p, x - x0 : x - x0 + p]

    def sample(self, batch_size: int, rng: np.random.Generator):
        """Returns (lq, hr) or, with targets set, (lq, hr, target): N x 3 x P x P float32 in [0, 1]."""
        p = self.patch_size
        lq_b = np.empty((batch_size, p, p, 3), np.uint8)
        hr_b = np.empty((batch_size, p, p, 3), np.uint8)
        tg_b = np.empty((batch_size, p, p, 3), np.float16) if self.targets is not None else None
        for i in range(batch_size):
            j = int(rng.choice(len(self.hr), p=self.weights))
            s = self.scales[int(rng.integers(len(self.scales)))]
            h, w = self.hr[j].shape[:2]
            # on the degradation grid, so every patch has the pixel phase the protocol's images have
            # (a bicubic x2 up-scale treats odd and even pixels differently, and a student on the x2
            # unshuffle grid learns that difference)
            g = self.grid
            y, x = int(rng.integers((h - p) // g + 1)) * g, int(rng.integers((w - p) // g + 1)) * g
            hr = self.hr[j][y : y + p, x : x + p]
            v = int(rng.integers(self.pool)) if self.pool else 0  # drawn only with a pool: other runs' streams unchanged
            if self.pool:
                lq = self.pool_lq[j][v][y : y + p, x : x + p]
            elif self.webcam is not None:
                lq = self._webcam_patch(j, y, x, rng)
            else:
                lq = self.lq[s][j][y : y + p, x : x + p]
            if self.jpeg_quality is not None:
                lq = jpeg_roundtrip(np.ascontiguousarray(lq), int(rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1)))
            if self.noise_sigma is not None:
                sigma = rng.uniform(*self.noise_sigma)
                lq = np.clip(np.rint(lq + rng.normal(0.0, sigma, lq.shape)), 0, 255).astype(np.uint8)
            if tg_b is None:
                lq, hr = augment((lq, hr), rng)
            else:
                lq, hr, tg_b[i] = augment((lq, hr, self.targets[j * max(self.pool, 1) + v][y : y + p, x : x + p]), rng)
            lq_b[i], hr_b[i] = lq, hr
        to_f32 = lambda a: np.ascontiguousarray(a.transpose(0, 3, 1, 2), dtype=np.float32) / 255.0
        if tg_b is None:
            return to_f32(lq_b), to_f32(hr_b)
        return to_f32(lq_b), to_f32(hr_b), np.ascontiguousarray(tg_b.transpose(0, 3, 1, 2), dtype=np.float32)


def _degrade_copies(hr: np.ndarray, webcam: WebcamMix, seeds: np.ndarray) -> list[np.ndarray]:
    return [webcam(hr, np.random.default_rng(int(s))) for s in seeds]


def _parallel_pool(hr: list[np.ndarray], webcam: WebcamMix, copies: int, rng: np.random.Generator,
                   workers: int) -> list[list[np.ndarray]]:
    """Each image degraded `copies` times, each copy from its own stream seeded by one vectorised draw
    of `rng`, over `workers` processes: the result does not depend on the number of workers."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    seeds = rng.integers(2**63, size=(len(hr), copies), dtype=np.int64)
    if workers == 1:
        return [_degrade_copies(h, webcam, s) for h, s in zip(hr, seeds)]
    # spawned, not forked: the parent holds torch's thread pools, which a fork can deadlock
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as ex:
        return list(ex.map(_degrade_copies, hr, [webcam] * len(hr), seeds, chunksize=4))


class DevicePatchSampler:
    """A fixed-input PatchSampler's patch pairs, cut on the training device (a GPU) from the whole
    images uploaded there once, so the CPU only draws the positions.

    The draws come from the caller's np.random.Generator as in PatchSampler (image by area, position on
    the degradation grid, pool copy, one of the 8 flips/rotations), vectorised per batch; the patches
    of one rotation are rotated together. `sample` returns (lq, hr) or, with targets set,
    (lq, hr, target): N x 3 x P x P float32 in [0, 1] tensors on `device`."""

    def __init__(self, sampler: PatchSampler, device) -> None:
        import torch

        self.torch, self.device = torch, device
        self.patch_size, self.grid, self.pool = sampler.patch_size, sampler.grid, max(sampler.pool, 1)
        self.weights = sampler.weights
        self.sizes = np.array([h.shape[:2] for h in sampler.hr])
        self.hr = [torch.tensor(h, device=device) for h in sampler.hr]  # a copy: PIL's arrays are read-only
        self.lq = [torch.tensor(a, device=device) for a in sampler.fixed_inputs()]
        self.targets = None

    def set_targets(self, targets: list[np.ndarray]) -> None:
        """As PatchSampler.set_targets (H x W x 3 float16, aligned with the fixed inputs)."""
        if [tuple(t.shape) for t in targets] != [tuple(a.shape) for a in self.lq]:
            raise DataError("teacher targets do not match the training images: rebuild the cache")
        self.targets = [self.torch.from_numpy(t).to(self.device) for t in targets]

    def sample(self, batch_size: int, rng: np.random.Generator):
        torch, p, g = self.torch, self.patch_size, self.grid
        j = rng.choice(len(self.hr), size=batch_size, p=self.weights)
        h, w = self.sizes[j, 0], self.sizes[j, 1]
        y = rng.integers((h - p) // g + 1) * g
        x = rng.integers((w - p) // g + 1) * g
        v = rng.integers(self.pool, size=batch_size)
        t = rng.integers(8, size=batch_size)  # rotation t % 4, then a left-right flip when t >= 4
        copy = j * self.pool + v  # fixed inputs (and targets) are image-major: N copies per image
        sources = [(self.lq, copy), (self.hr, j)] + ([(self.targets, copy)] if self.targets is not None else [])
        parts: list[list] = [[] for _ in sources]
        for k in np.unique(t):
            idx = np.flatnonzero(t == k)
            for part, (src, n) in zip(parts, sources):
                crops = torch.stack([src[n[i]][y[i] : y[i] + p, x[i] : x[i] + p] for i in idx])
                crops = torch.rot90(crops, int(k) % 4, dims=(1, 2))
                part.append(crops.flip(2) if k >= 4 else crops)
        out = []
        for part in parts:
            a = torch.cat(part).permute(0, 3, 1, 2)
            out.append(a.float().div_(255.0) if a.dtype == torch.uint8 else a.float())
        return tuple(a.contiguous() for a in out)


def _even_window(lo: int, hi: int, size: int) -> tuple[int, int]:
    """[lo, hi) clipped to [0, size) and widened outwards to even ends (size is even)."""
    return max(0, lo) // 2 * 2, min(size, -(-hi // 2) * 2)


def val_pairs(files: tuple[Path, ...] | list[Path], crop: int, scale: int, multiple: int = 1) -> list[tuple[np.ndarray, np.ndarray]]:
    """Deterministic validation pairs: each image degraded whole (protocol), then centre-cropped to
    `crop` (rounded to the scale and to `multiple`, the model's grid). Returns (lq, hr) as 1 x 3 x H x W float32
    in [0, 1]."""
    out = []
    size_step = math.lcm(scale, multiple)
    for f in files:
        hr = modcrop(load_rgb_u8(f), scale)
        lq = bicubic_down_up(hr, scale)
        h, w = hr.shape[:2]
        c = min(crop, h, w) // size_step * size_step
        y, x = (h - c) // 2 // scale * scale, (w - c) // 2 // scale * scale
        pair = []
        for a in (lq, hr):
            a = a[y : y + c, x : x + c]
            pair.append(np.ascontiguousarray(a.transpose(2, 0, 1)[None], dtype=np.float32) / 255.0)
        out.append((pair[0], pair[1]))
    return out


__all__ = ["DataError", "Split", "PatchSampler", "DevicePatchSampler", "scan_images", "split_files", "load_rgb_u8", "augment", "val_pairs", "degrade"]
