"""The machine and the versions a run measured, for the report's first table."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

import psutil

PACKAGES = ("uvicorn", "starlette", "orjson", "uvloop", "httptools", "httpx2")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def wrk_version() -> str | None:
    path = shutil.which("wrk")
    if path is None:
        return None
    done = subprocess.run([path, "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "wrk (version unknown)"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe(use_wrk: bool) -> list[tuple[str, str]]:
    wrk = wrk_version()
    if use_wrk and wrk is not None:
        load = f"{wrk} (-t1, one thread)"
    elif wrk is None:
        load = "Python fallback (asyncio + httpx2): wrk missing"
    else:
        load = "Python fallback (asyncio + httpx2): chosen with WEBUI_BENCH_LOAD=python"
    return [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} logical cores"),
        ("RAM", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"),
        ("OS", platform.platform()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        *((name, _version(name)) for name in PACKAGES),
        ("Load generator", load),
        (
            "Load average at start",
            " / ".join(f"{v:.2f}" for v in os.getloadavg()) + " (1/5/15 min)",
        ),
    ]
