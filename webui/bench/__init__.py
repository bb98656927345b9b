"""``python -m webui bench``: webui against the ceiling and the naive design, in one run.

``runner.run_bench`` drives the steps: demo homes by size (``homes``), server processes
(``servers``; the reference apps in ``apps``), load (``load``, interleaved in ``rounds``), the
scenarios (``scenarios``, ``contention``, ``freshness``, ``memory``, ``soak``; the external
writer in ``agent``), the profiles (``profiling``), and the outputs (``targets``, ``findings``,
``report``, ``document``, ``plots``).
"""

from __future__ import annotations

import argparse


def run_bench(args: argparse.Namespace) -> int:
    # Imported on call: ``python -m webui.bench.apps`` (a reference server) needs none of it.
    from webui.bench.runner import run_bench as run

    return run(args)


__all__ = ["run_bench"]
