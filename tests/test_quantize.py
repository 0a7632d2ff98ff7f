"""`kd quantize`: static int8 QDQ from an exported model, calibrated on real photos; card and check."""
import hashlib
import json
from pathlib import Path

import numpy as np
import onnx
import onnx.numpy_helper
import pytest
from click.testing import CliRunner
from photos import photo, write_photo_folder
from PIL import Image
from test_export import save_checkpoint

from kd.config import ExportConfig, QuantizeConfig
from kd.evaluate import OnnxRestorer, list_images, score_set
from kd.export import export, load_card
from kd.quantize import calibration_batches, calibration_files, quantize, quantize_command


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("q")
    calib = root / "calib"
    write_photo_folder(calib, size=96, names=("astronaut", "chelsea", "rocket", "immunohistochemistry"))
    check = root / "check"
    check.mkdir()
    Image.fromarray(photo("coffee")[100:300, 150:450]).save(check / "coffee.png")
    Image.fromarray(photo("camera")[100:300, 100:300, 0]).save(check / "camera.png")
    ckpt = save_checkpoint(root / "rt.pt", "rt")
    export(ExportConfig(checkpoint=str(ckpt), name="rt", out=str(root / "export")), log=lambda _m: None)
    return {"calib": calib, "check": check, "card": root / "export" / "rt.json", "root": root}


def test_calibration_crops_are_real_degraded_and_seeded(folders):
    files = calibration_files((str(folders["calib"]),))
    a = calibration_batches(files, 3, 64, 2, 4, seed=0)
    b = calibration_batches(files, 3, 64, 2, 4, seed=0)
    assert len(a) == 3 and all(x.shape == (1, 3, 64, 64) and x.dtype == np.float32 for x in a)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(0.0 <= x.min() and x.max() <= 1.0 and x.std() > 0.05 for x in a)
    w1, w2 = (calibration_batches(files, 3, 64, 2, 4, seed=0, webcam=True) for _ in range(2))
    assert all(np.array_equal(x, y) for x, y in zip(w1, w2))  # the webcam mix, seeded too
    assert any(not np.array_equal(x, y) for x, y in zip(w1, a))


