"""vcam.config: defaults, validation (one-line errors), TOML reading and precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from vcam.config import DaemonConfig, SharpCamError, build_config, parse_size, read_toml


def test_defaults_are_valid_and_frozen() -> None:
    cfg = DaemonConfig()
    assert cfg.model == "sharpcam-cs4-switch" and cfg.strength == 1.0 and cfg.output == "camera"
    assert cfg.publish_fps == cfg.fps
    with pytest.raises(AttributeError):
        cfg.fps = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"fps": -5.0}, "--fps"),
        ({"fps": 0.0}, "--fps"),
        ({"output_fps": float("nan")}, "--output-fps"),
        ({"strength": 3.0}, "--strength"),
        ({"strength": -0.1}, "--strength"),
        ({"unsharp": -1.0}, "--unsharp"),
        ({"steady": 1.0}, "--steady"),
        ({"steady": 0.96}, "--steady"),
        ({"steady": -0.2}, "--steady"),
        ({"steady": True}, "--steady"),
        ({"width": 8}, "--width"),
        ({"height": 100000}, "--height"),
        ({"fourcc": "MJPEG"}, "--fourcc"),
        ({"provider": "tpu"}, "--provider"),
        ({"threads": -1}, "--threads"),
        ({"output": "out.txt"}, "--output"),
        ({"device": " "}, "--device"),
        ({"work_size": (4, 4)}, "--work-size"),
        ({"stats_interval": -1.0}, "--stats-interval"),
        ({"on_demand": True, "output": "null"}, "--on-demand"),
    ],
)
def test_nonsense_settings_give_one_line_errors(changes: dict, needle: str) -> None:
    with pytest.raises(SharpCamError) as info:
        DaemonConfig(**changes)
    message = str(info.value)
    assert needle in message and "\n" not in message and ": " in message


def test_replace_validates_again() -> None:
    with pytest.raises(SharpCamError):
        DaemonConfig().replace(strength=3.0)
    assert DaemonConfig().replace(strength=0.0).strength == 0.0


def test_parse_size() -> None:
    assert parse_size("1280x720") == (1280, 720)
    assert parse_size(" 641 X 359 ") == (641, 359)
    with pytest.raises(SharpCamError, match="WIDTHxHEIGHT"):
        parse_size("720p")


def test_toml_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "sharpcam.toml"
    path.write_text('device = "/dev/video9"\nfps = 15\nstrength = 0.5\nwork-size = "320x180"\nmirror = true\n')
    cfg = build_config(path, {"strength": 0.25})
    assert cfg.device == "/dev/video9" and cfg.fps == 15.0 and cfg.mirror
    assert cfg.strength == 0.25  # flags/env win over the file
    assert cfg.work_size == (320, 180)
    path.write_text("switch-every = 2\nswitch-confirm = 10\n")  # a model pair's switch: the file only, no flag
    assert (build_config(path, {}).switch_every, build_config(path, {}).switch_confirm) == (2, 10)


def test_toml_sharpcam_table(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text("[sharpcam]\nmodel = \"none\"\n")
    assert read_toml(path) == {"model": "none"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("fsp = 30\n", "unknown setting 'fsp'"),
        ("fps = \n", "cannot read config file"),
        ("fps = \"fast\"\n", "--fps"),
        ("strength = 3\n", "--strength"),
        ("mirror = \"false\"\n", "mirror = 'false' is not true or false: write mirror = true or mirror = false"),
        ("on-demand = 1\n", "on-demand = 1 is not true or false"),
        ("work_sise = \"960x540\"\n", "use one of .*work-size"),
        ("switch-every = 0\n", "switch-every = 0 is out of range"),
        ("switch-confirm = 2.5\n", "switch-confirm = 2.5 is out of range"),
    ],
)
def test_bad_toml(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(SharpCamError, match=needle):
        build_config(path, {})


def test_missing_toml(tmp_path: Path) -> None:
    with pytest.raises(SharpCamError, match="does not exist"):
        build_config(tmp_path / "nope.toml", {})


def test_toml_booleans_keep_their_meaning(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text("mirror = false\nloop = true\n")
    cfg = build_config(path, {})
    assert cfg.mirror is False and cfg.loop is True
