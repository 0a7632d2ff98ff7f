"""ONNX export: BN folding, re-param fusion, torch <-> onnxruntime parity at other shapes, the card."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from click.testing import CliRunner
from photos import photo
from PIL import Image
from torch import nn

from kd.config import ConfigError, EvalConfig, ExportConfig
from kd.evaluate import evaluate, write_results
from kd.export import (
    card_command,
    ExportError, check_parity, export, export_command, fold_batchnorm, inference_model, load_card, load_checkpoint,
)
from kd.models import build_model
from kd.models.collapsible import CollapsibleConv

SMALL = {
    "rt": ("RealtimeStudent", {"scale": 4, "width": 8, "depth": 2, "reparam": True}),
    "seed": ("SeedStudent", {"width": 8}),
    "dncnn": ("DnCNN", {"depth": 5, "width": 8}),
    "cs": ("CollapsibleStudent", {"width": 8, "depth": 2, "expand": 16}),
    "mg": ("MixedGridStudent", {"width": 8, "depth": 1, "coarse_width": 12, "coarse_depth": 2, "expand": 16}),
}
PAD_MULTIPLE = {"rt": 4, "cs": 2, "mg": 4}


@torch.no_grad()
def randomised(arch: str, args: dict, seed: int = 0) -> nn.Module:
    """An untrained model with every weight non-trivial: the zero-initialised last conv and 1x1
    re-param branches get small random weights, BatchNorm gets running stats and affine params far from
    the identity (so folding mistakes show)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = build_model(arch, **args)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            if not m.weight.abs().sum():
                m.weight.normal_(0.0, 0.05, generator=g)
            if m.bias is not None:
                m.bias.normal_(0.0, 0.02, generator=g)
        if isinstance(m, CollapsibleConv) and m.reduce_weight.abs().max() < 0.01:  # the near-zero tail
            m.reduce_weight.normal_(0.0, 0.05, generator=g)
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.normal_(0.0, 0.5, generator=g)
            m.running_var.uniform_(0.3, 3.0, generator=g)
            m.weight.uniform_(0.5, 1.5, generator=g)
            m.bias.normal_(0.0, 0.2, generator=g)
    return model.eval()


def save_checkpoint(path: Path, key: str, seed: int = 0) -> Path:
    """A checkpoint in kd/train.py's layout (arch, args, model, config, state with counters)."""
    arch, args = SMALL[key]
    model = randomised(arch, args, seed)
    torch.save({
        "arch": arch, "args": args, "model": model.state_dict(), "teacher": None,
        "config": {"mode": "gt", "data_dirs": ["photos"], "degrade_scales": [2], "threads": 2},
        "state": {"step": 40, "epoch": 2, "best_val_psnr": 31.5, "train_seconds": 7200.0, "cpu_seconds": 12600.0,
                  "history": [{"epoch": 2, "step": 40, "val_psnr": 31.5}], "stopped": None},
    }, path)
    return path


def photo_nchw(name: str, h: int, w: int) -> np.ndarray:
    """A real photo crop, 1 x 3 x h x w float32 in [0, 1]."""
    img = photo(name)
    y, x = (img.shape[0] - h) // 2, (img.shape[1] - w) // 2
    return np.ascontiguousarray(img[y : y + h, x : x + w].transpose(2, 0, 1)[None], dtype=np.float32) / 255


