"""Config: file, environment and flags, validated; every setting documented."""

import re

import pytest
from conftest import REPO, run_cli

from posture.config import Config, documentation, load_config, markdown_table, parse_quiet_hours
from posture.errors import UsageError


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.delenv("POSTURE_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # the default place: no file there
    config = load_config(environ={})
    assert config.breaks.sit_limit_min == 45.0 and config.monitor.sample_hz == 1.0


def test_a_config_named_on_purpose_must_exist(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match="no such config file"):
        load_config(tmp_path / "none.toml", environ={})
    monkeypatch.setenv("POSTURE_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(UsageError, match="POSTURE_CONFIG=.*no such config file"):
        load_config(environ={})
    assert load_config(missing_ok=True, environ={}).breaks.sit_limit_min == 45.0


def test_file_then_environment_then_flags(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[alerts]\ncooldown_min = 20\nsound = true\n[monitor]\nsample_hz = 2\n")
    config = load_config(path, environ={"POSTURE_ALERTS_COOLDOWN_MIN": "5",
                                        "POSTURE_MODEL_DIR": "/elsewhere"},
                         overrides={"monitor": {"sample_hz": 0.5}})
    assert config.alerts.cooldown_min == 5.0 and config.alerts.sound is True
    assert config.monitor.sample_hz == 0.5


@pytest.mark.parametrize("text, message", [
    ("[alerts]\ncooldown = 5\n", "unknown key(s) in [alerts]: cooldown"),
    ("[alarms]\n", "unknown section [alarms]"),
    ("[monitor]\nsample_hz = 500\n", "monitor.sample_hz: 500"),
    ("[monitor]\nmodel = 'huge'\n", "not one of lite, full, heavy"),
    ("[alerts]\nsound = 'loud'\n", "expected a bool"),
    ("[camera]\nwidth = nan\n", "camera.width"),
    ("[monitor]\nsample_hz = inf\n", "monitor.sample_hz"),
    ("[history]\nretention_days = 2.5\n", "history.retention_days"),
    ("[alerts]\nquiet_hours = '25:00-07:00'\n", "not like 22:00-07:00"),
    ("[alerts\n", "cannot read config"),
])
def test_bad_files_are_rejected_with_the_name(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(UsageError, match=re.escape(message)):
        load_config(path, environ={})


def test_bad_environment_value_named():
    with pytest.raises(UsageError, match="breaks.sit_limit_min"):
        load_config(environ={"POSTURE_BREAKS_SIT_LIMIT_MIN": "soon"})


def test_quiet_hours_parse():
    assert parse_quiet_hours("22:00-07:30") == (1320, 450)
    with pytest.raises(ValueError, match="not like"):
        parse_quiet_hours("7 to 9")


def test_every_setting_is_documented_in_readme():
    readme = (REPO / "README.md").read_text()
    assert markdown_table() in readme, "README's settings table is out of date: paste the " \
        "output of `posture config docs --markdown`"
    assert {f"{d.section}.{d.key}" for d in documentation()} == {
        f"{s}.{k}" for s, table in Config().to_dict().items() for k in table}


def test_config_cli_check_and_bad_file(tmp_path):
    good = tmp_path / "good.toml"
    good.write_text("[breaks]\nsit_limit_min = 30\n")
    assert run_cli("config", "check", "--config", str(good)).returncode == 0
    shown = run_cli("config", "show", "--config", str(good))
    assert "sit_limit_min = 30.0" in shown.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("[breaks]\nsit_limit = 30\n")
    proc = run_cli("config", "check", "--config", str(bad))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "sit_limit" in proc.stderr
