"""Real training steps on real photos: loss goes down, resume continues exactly, KD, torchrun."""
import json
import os
import subprocess
import sys
import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from photos import write_photo_folder

from kd.config import ConfigError, ExportConfig, QuantizeConfig, TrainConfig, merge
from kd.data import PatchSampler, scan_images, split_files
from kd.losses import distillation_loss, student_loss
from kd.models import DnCNN
from kd.checkpoint import model_from_checkpoint
from kd.checkpoint import read_checkpoint as load_checkpoint
from kd.train import TrainError, train


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("hr")
    write_photo_folder(d, size=64)
    return d


def tiny(folder, out, **kw) -> TrainConfig:
    base = dict(mode="gt", model="rt", width=8, depth=1, data_dirs=(str(folder),), split=None, patch_size=32, batch_size=4,
                steps_per_epoch=6, epochs=2, val_crop=32, lr=1e-3, out=str(out), threads=1)
    base.update(kw)
    return TrainConfig(**base)


def _fixed_batch_loss(model, folder):
    files = split_files(scan_images([str(folder)])).train
    lq, hr = PatchSampler(files, 32).sample(16, np.random.default_rng(123))
    with torch.no_grad():
        return float(((model(torch.from_numpy(lq)) - torch.from_numpy(hr)) ** 2).mean())


def test_training_steps_reduce_the_loss(folder, tmp_path):
    cfg = tiny(folder, tmp_path / "run", mode="teacher", model="dncnn", width=16, depth=4, batch_size=8,
               steps_per_epoch=40, epochs=1)
    before = _fixed_batch_loss(DnCNN(width=16, depth=4).eval(), folder)  # zero last layer: the blurred input
    train(cfg, progress=False)
    after = _fixed_batch_loss(model_from_checkpoint(tmp_path / "run" / "last.pt")[0], folder)
    assert after < before * 0.97
    rows = [json.loads(l) for l in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["epoch"] == 1 and {"train_loss", "val_psnr", "val_ssim", "val_psnr_input", "lr"} <= set(rows[0])
    for f in ("best.pt", "curves.png", "compare.png", "config.json", "split/test.txt"):
        assert (tmp_path / "run" / f).exists(), f


def test_resume_continues_exactly_where_it_stopped(folder, tmp_path):
    straight = train(tiny(folder, tmp_path / "a"), progress=False)
    train(tiny(folder, tmp_path / "b", epochs=1), progress=False)
    resumed = train(tiny(folder, tmp_path / "b"), progress=False)
    assert straight["step"] == resumed["step"] == 12
    a, b = load_checkpoint(tmp_path / "a" / "last.pt"), load_checkpoint(tmp_path / "b" / "last.pt")
    for k in a["model"]:
        assert torch.allclose(a["model"][k], b["model"][k], atol=1e-6), k
    assert len(b["state"]["history"]) == 2
    train(tiny(folder, tmp_path / "b", epochs=1, resume=False), progress=False)  # a fresh run starts a fresh curve
    assert len((tmp_path / "b" / "metrics.jsonl").read_text().splitlines()) == 1


def test_a_resumed_run_takes_its_lr_decay_from_the_config(folder, tmp_path):
    train(tiny(folder, tmp_path / "d", epochs=1), progress=False)  # 6 steps at 1e-3, no schedule
    train(tiny(folder, tmp_path / "d", lr_milestones=(9,), lr_gamma=0.1), progress=False)
    rows = [json.loads(l) for l in (tmp_path / "d" / "metrics.jsonl").read_text().splitlines()]
    assert [r["lr"] for r in rows] == [pytest.approx(1e-3), pytest.approx(1e-4)]
    cfg = tiny(folder, tmp_path, lr_milestones=(9, 20), lr_gamma=0.5)
    assert [cfg.lr_at(s) for s in (0, 8, 9, 19, 20)] == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4])


def test_resume_refuses_another_architecture(folder, tmp_path):
    train(tiny(folder, tmp_path / "r", epochs=1), progress=False)
    with pytest.raises(TrainError, match="--no-resume"):
        train(tiny(folder, tmp_path / "r", width=12), progress=False)


