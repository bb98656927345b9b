"""Freshness: how soon an external commit reaches an event subscriber and a poll.

An external writer (another process's connection, as the agent) commits a new session with
a message, spaced 100–200 ms apart. The clock is read right after each ``COMMIT`` returns.
- *event*: the first ``sessions_changed`` an ``/api/sessions/events`` subscriber hears after
  that moment (the subscriber timestamps events as they arrive).
- *poll*: one ``GET /api/sessions`` with the previous ETag, sent immediately after the commit;
  it must be a 200 whose list holds the new session, else it counts as a miss.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx2
import orjson

from webui.bench.agent import ExternalWriter
from webui.bench.plan import Plan
from webui.bench.results import Freshness
from webui.bench.servers import Process, async_client
from webui.bench.sse import sse_events
from webui.bench.stats import ms

LIST = "/api/sessions?limit=500"
EVENT_BOUND = 2.0


async def listen(http: httpx2.AsyncClient, heard: list[float], ready: asyncio.Event) -> None:
    async with http.stream("GET", "/api/sessions/events", timeout=None) as response:
        async for event, _ in sse_events(response):
            if event == "ready":
                ready.set()
            elif event == "sessions_changed":
                heard.append(time.perf_counter())


async def first_after(heard: list[float], moment: float) -> float | None:
    """When the first event after ``moment`` arrived; None when none came within the bound."""
    deadline = time.perf_counter() + EVENT_BOUND
    while time.perf_counter() < deadline:
        later = [t for t in heard if t > moment]
        if later:
            return later[0]
        await asyncio.sleep(0.002)
    return None


def _commit(writer: ExternalWriter) -> tuple[str, float]:
    session_id = writer.new_session()
    return session_id, time.perf_counter()


def _shows(response: httpx2.Response, session_id: str) -> bool:
    if response.status_code != 200:
        return False
    return any(r["session_id"] == session_id for r in orjson.loads(response.content)["sessions"])


async def measure_freshness(process: Process, home: Path, plan: Plan) -> Freshness:
    heard: list[float] = []
    events: list[float] = []
    polls: list[float] = []
    missed = misses = 0
    async with async_client(process.url, connections=4) as http:
        ready = asyncio.Event()
        listener = asyncio.create_task(listen(http, heard, ready))
        await asyncio.wait_for(ready.wait(), 10)
        etag = (await http.get(LIST)).headers["etag"]
        with ExternalWriter(home / "state.db") as writer:
            for _ in range(plan.freshness_commits):
                session_id, committed = await asyncio.to_thread(_commit, writer)
                response = await http.get(LIST, headers={"If-None-Match": etag})
                polls.append(time.perf_counter() - committed)
                misses += not _shows(response, session_id)
                etag = response.headers.get("etag", etag)
                arrived = await first_after(heard, committed)
                if arrived is None:
                    missed += 1
                else:
                    events.append(arrived - committed)
                await asyncio.sleep(random.uniform(0.1, 0.2))
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
    return Freshness(
        commits=plan.freshness_commits,
        event_p50_ms=ms(events, 0.5),
        event_p99_ms=ms(events, 0.99),
        events_missed=missed,
        poll_p50_ms=ms(polls, 0.5),
        poll_p99_ms=ms(polls, 0.99),
        poll_misses=misses,
    )
