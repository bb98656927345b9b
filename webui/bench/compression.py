"""Compressed list bodies: how much smaller, what each level costs, and what hits cost on the wire.

``measure_compression(work)`` builds (or reuses) the 1,000-session demo home in ``work``, starts
a real ``webui serve`` on a copy, and measures its 500-row page:

- the size sent in each coding the server offers, against the identity body (target ≥ 5×);
- per coding and level, the time to compress that page once (best of a few) and the ratio —
  the figures the levels in ``webui.api.compress`` were chosen from;
- 200 throughput with wrk, for a client that accepts each coding against one that accepts
  none, in interleaved rounds (target ≥ 0.9× of identity). Every request is a hit: the page was
  compressed once, on the first request, and later hits send the kept bytes.

Throughput needs wrk (the Python load generator is slower than the server and would measure
itself); without it the throughput figures are left out. Run alone as
``python -m webui.bench.compression [--work DIR] [--seconds 5] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from webui.api.compress import LEVELS, PREFERENCE, Coding, compress
from webui.bench.homes import run_home
from webui.bench.load import WRK_TIMEOUT, LoadResult, parse_wrk
from webui.bench.servers import Process, client, webui_server

SIZE = 1000
PAGE = "/api/sessions?limit=500"
IDENTITY = "identity"
SWEEP: dict[Coding, tuple[int, ...]] = {
    "zstd": (1, 3, 6, 9, 19),
    "br": (1, 4, 5, 6, 9, 11),
    "gzip": (1, 4, 5, 6, 9),
}


@dataclass(frozen=True)
class LevelFigure:
    coding: Coding
    level: int
    chosen: bool  # the level the server uses
    milliseconds: float  # one compression of the page, best of several
    ratio: float


@dataclass
class CompressionResult:
    rows: int
    identity_bytes: int
    sizes: dict[str, int]  # coding -> bytes the server sent
    levels: list[LevelFigure]
    tool: str | None = None  # "wrk", or None when throughput was not measured
    rounds: dict[str, list[float]] = field(default_factory=dict)  # accepted -> rps per round

    def ratio(self, coding: str) -> float:
        return self.identity_bytes / self.sizes[coding]

    def median_rps(self, accepted: str) -> float:
        runs = sorted(self.rounds[accepted])
        return runs[len(runs) // 2]

    def relative_rps(self, coding: str) -> float:
        """Median 200s per second accepting ``coding``, over the same for identity."""
        return self.median_rps(coding) / self.median_rps(IDENTITY)


def level_sweep(body: bytes, repeat: int = 5) -> list[LevelFigure]:
    figures = []
    for coding, levels in SWEEP.items():
        for level in levels:
            best, size = float("inf"), 0
            for _ in range(1 if level >= 11 else repeat):  # brotli 11 takes a third of a second
                started = time.perf_counter()
                size = len(compress(body, coding, level))
                best = min(best, time.perf_counter() - started)
            chosen = LEVELS[coding] == level
            figures.append(LevelFigure(coding, level, chosen, best * 1000, len(body) / size))
    return figures


def _wrk(url: str, accept: str, seconds: float, connections: int) -> LoadResult:
    """``wrk`` with one ``Accept-Encoding``, parsed as the bench parses every wrk run."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency",
        "--timeout", WRK_TIMEOUT, "-H", f"Accept-Encoding: {accept}", url,
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    return parse_wrk(done.stdout)


def _throughput(
    server: Process, result: CompressionResult, seconds: float, connections: int, rounds: int
) -> None:
    for _ in range(rounds):
        for accepted in (IDENTITY, *PREFERENCE):
            load = _wrk(server.url + PAGE, accepted, seconds, connections)
            if load.errors:
                raise RuntimeError(f"{load.errors} failed requests accepting {accepted}")
            result.rounds.setdefault(accepted, []).append(load.rps)
            server.settle()
    result.tool = "wrk"


def measure_compression(
    work: Path,
    *,
    home: Path | None = None,
    seconds: float = 5.0,
    connections: int = 10,
    rounds: int = 3,
    use_wrk: bool | None = None,
) -> CompressionResult:
    """Sizes, level costs and (with wrk) hit throughput per coding, on a real server, on
    ``home`` (default: a fresh copy of the 1,000-session demo home in ``work``)."""
    home = home if home is not None else run_home(work, SIZE)
    with webui_server(home, work / "logs") as server, client(server.url) as http:
        plain = http.get(PAGE, headers={"Accept-Encoding": IDENTITY})
        plain.raise_for_status()
        sizes: dict[str, int] = {}
        for coding in PREFERENCE:
            answer = http.get(PAGE, headers={"Accept-Encoding": coding})
            if answer.headers.get("content-encoding") != coding:
                raise RuntimeError(f"the server did not answer in {coding}")
            if answer.content != plain.content:
                raise RuntimeError(f"the {coding} body does not decode to the identity body")
            sizes[coding] = answer.num_bytes_downloaded
        result = CompressionResult(
            rows=len(plain.json()["sessions"]),
            identity_bytes=len(plain.content),
            sizes=sizes,
            levels=level_sweep(plain.content),
        )
        if use_wrk if use_wrk is not None else shutil.which("wrk") is not None:
            _throughput(server, result, seconds, connections, rounds)
    return result


def describe(result: CompressionResult) -> str:
    lines = [f"{result.rows}-row page: {result.identity_bytes} bytes as identity"]
    for coding in PREFERENCE:
        line = f"  {coding:5} {result.sizes[coding]:7} bytes  {result.ratio(coding):4.1f}x smaller"
        if result.tool is not None:
            line += f"  200s/s {result.relative_rps(coding):.2f}x of identity"
        lines.append(line)
    if result.tool is not None:
        for accepted, runs in result.rounds.items():
            lines.append(f"  {accepted:8} rps per round: " + ", ".join(f"{r:.0f}" for r in runs))
    lines.append("compressing the page once, per level (* = the server's):")
    for f in result.levels:
        mark = "*" if f.chosen else " "
        lines.append(f" {mark}{f.coding:5} {f.level:2}  {f.milliseconds:7.2f} ms  {f.ratio:4.1f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--work", type=Path, default=None, help="homes and logs (default: temp)")
    parser.add_argument("--seconds", type=float, default=5.0, help="one wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="webui-compression-") as scratch:
        work = args.work or Path(scratch)
        result = measure_compression(
            work, seconds=args.seconds, connections=args.connections, rounds=args.rounds
        )
    print(describe(result))


if __name__ == "__main__":
    main()
