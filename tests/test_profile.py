"""`kd profile`: real training steps timed over a small grid, on real photos; report files; bad input."""
import json

import pytest
from click.testing import CliRunner
from photos import write_photo_folder

from kd.config import ConfigError, ProfileConfig
from kd.profile import profile, profile_command


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("hr")
    write_photo_folder(d, size=64)
    return d


def test_every_row_is_timed_and_reported(folder, tmp_path):
    cfg = ProfileConfig(model="dncnn", width=8, depth=3, threads=(1,), batch_sizes=(2,), patch_sizes=(16, 24),
                        precisions=("fp32", "bf16"), steps=2, warmup=1, data_dirs=(str(folder),), out=str(tmp_path / "p"))
    rows = profile(cfg, log=lambda _m: None)
    assert [(r["patch"], r["precision"]) for r in rows] == [(16, "fp32"), (16, "bf16"), (24, "fp32"), (24, "bf16")]
    for r in rows:
        parts = r["ms_data"] + r["ms_forward"] + r["ms_backward"] + r["ms_optimizer"]
        assert r["ms_step"] > 0 and parts == pytest.approx(r["ms_step"], rel=0.5)
        assert r["mpx_per_s"] == pytest.approx(r["patches_per_s"] * r["patch"] ** 2 / 1e6)
    saved = json.loads((tmp_path / "p.json").read_text())
    assert saved["rows"] == rows and saved["model"]["arch"] == "DnCNN"
    table = (tmp_path / "p.md").read_text()
    assert table.count("\n| 1 |") == 4 and not list(tmp_path.glob("*.partial"))


def test_bad_settings_name_the_fix(folder, tmp_path):
    with pytest.raises(ConfigError, match="fp32 and/or bf16"):
        ProfileConfig(precisions=("fp16",))
    with pytest.raises(ConfigError, match="fp32 and/or bf16"):
        ProfileConfig(precisions=())
    with pytest.raises(ConfigError, match="width must be positive"):
        ProfileConfig(width=0)
    r = CliRunner().invoke(profile_command, ["--model", "rt", "--patch-size", "30", "--data", str(folder),
                                             "--out", str(tmp_path / "x")])
    assert r.exit_code == 1 and "multiple of 4" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(profile_command, ["--batch-size", "a,b"])
    assert r.exit_code == 1 and "--batch-size" in r.output
    assert not list(tmp_path.glob("x*"))