@pytest.mark.parametrize("key", ["seed", "dncnn"])
def test_batchnorm_folding_keeps_the_function(key):
    arch, args = SMALL[key]
    model = randomised(arch, args)
    x = torch.from_numpy(photo_nchw("astronaut", 40, 56))
    with torch.no_grad():
        want = model(x)
        folded = fold_batchnorm(randomised(arch, args))
        got = folded(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert float((want - x).abs().max()) > 1e-2  # the residual is not trivially zero
    assert float((got - want).abs().max()) < 1e-5


def test_reparam_fusion_keeps_the_function():
    arch, args = SMALL["rt"]
    model = randomised(arch, args)
    x = torch.from_numpy(photo_nchw("coffee", 48, 64))
    with torch.no_grad():
        want = model(x)
        got = inference_model(randomised(arch, args))(x)
    assert float((got - want).abs().max()) < 1e-5


@pytest.mark.parametrize("key", ["rt", "seed", "dncnn", "cs", "mg"])
def test_export_parity_card_and_sha(tmp_path, key):
    ckpt = save_checkpoint(tmp_path / f"{key}.pt", key)
    card = export(ExportConfig(checkpoint=str(ckpt), name=f"m-{key}", out=str(tmp_path / "export"), export_size=(32, 48)),
                  log=lambda _m: None)
    onnx_path = tmp_path / "export" / f"m-{key}.onnx"
    card_path = onnx_path.with_suffix(".json")
    assert json.loads(card_path.read_text()) == card
    assert not list((tmp_path / "export").glob("*.partial"))

    # The card contract of export/README.md.
    assert card["card_version"] == 2 and card["planes"] == "RGB" and card["file"] == onnx_path.name
    assert card["sha256"] == hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    assert card["input"] == {"name": "input", "dtype": "float32", "shape": [1, 3, "height", "width"]}
    assert card["output"] == {"name": "output", "dtype": "float32", "shape": [1, 3, "height", "width"]}
    assert (card["layout"], card["color_order"], card["value_range"]) == ("NCHW", "RGB", [0.0, 1.0])
    assert (card["output_kind"], card["scale"], card["precision"], card["opset"]) == ("image", 1, "fp32", 17)
    assert card["pad_multiple"] == PAD_MULTIPLE.get(key, 1)
    assert card["architecture"] == {"class": SMALL[key][0], "args": SMALL[key][1]}
    assert card["params"] > 0 and card["macs_per_pixel"] > 0
    t = card["training"]
    assert (t["steps"], t["epochs"], t["cpu_hours"], t["wall_hours"], t["data"]) == (40, 2, 3.5, 2.0, ["photos"])
    assert t["val_psnr_curve"] == [[40, 31.5, None]]
    assert card["export"]["parity_max_abs"] <= 1e-4

    # The graph: opset 17, no BatchNorm, dynamic H/W named as the card says.
    graph = onnx.load(str(onnx_path))
    assert {o.domain: o.version for o in graph.opset_import}[""] == 17
    assert "BatchNormalization" not in {n.op_type for n in graph.graph.node}
    dims = [d.dim_param or d.dim_value for d in graph.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [1, 3, "height", "width"]

    # Parity against the unfused torch model on real photo crops, at shapes other than the export one.
    reference, _ = load_checkpoint(ckpt)
    inputs = [photo_nchw("astronaut", 76, 100), photo_nchw("chelsea", 132, 60)]
    assert check_parity(reference, onnx_path, inputs) <= 1e-4


@pytest.mark.parametrize("key", ["cs", "mg"])
def test_y_plane_export_runs_in_the_runtime_as_kd_evaluate_runs_it(tmp_path, key):
    """`--planes Y`: the uint8 I420 luma plane in and out. Parity with torch's luma form at shapes other
    than the export one (within one level: uint8 rounding ties), the card-v2 contract, the runtime's
    engine accepts it, and kd evaluate's restorer gives exactly what the runtime publishes."""
    from kd.evaluate import OnnxRestorer
    from kd.export import check_parity_luma
    from vcam.config import DaemonConfig
    from vcam.engine import load_engine
    from vcam.processor import FrameProcessor

    ckpt = save_checkpoint(tmp_path / f"{key}.pt", key)
    card = export(ExportConfig(checkpoint=str(ckpt), name="m-y", out=str(tmp_path), export_size=(32, 48), planes="Y"),
                  log=lambda _m: None)
    assert card["card_version"] == 2 and card["planes"] == "Y" and card["color_order"] == "Y"
    assert card["input"] == {"name": "input", "dtype": "uint8", "shape": [1, 1, "height", "width"]}
    assert card["output"] == {"name": "output", "dtype": "uint8", "shape": [1, 1, "height", "width"]}
    assert (card["value_range"], card["output_kind"], card["pad_multiple"]) == ([0.0, 255.0], "image", PAD_MULTIPLE[key])
    assert card["export"]["parity_max_abs_levels"] <= 1
    reference, _ = load_checkpoint(ckpt)
    inputs = [photo_nchw("astronaut", 76, 100), photo_nchw("chelsea", 132, 60)]
    assert check_parity_luma(reference, tmp_path / "m-y.onnx", inputs) <= 1
    ops = [n.op_type for n in onnx.load(str(tmp_path / "m-y.onnx")).graph.node]
    assert ops[0] == "DequantizeLinear" and ops[-1] == "QuantizeLinear"

    rgb = np.ascontiguousarray((photo_nchw("coffee", 62, 90)[0].transpose(1, 2, 0) * 255).round().astype(np.uint8))
    cfg = DaemonConfig(model=str(tmp_path / "m-y.json"))
    proc = FrameProcessor(cfg, load_engine(cfg.model, "cpu", 1), (90, 62), offline=True)
    runtime_i420 = proc.process(np.ascontiguousarray(rgb[:, :, ::-1]), proc.new_output())
    restorer = OnnxRestorer(tmp_path / "m-y.json", 1)
    y_in, y_out = restorer.luma_plane(rgb)
    np.testing.assert_array_equal(y_out, runtime_i420[:62])
    # scored as the RGB students are: the luma change added to R, G and B alike
    restored = restorer.restore(rgb).astype(np.float64)
    delta = restored - rgb
    inside = ((restored > 0) & (restored < 255)).all(axis=2)  # no channel clipped
    assert inside.mean() > 0.5 and np.abs(delta - delta.mean(axis=2, keepdims=True))[inside].max() <= 1  # rounding
    assert np.abs(y_out.astype(int) - y_in).mean() > 0.1  # the model changed the picture


def test_self_ensemble_averages_the_eight_poses_and_exports(tmp_path):
    """--self-ensemble: the net on the input's 8 flips/transposes, each turned back, averaged; in ONNX at
    non-square shapes other than the export one; 8x the MACs on the card; refused for a student."""
    from kd.models.ensemble import SelfEnsemble

    arch, args = SMALL["dncnn"]
    net = fold_batchnorm(randomised(arch, args))
    x = torch.from_numpy(photo_nchw("astronaut", 40, 56))
    poses = [SelfEnsemble._pose(x, t) for t in range(8)]
    assert all(torch.equal(SelfEnsemble._unpose(p, t), x) for t, p in enumerate(poses))
    assert len({tuple(p.flatten()[:64].tolist()) + tuple(p.shape) for p in poses}) == 8  # all distinct
    with torch.no_grad():
        want = torch.stack([SelfEnsemble._unpose(net(p), t) for t, p in enumerate(poses)]).mean(0)
        got = SelfEnsemble(net)(x)
        assert float((got - want).abs().max()) < 1e-6 and float((got - net(x)).abs().max()) > 1e-4
        flipped = SelfEnsemble(net)(torch.flip(x, [3]))  # the ensemble is exactly flip- and transpose-equivariant
        assert float((torch.flip(flipped, [3]) - got).abs().max()) < 1e-5
        assert float((SelfEnsemble(net)(x.transpose(2, 3)).transpose(2, 3) - got).abs().max()) < 1e-5

    ckpt = save_checkpoint(tmp_path / "dncnn.pt", "dncnn")
    single = export(ExportConfig(checkpoint=str(ckpt), name="one", out=str(tmp_path)), log=lambda _m: None)
    result = CliRunner().invoke(export_command, [str(ckpt), "--name", "ens", "--out", str(tmp_path), "--self-ensemble"])
    assert result.exit_code == 0, result.output
    card = json.loads((tmp_path / "ens.json").read_text())
    assert card["export"]["self_ensemble"] and card["macs_per_pixel"] == 8 * single["macs_per_pixel"]
    assert card["params"] == single["params"]
    reference, _ = load_checkpoint(ckpt)
    assert check_parity(SelfEnsemble(reference.eval()), tmp_path / "ens.onnx", [photo_nchw("chelsea", 44, 68)]) <= 1e-4
    ckpt_cs = save_checkpoint(tmp_path / "cs.pt", "cs")
    with pytest.raises(ExportError, match="self-ensemble is for full-resolution RGB teachers"):
        export(ExportConfig(checkpoint=str(ckpt_cs), name="bad", out=str(tmp_path), self_ensemble=True), log=lambda _m: None)
    with pytest.raises(ConfigError, match="self-ensemble is for RGB teachers, not Y-plane students"):
        ExportConfig(checkpoint=str(ckpt_cs), planes="Y", self_ensemble=True)
    assert not list(tmp_path.glob("bad.*"))


def test_fold_identity_exports_one_conv_a_block_and_follows_the_checkpoints_qat(tmp_path):
    """--fold-identity: the body blocks' adds go into their kernels (same function, parity-checked), the card
    says so; by default a checkpoint is exported as its QAT rounded it; a student without such blocks refuses."""
    ckpt = save_checkpoint(tmp_path / "cs.pt", "cs")
    quiet = lambda _m: None
    folded = export(ExportConfig(checkpoint=str(ckpt), name="f", out=str(tmp_path), export_size=(32, 48), planes="Y",
                                 fold_identity=True), log=quiet)
    kept = export(ExportConfig(checkpoint=str(ckpt), name="k", out=str(tmp_path), export_size=(32, 48), planes="Y"), log=quiet)
    adds = {n: [o.op_type for o in onnx.load(str(tmp_path / f"{n}.onnx")).graph.node].count("Add") for n in "fk"}
    assert adds["k"] - adds["f"] == SMALL["cs"][1]["depth"]
    assert folded["fold_identity"] is True and "fold_identity" not in kept
    assert folded["export"]["fold_max_abs"] < 1e-5  # torch's folded form against the training form
    ck = torch.load(ckpt, weights_only=False)
    ck["config"].update(qat=True, qat_fold_identity=True)
    torch.save(ck, tmp_path / "qat.pt")
    assert export(ExportConfig(checkpoint=str(tmp_path / "qat.pt"), name="q", out=str(tmp_path), export_size=(32, 48),
                               planes="Y"), log=quiet)["fold_identity"] is True
    runner = CliRunner()
    res = runner.invoke(export_command, [str(tmp_path / "qat.pt"), "--name", "q2", "--out", str(tmp_path), "--planes", "Y",
                                         "--keep-identity"])
    assert res.exit_code == 0 and "fold_identity" not in json.loads((tmp_path / "q2.json").read_text())
    assert "its int8 rounds differently from what the QAT trained for" in res.output  # said, not silently done
    with pytest.raises(ConfigError, match="fold_identity must be true or false"):
        ExportConfig(checkpoint=str(ckpt), fold_identity="false")
    rt = save_checkpoint(tmp_path / "rt.pt", "rt")
    res = runner.invoke(export_command, [str(rt), "--name", "r", "--out", str(tmp_path), "--fold-identity"])
    assert res.exit_code == 1 and "--fold-identity is for the collapsible students" in res.output
    assert len(res.output.strip().splitlines()) == 1 and not list(tmp_path.glob("r.*"))


def test_rgb_model_refuses_the_y_plane_export(tmp_path):
    ckpt = save_checkpoint(tmp_path / "seed.pt", "seed")
    with pytest.raises(ExportError, match="planes Y needs a luma student"):
        export(ExportConfig(checkpoint=str(ckpt), name="m", out=str(tmp_path), export_size=(32, 48), planes="Y"), log=lambda _m: None)
    assert not list(tmp_path.glob("m.*"))


def test_card_with_metrics_from_an_evaluation(tmp_path):
    ckpt = save_checkpoint(tmp_path / "rt.pt", "rt")
    ev = tmp_path / "eval.json"
    ev.write_text(json.dumps({"command": "sharpcam-kd evaluate x", "scale": 2, "models": [
        {"label": "blurred input (bicubic)", "source": None, "sets": {}},
        {"label": "RealtimeStudent tmp/rt", "source": str(ckpt.resolve()), "sets": {"Set5": {"psnr": 35.0, "ssim": 0.94}},
         "images": []},
    ]}))
    card = export(ExportConfig(checkpoint=str(ckpt), name="m", out=str(tmp_path), metrics=str(ev)), log=lambda _m: None)
    assert card["metrics"]["sets"]["Set5"]["psnr"] == 35.0
    assert card["metrics"]["command"] == "sharpcam-kd evaluate x"
    with pytest.raises(ExportError, match="--metrics-label"):
        export(ExportConfig(checkpoint=str(ckpt), name="m2", out=str(tmp_path), metrics=str(ev), metrics_label="nope"))


def test_card_command_adds_a_real_evaluation_without_touching_the_model(tmp_path):
    ckpt = save_checkpoint(tmp_path / "rt.pt", "rt")
    export(ExportConfig(checkpoint=str(ckpt), name="m", out=str(tmp_path)), log=lambda _m: None)
    hr = tmp_path / "hr"
    hr.mkdir()
    Image.fromarray(photo("coffee")[100:260, 150:390]).save(hr / "coffee.png")
    ev = tmp_path / "ev"
    write_results(evaluate(EvalConfig(models=(str(tmp_path / "m.json"),), sets=(str(hr),), test_list=None, fps=False),
                           log=lambda _m: None), ev)
    before = (tmp_path / "m.onnx").read_bytes()
    r = CliRunner().invoke(card_command, [str(tmp_path / "m.json"), "--metrics", str(ev) + ".json"])
    assert r.exit_code == 0, r.output
    card, _ = load_card(tmp_path / "m.json")  # still valid: same model bytes and sha256
    assert (tmp_path / "m.onnx").read_bytes() == before
    scored = json.loads((tmp_path / "ev.json").read_text())["models"][1]["sets"]["hr"]["psnr"]
    assert card["metrics"]["sets"]["hr"]["psnr"] == scored and card["metrics"]["label"] == "m"
    r = CliRunner().invoke(card_command, [str(tmp_path / "m.json"), "--metrics", str(tmp_path / "none.json")])
    assert r.exit_code == 1 and "not found" in r.output
    (tmp_path / "bad.json").write_text("[1, 2")
    r = CliRunner().invoke(card_command, [str(tmp_path / "m.json"), "--metrics", str(tmp_path / "bad.json")])
    assert r.exit_code == 1 and "not valid JSON" in r.output and "Traceback" not in r.output


def test_load_card_refuses_a_changed_model(tmp_path):
    ckpt = save_checkpoint(tmp_path / "seed.pt", "seed")
    export(ExportConfig(checkpoint=str(ckpt), name="m", out=str(tmp_path)), log=lambda _m: None)
    card, path = load_card(tmp_path / "m.onnx")
    assert path == (tmp_path / "m.onnx").resolve()
    with open(path, "ab") as f:
        f.write(b"\0")
    with pytest.raises(ExportError, match="sha256"):
        load_card(tmp_path / "m.json")


def test_cli_errors_are_one_line(tmp_path):
    runner = CliRunner()
    r = runner.invoke(export_command, [str(tmp_path / "missing.pt"), "--out", str(tmp_path)])
    assert r.exit_code == 1 and "not found" in r.output and "Traceback" not in r.output
    bad = tmp_path / "bad.pt"
    torch.save({"weights": 1}, bad)
    r = runner.invoke(export_command, [str(bad), "--out", str(tmp_path)])
    assert r.exit_code == 1 and "not a kd checkpoint" in r.output
    r = runner.invoke(export_command, [str(save_checkpoint(tmp_path / "rt.pt", "rt")), "--name", "a/b"])
    assert r.exit_code == 1 and "plain name" in r.output
    assert not list(tmp_path.glob("*.onnx"))
