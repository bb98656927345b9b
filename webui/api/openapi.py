"""The OpenAPI 3.1 document of the HTTP API, served at ``GET /api/openapi.json``.

Written by hand to match the endpoints (``tests/api/test_openapi.py`` checks that it lists
every route the app has, and fuzzes the app against it with schemathesis): parameters carry the
same bounds the server enforces, so a value outside them is one the server must reject with a 4xx.
"""

from __future__ import annotations

from typing import Any

from webui import __version__
from webui.api.common import CLAUDE_PROFILE
from webui.api.compress import MIN_SIZE, PREFERENCE
from webui.sessions.query import (
    GATE_NAMES,
    MAX_LIMIT,
    MAX_QUERY_CHARS,
    MAX_VERSION_CHARS,
    SIDEBAR_SOURCES,
)
from webui.sessions.rules import COUNT_KINDS
from webui.sessions.search import MAX_LIMIT as SEARCH_MAX_LIMIT
from webui.sessions.search import MAX_OFFSET as SEARCH_MAX_OFFSET
from webui.sessions.search import MAX_Q as SEARCH_MAX_Q

PROFILE_PATTERN = "^[a-z0-9][a-z0-9_-]{0,63}$"
SESSION_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$"
STREAM_ID_PATTERN = "^[A-Za-z0-9]{1,64}$"
BOOLEAN_PATTERN = "^(?i:1|0|true|false|yes|no|on|off)$"
# A list's ``version`` (the characters ``parse_list_query`` accepts in ``since``).
VERSION_PATTERN = f"^[0-9A-Za-z._-]{{1,{MAX_VERSION_CHARS}}}$"
# The list's validator: weak, the same from every worker and for every content coding.
ETAG_PATTERN = '^W/"[0-9a-f]{32}"$'

# Integer parameters are at most 12 digits.
MAX_INT = 10**12 - 1

Schema = dict[str, Any]


def _nullable(kind: str) -> Schema:
    return {"type": [kind, "null"]}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def _ok(description: str, schema: Schema) -> Schema:
    return {"description": description, "content": _json(schema)}


def _error(description: str) -> Schema:
    return {"description": description, "content": _json(_ref("Error"))}


