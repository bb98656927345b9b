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
# Names the API gives to other session sources: ``claude-code`` is Claude Code's transcripts,
# whose overrides and tombstones webui.db keeps under that name. The session routes take
# ``profile=claude-code`` to mean the source, so a ``profiles/claude-code/`` folder would be
# shadowed in every route: it is no profile, never listed and never resolved to a path.
# (agentdb may not import its sibling claudecode; a test holds the two spellings equal.)
RESERVED_NAMES = frozenset({"claude-code"})


def is_profile_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def is_reserved(name: str) -> bool:
    """Whether ``name`` is well-formed but names another session source, not a profile."""
    return name in RESERVED_NAMES


def is_profile_folder(name: str) -> bool:
    """Whether a folder of this name under ``profiles/`` is a profile."""
    # "default" lives in the home itself; a profiles/default folder is not that profile.
    return name != DEFAULT_PROFILE and is_profile_name(name) and not is_reserved(name)


def check_profile_name(name: str, param: str = "profile") -> str:
    """A well-formed name, or a 400. Whether a profile of that name exists (and a reserved
    name never does) is ``require_profile``'s question: that answer is a 404."""
    if not is_profile_name(name):
        raise bad_param(param, "a profile name is 1-64 of a-z, 0-9, '_' and '-', starting alnum")
    return name


def check_session_id(session_id: str, param: str = "session_id") -> str:
    if _SESSION_ID.fullmatch(session_id) is None:
        raise bad_param(param, "not a valid session id")
    return session_id


def profile_dir(home: Path, name: str) -> Path:
    """The folder of a profile; the name is validated, so the result stays inside the home.

    A reserved name has no folder: what sits under it in ``profiles/`` is shadowed, never read.
    """
    check_profile_name(name)
    if is_reserved(name):
        raise _reserved(name, "profile")
    return home if name == DEFAULT_PROFILE else home / "profiles" / name


def state_db_path(home: Path, name: str) -> Path:
    return profile_dir(home, name) / "state.db"


def list_profiles(home: Path) -> list[str]:
    """``default`` first, then every profile folder under ``profiles/``, sorted (a folder
    with a reserved name is left out: the API would take its name for the other source)."""
    names = [DEFAULT_PROFILE]
    try:
        entries = list((home / "profiles").iterdir())
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        return names
    names.extend(sorted(p.name for p in entries if is_profile_folder(p.name) and p.is_dir()))
    return names


def require_profile(home: Path, name: str, param: str = "profile") -> str:
    """A valid name of an existing profile, or the 400/404 that says which."""
    check_profile_name(name, param)
    if is_reserved(name):
        raise _reserved(name, param)
    if name != DEFAULT_PROFILE and not (home / "profiles" / name).is_dir():
        raise not_found("unknown_profile", f"no profile named {name!r}", param)
    return name


def _reserved(name: str, param: str) -> ApiError:
    # A 404 like any unknown profile (a client falls back the same way), saying why.
    return not_found(
        "unknown_profile", f"{name!r} names another session source, not a profile", param
    )


__all__ = [
    "DEFAULT_PROFILE",
    "RESERVED_NAMES",
    "ApiError",
    "check_profile_name",
    "check_session_id",
    "is_profile_folder",
    "is_profile_name",
    "is_reserved",
    "list_profiles",
    "profile_dir",
    "require_profile",
    "state_db_path",
]
