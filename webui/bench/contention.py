"""Streaming contention: does polling the list slow a streaming turn down, and vice versa?

A demo turn streams at 50 tokens/s while 0 or 20 clients poll ``/api/sessions`` once a second
with their ETags (and, for reference, 20 pollers with nothing streaming). Turns run back to
back for the case's duration. Because the server commits every token to ``state.db`` before it
sends the token event, the token events carry the commit cost:

- *token rate*: tokens per second seen by an SSE client, first token to last. The demo
  backend replies deterministically (``demo_reply``), so each event's text is turned back into
  a token count even when several tokens arrive in one event.
- *token gap*: time between consecutive token events (the schedule says 20 ms).
- *token lag*: how much later than the backend's schedule each token arrived, measured against
  the turn's most punctual token (commit time + event-loop delay + delivery).
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import random
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx2
import orjson

from webui.bench.plan import Plan
from webui.bench.results import ContentionCase
from webui.bench.servers import Process, async_client
from webui.bench.sse import sse_events
from webui.bench.stats import ms
from webui.live.backends import demo_reply

LIST = "/api/sessions?limit=500"
TOKENS_PER_SECOND = 50.0
TURN_TIMEOUT = 30.0
DEMO_SEED = 0  # the server's demo backend seed


@dataclass
class Polls:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    waited: list[float] = field(default_factory=list)  # polls that waited for a rebuild


@dataclass(frozen=True)
class TurnTrace:
    content: str
    arrivals: list[tuple[float, int]]  # (clock, characters received so far)


async def poller(http: httpx2.AsyncClient, stop: asyncio.Event, polls: Polls, hard: float) -> None:
    """One browser tab: a poll a second (random phase) with If-None-Match."""
    etag: str | None = None
    await asyncio.sleep(random.random())
    due = time.perf_counter()
    while not stop.is_set() and time.perf_counter() < hard:
        headers = {"If-None-Match": etag} if etag else {}
        sent = time.perf_counter()
        try:
            response = await http.get(LIST, headers=headers)
        except httpx2.HTTPError as exc:
            polls.statuses[type(exc).__name__] += 1
        else:
            took = time.perf_counter() - sent
            polls.latencies.append(took)
            polls.statuses[str(response.status_code)] += 1
            if response.headers.get("x-cache") == "miss":
                polls.waited.append(took)
            etag = response.headers.get("etag", etag)
        due += 1.0
        await asyncio.sleep(max(0.0, due - time.perf_counter()))


async def follow_turn(http: httpx2.AsyncClient, process: Process, session_id: str) -> TurnTrace:
    """Send a message, then read its token events until the turn ends."""
    content = f"Stream a reply for the contention benchmark, take {secrets.token_hex(3)}."
    started = await http.post(
        f"/api/sessions/{session_id}/messages", json={"content": content}, headers=process.origin
    )
    started.raise_for_status()
    stream_id = started.json()["stream_id"]
    arrivals: list[tuple[float, int]] = []
    received = 0
    async with http.stream("GET", f"/api/streams/{stream_id}") as response:
        async for event, data in sse_events(response):
            if event == "token":
                received += len(orjson.loads(data)["text"])
                arrivals.append((time.perf_counter(), received))
            elif event in ("end", "error"):
                break
    return TurnTrace(content, arrivals)


@dataclass(frozen=True)
class TurnFigures:
    tokens: int
    seconds: float
    gaps: list[float]
    lags: list[float]


def analyse(trace: TurnTrace, tokens_per_second: float) -> TurnFigures | None:
    if len(trace.arrivals) < 2:
        return None
    lengths = list(itertools.accumulate(len(t) for t in demo_reply(trace.content, DEMO_SEED)))
    if lengths and lengths[-1] == trace.arrivals[-1][1]:
        counts = [bisect.bisect_right(lengths, chars) for _, chars in trace.arrivals]
    else:  # not the reply we expected: count events instead of tokens
        counts = list(range(1, len(trace.arrivals) + 1))
    times = [t for t, _ in trace.arrivals]
    offsets = [t - (k - 1) / tokens_per_second for t, k in zip(times, counts, strict=True)]
    punctual = min(offsets)
    return TurnFigures(
        tokens=counts[-1] - counts[0],
        seconds=times[-1] - times[0],
        gaps=[b - a for a, b in itertools.pairwise(times)],
        lags=[o - punctual for o in offsets],
    )


async def _new_session(http: httpx2.AsyncClient, process: Process) -> str:
    """The chat the turns run in, made before the pollers start.

    Creating a session is a change every next poll must show, so polls right after it wait
    for a rebuild: that is the cost of a new chat, not of streaming, and stays out of the case.
    """
    created = await http.post(
        "/api/sessions", json={"title": f"bench {secrets.token_hex(4)}"}, headers=process.origin
    )
    created.raise_for_status()
    (await http.get(LIST)).raise_for_status()
    session_id: str = created.json()["session_id"]
    return session_id


async def _turns(
    http: httpx2.AsyncClient, process: Process, session_id: str, seconds: float
) -> list[TurnTrace]:
    deadline = time.perf_counter() + seconds
    traces: list[TurnTrace] = []
    while not traces or time.perf_counter() < deadline:
        traces.append(await asyncio.wait_for(follow_turn(http, process, session_id), TURN_TIMEOUT))
    return traces


def _case(name: str, pollers: int, traces: list[TurnTrace], polls: Polls) -> ContentionCase:
    figures = [f for f in (analyse(t, TOKENS_PER_SECOND) for t in traces) if f is not None]
    tokens = sum(f.tokens for f in figures)
    seconds = sum(f.seconds for f in figures)
    gaps = [g for f in figures for g in f.gaps]
    lags = [g for f in figures for g in f.lags]
    ok = polls.statuses["200"] + polls.statuses["304"]
    return ContentionCase(
        name=name,
        pollers=pollers,
        streaming=bool(traces),
        turns=len(traces),
        tokens=tokens,
        token_rate=tokens / seconds if seconds > 0 else None,
        gap_p50_ms=ms(gaps, 0.5),
        gap_p99_ms=ms(gaps, 0.99),
        lag_p50_ms=ms(lags, 0.5),
        lag_p99_ms=ms(lags, 0.99),
        polls=sum(polls.statuses.values()),
        poll_p50_ms=ms(polls.latencies, 0.5),
        poll_p99_ms=ms(polls.latencies, 0.99),
        poll_errors=sum(polls.statuses.values()) - ok,
        poll_not_modified=polls.statuses["304"],
        poll_rebuilds=len(polls.waited),
        poll_rebuild_p50_ms=ms(polls.waited, 0.5),
    )


async def run_case(
    process: Process, plan: Plan, name: str, pollers: int, streaming: bool
) -> ContentionCase:
    polls, stop = Polls(), asyncio.Event()
    hard = time.perf_counter() + plan.contention_seconds + 2 * TURN_TIMEOUT
    async with async_client(process.url, connections=pollers + 4) as http:
        session_id = await _new_session(http, process) if streaming else ""
        tasks = [asyncio.create_task(poller(http, stop, polls, hard)) for _ in range(pollers)]
        try:
            if streaming:
                traces = await _turns(http, process, session_id, plan.contention_seconds)
            else:
                traces = []
                await asyncio.sleep(plan.contention_seconds)
        finally:
            stop.set()
            await asyncio.gather(*tasks)
    return _case(name, pollers, traces, polls)


async def measure_contention(process: Process, plan: Plan) -> list[ContentionCase]:
    return [
        await run_case(process, plan, "streaming, no pollers", 0, True),
        await run_case(process, plan, f"streaming, {plan.pollers} pollers", plan.pollers, True),
        await run_case(process, plan, f"idle, {plan.pollers} pollers", plan.pollers, False),
    ]
