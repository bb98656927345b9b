"""``<home>/webui/settings.json``: the user's preferences, validated, written atomically.

A hand edit is picked up on the next request (the file's stat is checked each time); an
invalid file keeps the last good preferences and is reported, never a 500.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from webui.agentdb.home import DEFAULT_PROFILE, is_profile_name
from webui.errors import ApiError, bad_param
from webui.files import FileStat, file_stat


@dataclass(frozen=True)
class Preferences:
    show_cli: bool = True
    show_cron: bool = False
    show_webhook: bool = False
    show_messaging_history: bool = False
    show_claude_code: bool = True
    default_profile: str = DEFAULT_PROFILE

    @property
    def gates(self) -> dict[str, bool]:
        return {
            "show_cli": self.show_cli,
            "show_cron": self.show_cron,
            "show_webhook": self.show_webhook,
            "show_messaging_history": self.show_messaging_history,
            "show_claude_code": self.show_claude_code,
        }

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


FIELDS = {f.name: f.type for f in dataclasses.fields(Preferences)}


def validate(changes: Mapping[str, object]) -> dict[str, Any]:
    """Checked values, or an ApiError naming the first unknown key or wrong type."""
    checked: dict[str, Any] = {}
    for name, value in changes.items():
        if name not in FIELDS:
            raise bad_param(name, f"unknown setting {name!r}")
        if FIELDS[name] == "bool":
            if not isinstance(value, bool):
                raise bad_param(name, f"{name} must be true or false")
        elif not isinstance(value, str) or not is_profile_name(value):
            raise bad_param(name, f"{name} must be a profile name")
        checked[name] = value
    return checked


class PreferenceStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._prefs = Preferences()
        self._stat: FileStat | None = None
        self._loaded = False
        self.problem: str | None = None

    @property
    def stat(self) -> FileStat | None:
        return self._stat

    def current(self) -> Preferences:
        """The preferences, re-read when the file's stat changed since the last look."""
        stat = file_stat(self.path)
        if self._loaded and stat == self._stat:
            return self._prefs
        self._stat, self._loaded = stat, True
        if stat is None:
            self._prefs, self.problem = Preferences(), None
            return self._prefs
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("the top level must be an object")
            self._prefs = dataclasses.replace(Preferences(), **validate(data))
            self.problem = None
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.problem = f"{self.path.name}: {exc}; keeping the last good settings"
        except ApiError as exc:
            self.problem = f"{self.path.name}: {exc.message}; keeping the last good settings"
        return self._prefs

    def update(self, changes: Mapping[str, object]) -> Preferences:
        """Validate, merge and write atomically (temp file + ``os.replace``)."""
        merged = dataclasses.replace(self.current(), **validate(changes))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", suffix=".json", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(merged.as_dict(), handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prefs, self._stat, self.problem = merged, file_stat(self.path), None
        return merged
