"""Server settings declared as data, loaded once into one frozen ``Settings``.

Precedence: the committed defaults in ``config/webui.toml`` < environment variables
``WEBUI_<NAME>`` < command-line flags. Nothing reads the environment at import time: the
command line calls :func:`load_settings` once and hands the result to ``create_app``.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = Path("config/webui.toml")


def _setting(default: Any, help: str, *, secret: bool = False) -> Any:
    return dataclasses.field(default=default, metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Every server setting, declared once: its type, default and one-line help."""

    home: Path = _setting(Path("~/.hermes"), "Data home: the agent's state.db files and webui/.")
    host: str = _setting("127.0.0.1", "Address to bind; anything but loopback needs a token.")
    port: int = _setting(8787, "TCP port to listen on.")
    workers: int = _setting(1, "uvicorn worker processes; they share webui.db and agree.")
    token: str = _setting(
        "", "Auth token for /api/* (Bearer or login cookie); empty = none.", secret=True
    )
    idle_ttl: float = _setting(
        2.5, "Seconds a list is trusted when its stamp could not be read in full (locked db)."
    )
    streaming_ttl: float = _setting(45.0, "Seconds a cached list is held while a stream is live.")
    stream_poll_interval: float = _setting(2.0, "Browser poll interval while a row streams.")
    idle_poll_interval: float = _setting(5.0, "Browser poll interval while nothing streams.")
    cache_entries: int = _setting(64, "Most cached lists kept; least recently used go first.")
    busy_timeout: float = _setting(5.0, "Seconds a read waits on a locked state.db.")
    build_wait: float = _setting(30.0, "Seconds a cold request waits for the one rebuild.")
    heartbeat_interval: float = _setting(1.0, "Seconds between a live stream's heartbeats.")
    stream_stale_after: float = _setting(10.0, "A stream without heartbeat this long is dead.")
    backend: str = _setting("demo", "Agent backend for chat turns: demo or openai.")
    demo_tokens_per_second: float = _setting(20.0, "Reply speed of the demo backend.")
    openai_base_url: str = _setting("http://127.0.0.1:11434/v1", "OpenAI-compatible API URL.")
    openai_model: str = _setting("gpt-4o-mini", "Model name sent to the openai backend.")
    openai_api_key: str = _setting("", "API key for the openai backend.", secret=True)
    max_body_bytes: int = _setting(1_048_576, "Largest request body accepted (413 above).")
    watch: bool = _setting(True, "Watch the home with watchfiles and push change events.")
    log_level: str = _setting("info", "uvicorn log level.")
    incremental_index: bool = _setting(
        True, "Refresh lists from what changed; false forces full rebuilds (bench only)."
    )
    claude_home: str = _setting(
        "~/.claude", "Claude Code's folder (transcripts in projects/); empty = source off."
    )
    claude_cache_bytes: int = _setting(
        268_435_456, "Most bytes of parsed Claude Code transcripts kept (LRU)."
    )

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Option:
    """One setting as data, derived from ``Settings`` (for the TOML file, the README, --help)."""

    name: str
    type: type
    default: Any
    help: str
    secret: bool


_TYPES: dict[str, type] = {"Path": Path, "str": str, "int": int, "float": float, "bool": bool}

OPTIONS: tuple[Option, ...] = tuple(
    Option(f.name, _TYPES[str(f.type)], f.default, f.metadata["help"], f.metadata["secret"])
    for f in dataclasses.fields(Settings)
)
OPTION_NAMES = frozenset(o.name for o in OPTIONS)


class ConfigError(ValueError):
    """A setting has a value of the wrong type or out of range; the message names it."""


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_bool(text: str) -> bool | None:
    """The booleans the API and the environment accept; None when ``text`` is none of them."""
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    return None


def _coerce(option: Option, value: object, origin: str) -> object:
    where = f"{option.name} (from {origin})"
    if option.type is bool:
        if isinstance(value, bool):
            return value
        parsed = parse_bool(str(value)) if isinstance(value, str) else None
        if parsed is None:
            raise ConfigError(f"{where}: expected a boolean, got {value!r}")
        return parsed
    if option.type is Path:
        if not isinstance(value, (str, Path)) or not str(value):
            raise ConfigError(f"{where}: expected a path, got {value!r}")
        return Path(value).expanduser()
    if option.type in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            number: Any = value
            return option.type(number)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected text, got {value!r}")
    return value


def _validate(settings: Settings) -> None:
    positive = ("idle_ttl", "streaming_ttl", "busy_timeout", "build_wait", "heartbeat_interval")
    for name in positive:
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name}: must be above 0")
    if settings.streaming_ttl <= settings.stream_poll_interval:
        raise ConfigError("streaming_ttl: must be above stream_poll_interval")
    if settings.stream_stale_after <= settings.heartbeat_interval:
        raise ConfigError("stream_stale_after: must be above heartbeat_interval")
    if not 1 <= settings.cache_entries <= 100_000:
        raise ConfigError("cache_entries: must be between 1 and 100000")
    if not 0 <= settings.port <= 65535:
        raise ConfigError("port: must be between 0 and 65535")
    if settings.workers < 1:
        raise ConfigError("workers: must be at least 1")
    if settings.backend not in ("demo", "openai"):
        raise ConfigError("backend: must be demo or openai")
    if settings.max_body_bytes < 1024:
        raise ConfigError("max_body_bytes: must be at least 1024")


def read_config_file(path: Path) -> dict[str, object]:
    """The ``[webui]`` table of a TOML file; unknown keys are an error, not a silent typo."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("webui", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [webui] must be a table")
    unknown = sorted(set(table) - OPTION_NAMES)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {', '.join(unknown)}")
    return dict(table)


def load_settings(
    *,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Defaults < config file < ``WEBUI_*`` environment < ``overrides`` (command-line flags)."""
    environ = environ or {}
    path = config_path or Path(environ.get("WEBUI_CONFIG", "") or DEFAULT_CONFIG)
    layers: list[tuple[str, Mapping[str, object]]] = []
    if path.is_file():
        layers.append((str(path), read_config_file(path)))
    elif config_path is not None:
        raise ConfigError(f"config file {config_path} does not exist")
    env_layer = {
        o.name: environ[f"WEBUI_{o.name.upper()}"]
        for o in OPTIONS
        if f"WEBUI_{o.name.upper()}" in environ
    }
    layers.append(("environment", env_layer))
    layers.append(("command line", {k: v for k, v in (overrides or {}).items() if v is not None}))
    values: dict[str, object] = {o.name: _coerce(o, o.default, "defaults") for o in OPTIONS}
    by_name = {o.name: o for o in OPTIONS}
    for origin, layer in layers:
        for name, value in layer.items():
            values[name] = _coerce(by_name[name], value, origin)
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings
