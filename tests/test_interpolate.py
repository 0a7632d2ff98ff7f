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


def rgb_out(ckpt: dict, rgb_nchw01: torch.Tensor) -> torch.Tensor:
    model = build_model(ckpt["arch"], **ckpt["args"])
    model.load_state_dict(ckpt["model"])
    with torch.no_grad():
        return model.eval()(rgb_nchw01)


def test_the_ends_are_the_two_checkpoints_and_the_middle_is_their_mean():
    a, b = fine_tuning(1), fine_tuning(2)
    rgb = torch.from_numpy(np.ascontiguousarray(photo("astronaut")[100:164, 150:214].transpose(2, 0, 1)[None])).float() / 255
    assert torch.equal(rgb_out(interpolate_checkpoints(a, b, 0.0), rgb), rgb_out(a, rgb))
    assert torch.equal(rgb_out(interpolate_checkpoints(a, b, 1.0), rgb), rgb_out(b, rgb))
    mid = interpolate_checkpoints(a, b, 0.5, ("a.pt", "b.pt"))
    for k, v in mid["model"].items():
        assert torch.allclose(v, (a["model"][k] + b["model"][k]) / 2, atol=1e-7)
    assert mid["config"]["interpolated"] == {"from": ["a.pt", "b.pt"], "weight": 0.5, "second_recipe": b["config"]}
    assert "state" not in mid  # never trained as such: no counters to report


@pytest.mark.parametrize("change, message", [
    (lambda b: b["config"].update(init="runs/other/best.pt"), "init"),
    (lambda b: b["config"].update(qat_fold_identity=False), "qat_fold_identity"),
    (lambda b: b["args"].update(width=16), "one architecture"),
    (lambda b: b["model"].pop("tail.reduce_bias"), "hold different tensors"),
    (lambda b: b["model"].update({"tail.reduce_bias": b["model"]["tail.reduce_bias"].double()}), "precision"),
])
def test_checkpoints_that_do_not_share_a_parent_and_form_are_refused(change, message):
    a, b = fine_tuning(1), fine_tuning(2)
    change(b)
    with pytest.raises(InterpolateError, match=message):
        interpolate_checkpoints(a, b, 0.5)


def test_counters_are_kept_not_blended_and_one_parent_written_two_ways_is_one():
    a, b = fine_tuning(1), fine_tuning(2)
    a["model"]["steps"], b["model"]["steps"] = torch.tensor(10), torch.tensor(20)
    b["config"]["init"] = "./runs//parent/best.pt"
    mid = interpolate_checkpoints(a, b, 0.5)
    assert mid["model"]["steps"].item() == 10 and mid["model"]["steps"].dtype == torch.int64


def test_a_weight_outside_the_line_and_a_checkpoint_without_parent_are_refused():
    a, b = fine_tuning(1), fine_tuning(2)
    for w in (-0.1, 1.5, float("nan"), True, "half"):
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
    res = runner.invoke(interpolate_command, [str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--weight", "0.5", "--out", str(tmp_path / "b.pt")])
    assert res.exit_code == 1 and "one of the two checkpoints read" in res.output
    assert torch.equal(torch.load(tmp_path / "b.pt", weights_only=True)["model"]["tail.reduce_bias"], fine_tuning(2)["model"]["tail.reduce_bias"])
    res = runner.invoke(interpolate_command, [str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), "--weight", "2", "--out", str(tmp_path / "c.pt")])
    assert res.exit_code == 1 and "outside 0..1" in res.output and not (tmp_path / "c.pt").exists()


def test_an_exported_blend_says_so_in_its_card(tmp_path: Path):
    from kd.config import ExportConfig
    from kd.export import export

    torch.save(interpolate_checkpoints(fine_tuning(1), fine_tuning(2), 0.75, ("a.pt", "b.pt")), tmp_path / "mix.pt")
    card = export(ExportConfig(checkpoint=str(tmp_path / "mix.pt"), name="mix", out=str(tmp_path), export_size=(32, 48),
                               planes="Y"), log=lambda _m: None)
    assert card["training"]["interpolated"] == {"from": ["a.pt", "b.pt"], "weight": 0.75}
    assert card["fold_identity"] is True  # rounded as both sources' QAT trained it
