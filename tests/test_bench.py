"""The benchmark command: its pure parts, its load generators, and a smoke run end to end.

The smoke runs shrink every scenario (``WEBUI_BENCH_SMOKE=1``); they check that the command
works and writes its report and plots, never how fast anything is.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from webui.agentdb.schema import create_state_db, insert_message, insert_session, open_writer
from webui.bench.agentloop import ARCHIVE, MESSAGE, TITLE, open_churn
from webui.bench.churn import FILTER_SETS, Case, Tab, health_numbers, tabs_for
from webui.bench.churn_report import index_total
from webui.bench.churn_targets import churn_verdicts, refresh_cost
from webui.bench.document import read_sections, render, write_section
from webui.bench.load import LoadSpec, parse_wrk, python_load, run_wrk
from webui.bench.memory import distinct_queries
from webui.bench.plan import SMOKE_ENV, make_plan, parse_sizes
from webui.bench.results import (
    AGENT_ALONE,
    FULL_REBUILD,
    INCREMENTAL,
    ChurnResults,
    ChurnRun,
    CommitLatency,
)
from webui.bench.servers import Process, descriptors, reference_server
from webui.bench.stats import loglog_slope, percentile
from webui.server import MALLOC_ARENAS, limit_malloc_arenas

ROOT = Path(__file__).resolve().parents[1]

WRK_OUTPUT = """\
Running 5s test @ http://127.0.0.1:8000/api/sessions?limit=500
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     7.56ms    4.15ms  37.05ms   77.45%
    Req/Sec     2.14k   685.36     3.84k    64.00%
  Latency Distribution
     50%  612.00us
     75%    9.83ms
     90%   12.98ms
     99%    1.07s
  10739 requests in 5.06s, 2.74GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
