from dataclasses import fields
from pathlib import Path

import pytest

from indexer.config import SETTINGS, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_settings_table_matches_the_settings_object():
    assert [s.name for s in SETTINGS] == [f.name for f in fields(Settings)]
    defaults = Settings()
    for s in SETTINGS:
        assert str(getattr(defaults, s.name)) == str(s.default), s.name


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for s in SETTINGS:
        assert f"`{s.env}`" in readme, f"{s.env} missing from README's configuration table"


def test_environment_then_overrides():
    env = {"RELIEF_INDEX": "/tmp/from-env", "RELIEF_PORT": "5123"}
    assert load_settings(env).index == Path("/tmp/from-env")
    assert load_settings(env).port == 5123
    assert load_settings(env, index="/tmp/from-flag").index == Path("/tmp/from-flag")
    assert load_settings({}).index == Path("instance/index")


def test_bad_number_in_environment_is_a_clear_error():
    with pytest.raises(ValueError, match="bad setting"):
        load_settings({"RELIEF_PORT": "five thousand"})
