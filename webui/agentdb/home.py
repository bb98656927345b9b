"""Profile names and where their files live. No request may resolve a path outside the home."""

from __future__ import annotations

import re
from pathlib import Path

from webui.errors import ApiError, bad_param, not_found

DEFAULT_PROFILE = "default"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
# Session ids the agent writes ('YYYYmmdd_HHMMSS_hex', 'cron_<job>_<stamp>'), kept generous
# but never able to carry a path separator, a quote or a control character.
_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")


def is_profile_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def check_profile_name(name: str, param: str = "profile") -> str:
    if not is_profile_name(name):
        raise bad_param(param, "a profile name is 1-64 of a-z, 0-9, '_' and '-', starting alnum")
    return name


def check_session_id(session_id: str, param: str = "session_id") -> str:
    if _SESSION_ID.fullmatch(session_id) is None:
        raise bad_param(param, "not a valid session id")
    return session_id


def profile_dir(home: Path, name: str) -> Path:
    """The folder of a profile; the name is validated, so the result stays inside the home."""
    check_profile_name(name)
    return home if name == DEFAULT_PROFILE else home / "profiles" / name


def state_db_path(home: Path, name: str) -> Path:
    return profile_dir(home, name) / "state.db"


def list_profiles(home: Path) -> list[str]:
    """``default`` first, then every valid folder under ``profiles/``, sorted."""
    names = [DEFAULT_PROFILE]
    try:
        entries = list((home / "profiles").iterdir())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return names
    names.extend(
        sorted(
            p.name
            for p in entries
            if p.name != DEFAULT_PROFILE and is_profile_name(p.name) and p.is_dir()
        )
    )
    return names


def require_profile(home: Path, name: str, param: str = "profile") -> str:
    """A valid name of an existing profile, or the 400/404 that says which."""
    check_profile_name(name, param)
    if name != DEFAULT_PROFILE and not (home / "profiles" / name).is_dir():
        raise not_found("unknown_profile", f"no profile named {name!r}", param)
    return name


__all__ = [
    "DEFAULT_PROFILE",
    "ApiError",
    "check_profile_name",
    "check_session_id",
    "is_profile_name",
    "list_profiles",
    "profile_dir",
    "require_profile",
    "state_db_path",
]