Requests/sec:   2123.78
Transfer/sec:    555.87MB
""".replace("s\n", "s \n")  # wrk pads some figures with a trailing space


def test_parse_wrk_reads_rate_percentiles_and_errors() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 10739
    assert result.seconds == pytest.approx(5.06)
    assert result.rps == pytest.approx(2123.78)
    assert result.p50_ms == pytest.approx(0.612)
    assert result.p99_ms == pytest.approx(1070.0)
    assert result.errors == 3
    assert result.statuses == {}


def test_parse_wrk_reads_the_status_line_of_the_lua_script() -> None:
    result = parse_wrk(WRK_OUTPUT + "STATUS 200=12 304=10720 other=7\n")
    assert result.statuses == {"200": 12, "304": 10720}
    assert result.errors == 3 + 7


def test_parse_wrk_refuses_output_it_does_not_understand() -> None:
    with pytest.raises(ValueError, match="unexpected wrk output"):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_sizes_are_validated() -> None:
    assert parse_sizes("1000, 100,1000") == (100, 1000)
    for bad in ("", "0", "ten", "100,-5", "2000000"):
        with pytest.raises(ValueError, match="--sizes"):
            parse_sizes(bad)


def test_percentile_and_slope() -> None:
    assert percentile([], 0.5) is None
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    assert loglog_slope([10, 100, 1000], [1, 10, 100]) == pytest.approx(1.0)
    assert loglog_slope([10, 100, 1000], [5, 5, 5]) == pytest.approx(0.0)
    assert loglog_slope([10], [1]) is None


def test_distinct_queries_give_distinct_cache_keys() -> None:
    queries = distinct_queries(64)
    assert len({tuple(sorted(q.items())) for q in queries}) == 64
    assert {q["sidebar_source"] for q in queries} == {"all", "webui", "cli"}
    with pytest.raises(ValueError):
        distinct_queries(500)


def test_a_section_is_replaced_and_the_others_kept(tmp_path: Path) -> None:
    report = tmp_path / "BENCHMARKS.md"
    write_section(report, "main", "## Benchmark\n\nfirst main\n")
    assert "Not run yet" in read_sections(report.read_text())["soak"]
    write_section(report, "soak", "## Soak\n\nsoak figures\n")
    write_section(report, "main", "## Benchmark\n\nsecond main\n")
    sections = read_sections(report.read_text())
    assert sections["main"] == "## Benchmark\n\nsecond main\n"
    assert sections["soak"] == "## Soak\n\nsoak figures\n"
    assert render(sections) == report.read_text()


def _args(**given: object) -> argparse.Namespace:
    defaults: dict[str, object] = {
        "sizes": "100,1000,10000,50000", "quick": False, "soak": False, "soak_seconds": 600.0,
        "out": Path("."), "work": None, "only": None,
    }  # fmt: skip
    return argparse.Namespace(**{**defaults, **given})


def test_the_plan_runs_churn_at_its_own_sizes_and_only_what_it_is_told() -> None:
    full = make_plan(_args(), {})
    assert full.churn_sizes == (10_000, 50_000) and full.churn_delete_size == 10_000
    assert full.runs_main and full.runs_churn
    alone = make_plan(_args(only="churn", sizes="10000"), {})
    assert alone.churn_sizes == (10_000,) and not alone.runs_main
    assert "--only churn" in alone.command
    assert make_plan(_args(), {"WEBUI_BENCH_ONLY": "main"}).runs_churn is False
    with pytest.raises(ValueError, match="--only"):
        make_plan(_args(only="everything"), {})


def test_the_churn_writer_commits_as_the_agent_does(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    create_state_db(db)
    conn = open_writer(db)
    with conn:
        for n in range(3):
            insert_session(conn, id=f"s{n}", source="cli", started_at=1.0 + n)
            insert_message(conn, session_id=f"s{n}", role="user", content="hi", timestamp=2.0)
    conn.close()
    churn = open_churn(db, seed=1)
    kinds = [churn.commit() for _ in range(20)]
    churn.conn.close()
    assert kinds.count(MESSAGE) == 18
    assert {kinds[9], kinds[19]} == {TITLE, ARCHIVE}
    conn = open_writer(db)
    (messages,) = conn.execute("SELECT SUM(message_count) FROM sessions").fetchone()
    (archived,) = conn.execute("SELECT COUNT(*) FROM sessions WHERE archived = 1").fetchone()
    conn.close()
    assert messages == 3 + 18 and archived == 1


def test_tabs_spread_over_the_filter_sets_and_ask_for_deltas_once_versioned() -> None:
    plan = make_plan(_args(), {})

    def views(case: Case) -> list[tuple[tuple[str, str], ...]]:
        return [tuple(sorted(t.query.items())) for t in tabs_for(case, plan)]

    four = views(Case(10, "WAL", INCREMENTAL, 4, deltas=True))
    assert len(four) == 8 and len(set(four)) == 4 and all(four.count(v) == 2 for v in four)
    assert len(set(views(Case(10, "WAL", INCREMENTAL, 8)))) == 8 == len(FILTER_SETS)
    assert set(views(Case(10, "WAL", INCREMENTAL, 1))) == {()}
    assert "since" not in tabs_for(Case(10, "WAL", INCREMENTAL, 4, deltas=True), plan)[0].params()
    tab = Tab({}, deltas=True, version="v7", have=500)
    assert tab.params() == {"limit": "500", "since": "v7", "have": "500"}


def _churn_run(
    mode: str, cpu: float, *, size: int = 10_000, p99: float = 10.0, **kw: object
) -> ChurnRun:
    values: dict[str, object] = {
        "size": size, "journal": "WAL", "mode": mode, "views": 4, "tabs": 8, "deltas": False,
        "seconds": 60.0, "commits": 60, "commit": CommitLatency(60, 1.0, 2.0, 3.0),
        "cpu_seconds": cpu,
        "idle_cpu_rate": None, "polls": 240, "poll_p50_ms": 2.0, "poll_p99_ms": p99,
        "not_modified": 100, "errors": 0, "wire_bytes": 0, "body_bytes": 0,
        "delta_answers": 0, "empty_deltas": 0, "full_answers": 140, "versioned": False,
    }  # fmt: skip
    values.update(kw)
    return ChurnRun(**values)  # type: ignore[arg-type]


def test_churn_targets_report_a_miss_as_a_miss() -> None:
    churn = ChurnResults(delete_size=10_000)
    churn.runs += [
        _churn_run(INCREMENTAL, 6.0, p99=45.0),  # 100 ms a commit: 1/5 of the full rebuild
        _churn_run(FULL_REBUILD, 30.0),
        _churn_run(AGENT_ALONE, 0.0, journal="DELETE", views=0, tabs=0),
        _churn_run(INCREMENTAL, 1.0, journal="DELETE", commit=CommitLatency(30, 2.0, 9.0, 40.0)),
    ]
    verdicts = {v.target: v for v in churn_verdicts(churn)}
    cpu = verdicts["Churn, 10,000 sessions: CPU per commit ≤ 1/10 of the full rebuild's"]
    assert cpu.passed is False and "1/5.0" in cpu.measured
    assert verdicts["Churn, 10,000 sessions: poll p99 ≤ 30 ms"].passed is False
    assert (
        verdicts["DELETE journal, 10,000 sessions: agent commit p99 with webui ≤ 3× without"].passed
        is False
    )
    delay = verdicts["DELETE journal, 10,000 sessions: no commit delayed > 25 ms by webui"]
    assert delay.passed is False and delay.measured.startswith("39.0 ms")
    assert verdicts["Churn, 50,000 sessions: poll p99 ≤ 100 ms"].passed is None


def test_index_statistics_are_read_whatever_their_nesting() -> None:
    health = {"refreshes": 3, "ok": True, "default": {"full_reloads": 1, "deep": {"x": 1}}}
    numbers = health_numbers(health)
    assert numbers == {"refreshes": 3.0, "default.full_reloads": 1.0}
    assert index_total(numbers, "full_reloads") == 1.0
    assert index_total(numbers, "view_updates") is None
    run = _churn_run(INCREMENTAL, 6.0, idle_cpu_rate=0.05)  # 3 s of the 6 were idle polling
    cost, what = refresh_cost(run)
    assert cost == pytest.approx(50.0) and what == "server CPU per commit above idle"
    timed = _churn_run(INCREMENTAL, 6.0, index_now={"refresh_time.p50_ms": 4.0})
    assert refresh_cost(timed) == (4.0, "refresh p50 in /api/health")


@pytest.fixture
def ceiling(tmp_path: Path) -> Iterator[Process]:
    body = tmp_path / "page.json"
    body.write_bytes(b'{"sessions": [], "total": 0}')
    with reference_server(
        "ceiling", tmp_path / "logs", body=body, etag='"tag"', db=tmp_path / "none.db"
    ) as process:
        yield process


@pytest.mark.server
def test_python_fallback_load_counts_revalidations(ceiling: Process) -> None:
    url = ceiling.url + "/api/sessions"
    result = python_load(LoadSpec(url, seconds=0.5, connections=4, etag='"tag"'))
    assert result.tool == "python"
    assert result.requests > 0
    assert result.statuses["304"] == result.requests
    assert result.errors == 0


BUSY_THEN_IDLE = """\
import time
while time.process_time() < 1.0:  # a second of CPU, however busy the machine is
    pass
