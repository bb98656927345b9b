"""PNG plots for BENCHMARKS.md (matplotlib, no display needed)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: files only, never a window

import matplotlib.pyplot as plt

from webui.bench.results import (
    CEILING,
    HIT,
    NAIVE,
    REVALIDATE,
    STREAMING,
    WEBUI,
    WEBUI_2W,
    SizeResult,
    SoakResults,
)
from webui.bench.targets import REBUILD_LIMITS, rebuild_slope

MiB = 2**20


def rebuild_plot(sizes: Sequence[SizeResult], path: Path) -> None:
    measured = [s for s in sizes if s.cold is not None and s.cold.build_p50_ms]
    xs = [s.size for s in measured]
    p50 = [s.cold.build_p50_ms or 0.0 for s in measured if s.cold]
    p99 = [s.cold.build_p99_ms or 0.0 for s in measured if s.cold]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    axes.plot(xs, p50, "o-", label="server build time, median")
    axes.plot(xs, p99, "s--", alpha=0.6, label="server build time, p99")
    slope = rebuild_slope(list(sizes))
    if slope is not None and xs:
        anchor = p50[-1]
        axes.plot(
            xs,
            [anchor * (x / xs[-1]) for x in xs],
            ":",
            color="grey",
            label="linear through the largest",
        )
    for size, limit in REBUILD_LIMITS:
        axes.plot([size], [limit], "v", color="red", markersize=9)
    axes.plot([], [], "v", color="red", label="target")
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("sessions in the home (~50 messages each)")
    axes.set_ylabel("rebuild time (ms)")
    title = "Rebuild time against size"
    axes.set_title(title if slope is None else f"{title} (log-log slope {slope:.2f})")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _series(
    sizes: Sequence[SizeResult], server: str, scenario: str
) -> tuple[list[int], list[float]]:
    points = [(s.size, s.find(server, scenario)) for s in sizes]
    kept = [(n, load.rps) for n, load in points if load is not None and load.rps > 0]
    return [n for n, _ in kept], [r for _, r in kept]


def throughput_plot(sizes: Sequence[SizeResult], path: Path) -> None:
    figure, (hits, revalidations) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    lines = (
        (hits, CEILING, HIT, "ceiling (same bytes)", "k--"),
        (hits, WEBUI, HIT, "webui, 1 worker", "o-"),
        (hits, WEBUI_2W, HIT, "webui, 2 workers", "s-"),
        (hits, WEBUI, STREAMING, "webui, 1 stream overlaid", "^-"),
        (hits, NAIVE, HIT, "naive design", "x:"),
        (revalidations, CEILING, REVALIDATE, "bare 304", "k--"),
        (revalidations, WEBUI, REVALIDATE, "webui, 1 worker", "o-"),
        (revalidations, WEBUI_2W, REVALIDATE, "webui, 2 workers", "s-"),
    )
    for axes, server, scenario, label, style in lines:
        xs, ys = _series(sizes, server, scenario)
        if xs:
            axes.plot(xs, ys, style, label=label)
    for axes, title in ((hits, "200 (500-row page)"), (revalidations, "304 revalidation")):
        axes.set_xscale("log")
        axes.set_yscale("log")
        axes.set_title(title)
        axes.set_xlabel("sessions in the home")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend(fontsize=8)
    hits.set_ylabel("requests per second")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def soak_plot(soak: SoakResults, path: Path) -> None:
    xs = [s.seconds for s in soak.samples]
    figure, (memory, handles) = plt.subplots(2, 1, figsize=(8, 5.5), sharex=True)
    memory.plot(xs, [s.rss / MiB for s in soak.samples], "-", label="RSS")
    memory.axvline(soak.warmup, color="grey", linestyle=":", label="end of warm-up")
    top = max((s.rss / MiB for s in soak.samples), default=1.0)
    memory.set_ylim(0, math.ceil(top * 1.2))
    memory.set_ylabel("MiB")
    memory.legend()
    handles.plot(xs, [s.files for s in soak.samples], "-", label="open files (not sockets)")
    handles.plot(xs, [s.sockets for s in soak.samples], "-", label="sockets (connections)")
    handles.plot(xs, [s.threads for s in soak.samples], "-", label="threads")
    handles.set_xlabel("seconds")
    handles.legend()
    memory.set_title(f"Soak: {soak.pollers} pollers on {soak.size:,} sessions")
    for axes in (memory, handles):
        axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main_plots(sizes: Sequence[SizeResult], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rebuild, throughput = folder / "rebuild.png", folder / "throughput.png"
    rebuild_plot(sizes, rebuild)
    throughput_plot(sizes, throughput)
    return [rebuild, throughput]
