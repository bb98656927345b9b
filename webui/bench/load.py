"""Load generation: ``wrk`` (a C load generator) where installed, else a Python fallback.

Two request shapes: a plain ``GET`` (every answer a 200), and a revalidating ``GET`` that
sends ``If-None-Match`` with the newest tag it has seen — a browser's poll. wrk does the second
with a small Lua script that also counts statuses, so a run shows how many answers really were
304s. The Python fallback (asyncio + httpx2, one connection per worker task) is slower than
most servers it measures; the report says when it was used.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx2

from webui.bench.servers import async_client
from webui.bench.stats import ms

WRK_TIMEOUT = "10s"
REVALIDATE_LUA = """\
-- Revalidate like a browser: If-None-Match with the newest ETag seen; count statuses.
local etag = nil
n200, n304, nother = 0, 0, 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) etag = args[1] end
function request()
  return wrk.format(nil, nil, {["If-None-Match"] = etag})
end
function response(status, headers, body)
  if status == 304 then n304 = n304 + 1
  elseif status == 200 then n200 = n200 + 1
  else nother = nother + 1 end
  local tag = headers["etag"] or headers["ETag"]
  if tag then etag = tag end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("n200"); b = b + t:get("n304"); c = c + t:get("nother")
  end
  io.write(string.format("STATUS 200=%d 304=%d other=%d\\n", a, b, c))
end
"""


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int  # socket errors, timeouts and statuses other than 200/304
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadSpec:
    url: str
    seconds: float
    connections: int
    etag: str | None = None  # revalidate (If-None-Match), following new tags


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _duration_ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if found is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def parse_wrk(output: str) -> LoadResult:
    """The figures of one ``wrk --latency`` run (and the status line of the Lua script)."""
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.MULTILINE))
    done = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if done is None or rate is None or "50" not in percentiles or "99" not in percentiles:
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_ok = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    statuses: dict[str, int] = {}
    status = re.search(r"STATUS 200=(\d+) 304=(\d+) other=(\d+)", output)
    if status is not None:
        statuses = {"200": int(status.group(1)), "304": int(status.group(2))}
        errors += int(status.group(3))
    elif non_ok is not None:
        errors += int(non_ok.group(1))
    return LoadResult(
        tool="wrk",
        requests=int(done.group(1)),
        seconds=_duration_ms(done.group(2)) / 1000,
        rps=float(rate.group(1)),
        p50_ms=_duration_ms(percentiles["50"]),
        p99_ms=_duration_ms(percentiles["99"]),
        errors=errors,
        statuses=statuses,
    )


def run_wrk(spec: LoadSpec, scratch: Path) -> LoadResult:
    command = [
        "wrk", "-t1", f"-c{spec.connections}", f"-d{max(1, round(spec.seconds))}s",
        "--latency", "--timeout", WRK_TIMEOUT,
    ]  # fmt: skip
    if spec.etag is not None:
        script = scratch / "revalidate.lua"
        script.write_text(REVALIDATE_LUA)
        command += ["-s", str(script), spec.url, "--", spec.etag]
    else:
        command.append(spec.url)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=spec.seconds + 60, check=True
    )
    return parse_wrk(done.stdout)


async def _worker(
    http: httpx2.AsyncClient,
    spec: LoadSpec,
    deadline: float,
    latencies: list[float],
    statuses: Counter[str],
) -> None:
    etag = spec.etag
    while time.perf_counter() < deadline:
        headers = {"If-None-Match": etag} if etag is not None else {}
        started = time.perf_counter()
        try:
            response = await http.get(spec.url, headers=headers)
        except httpx2.HTTPError:
            statuses["error"] += 1
            continue
        latencies.append(time.perf_counter() - started)
        statuses[str(response.status_code)] += 1
        if etag is not None:
            etag = response.headers.get("etag", etag)


async def _python_load(spec: LoadSpec) -> LoadResult:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    started = time.perf_counter()
    deadline = started + spec.seconds
    async with async_client(spec.url, connections=spec.connections) as http:
        await asyncio.gather(
            *(_worker(http, spec, deadline, latencies, statuses) for _ in range(spec.connections))
        )
    seconds = time.perf_counter() - started
    ok = statuses["200"] + statuses["304"]
    return LoadResult(
        tool="python",
        requests=len(latencies),
        seconds=seconds,
        rps=len(latencies) / seconds,
        p50_ms=ms(latencies, 0.5),
        p99_ms=ms(latencies, 0.99),
        errors=sum(statuses.values()) - ok,
        statuses={"200": statuses["200"], "304": statuses["304"]},
    )


def python_load(spec: LoadSpec) -> LoadResult:
    return asyncio.run(_python_load(spec))


def generate_load(spec: LoadSpec, *, use_wrk: bool, scratch: Path) -> LoadResult:
    return run_wrk(spec, scratch) if use_wrk else python_load(spec)
