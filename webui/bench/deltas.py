"""What a delta answer costs the server against a full page, under saturating load.

A tab that polls with ``since`` gets, after a change, a delta instead of the page. To compare
the two paths alone (not the refresh that a commit also causes), the server is given one
change and then held still: ``since`` names the version before that change, so every request
of a load run is answered with the same delta, computed per request; the other run asks for
the full page (a cache hit). Neither sends ``If-None-Match``. The load generator keeps the
one-worker server saturated, so its CPU per answer is the inverse of its rate: the delta path
costs no more than the page when its rate is at least the page's.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import httpx2

from webui.bench.agent import ExternalWriter
from webui.bench.load import LoadSpec, generate_load
from webui.bench.plan import Plan
from webui.bench.results import DeltaCost
from webui.bench.servers import Process, client

PAGE = {"limit": "500"}


def _page(http: httpx2.Client, params: dict[str, str]) -> tuple[dict[str, object], int]:
    response = http.get("/api/sessions", params=params)
    response.raise_for_status()
    data: dict[str, object] = response.json()
    return data, response.num_bytes_downloaded


def measure_delta_cost(process: Process, db: Path, plan: Plan, scratch: Path) -> DeltaCost:
    with client(process.url, timeout=120) as http:
        before, _ = _page(http, PAGE)
        version = before.get("version")
        rows = before.get("sessions")
        if version is None or not isinstance(rows, list) or not rows:
            return DeltaCost(supported=False)
        with ExternalWriter(db) as writer:
            writer.retitle(str(rows[-1]["session_id"]))  # one row of the window changes
        _, full_bytes = _page(http, PAGE)
        since = {**PAGE, "since": str(version), "have": str(len(rows))}
        answer, delta_bytes = _page(http, since)
        if answer.get("delta") is not True:
            return DeltaCost(supported=False)
    rates: dict[str, list[float]] = {"delta": [], "full": []}
    urls = {"delta": urlencode(since), "full": urlencode(PAGE)}
    for _ in range(plan.rounds):
        for name, query in urls.items():
            url = f"{process.url}/api/sessions?{query}"
            spec = LoadSpec(url, plan.load_seconds, plan.connections)
            rates[name].append(generate_load(spec, use_wrk=plan.use_wrk, scratch=scratch).rps)
            process.settle()
    return DeltaCost(
        supported=True,
        delta_rps=sorted(rates["delta"])[len(rates["delta"]) // 2],
        full_rps=sorted(rates["full"])[len(rates["full"]) // 2],
        delta_bytes=delta_bytes,
        full_bytes=full_bytes,
    )
