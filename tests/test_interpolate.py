"""kd/interpolate.py: the line between two fine-tunings of one parent, and what it refuses."""
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from photos import photo

from kd.checkpoint import model_from_checkpoint
from kd.interpolate import InterpolateError, interpolate_checkpoints, interpolate_command
from kd.models import build_model

ARGS = {"width": 8, "depth": 2, "expand": 16, "scale": 4}
RECIPE = {"mode": "gt", "init": "runs/parent/best.pt", "qat": True, "qat_fold_identity": True, "loss_on_y": True}


def fine_tuning(seed: int) -> dict:
    """A parent's weights moved a little, as a short fine-tuning moves them (the parent drawn with one seed)."""
    torch.manual_seed(0)
    model = build_model("CollapsibleStudent", **ARGS)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return {"arch": "CollapsibleStudent", "args": dict(ARGS), "model": model.state_dict(), "config": dict(RECIPE),
            "state": {"step": 100}}


def luma_out(ckpt: dict, y: torch.Tensor) -> torch.Tensor:
    model = build_model(ckpt["arch"], **ckpt["args"])
    model.load_state_dict(ckpt["model"])
    with torch.no_grad():
        return model.eval()(y)


def test_the_ends_are_the_two_checkpoints_and_the_middle_is_their_mean():
    a, b = fine_tuning(1), fine_tuning(2)
    rgb = torch.from_numpy(np.ascontiguousarray(photo("astronaut")[100:164, 150:214].transpose(2, 0, 1)[None])).float() / 255
    assert torch.equal(luma_out(interpolate_checkpoints(a, b, 0.0), rgb), luma_out(a, rgb))
    assert torch.equal(luma_out(interpolate_checkpoints(a, b, 1.0), rgb), luma_out(b, rgb))
    mid = interpolate_checkpoints(a, b, 0.5, ("a.pt", "b.pt"))
    for k, v in mid["model"].items():
        assert torch.allclose(v, (a["model"][k] + b["model"][k]) / 2, atol=1e-7)
    assert mid["config"]["interpolated"] == {"from": ["a.pt", "b.pt"], "weight": 0.5}
    assert "state" not in mid  # never trained as such: no counters to report


@pytest.mark.parametrize("change, message", [
    (lambda b: b["config"].update(init="runs/other/best.pt"), "init"),
    (lambda b: b["config"].update(qat_fold_identity=False), "qat_fold_identity"),
    (lambda b: b["args"].update(width=16), "one architecture"),
])
def test_checkpoints_that_do_not_share_a_parent_and_form_are_refused(change, message):
    a, b = fine_tuning(1), fine_tuning(2)
    change(b)
    with pytest.raises(InterpolateError, match=message):
        interpolate_checkpoints(a, b, 0.5)


def test_a_weight_outside_the_line_and_a_checkpoint_without_parent_are_refused():
    a, b = fine_tuning(1), fine_tuning(2)
    for w in (-0.1, 1.5, float("nan")):
        with pytest.raises(InterpolateError, match="outside 0..1"):
            interpolate_checkpoints(a, b, w)
    a["config"].pop("init")
    with pytest.raises(InterpolateError, match="records no parent"):
        interpolate_checkpoints(a, b, 0.5)


def test_the_command_writes_a_checkpoint_that_loads_and_says_what_is_wrong_in_one_line(tmp_path: Path):
    torch.save(fine_tuning(1), tmp_path / "a.pt")
    torch.save(fine_tuning(2), tmp_path / "b.pt")
    runner = CliRunner()
    out = tmp_path / "mix" / "best.pt"
    res = runner.invoke(interpolate_command, [str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--weight", "0.25", "--out", str(out)])
    assert res.exit_code == 0, res.output
    _, ckpt = model_from_checkpoint(out)
    assert ckpt["config"]["interpolated"]["weight"] == 0.25 and not list(tmp_path.glob("mix/*.partial"))
    res = runner.invoke(interpolate_command, [str(tmp_path / "a.pt"), str(tmp_path / "gone.pt"), "--weight", "0.5", "--out", str(out)])
    assert res.exit_code == 1 and "gone.pt not found" in res.output and "Traceback" not in res.output
    res = runner.invoke(interpolate_command, [str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--weight", "0.5", "--out", str(tmp_path / "mix.onnx")])
    assert res.exit_code == 1 and "not a .pt file" in res.output