def test_a_fresh_run_starts_from_the_init_weights(folder, tmp_path):
    """`init`: e.g. the x2 teacher fine-tuned on the webcam mix. With lr 0 nothing moves, so the run's
    weights are exactly the init checkpoint's; a resumed run ignores init; another model is refused."""
    train(tiny(folder, tmp_path / "src", epochs=1), progress=False)
    train(tiny(folder, tmp_path / "ft", epochs=1, lr=1e-12, init=str(tmp_path / "src" / "last.pt")), progress=False)
    a, b = load_checkpoint(tmp_path / "src" / "last.pt"), load_checkpoint(tmp_path / "ft" / "last.pt")
    for k in a["model"]:
        assert torch.allclose(a["model"][k], b["model"][k], atol=1e-8), k
    assert b["state"]["step"] == 6  # the optimiser, schedule and step count start anew
    with pytest.raises(TrainError, match="pass a checkpoint of this model"):
        train(tiny(folder, tmp_path / "other", width=12, init=str(tmp_path / "src" / "last.pt")), progress=False)


def test_the_two_grid_student_trains_from_its_recipe_keys(folder, tmp_path):
    """model = "mixgrid" builds kd/models/mixgrid.py from the coarse_* keys; its patches must be multiples of 4."""
    cfg = tiny(folder, tmp_path / "mg", model="mixgrid", width=4, depth=1, coarse_width=8, coarse_depth=1, expand=8,
               loss="l1", loss_on_y=True, epochs=1)
    arch, args = cfg.model_args()
    assert (arch, args) == ("MixedGridStudent", {"width": 4, "depth": 1, "expand": 8, "coarse_width": 8, "coarse_depth": 1})
    train(cfg, progress=False)
    ck = load_checkpoint(tmp_path / "mg" / "last.pt")
    assert (ck["arch"], ck["args"], ck["state"]["step"]) == (arch, args, 6)
    with pytest.raises(ConfigError, match="multiple of 4"):
        tiny(folder, tmp_path, model="mixgrid", patch_size=34)
    with pytest.raises(ConfigError, match="qat is for the collapsible students"):
        tiny(folder, tmp_path, model="mixgrid", patch_size=32, qat=True)
    with pytest.raises(ConfigError, match="coarse_width = 0, kernel = 4: widths and expand must be >= 1"):
        tiny(folder, tmp_path, model="mixgrid", coarse_width=0, kernel=4)
    with pytest.raises(ConfigError, match="kernel = -3: .* kernels odd and positive"):
        tiny(folder, tmp_path, model="collapsible", kernel=-3)
    with pytest.raises(ConfigError, match="are for model = \"mixgrid\", not 'collapsible': drop them"):
        tiny(folder, tmp_path, model="collapsible", coarse_depth=2)
    with pytest.raises(ConfigError, match="drop scale and outer_kernel"):
        tiny(folder, tmp_path, model="mixgrid", scale=2)
    # validation crops follow the grid too: x3 degradation, crops rounded to multiples of 12 (3 and 4)
    train(tiny(folder, tmp_path / "mg3", model="mixgrid", width=4, depth=0, coarse_width=8, coarse_depth=1, expand=8,
               degrade_scales=(3,), patch_size=36, val_crop=32, epochs=1), progress=False)


def test_kd_loss_is_zero_when_student_is_teacher():
    torch.manual_seed(0)
    t = DnCNN(depth=4, width=8)
    for p in t.parameters():
        torch.nn.init.normal_(p, std=0.1)
    lq, hr = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        out = t.eval()(lq)
    assert float(distillation_loss(out, out.clone(), lq)) == 0.0
    assert float(student_loss(out, out, lq, hr, alpha=0.5)) > 0  # the GT term remains


