"""The before/after grid on a real face (scikit-image's astronaut)."""
import numpy as np
import torch
from click.testing import CliRunner

from kd.degrade import bicubic_down_up
from kd.grid import face_crop, grid_command, grid_rows
from kd.models import RealtimeStudent


def test_grid_columns_are_original_blurred_and_each_model(tmp_path):
    ckpt = tmp_path / "rt.pt"
    m = RealtimeStudent(width=8, depth=1)
    torch.save({"arch": "RealtimeStudent", "args": {"width": 8, "depth": 1}, "model": m.state_dict()}, ckpt)
    face = face_crop()
    rows = grid_rows([str(ckpt)], face, ["x2"], threads=1, zoom=3, unsharp=None)
    assert len(rows) == 2 and len(rows[0]) == 3
    orig, blurred, model = rows[0].values()
    assert np.array_equal(orig, face) and np.array_equal(blurred, bicubic_down_up(face, 2))
    assert np.array_equal(model, blurred)  # an untrained student (zero last layer) is the identity
    assert all(v.shape == (192, 192, 3) for v in rows[1].values())


def test_grid_has_a_row_per_degradation_and_the_unsharp_column(tmp_path):
    (tmp_path / "u.toml").write_text("[unsharp]\nsigma = 1.0\namount = 0.7\n")
    face = face_crop()
    rows = grid_rows([], face, ["x2", "blur1.2+noise4+jpeg60"], threads=1, zoom=1, unsharp=str(tmp_path / "u.toml"))
    assert len(rows) == 2 and list(rows[0]) == list(rows[1]) == ["sharp original", "degraded input", "unsharp mask (σ 1, amount 0.7)"]
    assert not np.array_equal(rows[0]["degraded input"], rows[1]["degraded input"])
    again = grid_rows([], face, ["blur1.2+noise4+jpeg60"], threads=1, zoom=1, unsharp=None)
    assert np.array_equal(again[0]["degraded input"], rows[1]["degraded input"])


def test_grid_command_writes_a_png(tmp_path):
    out = tmp_path / "faces.png"
    r = CliRunner().invoke(grid_command, ["--out", str(out), "--zoom", "2", "--unsharp", "", "--degradation", "x2",
                                          "--degradation", "x3"])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:4] == b"\x89PNG"
    r = CliRunner().invoke(grid_command, [str(tmp_path / "missing.pt"), "--out", str(out)])
    assert r.exit_code == 1 and "not found" in r.output
