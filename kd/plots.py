"""Training plots (PNG): loss curves, validation PSNR/SSIM, before/after comparison grids."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: training runs headless
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: list[dict], path: Path, title: str) -> None:
    """history: one dict per epoch with train_loss, val_loss, val_psnr, val_ssim (as in metrics.jsonl)."""
    if not history:
        return
    plt = _pyplot()
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    ax[0].semilogy(ep, [h["train_loss"] for h in history], label="train")
    ax[0].semilogy(ep, [h["val_loss"] for h in history], label="val")
    ax[0].set_title("loss (MSE)")
    ax[0].legend()
    ax[1].plot(ep, [h["val_psnr"] for h in history], "o-", ms=3, label="model")
    ax[1].axhline(history[-1]["val_psnr_input"], color="gray", ls="--", label="blurred input")
    ax[1].set_title("val Y-PSNR (dB)")
    ax[1].legend()
    ax[2].plot(ep, [h["val_ssim"] for h in history], "o-", ms=3, label="model")
    ax[2].axhline(history[-1]["val_ssim_input"], color="gray", ls="--", label="blurred input")
    ax[2].set_title("val Y-SSIM")
    ax[2].legend()
    for a in ax:
        a.set_xlabel("epoch")
        a.grid(alpha=0.3)
    fig.suptitle(title)
    _save(plt, fig, path)


def comparison_grid(rows: list[dict[str, np.ndarray]], path: Path, title: str = "") -> None:
    """rows: dicts of column name -> H x W x 3 uint8 RGB (e.g. blurred / teacher / student / sharp)."""
    if not rows:
        return
    plt = _pyplot()
    cols = list(rows[0])
    fig, ax = plt.subplots(len(rows), len(cols), figsize=(3 * len(cols), 3 * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        for c, name in enumerate(cols):
            ax[r][c].imshow(row[name], interpolation="nearest")
            ax[r][c].set_xticks([])
            ax[r][c].set_yticks([])
            if r == 0:
                ax[r][c].set_title(name)
    if title:
        fig.suptitle(title)
    _save(plt, fig, path)


def _save(plt, fig, path: Path) -> None:
    """Written beside the target and renamed, so a viewer never opens a half-written PNG."""
    fig.tight_layout()
    tmp = path.with_suffix(".partial.png")
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    tmp.replace(path)
