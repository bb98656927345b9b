"""``python -m webui bench``: webui against the ceiling and the naive design, in one run.

``runner.run_bench`` drives the steps: demo homes by size (``homes``), server processes
(``servers``; the reference apps in ``apps``), load (``load``, interleaved in ``rounds``), the
scenarios (``scenarios``, ``contention``, ``freshness``, ``memory``, ``compression``,
``search``, ``soak``; the external writer in ``agent``), the churn scenarios (``churnsteps``
runs the cases of ``churn`` and ``deltas``, with the agent as a process of its own in
``agentloop`` and the bare change reads in ``changereads``), the profiles (``profiling``), and
the outputs (``targets``, ``churn_targets``, ``findings``, ``report``, ``churn_report``,
``report_blocks``, ``document``, ``plots``).
"""

from __future__ import annotations

import argparse


def run_bench(args: argparse.Namespace) -> int:
    # Imported on call: ``python -m webui.bench.apps`` (a reference server) needs none of it.
    from webui.bench.runner import run_bench as run

    return run(args)


__all__ = ["run_bench"]
