"""Memory: the server's RSS with its cache full (64 entries of one large home's lists)."""

from __future__ import annotations

import itertools
from pathlib import Path

from webui.bench.plan import Plan
from webui.bench.results import Memory
from webui.bench.servers import client, webui_server

SOURCES = ("all", "webui", "cli")
BOOLEAN_FLAGS = (
    "include_archived",
    "exclude_hidden",
    "show_cli",
    "show_cron",
    "show_webhook",
    "show_messaging_history",
)


def distinct_queries(count: int) -> list[dict[str, str]]:
    """``count`` queries with distinct cache keys (3 sources x 2^6 flag sets = 192 at most)."""
    combos = itertools.product(SOURCES, *([("true", "false")] * len(BOOLEAN_FLAGS)))
    queries = [
        {"sidebar_source": source, **dict(zip(BOOLEAN_FLAGS, flags, strict=True))}
        for source, *flags in combos
    ]
    if count > len(queries):
        raise ValueError(f"only {len(queries)} distinct list keys exist")
    # Evenly spaced over the product: every source and most flag mixes are represented.
    return [queries[i * len(queries) // count] for i in range(count)]


def measure_memory(home: Path, size: int, plan: Plan, scratch: Path) -> Memory:
    with webui_server(home, scratch / "logs") as process, client(process.url, timeout=300) as http:
        http.get("/api/sessions", params={"limit": "1"}).raise_for_status()
        one = process.usage()
        rows = 0
        for query in distinct_queries(plan.memory_keys):
            response = http.get("/api/sessions", params={**query, "limit": "1"})
            response.raise_for_status()
            rows += int(response.json()["total"])
        entries = int(http.get("/api/health").json()["cache"]["entries"])
        full = process.usage()
    return Memory(
        size=size,
        entries=entries,
        rows=rows,
        rss_one=one.rss,
        rss_full=full.rss,
        fds=full.fds,
        threads=full.threads,
    )
