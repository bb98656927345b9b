"""Settings as data: one declaration, the committed TOML, env and flags, and the README."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from webui.config import OPTIONS, ConfigError, Settings, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_in_the_readme_config_table() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \| `WEBUI_", readme, flags=re.MULTILINE))
    missing = {o.name for o in OPTIONS} - documented
    assert not missing, f"settings missing from the README config table: {sorted(missing)}"
    assert documented <= {o.name for o in OPTIONS}, "the README documents unknown settings"


def test_committed_toml_holds_every_default_with_a_comment() -> None:
    text = (ROOT / "config" / "webui.toml").read_text()
    table = tomllib.loads(text)["webui"]
    assert set(table) == {o.name for o in OPTIONS}
    for option in OPTIONS:
        expected = str(option.default) if option.type is Path else option.default
        assert table[option.name] == expected, option.name
        assert f"# {option.help}\n{option.name} =" in text


def test_defaults_match_the_spec() -> None:
    settings = load_settings(config_path=ROOT / "config" / "webui.toml")
    assert (settings.host, settings.port) == ("127.0.0.1", 8787)
    assert (settings.idle_ttl, settings.streaming_ttl, settings.cache_entries) == (2.5, 45.0, 64)
    assert settings.home == Path("~/.hermes").expanduser()


def test_environment_overrides_file_and_flags_override_both(tmp_path: Path) -> None:
    config = tmp_path / "webui.toml"
    config.write_text("[webui]\nport = 9000\nidle_ttl = 1.0\nwatch = false\n")
    env = {"WEBUI_PORT": "9100", "WEBUI_WATCH": "yes", "WEBUI_HOME": str(tmp_path)}
    settings = load_settings(config_path=config, environ=env, overrides={"port": "9200"})
    assert (settings.port, settings.idle_ttl, settings.watch) == (9200, 1.0, True)
    assert settings.home == tmp_path
    assert isinstance(settings, Settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"WEBUI_PORT": "eighty"}, "port"),
        ({"WEBUI_WATCH": "sometimes"}, "watch"),
        ({"WEBUI_STREAMING_TTL": "1.5"}, "streaming_ttl"),
        ({"WEBUI_IDLE_TTL": "0"}, "idle_ttl"),
        ({"WEBUI_BACKEND": "gpt"}, "backend"),
        ({"WEBUI_CACHE_ENTRIES": "0"}, "cache_entries"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(config_path=ROOT / "config" / "webui.toml", environ=env)


def test_unknown_keys_in_the_file_are_errors(tmp_path: Path) -> None:
    config = tmp_path / "webui.toml"
    config.write_text("[webui]\nprot = 1\n")
    with pytest.raises(ConfigError, match="prot"):
        load_settings(config_path=config)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(config_path=tmp_path / "nope.toml")
