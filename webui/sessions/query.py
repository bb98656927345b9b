"""``GET /api/sessions`` parameters, parsed and validated into a ``ListQuery`` and its cache key."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from webui.agentdb.home import check_profile_name
from webui.config import parse_bool
from webui.errors import bad_param

SIDEBAR_SOURCES = ("all", "webui", "cli")
GATE_NAMES = (
    "show_cli",
    "show_cron",
    "show_webhook",
    "show_messaging_history",
    "show_claude_code",
)
MAX_LIMIT = 5000
DEFAULT_LIMIT = 500
MAX_QUERY_CHARS = 200
MAX_VERSION_CHARS = 64


@dataclass(frozen=True)
class ListFlags:
    """Every filter that changes which rows a list holds (pages and ``q`` do not)."""

    sidebar_source: str = "all"
    include_archived: bool = False
    exclude_hidden: bool = True
    show_cli: bool = True
    show_cron: bool = False
    show_webhook: bool = False
    show_messaging_history: bool = False
    show_claude_code: bool = True


@dataclass(frozen=True)
class ListKey:
    """The cache key: the profile scope, ``all_profiles`` and every filter flag."""

    profiles: tuple[str, ...]
    all_profiles: bool
    flags: ListFlags


@dataclass(frozen=True)
class ListQuery:
    key: ListKey
    profile: str
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    q: str | None = None
    since: str | None = None  # a ``version`` the client holds: a delta may answer


def default_flags(gates: Mapping[str, bool]) -> ListFlags:
    """The flags of a list with no parameters: the persisted ``show_*`` settings."""
    return ListFlags(
        show_cli=gates["show_cli"],
        show_cron=gates["show_cron"],
        show_webhook=gates["show_webhook"],
        show_messaging_history=gates["show_messaging_history"],
        show_claude_code=_gate_default(gates, "show_claude_code"),
    )


_DEFAULT_FLAGS = ListFlags()


def _gate_default(gates: Mapping[str, bool], name: str) -> bool:
    # A gate newer than the caller's defaults (settings written before it) takes its own.
    found = gates.get(name)
    return bool(getattr(_DEFAULT_FLAGS, name)) if found is None else found


def parse_bool_param(params: Mapping[str, str], name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None:
        return default
    value = parse_bool(raw)
    if value is None:
        raise bad_param(name, f"{name} must be a boolean (1/0, true/false, yes/no, on/off)")
    return value


def parse_int_param(
    params: Mapping[str, str], name: str, default: int, low: int, high: int | None = None
) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 12:
        raise bad_param(name, f"{name} must be an integer")
    value = int(text)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_param(name, f"{name} must be {bound}")
    return value


def parse_list_query(
    params: Mapping[str, str],
    *,
    fallback_profile: str,
    gate_defaults: Mapping[str, bool],
    profile_names: Callable[[], Sequence[str]],
) -> ListQuery:
    """Validate every parameter; unknown parameters are ignored, bad values name themselves.

    ``fallback_profile`` is the cookie or the settings' ``default_profile``; ``gate_defaults``
    are the persisted ``show_*`` settings, which a parameter overrides for this request.
    """
    profile = params.get("profile") or fallback_profile
    check_profile_name(profile)
    source = params.get("sidebar_source", "all").strip().lower()
    if source not in SIDEBAR_SOURCES:
        raise bad_param("sidebar_source", "sidebar_source must be all, webui or cli")
    flags = ListFlags(
        sidebar_source=source,
        include_archived=parse_bool_param(params, "include_archived", False),
        exclude_hidden=parse_bool_param(params, "exclude_hidden", True),
        **{g: parse_bool_param(params, g, _gate_default(gate_defaults, g)) for g in GATE_NAMES},
    )
    all_profiles = parse_bool_param(params, "all_profiles", False)
    q = params.get("q")
    if q is not None:
        if len(q) > MAX_QUERY_CHARS:
            raise bad_param("q", f"q must be at most {MAX_QUERY_CHARS} characters")
        q = q.strip() or None
    scope = tuple(profile_names()) if all_profiles else (profile,)
    limit = parse_int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = parse_int_param(params, "offset", 0, 0)
    have = parse_int_param(params, "have", limit, 1, MAX_LIMIT)  # checked even without since
    since = params.get("since")
    if since is not None:
        if not since or len(since) > MAX_VERSION_CHARS or not _VERSION_CHARS.issuperset(since):
            raise bad_param("since", "since must be a version from an earlier answer")
        # A delta covers the rows the client holds from the top: ``have`` of them, or its
        # whole first page if it holds fewer (the list was shorter), so an unchanged list
        # still matches the page's tag. A search (``q``) is always answered in full.
        limit, offset = max(have, limit), 0
        since = None if q is not None else since
    return ListQuery(
        key=ListKey(profiles=scope, all_profiles=all_profiles, flags=flags),
        profile=profile,
        limit=limit,
        offset=offset,
        q=q,
        since=since,
    )


_VERSION_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-_")
