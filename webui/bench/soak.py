"""The soak: hundreds of polling tabs, a reply always streaming and the agent committing.

On a 10,000-session home, 200 pollers (asyncio + httpx2, each a poll a second with its ETag)
run for ``--soak-seconds`` while demo turns stream back to back and an external writer
commits every second (a new session, then a rename, alternately). Every non-200/304 answer,
failed request, failed turn or failed commit is an error. The server's RSS, open files and
threads are sampled every few seconds; "start" is the first sample after a warm-up (the
first 30 s, or 10 % of a shorter run), so that start-up allocation is not counted as growth.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path

import httpx2
from tqdm import tqdm

from webui.bench.agent import ExternalWriter
from webui.bench.contention import Polls, follow_turn, poller
from webui.bench.plan import Plan
from webui.bench.results import SoakResults, SoakSample
from webui.bench.servers import Process, async_client
from webui.bench.stats import ms

SAMPLE_EVERY = 5.0
TURN_TIMEOUT = 60.0


async def _turns(process: Process, stop: asyncio.Event, errors: Counter[str]) -> int:
    turns = 0
    async with async_client(process.url, connections=4, timeout=TURN_TIMEOUT) as http:
        title = f"bench soak {secrets.token_hex(4)}"
        created = await http.post("/api/sessions", json={"title": title}, headers=process.origin)
        created.raise_for_status()
        session_id = created.json()["session_id"]
        while not stop.is_set():
            try:
                await asyncio.wait_for(follow_turn(http, process, session_id), TURN_TIMEOUT)
                turns += 1
            except (httpx2.HTTPError, TimeoutError) as exc:
                errors[f"turn {type(exc).__name__}"] += 1
                await asyncio.sleep(1.0)
    return turns


async def _writer(home: Path, stop: asyncio.Event, errors: Counter[str]) -> int:
    commits = 0
    last: str | None = None
    with ExternalWriter(home / "state.db") as writer:
        while not stop.is_set():
            try:
                if last is None:
                    last = await asyncio.to_thread(writer.new_session)
                else:
                    await asyncio.to_thread(writer.retitle, last)
                    last = None
                commits += 1
            except sqlite3.OperationalError as exc:
                errors[f"commit {exc}"] += 1
            await asyncio.sleep(1.0)
    return commits


async def _sampler(
    process: Process, seconds: float, stop: asyncio.Event, samples: list[SoakSample]
) -> None:
    started = time.perf_counter()
    every = min(SAMPLE_EVERY, max(1.0, seconds / 10))
    due = 0.0
    with tqdm(total=round(seconds), desc="soak", unit="s", file=sys.stderr) as bar:
        while (elapsed := time.perf_counter() - started) < seconds:
            if elapsed >= due:
                usage = process.usage()
                samples.append(
                    SoakSample(elapsed, usage.rss, usage.fds, usage.threads, usage.sockets)
                )
                due += every
            bar.update(min(round(elapsed), round(seconds)) - bar.n)
            await asyncio.sleep(0.5)
    stop.set()


async def _soak(process: Process, home: Path, plan: Plan) -> SoakResults:
    result = SoakResults(plan.soak_size, plan.soak_seconds, plan.soak_pollers)
    result.warmup = min(30.0, plan.soak_seconds * 0.1)
    stop, polls, errors = asyncio.Event(), Polls(), Counter[str]()
    hard = time.perf_counter() + plan.soak_seconds + TURN_TIMEOUT
    async with async_client(process.url, connections=plan.soak_pollers + 4) as http:
        tasks = [
            asyncio.create_task(poller(http, stop, polls, hard)) for _ in range(plan.soak_pollers)
        ]
        turns = asyncio.create_task(_turns(process, stop, errors))
        writer = asyncio.create_task(_writer(home, stop, errors))
        await _sampler(process, plan.soak_seconds, stop, result.samples)
        result.turns, result.commits = await turns, await writer
        await asyncio.gather(*tasks)
    usage = process.usage()
    result.samples.append(
        SoakSample(plan.soak_seconds, usage.rss, usage.fds, usage.threads, usage.sockets)
    )
    for status, count in polls.statuses.items():
        if status not in ("200", "304"):
            errors[f"poll {status}"] += count
    result.requests = sum(polls.statuses.values())
    result.not_modified = polls.statuses["304"]
    result.errors = sum(errors.values())
    result.error_kinds = dict(errors)
    result.poll_p50_ms = ms(polls.latencies, 0.5)
    result.poll_p99_ms = ms(polls.latencies, 0.99)
    return result


def run_soak(process: Process, home: Path, plan: Plan) -> SoakResults:
    return asyncio.run(_soak(process, home, plan))
