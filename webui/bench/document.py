"""BENCHMARKS.md is made of sections, each rewritten only by the run that measures it.

A normal run rewrites ``main`` and ``churn`` and keeps ``soak`` as it was; ``--only`` rewrites
the one it names; a soak run rewrites ``soak`` and keeps the others. Sections are delimited by
HTML comments, invisible when rendered.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SECTIONS = ("main", "churn", "soak")
TITLE = """# Benchmarks

Every figure below comes from the project's own benchmark command, measured in one run on one
machine, with the command beside it. `make bench` (`python -m webui bench`) rewrites the first
two sections (`--only main` or `--only churn` just one of them), `make soak` (`python -m webui
bench --soak`) the soak section; each run keeps the others.
"""
PLACEHOLDER = {
    "main": "## Benchmark\n\nNot run yet: `make bench`.\n",
    "churn": "## Churn\n\nNot run yet: `python -m webui bench --only churn`.\n",
    "soak": "## Soak\n\nNot run yet: `make soak` (`python -m webui bench --soak`).\n",
}


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def read_sections(text: str) -> dict[str, str]:
    """The body of every delimited section found in ``text``."""
    found: dict[str, str] = {}
    for name in SECTIONS:
        start, end = _markers(name)
        match = re.search(re.escape(start) + r"\n(.*?)" + re.escape(end), text, re.DOTALL)
        if match is not None:
            found[name] = match.group(1)
    return found


def render(sections: dict[str, str]) -> str:
    parts = [TITLE]
    for name in SECTIONS:
        start, end = _markers(name)
        body = sections.get(name, PLACEHOLDER[name]).rstrip("\n") + "\n"
        parts.append(f"{start}\n{body}{end}\n")
    return "\n".join(parts)


def write_section(path: Path, name: str, body: str) -> None:
    """Replace section ``name`` of the document at ``path`` (created when missing), atomically."""
    if name not in SECTIONS:
        raise ValueError(f"unknown section {name!r}")
    sections = read_sections(path.read_text()) if path.is_file() else {}
    sections[name] = body
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(render(sections))
    os.replace(temporary, path)