def _query(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _path(name: str, pattern: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": pattern},
    }


PROFILE_PARAM = _query(
    "profile",
    {"type": "string", "pattern": "^$|" + PROFILE_PATTERN},
    "a profile name; absent or empty: the webui_profile cookie, else the default_profile setting",
)
# On the routes of one session, the reserved name ``claude-code`` names the Claude Code source.
SESSION_PROFILE_PARAM = _query(
    "profile",
    {"type": "string", "pattern": "^$|" + PROFILE_PATTERN, "examples": [CLAUDE_PROFILE]},
    "a profile name, or claude-code for a Claude Code session (read-only source; 404 "
    "source_off when claude_home is empty); absent or empty: the webui_profile cookie, "
    "else the default_profile setting",
)
SESSION_PARAM = _path("session_id", SESSION_ID_PATTERN)
STREAM_PARAM = _path("stream_id", STREAM_ID_PATTERN)
BOOLEAN = {"type": "string", "pattern": BOOLEAN_PATTERN}
# Blank titles are refused (and whitespace runs collapse to one space).
TITLE = {"type": ["string", "null"], "pattern": r"\S", "maxLength": 100}

# Every request may fail for these reasons, whatever its parameters.
COMMON_ERRORS: dict[str, Schema] = {
    "401": _error("a token is configured and the request did not carry it"),
    "403": _error("a state-changing request from another origin"),
    "413": _error("the body is over max_body_bytes"),
}
SOURCE_ERRORS: dict[str, Schema] = {
    "503": _error("the session database (or webui.db) cannot be read or written now"),
}


def _operation(
    summary: str,
    responses: dict[str, Schema],
    *,
    parameters: list[Schema] | None = None,
    body: Schema | None = None,
    body_required: bool = False,
) -> Schema:
    operation: Schema = {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {**responses, **COMMON_ERRORS},
    }
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": _json(body)}
        operation["responses"].setdefault("400", _error("a field is wrong (named in param)"))
        operation["responses"]["415"] = _error("the body is not application/json")
    return operation


ROW_FIELDS = """
    session_id title profile source source_kind source_label created_at updated_at
    last_message_at message_count model parent_session_id ended_at end_reason pinned archived
    input_tokens output_tokens estimated_cost_usd is_streaming active_stream_id
    has_pending_user_message pending_started_at
"""
ROW: Schema = {
    "type": "object",
    "required": ROW_FIELDS.split(),
    "properties": {
        "session_id": {"type": "string"},
        "title": {"type": "string"},
        "profile": {"type": "string"},
        "source": {"type": "string"},
        "source_kind": {
            "enum": [
                *("webui", "cli", "messaging", "cron", "webhook", "api", CLAUDE_PROFILE),
                *("subagent", "other"),
            ]
        },
        "source_label": {"type": "string"},
        "created_at": _nullable("number"),
        "updated_at": _nullable("number"),
        "last_message_at": _nullable("number"),
        "message_count": {"type": "integer", "minimum": 0},
        "model": _nullable("string"),
        "parent_session_id": _nullable("string"),
        "ended_at": _nullable("number"),
        "end_reason": _nullable("string"),
        "pinned": {"type": "boolean"},
        "archived": {"type": "boolean"},
        "input_tokens": {"type": "integer"},
        "output_tokens": {"type": "integer"},
        "estimated_cost_usd": _nullable("number"),
        "is_streaming": {"type": "boolean"},
        "active_stream_id": _nullable("string"),
        "has_pending_user_message": {"type": "boolean"},
        "pending_started_at": _nullable("number"),
        # Only on Claude Code rows: where the session ran.
        "project": {
            **_nullable("string"),
            "description": "Claude Code rows only: the last component of the session's cwd",
        },
        "git_branch": {**_nullable("string"), "description": "Claude Code rows only"},
    },
}

COUNT_NAMES = (*COUNT_KINDS, "archived", "other_profiles")
COUNTS: Schema = {
    "type": "object",
    "required": list(COUNT_NAMES),
    "properties": {name: {"type": "integer", "minimum": 0} for name in COUNT_NAMES},
}

# What a page and a delta both say about the list.
LIST_META: dict[str, Schema] = {
    "total": {"type": "integer", "minimum": 0},
    "offset": {"type": "integer", "minimum": 0},
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    "next_offset": _nullable("integer"),
    "counts": COUNTS,
    "profile": {"type": "string"},
    "all_profiles": {"type": "boolean"},
    "version": {
        "type": "string",
        "pattern": VERSION_PATTERN,
        "description": "this state of the list (opaque, of this server process): send it "
        "back as since for a delta",
    },
    "server_time": {"type": "number", "description": "when the list was built (epoch seconds)"},
}
LIST_REQUIRED = (
    *("total", "offset", "limit", "next_offset", "counts"),
    *("profile", "all_profiles", "version", "server_time"),
)

LIST_PAGE: Schema = {
    "type": "object",
    "description": "a page of the list (with since: the full page of the window, delta false)",
    "required": ["sessions", *LIST_REQUIRED],
    "properties": {
        "sessions": {"type": "array", "items": _ref("Session")},
        **LIST_META,
        "delta": {
            "const": False,
            "description": "present when since was sent without q: the version was unknown "
            "(another worker, a restart, too old) or a delta would be no smaller",
        },
    },
}

SESSION_KEY: Schema = {
    "type": "array",
    "description": "[profile, session_id]",
    "items": {"type": "string"},
    "minItems": 2,
    "maxItems": 2,
}

LIST_DELTA: Schema = {
    "type": "object",
    "description": "what changed in the window (the first max(have, limit) rows) since the "
    "version since: drop every held row named in removed or upserted, then insert each "
    "upserted row at its index, in order; the result is the first min(limit, total) rows of "
    "version (limit here is the window)",
    "required": ["delta", "since", "removed", "upserted", *LIST_REQUIRED],
    "properties": {
        "delta": {"const": True},
        "since": {"type": "string", "pattern": VERSION_PATTERN},
        "removed": {"type": "array", "items": SESSION_KEY},
        "upserted": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "row"],
                "properties": {
                    "index": {"type": "integer", "minimum": 0, "maximum": MAX_LIMIT - 1},
                    "row": _ref("Session"),
                },
            },
        },
        **LIST_META,
        "offset": {"const": 0},
    },
}

LIST: Schema = {"oneOf": [_ref("ListPage"), _ref("ListDelta")]}

