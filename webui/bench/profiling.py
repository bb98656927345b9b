"""Where the time goes: cProfile of the hot paths, run in-process (py-spy is not installed).

- a rebuild: ``build_list`` of the largest home, called directly;
- a 200 hit and a 304: the real app (``create_app``, lifespan run) called as an ASGI app,
  with no HTTP client in the way, so every line of the profile is server work. uvicorn's own
  HTTP handling is outside this profile; the ceiling rows measure it.
"""

from __future__ import annotations

import asyncio
import cProfile
import gc
import pstats
import time
import tracemalloc
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from webui.api.app import create_app
from webui.bench.apps import ceiling_app
from webui.bench.results import EntryMemory, ProfileTable
from webui.config import Settings
from webui.sessions.built import BuiltList, build_list
from webui.sessions.query import ListFlags, ListKey

TOP = 12
TOP_SITES = 6
Message = MutableMapping[str, Any]
ASGI = Callable[..., Awaitable[None]]
Headers = Sequence[tuple[bytes, bytes]]
HOST = b"127.0.0.1:8787"


def _where(path: str) -> str:
    if "site-packages/" in path:
        return path.split("site-packages/", 1)[1]
    if "/webui/" in path:
        return "webui/" + path.rsplit("/webui/", 1)[1]
    return Path(path).name


def table(profiler: cProfile.Profile, title: str, calls: int) -> ProfileTable:
    """The top functions by own time, and webui's own functions by inclusive time."""
    stats: Any = pstats.Stats(profiler)
    rows, ours = [], []
    for (path, line, name), (_, _, own, cumulative, _) in stats.stats.items():
        label = f"{_where(path)}:{line}({name})" if line else name
        if label.startswith("webui/bench/"):
            continue  # the harness, not the server
        rows.append((label, own * 1000 / calls, cumulative * 1000 / calls))
        if label.startswith("webui/"):
            ours.append(rows[-1])
    rows.sort(key=lambda r: r[1], reverse=True)
    ours.sort(key=lambda r: r[2], reverse=True)
    return ProfileTable(title, calls, rows[:TOP], ours[:TOP])


def _build(home: Path) -> BuiltList:
    return build_list(
        ListKey(("default",), False, ListFlags()),
        home=home,
        busy_timeout=5.0,
        profile_state=lambda profile: ({}, frozenset()),
        wall_time=time.time(),
    )


def entry_memory(home: Path, size: int) -> EntryMemory:
    """The bytes one built list (a cache entry's value) keeps alive, by allocation site."""
    gc.collect()
    tracemalloc.start(1)
    try:
        before = tracemalloc.take_snapshot()
        built = _build(home)
        gc.collect()
        diff = tracemalloc.take_snapshot().compare_to(before, "lineno")
    finally:
        tracemalloc.stop()
    sites = [
        (f"{_where(s.traceback[0].filename)}:{s.traceback[0].lineno}", s.size_diff, s.count_diff)
        for s in diff[:TOP_SITES]
    ]
    return EntryMemory(
        size=size,
        rows=len(built.rows),
        retained=sum(s.size_diff for s in diff),
        row_json=sum(len(b) for b in built.row_bytes),
        sites=sites,
    )


def profile_rebuild(home: Path, size: int) -> ProfileTable:
    def build() -> None:
        _build(home)

    started = time.perf_counter()
    build()
    plain = time.perf_counter() - started
    profiler = cProfile.Profile()
    with profiler:
        build()
    title = f"Rebuild of {size:,} sessions, in-process: {plain * 1000:,.0f} ms"
    return table(profiler, title, 1)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[bytes, bytes]
    body: bytes


async def call(
    app: ASGI,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    body: bytes = b"",
    headers: Headers = (),
) -> Answer:
    """One request straight into the ASGI app, no client or socket in the way."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query,
        "root_path": "", "headers": [(b"host", HOST), (b"origin", b"http://" + HOST), *headers],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8787),
    }  # fmt: skip
    parts: dict[str, Any] = {"status": 0, "headers": {}, "body": b""}

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            parts["status"] = int(message["status"])
            parts["headers"] = dict(message.get("headers", []))
        elif message["type"] == "http.response.body":
            parts["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return Answer(parts["status"], parts["headers"], parts["body"])


async def _list(app: ASGI, headers: Headers = ()) -> Answer:
    return await call(app, "GET", "/api/sessions", query=b"limit=500", headers=headers)


async def _timed(app: ASGI, headers: Headers, requests: int) -> float:
    """Milliseconds per list request, unprofiled."""
    started = time.perf_counter()
    for _ in range(requests):
        await _list(app, headers)
    return (time.perf_counter() - started) * 1000 / requests


async def _profiled(app: ASGI, ceiling: ASGI, title: str, headers: Headers, n: int) -> ProfileTable:
    mine = await _timed(app, headers, n)
    theirs = await _timed(ceiling, headers, n)
    profiler = cProfile.Profile()
    with profiler:
        for _ in range(n):
            await _list(app, headers)
    label = f"{title}, in-process: {mine:.3f} ms per request (the ceiling app: {theirs:.3f} ms)"
    return table(profiler, label, n)


async def _start_stream(app: ASGI) -> str:
    """A slow demo turn in a new chat, waited for until the list shows it streaming."""
    created = await call(app, "POST", "/api/sessions", body=b'{"title": "bench profile"}')
    session_id = orjson.loads(created.body)["session_id"]
    path = f"/api/sessions/{session_id}/messages"
    started = await call(app, "POST", path, body=b'{"content": "Profile the overlay."}')
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = orjson.loads((await _list(app)).body)["sessions"]
        if any(r["session_id"] == session_id and r["is_streaming"] for r in rows):
            break
        await asyncio.sleep(0.05)
    return str(orjson.loads(started.body)["stream_id"])


async def _profile_requests(home: Path, requests: int) -> list[ProfileTable]:
    # Long TTLs: the profile shows the steady hit path, not the periodic refresh.
    settings = Settings(
        home=home,
        watch=False,
        idle_ttl=3600.0,
        streaming_ttl=7200.0,
        demo_tokens_per_second=2.0,
        claude_home="",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        page = await _list(app)
        etag = page.headers[b"etag"]
        ceiling = ceiling_app(page.body, etag.decode())
        tables = [
            await _profiled(app, ceiling, "200 hit", (), requests),
            await _profiled(app, ceiling, "304", ((b"if-none-match", etag),), requests),
        ]
        stream_id = await _start_stream(app)
        tables.append(await _profiled(app, ceiling, "200 hit, 1 stream overlaid", (), requests))
        await call(app, "POST", f"/api/streams/{stream_id}/cancel")
    return tables


def profile_requests(home: Path, requests: int) -> list[ProfileTable]:
    return asyncio.run(_profile_requests(home, requests))
