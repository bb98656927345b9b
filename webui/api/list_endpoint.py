"""``GET /api/sessions``, the request every open tab repeats every few seconds, as bare ASGI.

The other endpoints are Starlette functions; this one skips the ``Request`` and ``Response``
objects on its hot path: the validated query is memoized per raw query string, profile cookie,
preferences and ``profiles/`` folder stat (anything else goes through the full validation,
errors included), headers go out pre-encoded, and the source reads — and a hit made from
them — are shared within a loop tick (``webui.sessions.tick``). What is left per poll is, once per
tick, the stamp, then a dictionary lookup and the send.

Bodies of ``MIN_SIZE`` and more go out in the best coding the client accepts
(``webui.api.compress``), chosen once per ``Accept-Encoding`` value and compressed once per
page: the bytes are kept in ``Page.encoded``, so a hit sends them as they are. The ETag is the
same for every coding. It is weak, and RFC 9110 (8.8.1) lets a weak tag stand for every
representation whose content is the same; ``If-None-Match`` compares weakly. So a tab that
revalidates never needs to know which coding it got, on any worker.
"""

from __future__ import annotations

import time
from pathlib import Path

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from webui.agentdb.home import list_profiles, require_profile
from webui.api.common import fallback_profile, unavailable
from webui.api.compress import MIN_SIZE, Coding, CompressionStats, compress, negotiate
from webui.api.context import AppContext
from webui.files import FileStat, file_stat
from webui.sessions.built import Page
from webui.sessions.cache import HIT, BuildFailed, CacheTimeout
from webui.sessions.query import ListQuery, parse_list_query
from webui.sessions.service import ListResponse
from webui.state.prefs import Preferences

QUERY_MEMO = 256
CODING_MEMO = 64  # distinct Accept-Encoding values: a handful of browsers and tools
VARY = (b"vary", b"accept-encoding")

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
    def __init__(self, *, min_size: int = MIN_SIZE) -> None:
        self._queries: dict[_QueryKey, ListQuery] = {}
        self._profiles: dict[Path, str] = {}
        self._codings: dict[bytes, Coding | None] = {}
        self.min_size = min_size
        self.compression = CompressionStats()

    def _profiles_dir(self, ctx: AppContext) -> str:
        path = self._profiles.get(ctx.home)
        if path is None:
            path = self._profiles[ctx.home] = str(ctx.home / "profiles")
        return path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx: AppContext = scope["app"].state.ctx
        cookie, tags, accept = b"", None, b""
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                tags = value.decode("latin-1")
            elif name == b"cookie":
                cookie = value
            elif name == b"accept-encoding":
                accept = value if not accept else accept + b"," + value
        query = self._query(ctx, scope, cookie)
        result = await _respond(ctx, query)
        page = result.page
        headers = _headers(result)
        if etag_matches(tags, page.etag):
            ctx.lists.cache.stats.not_modified += 1
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        body, coding = self.encode(page, self._coding(accept))
        if coding is not None:
            headers.append((b"content-encoding", coding.encode()))
        headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", b"%d" % len(body)))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _coding(self, accept: bytes) -> Coding | None:
        """The coding for this ``Accept-Encoding`` value, parsed once per distinct value."""
        try:
            return self._codings[accept]
        except KeyError:
            pass
        coding = negotiate(accept.decode("latin-1"))
        if len(self._codings) >= CODING_MEMO:
            self._codings.clear()
        self._codings[accept] = coding
        return coding

    def encode(self, page: Page, coding: Coding | None) -> tuple[bytes, Coding | None]:
        """The bytes to send for ``page`` and the coding they are in (None: as they are),
        compressed at most once per page and coding."""
        if coding is None or len(page.body) < self.min_size:
            return page.body, None
        body = page.encoded.get(coding)
        if body is None:
            body = compress(page.body, coding)
            stats = self.compression
            stats.compressions[coding] = stats.compressions.get(coding, 0) + 1
            stats.bytes_in += len(page.body)
            stats.bytes_out += len(body)
            if len(body) >= len(page.body):  # incompressible: remember to send it as it is
                body = page.body
            page.encoded[coding] = body
        return body, (None if body is page.body else coding)

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
        VARY,  # on every answer, 304 included (RFC 9110 15.4.5): the body depends on it
        (b"x-cache", result.status.encode()),
        (b"x-server-time", b"%.3f" % time.time()),
    ]
    if result.build_seconds is not None:
        headers.append((b"server-timing", b"build;dur=%.2f" % (result.build_seconds * 1000)))
    return headers