MESSAGES: Schema = {
    "type": "object",
    "required": ["messages", "next_after"],
    "properties": {
        "messages": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "role", "content", "timestamp"],
                "properties": {
                    "id": {"type": "integer"},
                    "role": _nullable("string"),
                    "content": _nullable("string"),
                    "timestamp": _nullable("number"),
                },
            },
        },
        "next_after": _nullable("integer"),
    },
}

PREFERENCES: Schema = {
    "type": "object",
    "required": [*GATE_NAMES, "default_profile"],
    "properties": {
        **{
            name: {"type": "boolean", "description": f"the default of the list's {name}"}
            for name in GATE_NAMES
        },
        "default_profile": {"type": "string", "pattern": PROFILE_PATTERN},
    },
}

ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "param"],
            "properties": {
                "code": {"type": "string", "minLength": 1},
                "message": {"type": "string", "minLength": 1},
                "param": _nullable("string"),
            },
        }
    },
}

COUNTER = {"type": "integer", "minimum": 0}
MILLISECONDS = {**_nullable("number"), "minimum": 0}

INDEX_STATS = (
    *("profiles", "views", "refreshes", "full_reloads", "chains_recomputed"),
    *("incremental_reads", "records_read", "view_updates", "view_derivations"),
    *("deltas_sent", "full_answers_to_since"),
)
CACHE_STATS = (
    *("entries", "max_entries", "hits", "misses", "stale_serves", "rebuilds"),
    *("rebuild_failures", "not_modified", "evictions", "timeouts"),
)

HEALTH: Schema = {
    "type": "object",
    "required": ["status", "version", "warnings", "cache"],
    "properties": {
        "status": {"enum": ["ok", "degraded"]},
        "version": {"type": "string"},
        "home": {"type": "string"},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "settings_problem": _nullable("string"),
        "source_problems": {"type": "object", "additionalProperties": {"type": "string"}},
        "read_only": {"type": "boolean"},
        "webui_db_problem": _nullable("string"),
        "claude_code": {
            "type": ["object", "null"],
            "description": "the Claude Code source's problems and parse counters; null: off",
            "required": ["problems"],
            "properties": {"problems": {"type": "array", "items": {"type": "string"}}},
            "additionalProperties": {"type": "integer"},
        },
        "live_streams": COUNTER,
        "client": {
            "type": "object",
            "properties": {
                "idle_poll_interval": {"type": "number"},
                "stream_poll_interval": {"type": "number"},
            },
        },
        "event_subscribers": COUNTER,
        "cache": {
            "type": "object",
            "required": [*CACHE_STATS, "rebuild_time", "index"],
            "properties": {
                **{name: COUNTER for name in CACHE_STATS},
                "rebuild_time": {
                    "type": "object",
                    "description": "rebuild durations (ms): percentiles, null before any",
                    "additionalProperties": MILLISECONDS,
                },
                "index": {
                    "type": "object",
                    "description": "the incremental engine: indexes (one per profile and "
                    "source), views (one per list key), refreshes and what they read, deltas",
                    "required": list(INDEX_STATS),
                    "properties": {name: COUNTER for name in INDEX_STATS},
                },
                "compression": {
                    "type": "object",
                    "description": "list bodies compressed (once per page and coding)",
                    "required": ["compressions", "bytes_in", "bytes_out"],
                    "properties": {
                        "compressions": {"type": "object", "additionalProperties": COUNTER},
                        "bytes_in": COUNTER,
                        "bytes_out": COUNTER,
                    },
                },
            },
        },
    },
}

EVENT_STREAM = {"text/event-stream": {"schema": {"type": "string"}}}
HTML = {"text/html": {"schema": {"type": "string"}}}


