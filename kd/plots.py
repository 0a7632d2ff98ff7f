"""Training plots (PNG): loss curves, validation PSNR/SSIM, before/after comparison grids."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: training runs headless
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: list[dict], path: Path, title: str, loss: str = "mse") -> None:
    """history: one dict per epoch with train_loss, val_loss, val_psnr, val_ssim (as in metrics.jsonl);
    `loss` names the training loss (validation loss is always MSE)."""
    if not history:
        return
    plt = _pyplot()
    ep = [h["epoch"] for h in history]
    fig, ax = plt.subplots(1, 3, figsize=(14, 3.8))
    ax[0].semilogy(ep, [h["train_loss"] for h in history], label="train")
    ax[0].semilogy(ep, [h["val_loss"] for h in history], label="val")
    ax[0].set_title(f"loss (train: {loss.upper() if loss == 'mse' else loss}, val: MSE)")
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


def plot_runs(runs: list[tuple[str, list[dict]]], path: Path, title: str = "") -> None:
    """Several runs side by side: validation Y-PSNR and learning rate against the training step."""
    runs = [(label, h) for label, h in runs if h]
    if not runs:
        return
    plt = _pyplot()
    fig, ax = plt.subplots(1, 2, figsize=(12, 4))
    for label, h in runs:
        steps = [r["step"] for r in h]
        ax[0].plot(steps, [r["val_psnr"] for r in h], "-", lw=1.2, label=label)
        ax[1].semilogy(steps, [r["lr"] for r in h], "-", lw=1.2, label=label)
    ax[0].axhline(runs[0][1][-1]["val_psnr_input"], color="gray", ls="--", label="blurred input")
    ax[0].set_title("val Y-PSNR (dB), x2 bicubic, 128 px centre crops")
    ax[1].set_title("learning rate")
    for a in ax:
        a.set_xlabel("step")
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    if title:
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
