"""Blocks of the main section whose figures come from modules of their own: compression
(``compression``) and search (``search``)."""

from __future__ import annotations

from webui.bench.compression import IDENTITY, CompressionResult
from webui.bench.markdown import num, table
from webui.bench.results import MainResults


def compression_block(results: MainResults) -> str:
    c = results.compression
    if c is None:
        why = f": {results.compression_note}" if results.compression_note else ""
        return f"Not measured{why}.\n"
    rows = [(IDENTITY, f"{c.identity_bytes:,}", "1.0×", _rate(c, IDENTITY))]
    rows += [
        (coding, f"{size:,}", f"{c.ratio(coding):.1f}×", _rate(c, coding))
        for coding, size in c.sizes.items()
    ]
    sizes = table(("Accept-Encoding", "bytes sent", "smaller by", "200 hits/s (× identity)"), rows)
    levels = table(
        ("Coding", "Level", "one compression ms", "smaller by"),
        (
            (
                f"**{f.coding}**" if f.chosen else f.coding,
                f"**{f.level}**" if f.chosen else str(f.level),
                num(f.milliseconds, 2),
                f"{f.ratio:.1f}×",
            )
            for f in c.levels
        ),
    )
    return (
        f"The {c.rows}-row page of `GET /api/sessions?limit=500`, as the server sends it to a "
        "client accepting one coding (a page is compressed once, when it is made; every hit "
        "sends the kept bytes):\n\n"
        + sizes
        + "\nWhat one compression of that page costs, per level (the server's level in bold):\n\n"
        + levels
    )


def _rate(c: CompressionResult, accepted: str) -> str:
    if accepted not in c.rounds or IDENTITY not in c.rounds:
        return "—"
    return f"{c.median_rps(accepted):,.0f} ({num(c.relative_rps(accepted), 2)}×)"


def search_block(results: MainResults) -> str:
    if results.search is None:
        return f"Not measured{': ' + results.search_note if results.search_note else ''}.\n"
    return results.search.markdown()
