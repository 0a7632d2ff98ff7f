"""Real photos that ship with scikit-image, written as small HR image folders for the kd tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

NAMES = ("astronaut", "chelsea", "coffee", "rocket", "camera", "immunohistochemistry", "retina", "hubble_deep_field")


def photo(name: str) -> np.ndarray:
    """H x W x 3 uint8 RGB (grayscale photos are stacked to three channels)."""
    import skimage.data

    img = getattr(skimage.data, name)()
    if isinstance(img, tuple):
        img = img[0]
    if img.dtype == bool:
        img = img.astype(np.uint8) * 255
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    return np.ascontiguousarray(img[..., :3]).astype(np.uint8)


def write_photo_folder(folder: Path, size: int = 96, names: tuple[str, ...] = NAMES) -> list[Path]:
    """Downscaled (area) copies of the photos, `size` px on the short side, as PNG files."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in names:
        img = Image.fromarray(photo(n))
        w, h = img.size
        k = size / min(w, h)
        img = img.resize((max(size, round(w * k)), max(size, round(h * k))), Image.BOX)
        p = folder / f"{n}.png"
        img.save(p)
        paths.append(p)
    return paths
