"""Packs the training split's images (train + val lists of runs/split, not the test list) as lossless
WebP into a folder that travels to a lent GPU machine (which has no ../shared), and unpacks them there
into ../shared/datasets/... so the recipes and the split find them at the same relative paths.

python runs/gpu_s5/pack_data.py pack .gpudata      # here: ~48 MB, pixel-exact (checked)
python runs/gpu_s5/pack_data.py unpack .gpudata    # there: writes the PNGs back beside the checkout
"""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import cv2
import numpy as np

SPLIT = Path("runs/split")
SHARED = Path("../shared")


def _listed() -> list[Path]:
    out = []
    for name in ("train.txt", "val.txt"):
        for line in (SPLIT / name).read_text().split():
            out.append((SPLIT / line).resolve())
    return out


def _pack_one(args: tuple[Path, Path]) -> int:
    src, dst = args
    img = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
    dst.parent.mkdir(parents=True, exist_ok=True)
    ok, buf = cv2.imencode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, 101])  # > 100: lossless
    back = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if not ok or back.shape != img.shape or not np.array_equal(back, img):
        raise SystemExit(f"{src}: lossless WebP did not round-trip")
    dst.write_bytes(buf.tobytes())
    return len(buf)


def _unpack_one(args: tuple[Path, Path]) -> int:
    src, dst = args
    img = cv2.imdecode(np.frombuffer(src.read_bytes(), np.uint8), cv2.IMREAD_UNCHANGED)
    dst.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(dst), img)
    return img.size


def main(verb: str, folder: str) -> None:
    box = Path(folder)
    shared = SHARED.resolve()
    if verb == "pack":
        jobs = [(p, box / p.relative_to(shared).with_suffix(p.suffix + ".webp")) for p in _listed()]
        with ProcessPoolExecutor() as ex:
            size = sum(ex.map(_pack_one, jobs))
        print(f"{len(jobs)} images, {size / 1e6:.1f} MB in {box}")
    elif verb == "unpack":
        jobs = [(p, shared / p.relative_to(box).with_suffix("")) for p in sorted(box.rglob("*.webp"))]
        with ProcessPoolExecutor() as ex:
            px = sum(ex.map(_unpack_one, jobs))
        print(f"{len(jobs)} images ({px / 3e6:.1f} Mpx) written under {shared}")
    else:
        raise SystemExit("usage: pack_data.py pack|unpack FOLDER")


if __name__ == "__main__":
    main(*sys.argv[1:])
