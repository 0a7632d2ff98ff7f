"""`kd evaluate`: the published protocol's bicubic baseline, gray images, torch/ONNX rows, the CLI."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from photos import photo
from PIL import Image
from test_export import save_checkpoint

from kd.config import EvalConfig, ExportConfig
from kd.evaluate import (
    BlurredInput, OnnxRestorer, TorchRestorer, evaluate, evaluate_command, list_images, score_set, score_spec,
)
from kd.export import export


@pytest.fixture(scope="module")
def hr_folder(tmp_path_factory) -> Path:
    """Three real photos at odd sizes (modcrop matters), one of them grayscale (as Set14's bridge)."""
    d = tmp_path_factory.mktemp("hr")
    Image.fromarray(photo("astronaut")[50:251, 100:323]).save(d / "astronaut.png")  # 201 x 223
    Image.fromarray(photo("coffee")[::2, ::2][:150, :187]).save(d / "coffee.png")
    Image.fromarray(photo("camera")[100:291, 60:287, 0]).save(d / "camera.png")  # mode L
    return d


def published_reference(path: Path, scale: int) -> tuple[float, float]:
    """Y-PSNR of the bicubic baseline written straight from the protocol text: PIL bicubic (MATLAB-like),
    uint8 after each step, Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255, gray images on their gray
    values, `scale` px shaved. Returns (PSNR, and the image's size check value)."""
    im = Image.open(path)
    w, h = im.size
    w, h = w - w % scale, h - h % scale
    hr = im.crop((0, 0, w, h))
    lq = hr.resize((w // scale, h // scale), Image.BICUBIC).resize((w, h), Image.BICUBIC)
    a, b = np.asarray(hr, np.float64), np.asarray(lq, np.float64)
    if a.ndim == 3:
        a = 16 + (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255
        b = 16 + (65.481 * b[..., 0] + 128.553 * b[..., 1] + 24.966 * b[..., 2]) / 255
    d = (a - b)[scale:-scale, scale:-scale]
    return 10 * np.log10(255**2 / np.mean(d**2)), float(d.size)


@pytest.mark.parametrize("scale", [2, 4])
def test_blurred_input_reproduces_the_published_protocol(hr_folder, scale):
    files = list_images(hr_folder)
    got = score_set(BlurredInput(), files, scale, "t")
    for row, f in zip(got["images"], files):
        want, _ = published_reference(f, scale)
        assert row["psnr"] == pytest.approx(want, abs=1e-9), f.name
    assert got["psnr"] == pytest.approx(np.mean([r["psnr"] for r in got["images"]]))
    assert all(0.5 < r["ssim"] < 1.0 for r in got["images"])


def test_identity_models_score_exactly_as_the_blurred_input(hr_folder, tmp_path):
    """A model that returns its input (zero last layer) must land on the baseline, through padding
    (RealtimeStudent needs multiples of 4, the images are not) and the gray image's R = G = B path."""
    files = list_images(hr_folder)
    base = score_set(BlurredInput(), files, 2, "t")
    ckpt = save_checkpoint(tmp_path / "rt.pt", "rt")
    blob = torch.load(ckpt, weights_only=True)
    blob["model"]["tail.weight"].zero_()
    blob["model"]["tail.bias"].zero_()
    torch.save(blob, ckpt)
    got = score_set(TorchRestorer(ckpt), files, 2, "t")
    for a, b in zip(base["images"], got["images"]):
        assert (a["psnr"], a["ssim"]) == pytest.approx((b["psnr"], b["ssim"]), abs=1e-9)


def test_onnx_rows_match_torch_rows(hr_folder, tmp_path):
    files = list_images(hr_folder)
    ckpt = save_checkpoint(tmp_path / "seed.pt", "seed")
    export(ExportConfig(checkpoint=str(ckpt), name="s", out=str(tmp_path)), log=lambda _m: None)
    t = score_set(TorchRestorer(ckpt), files, 2, "t")
    o = score_set(OnnxRestorer(tmp_path / "s.json", 2), files, 2, "o")
    assert o["psnr"] == pytest.approx(t["psnr"], abs=0.01)
    assert abs(t["psnr"] - score_set(BlurredInput(), files, 2, "b")["psnr"]) > 0.01  # the model did something


def test_spec_protocol_on_a_test_list(hr_folder):
    files = list_images(hr_folder)
    got = score_spec(BlurredInput(), files, 128, 2, "t")
    assert got["n"] == 3 and 0.5 < got["rgb_ssim"] < 1.0 and 0.0 < got["mse"] < 0.02
    assert got["rgb_psnr"] == pytest.approx(np.mean([10 * np.log10(255**2 / (r["mse"] * 255**2)) for r in got["images"]]))


def test_cli_writes_table_and_json(hr_folder, tmp_path, monkeypatch):
    ckpt = save_checkpoint(tmp_path / "dn.pt", "dncnn")
    export(ExportConfig(checkpoint=str(ckpt), name="dn", out=str(tmp_path)), log=lambda _m: None)
    test_list = tmp_path / "test.txt"
    test_list.write_text("".join(f"{p}\n" for p in list_images(hr_folder)[:2]))
    out = tmp_path / "res"
    args = [str(ckpt), str(tmp_path / "dn.json"), "--set", str(hr_folder), "--test-list", str(test_list),
            "--fps-size", "64x48", "--fps-runs", "2", "--out", str(out)]
    # the table records the command line as the user typed it (sys.argv), so give it one
    monkeypatch.setattr(sys, "argv", ["sharpcam-kd", "evaluate", *args])
    r = CliRunner().invoke(evaluate_command, args)
    assert r.exit_code == 0, r.output
    md, res = Path(f"{out}.md").read_text(), json.loads(Path(f"{out}.json").read_text())
    assert [m["runtime"] for m in res["models"]] == ["-", "torch", "onnxruntime"]
    assert res["models"][2]["speed"]["64x48"]["fps"] > 0 and "speed" not in res["models"][1]
    assert res["models"][1]["test"]["n"] == 2
    assert "evaluate" in res["command"] and res["command"] in md
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert len(table) == 4 and f"| {hr_folder.name} ×2 Y-PSNR / SSIM |" in table[0]  # header + 3 rows
    assert Path(f"{out}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the quality-vs-speed plot
    assert not list(tmp_path.glob("*.partial"))


def test_cli_errors_name_the_fix(tmp_path, hr_folder):
    runner = CliRunner()
    r = runner.invoke(evaluate_command, ["--set", str(tmp_path / "nope"), "--no-fps"])
    assert r.exit_code == 1 and "--set" in r.output and "Traceback" not in r.output
    r = runner.invoke(evaluate_command, ["--set", str(hr_folder), "--test-list", str(tmp_path / "t.txt")])
    assert r.exit_code == 1 and "kd prepare" in r.output
    r = runner.invoke(evaluate_command, ["model.h5", "--set", str(hr_folder)])
    assert r.exit_code == 1 and ".pt" in r.output


def test_evaluation_is_deterministic(hr_folder, tmp_path):
    ckpt = save_checkpoint(tmp_path / "rt.pt", "rt")
    cfg = EvalConfig(models=(str(ckpt),), sets=(str(hr_folder),), test_list=None, fps=False, out=str(tmp_path / "r"))
    a, b = evaluate(cfg, log=lambda _m: None), evaluate(cfg, log=lambda _m: None)
    assert a["models"] == b["models"]


@pytest.mark.parametrize("card_fixture", ["residual_card", "image_card"])
def test_onnx_restorer_follows_the_card(request, card_fixture):
    """Residual vs image output, BGR order, [0, 255] range and padding, read from the card as the
    runtime reads it (tests/vcam_support.py's reference_output is the runtime-side reference)."""
    from vcam_support import reference_output

    card = request.getfixturevalue(card_fixture)
    rgb = np.ascontiguousarray(photo("chelsea")[40:141, 60:223])  # 101 x 163: padding needed
    got = OnnxRestorer(card, 2).restore(rgb)
    want = reference_output(card, np.ascontiguousarray(rgb[:, :, ::-1]))[:, :, ::-1]
    assert got.shape == rgb.shape
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
    assert np.abs(got.astype(int) - rgb.astype(int)).max() > 5  # the model sharpened something
