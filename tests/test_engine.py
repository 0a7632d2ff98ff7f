"""vcam.engine: model resolution, card checks (sha256, I/O contract), providers, parity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from vcam_support import make_conv_onnx, panned_frames, write_card
from vcam.config import SharpCamError
from vcam.card import read_card as load_card
from vcam.engine import Engine, load_engine, resolve_model


def test_resolve_model_forms(residual_card: Path) -> None:
    onnx_path = residual_card.with_suffix(".onnx")
    assert resolve_model(str(residual_card)) == residual_card
    assert resolve_model(str(onnx_path)) == residual_card
    assert load_engine("none", "cpu", 1) is None


def test_missing_named_model_says_what_to_do() -> None:
    with pytest.raises(SharpCamError) as info:
        resolve_model("no-such-model-xyz")
    message = str(info.value)
    assert "no-such-model-xyz" in message and "--model" in message and "\n" not in message


def test_onnx_without_card(tmp_path: Path) -> None:
    onnx_path = make_conv_onnx(tmp_path / "lonely.onnx")
    with pytest.raises(SharpCamError, match="has no card"):
        resolve_model(str(onnx_path))
    with pytest.raises(SharpCamError, match="does not exist"):
        resolve_model(str(tmp_path / "missing.onnx"))


def test_card_fields(residual_card: Path, image_card: Path) -> None:
    card = load_card(residual_card)
    assert card.output_kind == "residual" and card.color_order == "RGB" and card.value_max == 1.0
    assert card.pad_multiple == 4 and card.onnx_path.name == "sharpen-res.onnx"
    card2 = load_card(image_card)
    assert card2.output_kind == "image" and card2.color_order == "BGR" and card2.value_max == 255.0


def test_sha_mismatch_is_refused(tmp_path: Path) -> None:
    card_path = write_card(make_conv_onnx(tmp_path / "m.onnx"), sha256="0" * 64)
    with pytest.raises(SharpCamError, match="does not match its card"):
        load_card(card_path)


def test_corrupt_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"this is not a protobuf at all" * 10)
    card_path = write_card(path)
    with pytest.raises(SharpCamError, match="corrupt or not ONNX"):
        load_engine(str(card_path), "cpu", 1)


@pytest.mark.parametrize(
    ("kwargs", "card_changes", "needle"),
    [
        ({"out_channels": 1}, {}, "re-export"),
        ({"fixed_size": (64, 64)}, {}, "fixed size"),
        ({"input_name": "pixels"}, {}, "inputs [pixels]"),
        ({}, {"output": {"name": "y", "dtype": "float32", "shape": [1, 3, "h", "w"]}}, "outputs [output]"),
        ({}, {"value_range": [0, 2]}, "value_range"),
        ({}, {"output_kind": "delta"}, "output_kind"),
        ({}, {"color_order": "YUV"}, "color_order"),
        ({}, {"card_version": 4}, "card_version"),
        ({}, {"planes": "YUV"}, "planes"),
        ({}, {"planes": ["Y"]}, "planes"),
        ({}, {"color_order": "Y"}, "color_order"),
        ({}, {"planes": "Y", "input": {"name": "input", "dtype": "float32", "shape": [1, 1, "h", "w"]},
              "output": {"name": "output", "dtype": "float32", "shape": [1, 1, "h", "w"]}, "output_kind": "residual"},
         "Y-plane model must return the image"),
        ({}, {"planes": "Y"}, "[1, 1, height, width]"),
        ({}, {"input": {"name": "input", "dtype": "uint8", "shape": [1, 3, "h", "w"]}}, "float32"),
        ({}, {"scale": 2}, "scale"),
        ({}, {"input": {"name": "input", "dtype": "float16", "shape": [1, 3, "h", "w"]}}, "float32"),
    ],
)
def test_contract_mismatches_are_refused(tmp_path: Path, kwargs: dict, card_changes: dict, needle: str) -> None:
    card_path = write_card(make_conv_onnx(tmp_path / "bad.onnx", **kwargs), **card_changes)
    with pytest.raises(SharpCamError) as info:
        load_engine(str(card_path), "cpu", 1)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_card_not_json(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("{nope")
    with pytest.raises(SharpCamError, match="cannot read model card"):
        load_card(path)


def test_missing_onnx_file(tmp_path: Path, residual_card: Path) -> None:
    card = tmp_path / "orphan.json"
    shutil.copy(residual_card, card)
    with pytest.raises(SharpCamError, match="is missing"):
        load_card(card)


def test_unavailable_provider(residual_card: Path) -> None:
    # a provider this onnxruntime build lacks (CUDA on the CPU wheel; another one on a GPU build)
    from vcam.engine import PROVIDER_NAMES, PROVIDER_PACKAGES

    missing = next(p for p in ("cuda", "rocm", "coreml", "dml") if PROVIDER_NAMES[p] not in ort.get_available_providers())
    with pytest.raises(SharpCamError) as info:
        load_engine(str(residual_card), missing, 1)
    assert PROVIDER_PACKAGES[missing].split()[0] in str(info.value) and "--provider cpu" in str(info.value)


def test_engine_matches_plain_session_at_other_shapes(residual_card: Path) -> None:
    engine = Engine(load_card(residual_card), "cpu", threads=1)
    session = ort.InferenceSession(str(residual_card.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    for h, w in ((8, 12), (92, 160), (360, 644)):  # none of them the shape anything was built at
        photo = panned_frames(w, h, 1, "rocket")[0]
        x = np.ascontiguousarray(photo[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255)
        out = np.empty_like(x)
        engine.run(x, out)
        engine.run(x, out)  # the cached binding writes in place again
        np.testing.assert_allclose(out, session.run(["output"], {"input": x})[0], atol=1e-6)
    info = json.loads(residual_card.read_text())
    assert engine.card.sha256 == info["sha256"]


def test_openvino_runtime_matches_onnxruntime_at_other_shapes(residual_card: Path) -> None:
    pytest.importorskip("openvino")
    engine = Engine(load_card(residual_card), "openvino", threads=1)
    assert type(engine.session).__name__ == "_OpenVinoSession"
    session = ort.InferenceSession(str(residual_card.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    outputs = []
    for h, w in ((8, 12), (92, 160), (8, 12)):  # the third reuses the first size's compiled model
        photo = panned_frames(w, h, 1, "rocket")[0]
        x = np.ascontiguousarray(photo[:, :, ::-1].transpose(2, 0, 1)[None], dtype=np.float32) / np.float32(255)
        out = np.full_like(x, np.nan)
        engine.run(x, out)  # writes into the preallocated array
        np.testing.assert_allclose(out, session.run(["output"], {"input": x})[0], atol=1e-5)
        outputs.append(out)
    np.testing.assert_array_equal(outputs[0], outputs[2])


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [({"fixed_size": (64, 64)}, "fixed size"), ({"input_name": "pixels"}, "inputs [pixels]"), ({"out_channels": 1}, "re-export")],
)
def test_openvino_runtime_checks_the_contract(tmp_path: Path, kwargs: dict, needle: str) -> None:
    pytest.importorskip("openvino")
    card_path = write_card(make_conv_onnx(tmp_path / "bad.onnx", **kwargs))
    with pytest.raises(SharpCamError) as info:
        load_engine(str(card_path), "openvino", 1)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_openvino_runtime_refuses_a_corrupt_model(tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(b"this is not a protobuf at all" * 10)
    with pytest.raises(SharpCamError, match="corrupt or not ONNX") as info:
        load_engine(str(write_card(path)), "openvino", 1)
    assert "\n" not in str(info.value)


def test_openvino_missing_says_how_to_install(residual_card: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import vcam.engine

    monkeypatch.setattr(vcam.engine, "_openvino_installed", lambda: False)
    assert "OpenVINOExecutionProvider" not in ort.get_available_providers()
    with pytest.raises(SharpCamError) as info:
        load_engine(str(residual_card), "openvino", 1)
    assert "sharpcam[openvino]" in str(info.value) and "--provider cpu" in str(info.value)


def test_one_card_parser_for_kd_and_the_runtime(tmp_path: Path) -> None:
    """kd's reader is the runtime's: a card the runtime refuses, kd refuses with the same words."""
    from kd.export import ExportError
    from kd.export import load_card as kd_load_card
    from vcam.card import CardError, card_fields, write_card

    onnx_path = make_conv_onnx(tmp_path / "m.onnx")
    good = card_fields("m", onnx_path, pad_multiple=4, output_kind="residual")
    write_card(tmp_path / "m.json", good)
    assert kd_load_card(tmp_path / "m.json")[0] == load_card(tmp_path / "m.json").raw
    bad = {**good, "input": {"name": "input", "dtype": "uint8", "shape": [1, 3, "height", "width"]}}
    with pytest.raises(CardError, match="float32"):
        write_card(tmp_path / "bad.json", bad)  # the writer checks too, and leaves nothing behind
    assert not (tmp_path / "bad.json").exists() and not (tmp_path / "bad.json.partial").exists()
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(SharpCamError) as runtime:
        load_card(tmp_path / "bad.json")
    with pytest.raises(ExportError) as kd:
        kd_load_card(tmp_path / "bad.json")
    assert str(runtime.value) == str(kd.value)


def test_a_card_with_a_switch_loads_its_alternate_and_runs_either(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    card = load_card(write_pair_card(tmp_path))
    assert card.switch is not None and card.switch.card.name == "pair-alternate" and card.switch.above == 1.3
    assert card.info["switch"]["model"] == "pair-alternate.json"
    engine = load_engine(str(tmp_path / "pair.json"), "cpu", 1)
    assert engine is not None and engine.alternate is not None and engine.alternate.alternate is None
    y = np.random.default_rng(0).integers(16, 236, (1, 1, 24, 32), dtype=np.uint8)
    outs = [np.empty_like(y), np.empty_like(y)]
    for variant, out in enumerate(outs):
        engine.run_variant(variant, y, out)
    sharpen = ort.InferenceSession(str(tmp_path / "pair-default.onnx"), providers=["CPUExecutionProvider"])
    smooth = ort.InferenceSession(str(tmp_path / "pair-alternate.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(outs[0], sharpen.run(None, {"input": y})[0])
    np.testing.assert_array_equal(outs[1], smooth.run(None, {"input": y})[0])


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"model": "nowhere.json"}, "is missing: put it beside the card"),
        ({"period": 15}, "even number of pixels"),
        ({"statistic": "sharpness"}, "is not one of blockiness"),
        ({"above": "high"}, "must be a number"),
        ({"model": 3}, "naming its alternate card"),
        ({"model": "../pair-alternate.json"}, "another card (.json) in the same folder"),
        ({"model": "pair.json"}, "another card (.json) in the same folder"),
        ({"model": "pair-alternate.onnx"}, "another card (.json) in the same folder"),
    ],
)
def test_a_broken_switch_is_refused_in_one_line(tmp_path: Path, change: dict, needle: str) -> None:
    from vcam_support import write_pair_card

    path = write_pair_card(tmp_path)
    raw = json.loads(path.read_text())
    raw["switch"].update(change)
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError) as info:
        load_card(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_switch_needs_two_models_of_the_same_tensors_and_no_second_switch(tmp_path: Path) -> None:
    from vcam_support import make_luma_onnx, write_luma_card, write_pair_card

    path = write_pair_card(tmp_path)
    float_card = write_luma_card(make_luma_onnx(tmp_path / "float-y.onnx", dtype="float32"), "float32")
    raw = json.loads(path.read_text())
    raw["switch"]["model"] = float_card.name
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError, match="same dtype and pad multiple"):
        load_card(path)
    outer = tmp_path / "outer.json"  # a pair whose alternate is itself a pair
    outer.write_text(json.dumps({**raw, "switch": {**raw["switch"], "model": path.name}}))
    raw["switch"]["model"] = "pair-alternate.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError, match="has a switch of its own"):
        load_card(outer)


def test_a_switch_detail_cut_is_read_and_checked(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    assert load_card(write_pair_card(tmp_path, detail_below=0.95)).switch.detail_below == 0.95
    assert load_card(write_pair_card(tmp_path)).switch.detail_below is None  # optional: blockiness alone
    with pytest.raises(SharpCamError, match="'detail_below' -1 must be a positive number"):
        load_card(write_pair_card(tmp_path, detail_below=-1))


GATE = {"statistic": "textured", "step": 8, "above": 0.69}


def test_a_gate_is_read_from_the_card(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    card = load_card(write_pair_card(tmp_path, gate=GATE))
    assert (card.gate.statistic, card.gate.step, card.gate.above) == ("textured", 8, 0.69) and "gate" in card.info
    assert load_card(write_pair_card(tmp_path)).gate is None  # optional: every frame to a model


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"statistic": "detail"}, "gate statistic 'detail' is not one of textured"),
        ({"step": 0}, "gate step 0 must be a whole number"),
        ({"step": 8.5}, "gate step 8.5 must be a whole number"),
        ({"above": "high"}, "gate 'above' 'high' must be a positive number"),
        ({"above": -1}, "gate 'above' -1 must be a positive number"),
    ],
)
def test_a_broken_gate_is_refused_in_one_line(tmp_path: Path, change: dict, needle: str) -> None:
    from vcam_support import write_pair_card

    path = write_pair_card(tmp_path, gate=GATE)
    raw = json.loads(path.read_text())
    raw["gate"].update(change)
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError) as info:
        load_card(path)
    assert needle in str(info.value) and "write it again with `sharpcam-kd pair`" in str(info.value) and "\n" not in str(info.value)


def test_a_gate_needs_a_y_model_and_not_on_an_alternate(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    rgb = write_card(make_conv_onnx(tmp_path / "rgb.onnx"), gate=GATE)
    with pytest.raises(SharpCamError, match="a gate needs a Y-plane model, not RGB"):
        load_card(rgb)
    path = write_pair_card(tmp_path)
    alternate = tmp_path / "pair-alternate.json"
    alternate.write_text(json.dumps({**json.loads(alternate.read_text()), "gate": GATE}))
    with pytest.raises(SharpCamError, match="has a gate of its own"):
        load_card(path)


def test_a_gate_reblur_cut_is_read_and_checked(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    assert load_card(write_pair_card(tmp_path, gate={**GATE, "reblur_below": 0.7})).gate.reblur_below == 0.7
    assert load_card(write_pair_card(tmp_path, gate=GATE)).gate.reblur_below is None
    path = write_pair_card(tmp_path, gate=GATE)
    raw = json.loads(path.read_text())
    raw["gate"]["reblur_below"] = 0
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError, match="gate 'reblur_below' 0 must be a positive number"):
        load_card(path)


BLUR = {"below": 0.41}


def test_a_card_with_a_blur_model_loads_it_and_runs_each_variant(tmp_path: Path) -> None:
    from vcam.engine import VARIANT_ALTERNATE, VARIANT_BLURRED, VARIANT_DEFAULT
    from vcam_support import write_pair_card

    card = load_card(write_pair_card(tmp_path, gate=GATE, blur=BLUR))
    assert card.blur is not None and card.blur.card.name == "pair-blurred" and (card.blur.step, card.blur.below) == (8, 0.41)
    assert card.info["blur"]["model"] == "pair-blurred.json"
    engine = load_engine(str(tmp_path / "pair.json"), "cpu", 1)
    assert engine is not None and engine.blurred is not None and engine.blurred.blurred is None
    y = np.random.default_rng(1).integers(16, 236, (1, 1, 24, 32), dtype=np.uint8)
    for variant, onnx in ((VARIANT_DEFAULT, "pair-default"), (VARIANT_ALTERNATE, "pair-alternate"), (VARIANT_BLURRED, "pair-blurred")):
        out = np.empty_like(y)
        engine.run_variant(variant, y, out)
        session = ort.InferenceSession(str(tmp_path / f"{onnx}.onnx"), providers=["CPUExecutionProvider"])
        np.testing.assert_array_equal(out, session.run(None, {"input": y})[0])
    assert load_engine(str(write_pair_card(tmp_path)), "cpu", 1).blurred is None  # optional
    assert card.blur.lens_only is None
    lens = load_card(write_pair_card(tmp_path, gate=GATE, blur={**BLUR, "periodic_below": 4.5, "phase_below": 1.15}))
    assert lens.blur is not None and lens.blur.lens_only == (4.5, 1.15)
    up = load_card(write_pair_card(tmp_path, gate=GATE, blur={**BLUR, "periodic_below": 4.5, "phase_below": 1.15, "upscaled_only": True}))
    assert up.blur is not None and up.blur.upscaled_cuts == (4.5, 1.15) and up.blur.lens_only is None


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"model": "nowhere.json"}, "its blur's card nowhere.json is missing"),
        ({"model": 3}, "'blur' must be an object naming its model's card"),
        ({"model": "pair.json"}, "blur model 'pair.json' must name another card (.json) in the same folder"),
        ({"statistic": "detail"}, "blur statistic 'detail' is not one of textured"),
        ({"step": 0}, "blur step 0 must be a whole number"),
        ({"below": "low"}, "blur 'below' 'low' must be a positive number"),
        ({"below": 0}, "blur 'below' 0 must be a positive number"),
        ({"periodic_below": 5.0}, "blur has 'periodic_below' without 'phase_below'"),
        ({"phase_below": 1.1}, "blur has 'phase_below' without 'periodic_below'"),
        ({"periodic_below": -1, "phase_below": 1.1}, "blur 'periodic_below' -1 must be a positive number"),
        ({"upscaled_only": True}, "blur 'upscaled_only' needs 'periodic_below' and 'phase_below'"),
        ({"periodic_below": 5.0, "phase_below": 1.1, "upscaled_only": "yes"}, "blur 'upscaled_only' 'yes' must be true or false"),
        ({"periodic_below": 5.0, "upscaled_only": True}, "a model for up-scales needs both resampling cuts"),
        # a version 2 reader would take the same cuts for a lens model's and route the other frames to it
        ({"periodic_below": 5.0, "phase_below": 1.1, "upscaled_only": True}, "blur 'upscaled_only' needs card_version 3"),
    ],
)
def test_a_broken_blur_route_is_refused_in_one_line(tmp_path: Path, change: dict, needle: str) -> None:
    from vcam_support import write_pair_card

    path = write_pair_card(tmp_path, blur=BLUR)
    raw = json.loads(path.read_text())
    raw["blur"].update(change)
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError) as info:
        load_card(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_a_blur_model_must_be_a_plain_card_of_the_same_tensors(tmp_path: Path) -> None:
    from vcam_support import make_luma_onnx, write_luma_card, write_pair_card

    path = write_pair_card(tmp_path, blur=BLUR)
    raw = json.loads(path.read_text())
    float_card = write_luma_card(make_luma_onnx(tmp_path / "float-y.onnx", dtype="float32"), "float32")
    path.write_text(json.dumps({**raw, "blur": {**raw["blur"], "model": float_card.name}}))
    with pytest.raises(SharpCamError, match="a blur pairs two Y-plane models with the same dtype"):
        load_card(path)
    blurred = tmp_path / "pair-blurred.json"
    blurred.write_text(json.dumps({**json.loads(blurred.read_text()), "blur": raw["blur"]}))
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError, match="has a blur model of its own: pass a plain model card"):
        load_card(path)
    blurred.write_text(json.dumps({k: v for k, v in json.loads(blurred.read_text()).items() if k != "blur"}))
    path.write_text(json.dumps({k: v for k, v in raw.items() if k != "switch"}))  # a blur model without a pair's switch
    with pytest.raises(SharpCamError, match="has a blur model but no switch: .* `sharpcam-kd pair --blurred`"):
        load_card(path)


RAMP = {"statistic": "reblur", "step": 8, "from": 0.49, "to": 0.89, "periodic_from": 4.24, "phase_up_to": 0.9545}


def test_a_card_with_a_strength_ramp_reads_it(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    card = load_card(write_pair_card(tmp_path, gate=GATE, ramp=RAMP))
    assert card.ramp is not None and (card.ramp.ramp_from, card.ramp.ramp_to, card.ramp.periodic_from, card.ramp.phase_up_to) == (
        0.49, 0.89, 4.24, 0.9545)
    assert "0.490..0.890" in card.ramp.text()
    assert load_card(write_pair_card(tmp_path, gate=GATE)).ramp is None  # optional


@pytest.mark.parametrize(
    "change, needle",
    [
        ({"statistic": "textured"}, "ramp statistic 'textured' is not one of reblur"),
        ({"step": 0}, "ramp step 0 must be a whole number"),
        ({"from": "low"}, "ramp 'from' 'low' must be a positive number"),
        ({"to": -1}, "ramp 'to' -1 must be a positive number"),
        ({"periodic_from": None}, "ramp 'periodic_from' None must be a positive number"),
        ({"phase_up_to": 0}, "ramp 'phase_up_to' 0 must be a positive number"),
        ({"from": 0.9, "to": 0.5}, "ramp 'from' 0.9 must be below 'to' 0.5"),
    ],
)
def test_a_broken_ramp_is_refused_in_one_line(tmp_path: Path, change: dict, needle: str) -> None:
    from vcam_support import write_pair_card

    path = write_pair_card(tmp_path, ramp=RAMP)
    raw = json.loads(path.read_text())
    raw["ramp"].update(change)
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError) as info:
        load_card(path)
    assert needle in str(info.value) and "--ramp" in str(info.value) and "\n" not in str(info.value)


def test_a_ramp_belongs_to_a_pairs_card(tmp_path: Path) -> None:
    from vcam_support import write_pair_card

    path = write_pair_card(tmp_path, ramp=RAMP)
    raw = json.loads(path.read_text())
    del raw["switch"]
    path.write_text(json.dumps(raw))
    with pytest.raises(SharpCamError, match="has a strength ramp but no switch"):
        load_card(path)
    (tmp_path / "other").mkdir()
    path = write_pair_card(tmp_path / "other", ramp=RAMP)
    alternate = tmp_path / "other" / "pair-alternate.json"
    alternate.write_text(json.dumps({**json.loads(alternate.read_text()), "ramp": RAMP}))
    with pytest.raises(SharpCamError, match="has a strength ramp of its own"):
        load_card(path)