def test_distillation_runs_from_a_teacher_checkpoint(folder, tmp_path):
    train(tiny(folder, tmp_path / "t", mode="teacher", model="dncnn", width=8, depth=3, epochs=1), progress=False)
    res = train(tiny(folder, tmp_path / "s", mode="distill", teacher=str(tmp_path / "t" / "best.pt"), epochs=1),
                progress=False)
    assert res["step"] == 6
    assert load_checkpoint(tmp_path / "s" / "last.pt")["teacher"].endswith("best.pt")
    # the cached soft targets are the teacher's output on the whole degraded image
    teacher = model_from_checkpoint(tmp_path / "t" / "best.pt")[0]
    (cache_file,) = (tmp_path / "t").glob("targets-x2-*.npz")
    cache = np.load(cache_file, allow_pickle=False)  # plain arrays: nothing to unpickle
    files = split_files(scan_images([str(folder)])).train
    sampler = PatchSampler(files, 32)
    lq = torch.from_numpy(sampler.lq[2][0].transpose(2, 0, 1)[None].astype(np.float32) / 255)
    with torch.no_grad():
        direct = teacher(lq)[0].permute(1, 2, 0).numpy()
    assert np.abs(direct - cache["t0"].astype(np.float32)).max() < 2e-3  # float16 storage
    # and the per-step path gives the same kind of run
    res = train(tiny(folder, tmp_path / "s2", mode="distill", teacher=str(tmp_path / "t" / "best.pt"), epochs=1,
                     teacher_cache=False), progress=False)
    assert res["step"] == 6


