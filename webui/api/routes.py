"""Thin endpoints of the session list, sessions, settings, profiles and health."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from webui import __version__
from webui.agentdb.home import (
    check_session_id,
    list_profiles,
    require_profile,
    state_db_path,
)
from webui.agentdb.reader import SourceUnavailable, read_messages
from webui.api.bodies import json_response, read_json_object
from webui.api.common import (
    CLAUDE_PROFILE,
    PROFILE_COOKIE,
    claude_of,
    ctx_of,
    fallback_profile,
    request_profile,
    session_row,
    unavailable,
)
from webui.api.context import AppContext
from webui.api.openapi import openapi_document
from webui.errors import ApiError, bad_param
from webui.records import MessageRecord
from webui.sessions.cache import BuildFailed, CacheTimeout
from webui.sessions.query import ListKey, default_flags, parse_int_param
from webui.state.webuidb import WebuiDBError

MAX_TITLE = 100


async def get_session(request: Request) -> Response:
    ctx = ctx_of(request)
    session_id = check_session_id(request.path_params["session_id"])
    profile = request_profile(request, ctx, claude=True)
    return json_response(await session_row(ctx, profile, session_id))


async def get_messages(request: Request) -> Response:
    ctx = ctx_of(request)
    profile = request_profile(request, ctx, claude=True)
    session_id = check_session_id(request.path_params["session_id"])
    after = parse_int_param(request.query_params, "after", 0, 0)
    limit = parse_int_param(request.query_params, "limit", 200, 1, 1000)
    await session_row(ctx, profile, session_id)
    if profile == CLAUDE_PROFILE:
        source = claude_of(ctx)
        messages = await anyio.to_thread.run_sync(
            lambda: source.messages(session_id, after=after, limit=limit)
        )
        return _messages_response(messages, limit)
    path = state_db_path(ctx.home, profile)
    try:
        messages = await anyio.to_thread.run_sync(
            lambda: read_messages(
                path, session_id, after=after, limit=limit, busy_timeout=ctx.settings.busy_timeout
            )
        )
    except SourceUnavailable as exc:
        raise unavailable(exc) from None
    return _messages_response(messages, limit)


def _messages_response(messages: Sequence[MessageRecord], limit: int) -> Response:
    return json_response(
        {
            "messages": [
                {"id": m.id, "role": m.role, "content": m.content, "timestamp": m.timestamp}
                for m in messages
            ],
            "next_after": messages[-1].id if len(messages) == limit else None,
        }
    )


def _title(value: object, param: str = "title") -> str:
    if not isinstance(value, str) or not value.strip():
        raise bad_param(param, "title must be a non-empty string")
    title = " ".join(value.split())
    if len(title) > MAX_TITLE:
        raise bad_param(param, f"title must be at most {MAX_TITLE} characters")
    return title


async def create_session(request: Request) -> Response:
    ctx = ctx_of(request)
    body = await read_json_object(request, ctx.settings.max_body_bytes)
    unknown = sorted(set(body) - {"profile", "title"})
    if unknown:
        raise bad_param(unknown[0], f"unknown field {unknown[0]!r}")
    profile = body.get("profile", fallback_profile(request, ctx))
    if not isinstance(profile, str):
        raise bad_param("profile", "profile must be a string")
    require_profile(ctx.home, profile)
    title = _title(body["title"]) if body.get("title") is not None else None
    ctx.db.require_writable()  # degraded mode: no chat that could never take a turn
    writer = await anyio.to_thread.run_sync(ctx.writers.get, profile)
    session_id = await anyio.to_thread.run_sync(
        lambda: writer.create_session(now=time.time(), title=title)
    )
    ctx.events.publish(profile, "created")
    return json_response(await session_row(ctx, profile, session_id), status=201)


_PATCH_FIELDS = {"title", "pinned", "archived"}


def _patch_fields(body: dict[str, Any]) -> dict[str, str | bool | None]:
    unknown = sorted(set(body) - _PATCH_FIELDS)
    if unknown:
        raise bad_param(unknown[0], f"unknown field {unknown[0]!r}")
    if not body:
        raise bad_param("body", "send at least one of title, pinned, archived")
    fields: dict[str, str | bool | None] = {}
    for name in ("pinned", "archived"):
        if name in body:
            if not isinstance(body[name], bool):
                raise bad_param(name, f"{name} must be true or false")
            fields[name] = body[name]
    if "title" in body:
        fields["title"] = None if body["title"] is None else _title(body["title"])
    return fields


def _changed(profile: str) -> str:
    """The profile a change event names: Claude Code rows are listed in every profile."""
    return "*" if profile == CLAUDE_PROFILE else profile


async def patch_session(request: Request) -> Response:
    ctx = ctx_of(request)
    profile = request_profile(request, ctx, claude=True)
    session_id = check_session_id(request.path_params["session_id"])
    fields = _patch_fields(await read_json_object(request, ctx.settings.max_body_bytes))
    await session_row(ctx, profile, session_id)
    reason = "renamed" if "title" in fields else next(iter(fields))
    await write_webui(lambda: ctx.db.set_override(profile, session_id, reason, **fields))
    ctx.events.publish(_changed(profile), reason)
    return json_response(await session_row(ctx, profile, session_id))


async def write_webui(action: Any) -> None:
    try:
        await anyio.to_thread.run_sync(action)
    except WebuiDBError as exc:
        raise ApiError(503, "webui_db_unavailable", str(exc)) from None


async def delete_session(request: Request) -> Response:
    ctx = ctx_of(request)
    profile = request_profile(request, ctx, claude=True)
    session_id = check_session_id(request.path_params["session_id"])
    await session_row(ctx, profile, session_id)
    await write_webui(lambda: ctx.db.set_tombstone(profile, session_id, True))
    ctx.events.publish(_changed(profile), "deleted")
    return json_response({"deleted": True, "session_id": session_id, "profile": profile})


async def restore_session(request: Request) -> Response:
    ctx = ctx_of(request)
    profile = request_profile(request, ctx, claude=True)
    session_id = check_session_id(request.path_params["session_id"])
    if profile == CLAUDE_PROFILE:
        claude_of(ctx)  # a source that is off has nothing to restore
    await write_webui(lambda: ctx.db.set_tombstone(profile, session_id, False))
    ctx.events.publish(_changed(profile), "restored")
    return json_response(await session_row(ctx, profile, session_id))


async def get_settings(request: Request) -> Response:
    return json_response(ctx_of(request).prefs.current().as_dict())


async def patch_settings(request: Request) -> Response:
    ctx = ctx_of(request)
    body = await read_json_object(request, ctx.settings.max_body_bytes)
    if "default_profile" in body and isinstance(body["default_profile"], str):
        require_profile(ctx.home, body["default_profile"], "default_profile")
    try:
        prefs = await anyio.to_thread.run_sync(lambda: ctx.prefs.update(body))
    except OSError as exc:
        raise ApiError(503, "settings_not_writable", f"settings.json: {exc}") from None
    ctx.events.publish("*", "settings")
    return json_response(prefs.as_dict())


async def get_profiles(request: Request) -> Response:
    ctx = ctx_of(request)
    active = fallback_profile(request, ctx)
    flags = default_flags(ctx.prefs.current().gates)
    profiles = []
    for name in list_profiles(ctx.home):
        try:
            count: int | None = await ctx.lists.total(ListKey((name,), False, flags))
        except (BuildFailed, CacheTimeout):
            count = None
        profiles.append({"name": name, "session_count": count, "is_active": name == active})
    return json_response({"profiles": profiles, "active": active})


async def switch_profile(request: Request) -> Response:
    ctx = ctx_of(request)
    body = await read_json_object(request, ctx.settings.max_body_bytes)
    name = body.get("profile")
    if not isinstance(name, str):
        raise bad_param("profile", "profile must be a string")
    require_profile(ctx.home, name)
    response = json_response({"profile": name})
    response.set_cookie(PROFILE_COOKIE, name, max_age=365 * 86400, samesite="lax", httponly=False)
    return response


async def health(request: Request) -> Response:
    ctx = ctx_of(request)
    stats = ctx.lists.cache.stats
    problems = dict(ctx.lists.problems)
    warnings = [f"{p}: {m}" for p, m in problems.items()]
    if ctx.prefs.current() and ctx.prefs.problem:
        warnings.append(ctx.prefs.problem)
    if ctx.live is not None and ctx.live.problem:
        warnings.append(ctx.live.problem)
    if ctx.db.problem:
        warnings.append(ctx.db.problem)
    claude_problems = ctx.claude.problems() if ctx.claude is not None else []
    warnings.extend(claude_problems)
    return json_response(
        {
            "status": "degraded" if warnings else "ok",
            "version": __version__,
            "home": str(ctx.home),
            "warnings": warnings,
            "settings_problem": ctx.prefs.problem,
            "source_problems": problems,
            "read_only": ctx.db.read_only,
            "webui_db_problem": ctx.db.problem,
            "claude_code": None
            if ctx.claude is None
            else {"problems": claude_problems, **ctx.claude.stats()},
            "live_streams": len(ctx.registry.live()),
            "client": {
                "idle_poll_interval": ctx.settings.idle_poll_interval,
                "stream_poll_interval": ctx.settings.stream_poll_interval,
            },
            "event_subscribers": ctx.events.subscribers,
            "cache": {
                "entries": len(ctx.lists.cache),
                "max_entries": ctx.lists.cache.max_entries,
                "hits": stats.hits,
                "misses": stats.misses,
                "stale_serves": stats.stale,
                "rebuilds": stats.rebuilds,
                "rebuild_failures": stats.failures,
                "not_modified": stats.not_modified,
                "evictions": stats.evictions,
                "timeouts": stats.timeouts,
                "rebuild_time": stats.percentiles(),
                "index": ctx.lists.index_stats(),
                "compression": _compression(ctx),
            },
        }
    )


def _compression(ctx: AppContext) -> dict[str, object]:
    """What the list endpoint compressed: once per page and coding, so this stays small."""
    stats = ctx.compression
    if stats is None:
        return {"compressions": {}, "bytes_in": 0, "bytes_out": 0}
    return {
        "compressions": dict(stats.compressions),
        "bytes_in": stats.bytes_in,
        "bytes_out": stats.bytes_out,
    }


async def openapi(request: Request) -> Response:
    return json_response(openapi_document())


ROUTES = [
    Route("/api/sessions", create_session, methods=["POST"]),
    Route("/api/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/api/sessions/{session_id}", patch_session, methods=["PATCH"]),
    Route("/api/sessions/{session_id}", delete_session, methods=["DELETE"]),
    Route("/api/sessions/{session_id}/restore", restore_session, methods=["POST"]),
    Route("/api/sessions/{session_id}/messages", get_messages, methods=["GET"]),
    Route("/api/settings", get_settings, methods=["GET"]),
    Route("/api/settings", patch_settings, methods=["PATCH"]),
    Route("/api/profiles", get_profiles, methods=["GET"]),
    Route("/api/profile/switch", switch_profile, methods=["POST"]),
    Route("/api/health", health, methods=["GET"]),
    Route("/api/openapi.json", openapi, methods=["GET"]),
]