def _list_parameters() -> list[Schema]:
    booleans = ("all_profiles", "include_archived", "exclude_hidden", *GATE_NAMES)
    return [
        PROFILE_PARAM,
        *(_query(name, BOOLEAN, f"{name} (1/0, true/false, yes/no, on/off)") for name in booleans),
        _query("sidebar_source", {"enum": list(SIDEBAR_SOURCES)}, "source tab"),
        _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}, "page size"),
        _query("offset", {"type": "integer", "minimum": 0, "maximum": MAX_INT}, "page start"),
        _query("q", {"type": "string", "maxLength": MAX_QUERY_CHARS}, "title and id search"),
        _query(
            "since",
            {"type": "string", "pattern": VERSION_PATTERN},
            "the version of an earlier answer: the answer may be a delta from it (never with "
            "q); the window is then rows 0 … max(have, limit) (offset is not used)",
        ),
        _query(
            "have",
            {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
            "with since: how many rows the client holds (default: limit); checked always, "
            "used only with since",
        ),
        {
            "name": "If-None-Match",
            "in": "header",
            "schema": {"type": "string"},
            "description": "the ETag of an earlier answer (compared weakly): 304 when unchanged",
        },
        {
            "name": "Accept-Encoding",
            "in": "header",
            "schema": {"type": "string"},
            "description": f"bodies of {MIN_SIZE} bytes or more go out in the best coding it "
            f"accepts ({', '.join(PREFERENCE)} at equal weights); else uncompressed, never 406",
        },
    ]


def _header(schema: Schema, description: str, *, required: bool = True) -> Schema:
    return {"required": required, "schema": schema, "description": description}


LIST_HEADERS: dict[str, Schema] = {
    "ETag": _header(
        {"type": "string", "pattern": ETAG_PATTERN},
        "weak, derived from what the page says (not server_time): the same from every worker "
        "and for every content coding",
    ),
    "Vary": _header({"const": "accept-encoding"}, "the body depends on Accept-Encoding"),
    "Cache-Control": _header({"const": "no-cache"}, "revalidate every time"),
    "X-Cache": _header({"enum": ["hit", "miss", "stale"]}, "how the cache answered"),
    "X-Server-Time": _header(
        {"type": "string", "pattern": r"^[0-9]+\.[0-9]{3}$"}, "the server clock, epoch seconds"
    ),
    "Server-Timing": _header(
        {"type": "string", "pattern": r"^build;dur=[0-9]+\.[0-9]{2}$"},
        "when this request ran the build",
        required=False,
    ),
}


SEARCH_MATCH: Schema = {
    "type": "object",
    "required": ["where", "message_id", "role", "snippet", "ranges", "timestamp"],
    "properties": {
        "where": {"enum": ["title", "message"]},
        "message_id": _nullable("integer"),
        "role": _nullable("string"),
        "snippet": {"type": "string"},
        "ranges": {
            "type": "array",
            "description": "[start, end) offsets into snippet, in characters (code points)",
            "items": {
                "type": "array",
                "items": {"type": "integer", "minimum": 0},
                "minItems": 2,
                "maxItems": 2,
            },
        },
        "timestamp": _nullable("number"),
    },
}

SEARCH: Schema = {
    "type": "object",
    "required": [
        *("results", "total", "offset", "limit", "next_offset", "index"),
        *("q", "profile", "all_profiles"),
    ],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "allOf": [
                    _ref("Session"),
                    {
                        "type": "object",
                        "required": ["match"],
                        "properties": {"match": SEARCH_MATCH},
                    },
                ]
            },
        },
        "total": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0, "maximum": SEARCH_MAX_OFFSET},
        "limit": {"type": "integer", "minimum": 1, "maximum": SEARCH_MAX_LIMIT},
        "next_offset": _nullable("integer"),
        "index": {"enum": ["fts", "trigram", "scan", "mixed"]},
        "q": {"type": "string"},
        "profile": {"type": "string"},
        "all_profiles": {"type": "boolean"},
    },
}


def _search_parameters() -> list[Schema]:
    booleans = ("all_profiles", "include_archived", "exclude_hidden", *GATE_NAMES)
    return [
        {
            **_query(
                "q",
                {"type": "string", "maxLength": SEARCH_MAX_Q, "pattern": r"\S"},
                "text to find in titles and messages (required)",
            ),
            "required": True,
        },
        PROFILE_PARAM,
        *(_query(name, BOOLEAN, f"{name} (1/0, true/false, yes/no, on/off)") for name in booleans),
        _query("sidebar_source", {"enum": list(SIDEBAR_SOURCES)}, "source tab"),
        _query(
            "limit", {"type": "integer", "minimum": 1, "maximum": SEARCH_MAX_LIMIT}, "page size"
        ),
        _query(
            "offset", {"type": "integer", "minimum": 0, "maximum": SEARCH_MAX_OFFSET}, "page start"
        ),
    ]


