"""kd.switch: `sharpcam-kd pair` chooses a blockiness cut and a gate's textured cut on training images (here
scikit-image's photos) and writes a card the runtime reads with its switch and gate; `kd evaluate` scores such a
card picture by picture."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
from click.testing import CliRunner

from vcam_support import blocky_frame, make_luma_onnx, write_luma_card
from kd.__main__ import cli
from kd.config import ConfigError, PairConfig
from kd.evaluate import OnnxRestorer, make_restorer
from kd.switch import PairError, SwitchedRestorer, best_cut, make_pair
from vcam.card import read_card

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry")


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """A list file of training pictures, as runs/split/train.txt is."""
    folder = tmp_path_factory.mktemp("photos")
    paths = []
    for name in PHOTOS:
        path = folder / f"{name}.png"
        cv2.imwrite(str(path), getattr(skimage.data, name)()[:, :, ::-1])
        paths.append(str(path))
    listing = folder / "train.txt"
    listing.write_text("\n".join(paths) + "\n")
    return listing


@pytest.fixture()
def models(tmp_path: Path) -> tuple[Path, Path]:
    default = write_luma_card(make_luma_onnx(tmp_path / "plain.onnx"))
    alternate = write_luma_card(make_luma_onnx(tmp_path / "deblock.onnx", amount=-0.2))
    return default, alternate


def test_best_cut_separates_the_target_from_the_rest() -> None:
    target, others = np.array([1.5, 1.6, 1.15]), np.array([1.0, 1.1, 1.2, 1.05, 1.3])
    assert best_cut(target, others) == 1.3  # 1.15 of the target is lost either way; 1.3 keeps all others below


def test_pair_writes_a_card_the_runtime_reads_with_its_cut(images: Path, models: tuple[Path, Path]) -> None:
    default, alternate = models
    path, written = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="plain-auto", images=str(images)),
                              progress=False)
    switch = written["switch"]
    assert path == default.parent / "plain-auto.json"
    card = read_card(path)
    assert card.onnx_path == default.with_suffix(".onnx").resolve() and card.switch is not None
    assert card.switch.card.name == "deblock" and card.switch.above == switch["above"]
    shares = switch["chosen_on"]["share_switched"]
    assert shares["x2+jpeg40"] > 0.5 and max(v for k, v in shares.items() if k != "x2+jpeg40") < 0.5
    assert shares["clean"] == 0.0  # the sharp pictures themselves never go to the alternate
    assert 1.0 < switch["above"] < 2.0 and 0.5 < switch["detail_below"] < 1.5 and str(images) in switch["chosen_on"]["images"]
    assert card.switch.detail_below == switch["detail_below"]
    assert "metrics" not in card.raw and card.raw["pair"] == {"default": "plain", "alternate": "deblock"}
    gate = written["gate"]
    assert card.gate is not None and (card.gate.step, card.gate.above) == (8, gate["above"]) and 0.5 < gate["above"] < 1.0
    passed = gate["chosen_on"]["share_passed"]
    assert passed["clean"] == 1.0 and passed["noise + MJPG q85"] == 1.0  # these photos, sharp, all pass
    assert passed["x2"] == 0.0 and passed["x3"] == 0.0  # and none of them blurred
    _, ungated = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="no-gate", images=str(images),
                                      gate_step=0), progress=False)
    assert "gate" not in ungated and ungated["switch"]["above"] == switch["above"]  # the gate leaves the switch's cuts alone
    assert ungated["switch"]["detail_below"] == switch["detail_below"]


def test_switched_restorer_picks_per_picture_as_the_runtime_does(images: Path, models: tuple[Path, Path]) -> None:
    default, alternate = models
    path, _ = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="plain-auto", images=str(images),
                                   gate_step=0), progress=False)
    restorer = make_restorer(str(path), 1)
    assert isinstance(restorer, SwitchedRestorer) and restorer.label == "plain-auto" and restorer.gate is None
    rgb = np.ascontiguousarray(skimage.data.astronaut()[:256, :256])
    blocky = np.ascontiguousarray(blocky_frame(rgb[:, :, ::-1])[:, :, ::-1])
    np.testing.assert_array_equal(restorer.restore(rgb), OnnxRestorer(default, 1).restore(rgb))
    np.testing.assert_array_equal(restorer.restore(blocky), OnnxRestorer(alternate, 1).restore(blocky))
    assert restorer.chosen == [1, 1, 0]


def test_pair_refuses_what_it_cannot_make_in_one_line(images: Path, models: tuple[Path, Path], tmp_path: Path) -> None:
    default, alternate = models
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    far = write_luma_card(make_luma_onnx(elsewhere / "far.onnx"))
    runner = CliRunner()
    for args, needle in (
        (["--default", str(default), "--alternate", str(far), "--name", "x"], "is not beside the default's model"),
        (["--default", str(default), "--alternate", str(alternate), "--name", "plain"], "would overwrite one of its own cards"),
        (["--default", str(default.with_suffix(".onnx")), "--alternate", str(alternate), "--name", "plain"], "would overwrite"),
        (["--default", str(default), "--alternate", str(alternate), "--name", "../x"], "plain card name"),
        (["--default", str(default), "--alternate", str(alternate), "--name", "x", "--target", "x4"], "is not one of the benchmark's cases"),
        (["--default", str(default), "--alternate", str(alternate)], "needs --default, --alternate and --name"),
    ):
        result = runner.invoke(cli, ["pair", *args, "--images", str(images)])
        assert result.exit_code == 1 and needle in result.output and "Traceback" not in result.output, result.output
    assert not (default.parent / "x.json").exists() and not (default.parent / "x.json.partial").exists()
    assert json.loads(default.read_text())["name"] == "plain"  # the default's own card untouched
    for period in (9, 66):
        with pytest.raises(ConfigError, match="even number"):
            PairConfig(default="a", alternate="b", name="c", period=period)


def test_a_pair_is_not_made_of_pairs(images: Path, models: tuple[Path, Path]) -> None:
    default, alternate = models
    path, _ = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="plain-auto", images=str(images)),
                        progress=False)
    with pytest.raises(PairError, match="already has a switch"):
        make_pair(PairConfig(default=str(path), alternate=str(alternate), name="again", images=str(images)), progress=False)
    assert json.loads(path.read_text())["switch"]["model"] == "deblock.json"


def test_the_restorer_passes_a_sharp_picture_through_as_the_gate_does(images: Path, models: tuple[Path, Path]) -> None:
    from kd.degrade import bicubic_down_up

    default, alternate = models
    path, _ = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="plain-auto", images=str(images)),
                        progress=False)
    restorer = make_restorer(str(path), 1)
    sharp = np.ascontiguousarray(skimage.data.astronaut()[:258, :258])
    blurred = bicubic_down_up(sharp, 2)
    np.testing.assert_array_equal(restorer.restore(sharp), sharp)
    np.testing.assert_array_equal(restorer.restore(blurred), OnnxRestorer(default, 1).restore(blurred))
    assert restorer.passed == 1 and restorer.chosen == [1, 0, 0]


def test_pair_with_a_reblur_cut_keeps_the_first_and_passes_no_more(images: Path, models: tuple[Path, Path]) -> None:
    default, alternate = models
    _, one = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="one-cut", images=str(images),
                                  gate_reblur=False), progress=False)
    path, two = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="two-cuts", images=str(images)),
                          progress=False)
    assert "reblur_below" not in one["gate"]
    assert two["gate"]["above"] == one["gate"]["above"] and 0.5 < two["gate"]["reblur_below"] < 1.0
    assert read_card(path).gate.reblur_below == two["gate"]["reblur_below"]
    assert all(two["gate"]["chosen_on"]["share_passed"][d] <= s for d, s in one["gate"]["chosen_on"]["share_passed"].items())
    restorer = make_restorer(str(path), 1)
    sharp = np.ascontiguousarray(skimage.data.astronaut()[:258, :258])
    np.testing.assert_array_equal(restorer.restore(sharp), sharp)


def test_pair_without_pyav_names_the_fix(images: Path, models: tuple[Path, Path], monkeypatch) -> None:
    import kd.degrade

    def no_av(*args, **kwargs):
        raise ImportError("No module named 'av'")

    monkeypatch.setitem(kd.degrade.SHARP_CASES, "noise + H.264 intra CRF 23", no_av)
    default, alternate = models
    with pytest.raises(PairError, match=r"need PyAV .* or pass --gate-step 0"):
        make_pair(PairConfig(default=str(default), alternate=str(alternate), name="plain-auto", images=str(images)), progress=False)
    assert not (default.parent / "plain-auto.json").exists()
    with pytest.raises(ConfigError, match="gate_step 300"):
        PairConfig(default="a", alternate="b", name="c", gate_step=300)


def test_pair_with_a_blur_model_cuts_the_gate_figure_below_x3_and_the_restorer_follows(images: Path, models: tuple[Path, Path]) -> None:
    from kd.degrade import bicubic_down_up

    default, alternate = models
    blurred = write_luma_card(make_luma_onnx(default.parent / "deblur.onnx", amount=1.5))
    _, plain = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="two", images=str(images)), progress=False)
    path, written = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="three", images=str(images),
                                         blurred=str(blurred)), progress=False)
    blur = written["blur"]
    card = read_card(path)
    assert card.blur is not None and card.blur.card.name == "deblur" and card.blur.below == blur["below"] and 0.3 < blur["below"] < 0.5
    assert written["pair"]["blurred"] == "deblur" and (written["switch"], written["gate"]["above"]) == (plain["switch"], plain["gate"]["above"])
    routed = blur["chosen_on"]["share_routed"]
    assert routed["x3"] >= 0.6 and routed["x2"] == 0.0 and routed["clean"] == 0.0  # these photos: x3 goes, x2 and sharp do not
    restorer = make_restorer(str(path), 1)
    rgb = np.ascontiguousarray(skimage.data.astronaut()[:258, :258])
    x2, x3 = bicubic_down_up(rgb, 2), bicubic_down_up(rgb, 3)
    np.testing.assert_array_equal(restorer.restore(x3), OnnxRestorer(blurred, 1).restore(x3))
    np.testing.assert_array_equal(restorer.restore(x2), OnnxRestorer(default, 1).restore(x2))
    assert restorer.chosen == [1, 0, 1] and "deblur below textured" in restorer.info["blur"]


def test_pair_with_a_lens_blur_model_cuts_the_resampling_figures_and_the_restorer_keeps_x3_from_it(
        images: Path, models: tuple[Path, Path]) -> None:
    from kd.degrade import LENS_CASES, RESAMPLED_CASES, WEBCAM_BENCHMARK, bicubic_down_up, defocus_blur

    default, alternate = models
    blurred = write_luma_card(make_luma_onnx(default.parent / "deblur.onnx", amount=1.5))
    path, written = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="lens", images=str(images),
                                         blurred=str(blurred), blurred_lens=True), progress=False)
    blur = written["blur"]
    card = read_card(path)
    assert card.blur is not None and card.blur.lens_only == (blur["periodic_below"], blur["phase_below"])
    shares = blur["chosen_on"]["lens_share"]
    assert set(shares) == {*WEBCAM_BENCHMARK, *(c for group in RESAMPLED_CASES.values() for c in group), *LENS_CASES}
    assert shares["x3"] == 0.0 and shares["x2.5 area + noise"] == 0.0 and shares["gauss 1.5 + noise"] == 1.0  # these photos
    restorer = make_restorer(str(path), 1)
    rgb = np.ascontiguousarray(skimage.data.astronaut()[:258, :258])
    x3, lens = bicubic_down_up(rgb, 3), defocus_blur(rgb, 2.0)
    np.testing.assert_array_equal(restorer.restore(x3), OnnxRestorer(default, 1).restore(x3))  # up-scaled: the default
    np.testing.assert_array_equal(restorer.restore(lens), OnnxRestorer(blurred, 1).restore(lens))
    assert restorer.chosen == [1, 0, 1] and "lens blur only" in restorer.info["blur"]
    with pytest.raises(ConfigError, match="pass its card with --blurred too"):
        PairConfig(default="a", alternate="b", name="c", blurred_lens=True)
    # its own textured cut: between the lens cases and the x2 up-scales that read as lens blur, above the x3 cut
    _, own = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="lens2", images=str(images),
                                  blurred=str(blurred), blurred_lens=True, blurred_target="lens"), progress=False)
    lens_cut = own["blur"]["below"]
    assert lens_cut > blur["below"] and own["blur"]["periodic_below"] == blur["periodic_below"]
    routed = own["blur"]["chosen_on"]["lens_routed"]
    assert routed["gauss 1.5 + noise"] >= 0.75 and routed["x3"] == 0.0 and routed["x2"] <= 0.25


def test_pair_with_an_up_scale_model_takes_the_same_cuts_and_the_restorer_keeps_lens_blur_from_it(
        images: Path, models: tuple[Path, Path]) -> None:
    from kd.degrade import bicubic_down_up, defocus_blur

    default, alternate = models
    blurred = write_luma_card(make_luma_onnx(default.parent / "deblur.onnx", amount=1.5))
    _, lens_card = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="lens", images=str(images),
                                        blurred=str(blurred), blurred_lens=True), progress=False)
    path, written = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="up", images=str(images),
                                         blurred=str(blurred), blurred_upscaled=True), progress=False)
    blur = written["blur"]
    # the same textured cut as the lens card's, under which that test sends the defocused picture to its lens model
    assert blur["below"] == lens_card["blur"]["below"]
    assert written["card_version"] == 3 and lens_card["card_version"] == 2  # older readers refuse the inverted routing
    assert blur["upscaled_only"] is True and (blur["periodic_below"], blur["phase_below"]) == (
        lens_card["blur"]["periodic_below"], lens_card["blur"]["phase_below"])
    card = read_card(path)
    assert card.blur is not None and card.blur.upscaled_cuts == (blur["periodic_below"], blur["phase_below"])
    routed = blur["chosen_on"]["upscaled_routed"]
    assert routed["x3"] >= 0.6 and routed["gauss 1.5 + noise"] == 0.0  # these photos: x3 goes, lens blur does not
    restorer = make_restorer(str(path), 1)
    rgb = np.ascontiguousarray(skimage.data.astronaut()[:258, :258])
    x3, lens = bicubic_down_up(rgb, 3), defocus_blur(rgb, 2.0)
    np.testing.assert_array_equal(restorer.restore(x3), OnnxRestorer(blurred, 1).restore(x3))
    np.testing.assert_array_equal(restorer.restore(lens), OnnxRestorer(default, 1).restore(lens))  # lens blur: the default
    assert restorer.chosen == [1, 0, 1] and "up-scales only" in restorer.info["blur"]
    with pytest.raises(ConfigError, match="not both"):
        PairConfig(default="a", alternate="b", name="c", blurred="d", blurred_lens=True, blurred_upscaled=True)
    with pytest.raises(ConfigError, match="pass its card with --blurred too"):
        PairConfig(default="a", alternate="b", name="c", blurred_upscaled=True)


def test_pair_refuses_a_blur_model_it_cannot_use_in_one_line(images: Path, models: tuple[Path, Path], tmp_path: Path) -> None:
    default, alternate = models
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    far = write_luma_card(make_luma_onnx(elsewhere / "far.onnx"))
    runner = CliRunner()
    base = ["pair", "--default", str(default), "--alternate", str(alternate), "--name", "x", "--images", str(images)]
    for args, needle in (
        (["--blurred", str(far)], "is not beside the default's model"),
        (["--blurred", str(alternate), "--blurred-target", "x4"], "blurred target 'x4' is not one of the benchmark's cases"),
        (["--blurred", str(alternate), "--blurred-target", "lens"], "is for a lens-blur model: pass --blurred-lens too"),
        (["--blurred", str(alternate), "--blurred-upscaled", "--blurred-target", "lens"], "pass --blurred-target x3"),
        (["--blurred", str(alternate), "--blurred-lens", "--blurred-target", "lens", "--gate-step", "0"], "needs the gate"),
        (["--blurred", str(default.parent / "none.json")], "none.json"),
        (["--blurred", str(alternate), "--name", "deblock"], "would overwrite one of its own cards"),
    ):
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 1 and needle in result.output and "Traceback" not in result.output, result.output
    assert not (default.parent / "x.json").exists()
    with pytest.raises(ConfigError, match="give both the same step"):
        PairConfig(default="a", alternate="b", name="c", blurred="d", blur_step=4)


def test_pair_fits_a_strength_ramp_on_the_frames_it_leaves_to_the_default_and_the_restorer_blends_by_it(
        images: Path, models: tuple[Path, Path]) -> None:
    from kd.degrade import MILD_CASES, bicubic_down_up
    from kd.switch import RAMP_CASES, RAMP_GRID
    from vcam.detect import StrengthRamp

    default, alternate = models
    blurred = write_luma_card(make_luma_onnx(default.parent / "deblur.onnx", amount=1.5))
    path, written = make_pair(PairConfig(default=str(default), alternate=str(alternate), name="ramp", images=str(images),
                                         blurred=str(blurred), blurred_upscaled=True, ramp=True), progress=False)
    ramp = written["ramp"]
    assert ramp["from"] < ramp["to"] and {ramp["from"], ramp["to"]} <= set(RAMP_GRID.tolist())
    assert ramp["periodic_from"] == written["blur"]["periodic_below"]  # the blur model's own choice between the same cases
    changes = ramp["chosen_on"]["gain_change"]
    assert set(changes) == set(RAMP_CASES) and set(MILD_CASES) <= set(changes)
    # chosen for the most gain; the grid's narrowest low ramp keeps nearly the whole change, so it does no worse
    assert sum(changes.values()) >= -1e-3
    assert ramp["chosen_on"]["resampled_share"]["x1.5"] > 0.5  # these photos: x1.5's period reads as resampled
    spec = read_card(path).ramp
    assert spec is not None and spec.ramp_from == ramp["from"]
    restorer = make_restorer(str(path), 1)
    rgb = np.ascontiguousarray(skimage.data.astronaut()[:264, :264])
    h, w = rgb.shape[:2]
    mild = np.ascontiguousarray(MILD_CASES["x1.5"](rgb, np.random.default_rng(0)))
    share = StrengthRamp(w, h, 8, spec.ramp_from, spec.ramp_to, spec.periodic_from, spec.phase_up_to)(
        cv2.cvtColor(mild[:, :, ::-1], cv2.COLOR_BGR2YUV_I420)[:h])
    assert restorer.share(mild) == share and "resampled frames" in restorer.info["ramp"]
    plain = OnnxRestorer(default, 1)
    y_in, y_out = plain.luma_plane(mild)
    from vcam.transforms import add_luma_change_u8
    expected = add_luma_change_u8(mild, y_in, cv2.addWeighted(y_in, 1.0 - share, y_out, share, 0.0, dtype=cv2.CV_8U))
    np.testing.assert_array_equal(restorer.restore(mild), expected)
    x2 = bicubic_down_up(rgb, 2)  # a centred x2 up-scale does not read as resampled: the whole change
    assert restorer.pick(x2) is restorer.default and restorer.share(x2) == 1.0
    np.testing.assert_array_equal(restorer.restore(x2), plain.restore(x2))
    result = CliRunner().invoke(cli, ["pair", "--default", str(default), "--alternate", str(alternate), "--name", "ramp2",
                                      "--images", str(images), "--ramp"])
    assert result.exit_code == 0, result.output
    assert "ramp: resampled frames (periodic from" in result.output


def test_pair_that_cannot_fit_a_ramp_leaves_no_card(models: tuple[Path, Path], tmp_path: Path) -> None:
    default, alternate = models
    listing = tmp_path / "small.txt"
    paths = []
    for name in PHOTOS[:2]:  # pictures too small for the resampling figures (128 px a side), large enough for the switch
        path = tmp_path / f"{name}.png"
        cv2.imwrite(str(path), getattr(skimage.data, name)()[:112, :112, ::-1])
        paths.append(str(path))
    listing.write_text("\n".join(paths) + "\n")
    with pytest.raises(PairError, match="nothing to fit a strength ramp on"):
        make_pair(PairConfig(default=str(default), alternate=str(alternate), name="tiny", images=str(listing), ramp=True),
                  progress=False)
    assert not (default.parent / "tiny.json").exists()
    with pytest.raises(ConfigError, match="pass a number of dB >= 0, with --ramp"):
        PairConfig(default="a", alternate="b", name="c", ramp_benchmark_loss=0.01)
