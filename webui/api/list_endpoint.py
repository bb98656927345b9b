"""``GET /api/sessions``, the request every open tab repeats every few seconds, as bare ASGI.

The other endpoints are Starlette functions; this one skips the ``Request`` and ``Response``
objects on its hot path: the validated query is memoized per raw query string, profile cookie,
preferences and ``profiles/`` folder stat (anything else goes through the full validation,
errors included), headers go out pre-encoded, and the source reads — and a hit made from
them — are shared within a loop tick (``webui.sessions.tick``). What is left per poll is, once per
tick, the stamp, then a dictionary lookup and the send.
"""

from __future__ import annotations

import time
from pathlib import Path

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from webui.agentdb.home import list_profiles, require_profile
from webui.api.common import fallback_profile, unavailable
from webui.api.context import AppContext
from webui.files import FileStat, file_stat
from webui.sessions.cache import HIT, BuildFailed, CacheTimeout
from webui.sessions.query import ListQuery, parse_list_query
from webui.sessions.service import ListResponse
from webui.state.prefs import Preferences

QUERY_MEMO = 256

# home, query string, cookie, preferences, ``profiles/`` stat
_QueryKey = tuple[Path, bytes, bytes, Preferences, FileStat | None]


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` against our tag, compared weakly as the header wants: ``*`` or any
    listed tag, a ``W/`` prefix on either side ignored."""
    if not header:
        return False
    if header == etag:
        return True
    ours = etag.removeprefix("W/")
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or ours in tags


class ListSessionsEndpoint:
    def __init__(self) -> None:
        self._queries: dict[_QueryKey, ListQuery] = {}
        self._profiles: dict[Path, str] = {}

    def _profiles_dir(self, ctx: AppContext) -> str:
        path = self._profiles.get(ctx.home)
        if path is None:
            path = self._profiles[ctx.home] = str(ctx.home / "profiles")
        return path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: AppContext = scope["app"].state.ctx
        cookie, tags = b"", None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                tags = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value
        query = self._query(ctx, scope, cookie)
        result = await _respond(ctx, query)
        page = result.page
        headers = _headers(result)
        if etag_matches(tags, page.etag):
            ctx.lists.cache.stats.not_modified += 1
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", b"%d" % len(page.body)))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": page.body})

    def _query(self, ctx: AppContext, scope: Scope, cookie: bytes) -> ListQuery:
        tick = ctx.lists.tick
        prefs = tick.get("prefs", ctx.prefs.current)
        profiles = tick.get("profiles", lambda: file_stat(self._profiles_dir(ctx)))
        key = (ctx.home, scope["query_string"], cookie, prefs, profiles)
        query = self._queries.get(key)
        if query is None:
            query = parse(ctx, Request(scope), prefs)  # raises the 400/404 that says why
            if len(self._queries) >= QUERY_MEMO:
                self._queries.clear()
            self._queries[key] = query
        return query


async def _respond(ctx: AppContext, query: ListQuery) -> ListResponse:
    """The answer to ``query``; a hit made from this tick's reads is shared with the rest of
    the tick (the same poll from every tab costs one lookup per tick)."""
    tick, lists = ctx.lists.tick, ctx.lists
    shared = tick.peek(query)
    if isinstance(shared, ListResponse):
        lists.cache.stats.hits += 1
        return shared
    generation = tick.generation
    try:
        result = await lists.respond(query)
    except (BuildFailed, CacheTimeout) as exc:
        raise unavailable(exc) from None
    if result.status == HIT and tick.generation == generation:
        tick.put(query, result)
    return result


def parse(ctx: AppContext, request: Request, prefs: Preferences) -> ListQuery:
    """The full validation of a list request: parameters, cookie, profile existence."""
    query = parse_list_query(
        request.query_params,
        fallback_profile=fallback_profile(request, ctx, prefs),
        gate_defaults=prefs.gates,
        profile_names=lambda: list_profiles(ctx.home),
    )
    require_profile(ctx.home, query.profile)
    return query


def _headers(result: ListResponse) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"etag", result.page.etag_bytes),
        (b"cache-control", b"no-cache"),
        (b"x-cache", result.status.encode()),
        (b"x-server-time", b"%.3f" % time.time()),
    ]
    if result.build_seconds is not None:
        headers.append((b"server-timing", b"build;dur=%.2f" % (result.build_seconds * 1000)))
    return headers
