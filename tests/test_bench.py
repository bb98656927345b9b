"""The benchmark command: its pure parts, its load generators, and a smoke run end to end.

The smoke runs shrink every scenario (``WEBUI_BENCH_SMOKE=1``); they check that the command
works and writes its report and plots, never how fast anything is.
"""

from __future__ import annotations

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

from webui.bench.document import read_sections, render, write_section
from webui.bench.load import LoadSpec, parse_wrk, python_load, run_wrk
from webui.bench.memory import distinct_queries
from webui.bench.plan import SMOKE_ENV, parse_sizes
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
end = time.monotonic() + 1.0
while time.monotonic() < end:
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
    "### Where the time goes",
    "### How it was measured",
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