def test_int8_model_loads_runs_and_stays_close_to_fp32(folders):
    cfg = QuantizeConfig(model=str(folders["card"]), calib=(str(folders["calib"]),), calib_images=4, calib_crop=64,
                         check=(str(folders["check"]),), fps_size=(64, 48), fps_runs=2)
    card = quantize(cfg, log=lambda _m: None)
    card_path = folders["card"].with_name("rt-int8.json")
    onnx_path = card_path.with_suffix(".onnx")
    assert json.loads(card_path.read_text()) == card
    assert card["precision"] == "int8" and card["file"] == "rt-int8.onnx"
    assert "7-bit" in card["quantization"]["weights"]  # safe on x86 without VNNI
    weights = [n for n in onnx.load(str(onnx_path)).graph.initializer if n.data_type == onnx.TensorProto.INT8]
    assert weights and all(abs(int(v)) <= 64 for w in weights for v in onnx.numpy_helper.to_array(w).ravel())  # 2 x 255 x 64 < 2^15
    assert card["sha256"] == hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    fp32 = json.loads(folders["card"].read_text())
    for key in ("input", "output", "layout", "color_order", "value_range", "pad_multiple", "output_kind", "scale", "opset"):
        assert card[key] == fp32[key], key
    load_card(card_path)  # the same contract checks as the fp32 card
    ops = {n.op_type for n in onnx.load(str(onnx_path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= ops
    # only the standard domain, as in the fp32 export: older onnxruntimes (1.20 in the e2e guest) load it
    assert [(o.domain, o.version) for o in onnx.load(str(onnx_path)).opset_import] == [("", 17)]
    assert not list(onnx_path.parent.glob("*.partial"))

    # Runs at sizes other than the calibration crops (dynamic H/W), close to fp32.
    files = list_images(folders["check"])
    a = score_set(OnnxRestorer(folders["card"], 2), files, 2, "fp32")
    b = score_set(OnnxRestorer(card_path, 2), files, 2, "int8")
    assert abs(a["psnr"] - b["psnr"]) < 0.5
    check = card["quantization"]["check"]
    assert check["sets"]["check"]["db_lost"] == pytest.approx(a["psnr"] - b["psnr"], abs=1e-9)
    assert check["speed"]["fp32_ms"] > 0 and check["speed"]["int8_ms"] > 0


def test_float_nodes_stay_float(folders, tmp_path):
    cfg = QuantizeConfig(model=str(folders["card"]), calib=(str(folders["calib"]),), calib_images=2, calib_crop=64,
                         check=(str(folders["check"]),), fps_size=(64, 48), fps_runs=2, out=str(tmp_path),
                         float_nodes=("/head/Conv",))
    card = quantize(cfg, log=lambda _m: None)
    assert card["quantization"]["float_nodes"] == ["/Conv", "/head/Conv"]
    graph = onnx.load(str(tmp_path / "rt-int8.onnx")).graph
    weights_of = {n.name: n.input[1] for n in graph.node if n.op_type == "Conv"}
    dequantized = {n.output[0] for n in graph.node if n.op_type == "DequantizeLinear"}
    assert weights_of["/head/Conv"] not in dequantized  # float weights straight from the initializer
    assert weights_of["/tail/Conv"] in dequantized


def test_cli_refuses_bad_inputs(folders, tmp_path):
    runner = CliRunner()
    r = runner.invoke(quantize_command, [])  # no MODEL and no --config naming one
    assert r.exit_code == 1 and "no model given" in r.output
    r = runner.invoke(quantize_command, [str(tmp_path / "none.json")])
    assert r.exit_code == 1 and "does not exist" in r.output and "Traceback" not in r.output
    r = runner.invoke(quantize_command, [str(folders["card"]), "--calib", str(tmp_path / "nowhere")])
    assert r.exit_code == 1 and "--calib" in r.output
    r = runner.invoke(quantize_command, [str(folders["card"]), "--calib", str(folders["calib"]), "--calib-crop", "400",
                                         "--out", str(tmp_path)])
    assert r.exit_code == 1 and "--calib-crop" in r.output
    r = runner.invoke(quantize_command, [str(folders["card"]), "--calib", str(folders["calib"]), "--calib-crop", "64",
                                         "--float-nodes", "/nope", "--out", str(tmp_path)])
    assert r.exit_code == 1 and "/nope" in r.output and "/head/Conv" in r.output
    assert not list(tmp_path.glob("*.onnx*"))


def test_a_y_plane_model_quantizes_to_an_int8_body_between_uint8_ends(folders, tmp_path):
    """A `kd export --planes Y` card quantizes as its float luma body and keeps the I420 Y contract."""
    ckpt = save_checkpoint(tmp_path / "cs.pt", "cs")
    export(ExportConfig(checkpoint=str(ckpt), name="cs-y", out=str(tmp_path), planes="Y"), log=lambda _m: None)
    cfg = QuantizeConfig(model=str(tmp_path / "cs-y.json"), calib=(str(folders["calib"]),), calib_images=4, calib_crop=64,
                         check=(str(folders["check"]),), fps_size=(64, 48), fps_runs=2)
    card = quantize(cfg, log=lambda _m: None)
    fp32 = json.loads((tmp_path / "cs-y.json").read_text())
    assert card["precision"] == "int8" and card["planes"] == "Y" and card["input"]["dtype"] == "uint8"
    for key in ("input", "output", "value_range", "pad_multiple", "output_kind"):
        assert card[key] == fp32[key], key
    load_card(tmp_path / "cs-y-int8.json")
    graph = onnx.load(str(tmp_path / "cs-y-int8.onnx")).graph
    assert graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8 == graph.output[0].type.tensor_type.elem_type
    assert graph.node[0].name == "y_u8_to_f32" and graph.node[-1].name == "y_f32_to_u8"
    assert any(i.data_type == onnx.TensorProto.INT8 for i in graph.initializer)  # the body's weights
    assert not list(tmp_path.glob("*.partial"))
    files = list_images(folders["check"])
    a = score_set(OnnxRestorer(tmp_path / "cs-y.json", 2), files, 2, "fp32")
    b = score_set(OnnxRestorer(tmp_path / "cs-y-int8.json", 2), files, 2, "int8")
    assert abs(a["psnr"] - b["psnr"]) < 0.5 and b["psnr"] > 20


def test_integer_ends_make_the_whole_y_graph_integer(folders, tmp_path):
    """Head and tail in int8 too, with the input ops and the adds (recipes/quantize_cs4_int.toml): the
    uint8 plane feeds the integer graph directly and nothing full-resolution stays float."""
    ckpt = save_checkpoint(tmp_path / "cs.pt", "cs")
    export(ExportConfig(checkpoint=str(ckpt), name="cs-y", out=str(tmp_path), planes="Y"), log=lambda _m: None)
    cfg = QuantizeConfig(model=str(tmp_path / "cs-y.json"), calib=(str(folders["calib"]),), calib_images=4, calib_crop=64,
                         check=(str(folders["check"]),), fps_size=(64, 48), fps_runs=2, name="cs-y-int",
                         quantize_ops=("Conv", "Relu", "Add", "DepthToSpace"), float_input_ops=False)
    card = quantize(cfg, log=lambda _m: None)
    graph = onnx.load(str(tmp_path / "cs-y-int.onnx")).graph
    names = {n.name for n in graph.node}
    assert "y_u8_to_f32" not in names and "y_f32_to_u8" not in names  # the uint8 ends cancelled out
    used = {t for n in graph.node for t in n.input}
    assert all(t.name in used for t in graph.initializer)  # nothing left over (onnxruntime warns on every load)
    (reader,) = [n for n in graph.node if graph.input[0].name in n.input]
    (writer,) = [n for n in graph.node if graph.output[0].name in n.output]
    assert reader.op_type == "DequantizeLinear" and writer.op_type == "QuantizeLinear"
    consts = {t.name: onnx.numpy_helper.to_array(t) for t in graph.initializer}
    for n in (reader, writer):  # read and written on the plane's own grid
        assert np.isclose(consts[n.input[1]], 1 / 219) and int(consts[n.input[2]]) == 16
    # the residual too, centred at 128: the last add is exact integer maths, no second rounding
    (tail_q,) = [n for n in graph.node if n.op_type == "QuantizeLinear" and n.input[0].startswith("/tail/")]
    assert np.isclose(consts[tail_q.input[1]], 1 / 219) and int(consts[tail_q.input[2]]) == 128
    assert card["quantization"]["float_ops"] == [] and card["quantization"]["float_nodes"] == []
    files = list_images(folders["check"])
    a = score_set(OnnxRestorer(tmp_path / "cs-y.json", 2), files, 2, "fp32")
    b = score_set(OnnxRestorer(tmp_path / "cs-y-int.json", 2), files, 2, "int8")
    assert abs(a["psnr"] - b["psnr"]) < 0.5 and b["psnr"] > 20


def test_a_folded_export_quantizes_each_block_as_one_rounded_conv(folders, tmp_path):
    """`kd export --fold-identity`, all-integer: no add inside the body (the only adds left are the
    head-to-tail skip and the residual onto the plane), one rounding per block, and the card says so."""
    ckpt = save_checkpoint(tmp_path / "cs.pt", "cs")
    for name, fold in (("kept", False), ("folded", True)):
        export(ExportConfig(checkpoint=str(ckpt), name=name, out=str(tmp_path), planes="Y", fold_identity=fold), log=lambda _m: None)
        quantize(QuantizeConfig(model=str(tmp_path / f"{name}.json"), calib=(str(folders["calib"]),), calib_images=4, calib_crop=64,
                                check=(str(folders["check"]),), fps_size=(64, 48), fps_runs=2, name=f"{name}-int",
                                quantize_ops=("Conv", "Relu", "Add", "DepthToSpace"), float_input_ops=False), log=lambda _m: None)
    ops = {n: [o.op_type for o in onnx.load(str(tmp_path / f"{n}-int.onnx")).graph.node] for n in ("kept", "folded")}
    assert ops["folded"].count("Add") == 2 and ops["kept"].count("Add") == 2 + 2  # depth 2
    assert ops["kept"].count("QuantizeLinear") - ops["folded"].count("QuantizeLinear") == 2  # the conv outputs
    card, _ = load_card(tmp_path / "folded-int.json")
    assert card["fold_identity"] is True and card["precision"] == "int8"
    files = list_images(folders["check"])
    a = score_set(OnnxRestorer(tmp_path / "folded.json", 2), files, 2, "fp32")
    b = score_set(OnnxRestorer(tmp_path / "folded-int.json", 2), files, 2, "int8")
    assert abs(a["psnr"] - b["psnr"]) < 0.5 and b["psnr"] > 20


def test_a_y_plane_model_without_the_export_ends_is_refused(tmp_path):
    from vcam_support import make_luma_onnx, write_luma_card

    from kd.export import ExportError

    card = write_luma_card(make_luma_onnx(tmp_path / "y8.onnx"))
    with pytest.raises(ExportError, match="not a `kd export --planes Y` model"):
        quantize(QuantizeConfig(model=str(card), out=str(tmp_path)), log=lambda _m: None)
    assert not list(tmp_path.glob("*-int8.*")) and not list(tmp_path.glob("*.partial"))