def _search_paths() -> dict[str, Schema]:
    return {
        "/api/sessions/search": {
            "get": _operation(
                "Search titles and message text (the agent's FTS5 tables, read-only)",
                {
                    "200": _ok("a page of list rows, each with its best match", SEARCH),
                    "400": _error("a parameter is wrong (named in param)"),
                    "404": _error("unknown profile"),
                    **SOURCE_ERRORS,
                },
                parameters=_search_parameters(),
            )
        }
    }


def _session_paths() -> dict[str, Schema]:
    row = _ok("the session's row", _ref("Session"))
    unknown = _error(
        "no such profile or session; source_off: profile claude-code while the Claude Code "
        "source is off"
    )
    on_session = [SESSION_PARAM, SESSION_PROFILE_PARAM]
    return {
        "/api/sessions": {
            "get": _operation(
                "The session list (cached; weak ETag, X-Cache, compressed bodies, deltas)",
                {
                    "200": {
                        **_ok("a page of the list, or with since a delta from that version", LIST),
                        "headers": {
                            **LIST_HEADERS,
                            "Content-Encoding": _header(
                                {"enum": list(PREFERENCE)},
                                f"when the body is {MIN_SIZE} bytes or more and "
                                "Accept-Encoding allows a coding",
                                required=False,
                            ),
                        },
                    },
                    "304": {
                        "description": "If-None-Match matched the current ETag (no body)",
                        "headers": LIST_HEADERS,
                    },
                    "400": _error("a parameter is wrong (named in param)"),
                    "404": _error("unknown profile"),
                    **SOURCE_ERRORS,
                },
                parameters=_list_parameters(),
            ),
            "post": _operation(
                "Start a new web UI chat",
                {"201": {**row, "description": "the new chat"}, "404": unknown, **SOURCE_ERRORS},
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "profile": {"type": "string", "pattern": PROFILE_PATTERN},
                        "title": TITLE,
                    },
                },
            ),
        },
        "/api/sessions/events": {
            "get": _operation(
                "sessions_changed events (Server-Sent Events)",
                {"200": {"description": "an endless event stream", "content": EVENT_STREAM}},
            )
        },
        "/api/sessions/{session_id}": {
            "get": _operation(
                "One session's row",
                {"200": row, "400": _error("bad id or profile"), "404": unknown, **SOURCE_ERRORS},
                parameters=on_session,
            ),
            "patch": _operation(
                "Rename, pin or archive (web UI overrides)",
                {"200": row, "404": unknown, **SOURCE_ERRORS},
                parameters=on_session,
                body_required=True,
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "minProperties": 1,
                    "properties": {
                        "title": TITLE,
                        "pinned": {"type": "boolean"},
                        "archived": {"type": "boolean"},
                    },
                },
            ),
            "delete": _operation(
                "Remove from the sidebar (a tombstone; nothing is destroyed)",
                {
                    "200": _ok(
                        "removed",
                        {
                            "type": "object",
                            "required": ["deleted", "session_id", "profile"],
                            "properties": {
                                "deleted": {"const": True},
                                "session_id": {"type": "string"},
                                "profile": {"type": "string"},
                            },
                        },
                    ),
                    "400": _error("bad id or profile"),
                    "404": unknown,
                    **SOURCE_ERRORS,
                },
                parameters=on_session,
            ),
        },
        "/api/sessions/{session_id}/restore": {
            "post": _operation(
                "Bring a removed session back",
                {"200": row, "400": _error("bad id or profile"), "404": unknown, **SOURCE_ERRORS},
                parameters=on_session,
            )
        },
        "/api/sessions/{session_id}/messages": {
            "get": _operation(
                "The session's messages, oldest first, paged by id",
                {
                    "200": _ok("a page of messages", MESSAGES),
                    "400": _error("a parameter is wrong (named in param)"),
                    "404": unknown,
                    **SOURCE_ERRORS,
                },
                parameters=[
                    *on_session,
                    _query(
                        "after",
                        {"type": "integer", "minimum": 0, "maximum": MAX_INT},
                        "message id",
                    ),
                    _query("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "size"),
                ],
            ),
            "post": _operation(
                "Start a chat turn",
                {
                    "202": _ok(
                        "the turn started",
                        {
                            "type": "object",
                            "required": ["stream_id", "session_id"],
                            "properties": {
                                "stream_id": {"type": "string"},
                                "session_id": {"type": "string"},
                            },
                        },
                    ),
                    "404": unknown,
                    "409": _error(
                        "the session is already streaming (already_streaming), or its source "
                        "is read-only (read_only_source: a Claude Code session)"
                    ),
                    **SOURCE_ERRORS,
                },
                parameters=on_session,
                body_required=True,
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["content"],
                    "properties": {
                        "content": {"type": "string", "pattern": r"\S", "maxLength": 100_000}
                    },
                },
            ),
        },
    }


