"""Server processes on free loopback ports: webui itself and the two reference apps.

Every process is started with the interpreter running the bench, logs to a file in the work
folder, is waited for until it answers, and stops with SIGTERM (SIGKILL after a bound).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psutil

HOST = "127.0.0.1"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Usage:
    """What the server process holds: resident memory, open files, threads, TCP connections."""

    rss: int
    fds: int  # every descriptor, the connections' sockets included
    threads: int
    sockets: int  # of ``fds``: sockets (connections, the listening socket, the loop's self-pipe)


def descriptors(pid: int) -> tuple[int, int] | None:
    """(descriptors, of which sockets) from one listing of ``/proc/PID/fd``, so that
    connections closing meanwhile cannot make the other descriptors look fewer; None without
    ``/proc``."""
    folder = f"/proc/{pid}/fd"
    try:
        names = os.listdir(folder)
    except OSError:
        return None
    total = sockets = 0
    for name in names:
        try:
            target = os.readlink(f"{folder}/{name}")
        except OSError:  # closed since the listing
            continue
        total += 1
        sockets += target.startswith("socket:")
    return total, sockets


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def origin(self) -> dict[str, str]:
        """The same-origin header state-changing requests carry."""
        return {"Origin": self.url}

    def usage(self) -> Usage:
        proc = psutil.Process(self.popen.pid)
        counted = descriptors(self.popen.pid)
        if counted is None:  # no /proc: two counts, taken one after the other
            counted = proc.num_fds(), len(proc.net_connections(kind="tcp"))
        fds, sockets = counted
        return Usage(proc.memory_info().rss, fds, proc.num_threads(), sockets)

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its worker processes."""
        proc = psutil.Process(self.popen.pid)
        total = 0.0
        for each in [proc, *proc.children(recursive=True)]:
            try:
                times = each.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def settle(self, *, window: float = 0.2, busy: float = 0.05, limit: float = 15.0) -> float:
        """Wait until the server is idle (under ``busy`` of a core over ``window``), at most
        ``limit`` seconds; how long it took. A load generator's requests still in flight when
        it stops keep a slow server busy, and that must not land on the next measurement."""
        started = time.monotonic()
        while time.monotonic() - started < limit:
            before = self.cpu_seconds()
            time.sleep(window)
            if self.cpu_seconds() - before < busy * window:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=STOP_TIMEOUT)


def client(url: str, timeout: float = 30.0) -> httpx2.Client:
    """A client for loopback only: proxies from the environment are never used."""
    return httpx2.Client(base_url=url, timeout=timeout, trust_env=False)


def async_client(url: str, *, connections: int = 10, timeout: float = 30.0) -> httpx2.AsyncClient:
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx2.AsyncClient(base_url=url, timeout=timeout, limits=limits, trust_env=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(process: Process, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    with client(process.url, timeout=2.0) as http:
        while time.monotonic() < deadline:
            if process.popen.poll() is not None:
                raise RuntimeError(
                    f"{process.name} exited {process.popen.returncode}: see {process.log}"
                )
            try:
                if http.get(path).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.05)
    raise RuntimeError(
        f"{process.name} did not answer within {START_TIMEOUT:g} s: see {process.log}"
    )


@contextmanager
def _run(
    name: str, command: Sequence[str], logs: Path, ready_path: str, port: int
) -> Iterator[Process]:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}-{port}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(list(command), stdout=out, stderr=subprocess.STDOUT)
    process = Process(name, popen, port, log)
    try:
        _wait_ready(process, ready_path)
        yield process
    finally:
        process.stop()


@contextmanager
def webui_server(
    home: Path,
    logs: Path,
    *,
    workers: int = 1,
    tokens_per_second: float = 20.0,
    incremental: bool | None = None,
) -> Iterator[Process]:
    """``python -m webui serve`` on ``home``, as a user runs it (the file watcher on).

    ``incremental`` False forces the full rebuild after every change (the bench-only
    ``incremental_index`` setting); None leaves the server's default."""
    port = free_port()
    command = [
        sys.executable, "-m", "webui", "serve", "--home", str(home), "--host", HOST,
        "--port", str(port), "--workers", str(workers), "--log-level", "warning",
        "--demo-tokens-per-second", f"{tokens_per_second:g}",
        # The agent's databases only: this machine's own Claude Code folder is no bench data.
        "--claude-home", "",
    ]  # fmt: skip
    if incremental is not None:
        command.append("--incremental-index" if incremental else "--no-incremental-index")
    name = f"webui-{workers}w" + ("" if incremental is None else "-inc" if incremental else "-full")
    with _run(name, command, logs, "/api/health", port) as process:
        if workers > 1:
            time.sleep(1.0)  # the health check answered from one worker; let the others start
        yield process


@contextmanager
def reference_server(
    kind: str, logs: Path, *, body: Path, etag: str, db: Path
) -> Iterator[Process]:
    """A reference app (``ceiling`` or ``naive``, see ``apps``) under uvicorn, one worker."""
    port = free_port()
    command = [
        sys.executable, "-m", "webui.bench.apps", kind, "--port", str(port),
        "--body", str(body), "--etag", etag, "--db", str(db),
    ]  # fmt: skip
    with _run(kind, command, logs, "/health", port) as process:
        yield process