def test_checkpoints_load_without_unpickling_code(folder, tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    torch.save({"arch": "DnCNN", "args": {}, "model": {}, "extra": Evil()}, tmp_path / "evil.pt", pickle_module=pickle)
    with pytest.raises(Exception, match="cannot read checkpoint"):
        load_checkpoint(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()


def test_config_errors_name_the_fix(folder, tmp_path):
    for bad in ((), (1.0, 1.0), (1.0, 0.1), (1.5,)):
        with pytest.raises(ConfigError, match="hr_scales must be distinct fractions"):
            TrainConfig(hr_scales=bad)
    with pytest.raises(ConfigError, match="--teacher"):
        tiny(folder, tmp_path, mode="distill")
    with pytest.raises(ConfigError, match="multiple of"):
        tiny(folder, tmp_path, patch_size=30)
    with pytest.raises(ConfigError, match="lr_gamma"):
        tiny(folder, tmp_path, lr_milestones=(0,))
    with pytest.raises(ConfigError, match="lr_milestones a list"):
        tiny(folder, tmp_path, lr_milestones=8000)
    with pytest.raises(ConfigError, match="among 2, 3, 4"):
        tiny(folder, tmp_path, degrade_scales=(5,), patch_size=40)


RECIPES = sorted((Path(__file__).parents[1] / "kd" / "recipes").glob("*.toml"))
SECTIONS = {"train": TrainConfig, "quantize": QuantizeConfig}
FROZEN = {"unsharp.toml"}  # the webcam benchmark's frozen baseline: figures kd/webcam.py reads, not settings


def test_the_recipes_folder_is_found():
    assert len(RECIPES) > len(FROZEN)


@pytest.mark.parametrize("recipe", [r for r in RECIPES if r.name not in FROZEN], ids=lambda r: r.name)
def test_every_shipped_recipe_loads_into_its_config(recipe):
    # A typo in a recipe otherwise surfaces only when a sitting starts the run it was written for.
    sections = set(tomllib.loads(recipe.read_text())) & SECTIONS.keys()
    assert sections, f"{recipe.name} has no [train] or [quantize] section"
    for section in sorted(sections):
        cfg = merge(SECTIONS[section], str(recipe), {}, section)
        if section == "train":
            assert cfg.out and cfg.out.startswith("runs/"), "a recipe's run belongs under runs/"


def test_cli_reports_bad_input_in_one_line(folder, tmp_path):
    r = subprocess.run([sys.executable, "-m", "kd", "distill", "--model", "rt", "--data", str(folder),
                        "--out", str(tmp_path / "x")], capture_output=True, text=True)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "--teacher" in r.stderr


@pytest.mark.slow
def test_torchrun_two_process_gloo_smoke(folder, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "kd",
           "train-gt", "--model", "rt", "--width", "8", "--depth", "1", "--data", str(folder), "--patch-size", "32",
           "--batch-size", "2", "--steps-per-epoch", "25", "--epochs", "1", "--threads", "1", "--out", str(tmp_path / "d"),
           "--checkpoint-minutes", "0"]  # a mid-epoch checkpoint at every decision point (steps 10, 20)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    ck = load_checkpoint(tmp_path / "d" / "last.pt")
    assert ck["state"]["step"] == 25 and len(ck["rng_states"]) == 2


def test_distillation_on_a_webcam_pool_caches_the_teacher_on_the_pool(folder, tmp_path):
    train(tiny(folder, tmp_path / "t", mode="teacher", model="dncnn", width=8, depth=3, epochs=1), progress=False)
    kw = dict(model="collapsible", width=8, depth=2, expand=16, loss="l1", loss_on_y=True, webcam=True,
              webcam_pool=2, epochs=1)
    res = train(tiny(folder, tmp_path / "s", mode="distill", teacher=str(tmp_path / "t" / "best.pt"), **kw), progress=False)
    assert res["step"] == 6
    (cache_file,) = (tmp_path / "t").glob("targets-pool2-*.npz")
    cache = np.load(cache_file, allow_pickle=False)
    # the pool is the seed's alone: rebuilt here, its first input gives the cached target through the teacher
    files = split_files(scan_images([str(folder)])).train
    from kd.degrade import WebcamMix
    from kd.train import POOL_STREAM

    sampler = PatchSampler(files, 32, webcam=WebcamMix(), webcam_pool=2, pool_rng=np.random.default_rng([0, POOL_STREAM]))
    assert len(cache.files) - 1 == len(sampler.fixed_inputs()) == 2 * len(sampler.hr)
    assert not np.array_equal(sampler.pool_lq[0][0], sampler.pool_lq[0][1])  # two draws of the mix
    teacher = model_from_checkpoint(tmp_path / "t" / "best.pt")[0]
    lq = torch.from_numpy(sampler.fixed_inputs()[1].transpose(2, 0, 1)[None].astype(np.float32) / 255)
    with torch.no_grad():
        direct = teacher(lq)[0].permute(1, 2, 0).numpy()
    assert np.abs(direct - cache["t1"].astype(np.float32)).max() < 2e-3
    # the ground-truth arm on the same pool: the same fixed inputs, no teacher
    assert train(tiny(folder, tmp_path / "g", mode="gt", **kw), progress=False)["step"] == 6
    with pytest.raises(ConfigError, match="webcam_pool must be >= 0 and needs webcam = true"):
        TrainConfig(webcam_pool=4)


def test_collapsible_student_trains_on_the_webcam_mix_with_l1_and_cosine(folder, tmp_path):
    cfg = tiny(folder, tmp_path / "cs", model="collapsible", width=8, depth=2, expand=16, loss="l1", loss_on_y=True,
               lr_schedule="cosine", webcam=True, steps_per_epoch=30, epochs=1, batch_size=8)
    summary = train(cfg, progress=False)
    assert summary["step"] == 30 and summary["macs_per_pixel"] == 9 * (8 * 8 + 2 * 8 * 8) // 4
    ck = load_checkpoint(tmp_path / "cs" / "last.pt")
    assert ck["arch"] == "CollapsibleStudent" and ck["config"]["webcam"] is True
    rows = [json.loads(l) for l in (tmp_path / "cs" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["val_psnr"] > rows[-1]["val_psnr_input"] - 0.5  # starts near the identity, stays sane


def test_quantization_aware_fine_tuning_starts_from_a_trained_run(folder, tmp_path, monkeypatch):
    kw = dict(model="collapsible", width=8, depth=2, expand=16, scale=4, loss="l1", loss_on_y=True, steps_per_epoch=10, epochs=1)
    train(tiny(folder, tmp_path / "fp", **kw), progress=False)
    summary = train(tiny(folder, tmp_path / "qat", qat=True, init=str(tmp_path / "fp" / "last.pt"), lr=1e-4, **kw), progress=False)
    assert summary["step"] == 10
    ck = load_checkpoint(tmp_path / "qat" / "last.pt")
    assert ck["config"]["qat"] is True and set(ck["model"]) == set(load_checkpoint(tmp_path / "fp" / "last.pt")["model"])
    rows = [json.loads(l) for l in (tmp_path / "qat" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["val_psnr"] > rows[-1]["val_psnr_input"] - 0.5
    with pytest.raises(ConfigError, match="qat is for the collapsible students"):
        TrainConfig(qat=True)
    with pytest.raises(ConfigError, match="qat_fold_identity refines quantization-aware training: set qat = true"):
        TrainConfig(model="collapsible", qat_fold_identity=True)
    # folded QAT from the same start: the blocks round kernel + identity; the export folds them by default
    from kd.export import fold_identity_of
    from kd.models import CollapsibleStudent

    seen = []
    real = CollapsibleStudent.set_fake_quant
    monkeypatch.setattr(CollapsibleStudent, "set_fake_quant", lambda self, *a, **k: seen.append(a) or real(self, *a, **k))
    train(tiny(folder, tmp_path / "fold", qat=True, qat_fold_identity=True, init=str(tmp_path / "fp" / "last.pt"), lr=1e-4, **kw),
          progress=False)
    assert seen == [(True, False, True)]  # enabled, integer ends, fold_identity: the recipe reaches the model

    fold = load_checkpoint(tmp_path / "fold" / "last.pt")
    assert fold_identity_of(ExportConfig(checkpoint="x.pt"), fold) and not fold_identity_of(ExportConfig(checkpoint="x.pt"), ck)


def test_a_cosine_fitted_to_minutes_on_device_patches(folder, tmp_path):
    """cosine_minutes: the run measures its speed, shortens `epochs` so the cosine ends in time, ends
    at that epoch's last step (max-epochs, not the time limit) and keeps the fitted length when resumed."""
    from kd.train import FIT_PROBE_STEPS

    cfg = tiny(folder, tmp_path / "fit", steps_per_epoch=FIT_PROBE_STEPS[1] + 100, epochs=1000, lr_schedule="cosine",
               device_patches=True, cosine_minutes=0.15)
    summary = train(cfg, progress=False)
    ck = load_checkpoint(tmp_path / "fit" / "last.pt")
    fitted = ck["state"]["fitted_epochs"]
    assert 1 <= fitted < 1000 and summary["stopped"] == "max-epochs"
    assert summary["step"] == fitted * cfg.steps_per_epoch
    rows = [json.loads(l) for l in (tmp_path / "fit" / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["lr"] < 0.05 * cfg.lr  # the cosine ran its whole (fitted) course
    saved = json.loads((tmp_path / "fit" / "config.json").read_text())
    assert saved["epochs"] == ck["config"]["epochs"] == fitted and saved["cosine_minutes"] is None
    assert train(cfg, progress=False)["step"] == summary["step"]  # resumed: the fitted cosine is already over
    with pytest.raises(ConfigError, match="device_patches needs fixed inputs"):
        tiny(folder, tmp_path, device_patches=True, jpeg_quality=(30, 90))
    with pytest.raises(ConfigError, match="cosine_minutes must be > 0"):
        tiny(folder, tmp_path, cosine_minutes=1.0)
    with pytest.raises(ConfigError, match="pool_workers"):
        tiny(folder, tmp_path, pool_workers=2)


def test_the_fitted_cosine_length_follows_the_probe_speed(monkeypatch, tmp_path):
    from kd import train as train_module

    (tmp_path / "config.json").write_text("{}")
    cfg = TrainConfig(lr_schedule="cosine", epochs=1000, steps_per_epoch=100, cosine_minutes=1.0)
    monkeypatch.setattr(train_module.time, "time", lambda: 1000.0)
    state = {"step": 300, "epoch": 3}
    # 250 probe steps in 5 s = 50 steps/s; 50 s of the minute left: 300 + 0.92 * 50 * 50 = 2,600 steps
    fitted = train_module._fit_cosine(cfg, state, 990.0, 995.0, train_module._Dist(), tmp_path)
    assert fitted.epochs == state["fitted_epochs"] == 26 and fitted.cosine_minutes is None
    assert json.loads((tmp_path / "config.json").read_text())["epochs"] == 26
    late = train_module._fit_cosine(cfg, {"step": 300, "epoch": 3}, 900.0, 995.0, train_module._Dist(), tmp_path)
    assert late.epochs == 4  # no time left: the epoch under way is the last


def test_cosine_schedule_decays_to_the_floor():
    cfg = TrainConfig(lr=1e-3, lr_schedule="cosine", lr_min_ratio=0.01, epochs=10, steps_per_epoch=100)
    assert cfg.lr_at(0) == pytest.approx(1e-3)
    assert cfg.lr_at(500) == pytest.approx(1e-3 * (0.01 + 0.99 * 0.5))
    assert cfg.lr_at(1000) == pytest.approx(1e-5) == cfg.lr_at(5000)
    with pytest.raises(ConfigError, match="lr_schedule"):
        TrainConfig(lr_schedule="linear")
    with pytest.raises(ConfigError, match="loss"):
        TrainConfig(loss="l2")


def test_webcam_mix_overrides_reach_the_degradation():
    from kd.degrade import WebcamMix

    assert TrainConfig().webcam_mix() is None
    assert TrainConfig(webcam=True).webcam_mix() == WebcamMix()
    mix = TrainConfig(webcam=True, webcam_p_jpeg=0.9, webcam_jpeg_quality=(20, 80)).webcam_mix()
    assert (mix.p_jpeg, mix.jpeg_quality) == (0.9, (20, 80)) and mix.p_noise == WebcamMix().p_noise
    with pytest.raises(ConfigError, match="webcam = true"):
        TrainConfig(webcam_p_jpeg=0.9)
    with pytest.raises(ConfigError, match="webcam_jpeg_quality"):
        TrainConfig(webcam=True, webcam_jpeg_quality=(80, 20))
    with pytest.raises(ConfigError, match="probability"):
        TrainConfig(webcam=True, webcam_p_jpeg=1.5)
    mix = TrainConfig(webcam=True, webcam_p_jpeg_low_res=0.8).webcam_mix()
    assert (mix.p_jpeg_low_res, mix.p_jpeg) == (0.8, WebcamMix().p_jpeg)
    with pytest.raises(ConfigError, match="webcam_p_jpeg_low_res must be a probability"):
        TrainConfig(webcam=True, webcam_p_jpeg_low_res=-0.1)
    with pytest.raises(ConfigError, match="webcam = true"):
        TrainConfig(webcam_p_jpeg_low_res=0.8)
    mix = TrainConfig(webcam=True, webcam_p_clean_x2=0.0, webcam_p_resize=1.0).webcam_mix()
    assert (mix.p_clean_x2, mix.p_resize, mix.p_jpeg_low_res) == (0.0, 1.0, WebcamMix().p_jpeg_low_res)
    with pytest.raises(ConfigError, match="webcam_p_resize must be a probability"):
        TrainConfig(webcam=True, webcam_p_resize=2.0)
    mix = TrainConfig(webcam=True, webcam_p_h264=0.5, webcam_h264_crf=(22, 40)).webcam_mix()
    assert (mix.p_h264, mix.h264_crf, mix.p_jpeg) == (0.5, (22, 40), WebcamMix().p_jpeg)
    with pytest.raises(ConfigError, match="webcam_h264_crf must be"):
        TrainConfig(webcam=True, webcam_h264_crf=(40, 22))
    with pytest.raises(ConfigError, match="webcam_p_h264 must be a probability"):
        TrainConfig(webcam=True, webcam_p_h264=1.2)
    with pytest.raises(ConfigError, match="webcam = true"):
        TrainConfig(webcam_h264_crf=(22, 40), webcam_p_h264=0.5)
    with pytest.raises(ConfigError, match="set webcam_p_h264 > 0"):
        TrainConfig(webcam=True, webcam_h264_crf=(22, 40))
    mix = TrainConfig(webcam=True, webcam_scale=(1.5, 3.5)).webcam_mix()
    assert (mix.scale, mix.p_resize) == ((1.5, 3.5), WebcamMix().p_resize)
    with pytest.raises(ConfigError, match="webcam_scale must be"):
        TrainConfig(webcam=True, webcam_scale=(3.0, 1.5))
    with pytest.raises(ConfigError, match="webcam_scale must be"):
        TrainConfig(webcam=True, webcam_scale=(1.0, 2.0))
    with pytest.raises(ConfigError, match="webcam = true"):
        TrainConfig(webcam_scale=(1.5, 3.5))
    mix = TrainConfig(webcam=True, webcam_p_blur=0.9, webcam_p_defocus=0.5, webcam_blur_sigma=(1.2, 2.2),
                      webcam_defocus_radius=(1.5, 3.2)).webcam_mix()
    assert (mix.p_blur, mix.p_defocus, mix.blur_sigma, mix.defocus_radius) == (0.9, 0.5, (1.2, 2.2), (1.5, 3.2))
    assert mix.p_noise == WebcamMix().p_noise
    with pytest.raises(ConfigError, match="webcam_p_defocus must be a probability"):
        TrainConfig(webcam=True, webcam_p_defocus=1.5)
    with pytest.raises(ConfigError, match=r"webcam_defocus_radius must be \[low, high\] with 0 < low <= high <= 6 px"):
        TrainConfig(webcam=True, webcam_defocus_radius=(3.0, 1.0))
    with pytest.raises(ConfigError, match="webcam_blur_sigma must be"):
        TrainConfig(webcam=True, webcam_blur_sigma=(0.0, 1.0))
    with pytest.raises(ConfigError, match="webcam = true"):
        TrainConfig(webcam_blur_sigma=(1.0, 2.0))


def test_h264_in_the_mix_without_pyav_is_one_line_naming_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_av(name, *args, **kwargs):
        if name == "av":
            raise ImportError("No module named 'av'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_av)
    with pytest.raises(ConfigError, match=r"PyAV.*\.\[video\]"):
        TrainConfig(webcam=True, webcam_p_h264=0.5)
    TrainConfig(webcam=True, webcam_p_h264=0.0)  # off: PyAV not needed


def test_a_webcam_case_trains_on_that_benchmark_degradation_alone(folder, tmp_path):
    from kd.degrade import WEBCAM_BENCHMARK

    case = TrainConfig(webcam=True, webcam_case="x2+jpeg40").webcam_mix()
    assert case is WEBCAM_BENCHMARK["x2+jpeg40"]
    # the sampler's patches are the case applied to their window: fixed, so the same window under two
    # seeds of the degradation's own stream gives the same input
    files = split_files(scan_images([str(folder)])).train
    sampler = PatchSampler(files, 32, webcam=case)
    a = sampler._webcam_patch(0, 4, 6, np.random.default_rng(3))
    assert np.array_equal(a, sampler._webcam_patch(0, 4, 6, np.random.default_rng(4)))
    assert not np.array_equal(a, sampler.hr[0][4:36, 6:38]) and a.shape == (32, 32, 3)
    lq, hr = sampler.sample(4, np.random.default_rng(3))
    assert lq.shape == hr.shape == (4, 3, 32, 32)
    cfg = tiny(folder, tmp_path / "probe", model="collapsible", width=8, depth=2, expand=16, loss="l1", loss_on_y=True,
               webcam=True, webcam_case="x2+jpeg40", epochs=1)
    assert train(cfg, progress=False)["step"] == 6
    assert load_checkpoint(tmp_path / "probe" / "last.pt")["config"]["webcam_case"] == "x2+jpeg40"
    with pytest.raises(ConfigError, match="webcam_case must be one of x2, x2\\+jpeg40"):
        TrainConfig(webcam=True, webcam_case="jpeg")
    with pytest.raises(ConfigError, match="6-pixel grid"):
        TrainConfig(webcam=True, webcam_case="x3")
    with pytest.raises(ConfigError, match="replaces the webcam mix: drop webcam_p_jpeg$"):
        TrainConfig(webcam=True, webcam_case="x2", webcam_p_jpeg=0.9)
    with pytest.raises(ConfigError, match="set webcam = true too"):
        TrainConfig(webcam_case="x2")


def test_training_reads_the_split_prepare_wrote(folder, tmp_path):
    from kd.data import Split

    files = scan_images([str(folder)])
    custom = Split(train=tuple(files[:3]), val=tuple(files[3:5]), test=tuple(files[5:]))  # not the default fractions
    custom.write(tmp_path / "split", [str(folder)])
    assert not any(l.startswith("/") for l in (tmp_path / "split" / "train.txt").read_text().splitlines())  # relative
    train(tiny(folder, tmp_path / "run", split=str(tmp_path / "split"), epochs=1), progress=False)
    used = Split.read(tmp_path / "run" / "split", [str(folder)])
    assert used.train == tuple(f.resolve() for f in files[:3]) and used.test == tuple(f.resolve() for f in files[5:])
    # a split of other folders is not this run's: the default split of --data instead
    assert Split.prepared(tmp_path / "split", [str(tmp_path)]) is None
    (tmp_path / "split" / "val.txt").write_text(str(tmp_path / "elsewhere.png") + "\n")
    with pytest.raises(Exception, match="does not exist"):
        train(tiny(folder, tmp_path / "run2", split=str(tmp_path / "split"), epochs=1), progress=False)


def test_curves_command_plots_runs_together(folder, tmp_path):
    from click.testing import CliRunner

    from kd.__main__ import cli

    train(tiny(folder, tmp_path / "a", loss="l1"), progress=False)
    train(tiny(folder, tmp_path / "b"), progress=False)
    r = CliRunner().invoke(cli, ["curves", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "c.png")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(cli, ["curves", str(tmp_path / "nope"), "--out", str(tmp_path / "d.png")])
    assert r.exit_code == 1 and "cannot read" in r.output


def test_stability_loss_is_zero_when_a_change_passes_through_as_it_is():
    from kd.losses import stability_loss

    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    noise = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * (2 / 255)
    assert float(stability_loss(x, x + noise, noise, "l1", on_y=True)) < 1e-7  # the identity
    doubled = float(stability_loss(x, x + 2 * noise, noise, "l1", on_y=True))  # draws the change twice as large
    assert doubled == pytest.approx(float(noise.abs().mean()), rel=1e-4)
    assert float(stability_loss(x, x, noise, "l1", on_y=True)) == pytest.approx(doubled, rel=1e-4)  # smooths it away


def _noise_gain(run: Path, folder) -> float:
    """Mean |f(x + n) - f(x) - n| of a trained run on a fixed batch, n luma noise of 2 grey levels."""
    model = model_from_checkpoint(run / "last.pt")[0].eval()
    files = split_files(scan_images([str(folder)])).train
    lq, _ = PatchSampler(files, 32).sample(16, np.random.default_rng(5))
    x = torch.from_numpy(lq)
    noise = torch.from_numpy(np.random.default_rng(6).normal(0, 2 / 255, (16, 1, 32, 32)).astype(np.float32))
    with torch.no_grad():
        return float((model(x + noise) - model(x) - noise).abs().mean())


def test_the_stability_term_trains_a_model_that_draws_input_changes_less_large(folder, tmp_path):
    common = dict(model="collapsible", width=8, depth=2, expand=16, loss="l1", loss_on_y=True, webcam=True,
                  steps_per_epoch=60, epochs=1, batch_size=8)
    train(tiny(folder, tmp_path / "plain", **common), progress=False)
    summary = train(tiny(folder, tmp_path / "stable", stability_weight=5.0, **common), progress=False)
    assert summary["step"] == 60
    assert load_checkpoint(tmp_path / "stable" / "last.pt")["config"]["stability_weight"] == 5.0
    assert _noise_gain(tmp_path / "stable", folder) < 0.8 * _noise_gain(tmp_path / "plain", folder)
    for bad in (dict(stability_weight=-1.0), dict(stability_sigma=0.0)):
        with pytest.raises(ConfigError, match="stability_weight must be >= 0 and stability_sigma > 0"):
            tiny(folder, tmp_path, **bad)