def _other_paths() -> dict[str, Schema]:
    stream_errors = {"400": _error("not a stream id"), "404": _error("no such stream")}
    return {
        "/api/streams/{stream_id}": {
            "get": _operation(
                "A turn's reply as Server-Sent Events (token…, then end or error)",
                {
                    "200": {"description": "the reply", "content": EVENT_STREAM},
                    **stream_errors,
                    **SOURCE_ERRORS,
                },
                parameters=[STREAM_PARAM],
            )
        },
        "/api/streams/{stream_id}/cancel": {
            "post": _operation(
                "Stop a turn; what was written stays",
                {
                    "200": _ok(
                        "whether it was running",
                        {
                            "type": "object",
                            "required": ["stream_id", "cancelled"],
                            "properties": {
                                "stream_id": {"type": "string"},
                                "cancelled": {"type": "boolean"},
                            },
                        },
                    ),
                    **stream_errors,
                    **SOURCE_ERRORS,
                },
                parameters=[STREAM_PARAM],
            )
        },
        "/api/settings": {
            "get": _operation("The preferences", {"200": _ok("preferences", PREFERENCES)}),
            "patch": _operation(
                "Change preferences (unknown keys and wrong types are 400)",
                {
                    "200": _ok("the preferences now", PREFERENCES),
                    "404": _error("default_profile names no profile"),
                    "503": _error("settings.json cannot be written"),
                },
                body={
                    "type": "object",
                    "additionalProperties": False,
                    "properties": PREFERENCES["properties"],
                },
            ),
        },
        "/api/profiles": {
            "get": _operation(
                "Profiles with their session counts",
                {
                    "200": _ok(
                        "the profiles",
                        {
                            "type": "object",
                            "required": ["profiles", "active"],
                            "properties": {
                                "profiles": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["name", "session_count", "is_active"],
                                        "properties": {
                                            "name": {"type": "string"},
                                            "session_count": _nullable("integer"),
                                            "is_active": {"type": "boolean"},
                                        },
                                    },
                                },
                                "active": {"type": "string"},
                            },
                        },
                    )
                },
            )
        },
        "/api/profile/switch": {
            "post": _operation(
                "Switch profile (sets the webui_profile cookie)",
                {
                    "200": _ok(
                        "switched",
                        {
                            "type": "object",
                            "required": ["profile"],
                            "properties": {"profile": {"type": "string"}},
                        },
                    ),
                    "404": _error("no such profile"),
                },
                body_required=True,
                body={
                    "type": "object",
                    "required": ["profile"],
                    "properties": {"profile": {"type": "string", "pattern": PROFILE_PATTERN}},
                },
            )
        },
        "/api/health": {
            "get": _operation(
                "Status, warnings and cache statistics",
                {"200": _ok("health", _ref("Health"))},
            )
        },
        "/api/openapi.json": {
            "get": _operation(
                "This document", {"200": _ok("the OpenAPI document", {"type": "object"})}
            )
        },
        "/": {
            "get": {
                "summary": "The sidebar app",
                "responses": {"200": {"description": "the page", "content": HTML}},
            }
        },
        "/login": {
            "get": {
                "summary": "The sign-in page (when a token is configured)",
                "responses": {"200": {"description": "the page", "content": HTML}},
            },
            "post": {
                "summary": "Sign in: sets the HttpOnly SameSite=Strict token cookie",
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {"token": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {
                    "303": {"description": "signed in: to the app"},
                    "401": {"description": "wrong token: the page again", "content": HTML},
                    "403": _error("a sign-in from another origin"),
                    "413": _error("the form is too large"),
                },
            },
        },
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "webui",
            "version": __version__,
            "description": "The session list and chat API of the web UI (see README.md).",
        },
        "paths": {**_session_paths(), **_search_paths(), **_other_paths()},
        "components": {
            "schemas": {
                "Session": ROW,
                "ListPage": LIST_PAGE,
                "ListDelta": LIST_DELTA,
                "Health": HEALTH,
                "Error": ERROR,
            },
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "webui_token"},
            },
        },
    }