time.sleep(60)
"""


def test_settle_waits_while_the_server_works_and_not_once_it_is_idle(tmp_path: Path) -> None:
    popen = subprocess.Popen([sys.executable, "-c", BUSY_THEN_IDLE])
    process = Process("busy", popen, 0, tmp_path / "busy.log")
    try:
        assert process.settle(limit=10.0) >= 0.6  # a core's worth of work left, then idle
        assert process.settle(limit=10.0) < 0.5  # idle from the start: one window
        assert process.cpu_seconds() >= 0.6
    finally:
        popen.kill()
        popen.wait()


def test_descriptors_tell_sockets_from_other_files(tmp_path: Path) -> None:
    before = descriptors(os.getpid())
    assert before is not None
    with socket.socket() as sock, (tmp_path / "f").open("w") as handle:
        during = descriptors(os.getpid())
        assert sock.fileno() >= 0 and not handle.closed
    assert during is not None
    assert during[0] - before[0] == 2  # a socket and a file more ...
    assert during[1] - before[1] == 1  # ... of which one socket


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_malloc_arenas_are_capped_on_glibc() -> None:
    assert limit_malloc_arenas(MALLOC_ARENAS)


@pytest.mark.server
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_load_counts_revalidations(ceiling: Process, tmp_path: Path) -> None:
    url = ceiling.url + "/api/sessions"
    result = run_wrk(LoadSpec(url, seconds=1, connections=4, etag='"tag"'), tmp_path)
    assert result.requests > 0
    assert result.statuses["304"] > 0
    assert result.statuses["200"] == 0
    assert result.errors == 0


def run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "webui", "bench", *args],
        cwd=ROOT,
        env={**os.environ, SMOKE_ENV: "1"},
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )


MAIN_HEADINGS = (
    "### Targets",
    "### Throughput against the ceiling and the naive design",
    "### Rebuild time against size",
    "### Streaming contention",
    "### Freshness",
    "### Memory",
    "### Compression",
    "### Search",
    "### Where the time goes",
    "### How it was measured",
)
CHURN_HEADINGS = (
    "## Churn",
    "### The agent commits once a second while tabs poll",
    "### The bare change reads (the limit)",
    "### The agent's commits in a DELETE-journal home",
)


@pytest.mark.server
@pytest.mark.timeout(420)
def test_bench_smoke_writes_the_report_and_the_plots(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    done = run_bench("--sizes", "50", "--quick", "--out", str(out), "--work", str(work))
    assert done.returncode == 0, done.stderr[-3000:]
    text = (out / "BENCHMARKS.md").read_text()
    for heading in MAIN_HEADINGS:
        assert heading in text
    for server in ("webui", "webui, 2 workers", "ceiling", "naive"):
        # a throughput row: size, server, request, then a req/s figure
        assert re.search(rf"\| 50 \| {re.escape(server)} \| [^|]+ \| [\d,]+ \|", text), server
    assert re.search(r"\| Load generator \| (wrk|Python fallback)", text)
    assert re.search(r"\*\*(PASS|MISS)\*\*", text)
    assert re.search(r"\| after 64 distinct lists \| [\d,.]+ \| \d+ \|", text)
    assert "Not run yet: `make soak`" in text
    churn = read_sections(text)["churn"]
    for heading in CHURN_HEADINGS:
        assert heading in churn
    for server in (
        *(f"incremental, 8 tabs on {n}" for n in ("4 views", "1 view", "8 views")),
        "full rebuild, 8 tabs on 4 views",
    ):
        # a churn row: size, server, then the number of commits
        assert re.search(rf"\| 50 \| {re.escape(server)} \| \d+ \|", churn), server
    assert re.search(r"\| none \(the agent alone\) \| \d+ \| [\d.]+ / ", churn)
    for plot in ("rebuild.png", "throughput.png"):
        assert (out / "docs" / "bench" / plot).stat().st_size > 1000


@pytest.mark.server
@pytest.mark.timeout(300)
def test_soak_smoke_replaces_only_its_section(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    write_section(out / "BENCHMARKS.md", "main", "## Benchmark\n\nkept as it was\n")
    done = run_bench(
        "--soak", "--soak-seconds", "4", "--sizes", "50", "--out", str(out), "--work", str(work)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sections = read_sections((out / "BENCHMARKS.md").read_text())
    assert sections["main"] == "## Benchmark\n\nkept as it was\n"
    soak = sections["soak"]
    assert re.search(r"\| No errors \| \d+ in [\d,]+ polls \| \*\*(PASS|MISS)\*\* \|", soak)
    assert re.search(r"RSS at \d+ s → end \| [\d,.]+ → [\d,.]+ MiB", soak)
    assert (out / "docs" / "bench" / "soak.png").stat().st_size > 1000
