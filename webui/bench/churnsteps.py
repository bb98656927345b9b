"""The churn steps of a run: which cases, on which homes and servers, in which order.

Per churn size (one WAL home, copied fresh): the bare change reads first (no server running);
then one server with the incremental index: 8 tabs on 4 views; 8 tabs on 1 view and on 8
views (shorter: they only compare the cost per commit); at the delta size the 4 views again
with ``since``, and one delta against the full page under saturating load. Then one server with
``incremental_index=false`` (the full rebuild after every change) on the same home, 8 tabs on
4 views. Last, the agent's commit latency in a DELETE-journal home of ``churn_delete_size``:
the writer alone, then with each server serving the 8 tabs on 4 views.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from webui.bench.changereads import measure_bare_reads
from webui.bench.churn import MAIN_VIEWS, Case, run_case
from webui.bench.deltas import measure_delta_cost
from webui.bench.homes import delete_journal_home, run_home
from webui.bench.plan import Plan
from webui.bench.results import AGENT_ALONE, FULL_REBUILD, INCREMENTAL, ChurnResults
from webui.bench.servers import webui_server

ONE_VIEW, EIGHT_VIEWS = 1, 8


def steps_of(plan: Plan) -> int:
    """Progress-bar steps: two servers per churn size, three cases of the DELETE home."""
    return 2 * len(plan.churn_sizes) + 3


def measure_churn(plan: Plan, work: Path, step: Callable[[str], None]) -> ChurnResults:
    results = ChurnResults(delete_size=plan.churn_delete_size)
    logs = work / "logs"
    for size in plan.churn_sizes:
        home = run_home(work, size)
        db = home / "state.db"
        step(f"churn {size:,}: bare change reads, incremental index")
        results.bare.append(measure_bare_reads(db, size, plan.bare_commits))
        cases = [
            Case(size, "WAL", INCREMENTAL, MAIN_VIEWS),
            Case(size, "WAL", INCREMENTAL, ONE_VIEW),
            Case(size, "WAL", INCREMENTAL, EIGHT_VIEWS),
        ]
        if size == plan.churn_delete_size:
            cases.append(Case(size, "WAL", INCREMENTAL, MAIN_VIEWS, deltas=True))
        with webui_server(home, logs, incremental=True) as process:
            results.runs += [run_case(process, db, case, plan, work) for case in cases]
            if size == plan.churn_delete_size:
                results.delta_cost = measure_delta_cost(process, db, plan, work)
        step(f"churn {size:,}: full rebuild")
        with webui_server(home, logs, incremental=False) as process:
            full = Case(size, "WAL", FULL_REBUILD, MAIN_VIEWS)
            results.runs.append(run_case(process, db, full, plan, work))
    size = plan.churn_delete_size
    home = delete_journal_home(work, size)
    db = home / "state.db"
    step(f"DELETE journal {size:,}: the agent alone")
    results.runs.append(run_case(None, db, Case(size, "DELETE", AGENT_ALONE, 0), plan, work))
    for mode, incremental in ((INCREMENTAL, True), (FULL_REBUILD, False)):
        step(f"DELETE journal {size:,}: the agent with webui ({mode})")
        with webui_server(home, logs, incremental=incremental) as process:
            case = Case(size, "DELETE", mode, MAIN_VIEWS)
            results.runs.append(run_case(process, db, case, plan, work))
    return results
