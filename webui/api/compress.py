"""The list's content codings: ``Accept-Encoding`` parsed, a coding chosen, bytes compressed.

Pure functions; the endpoint memoizes the choice per header value and keeps each page's
compressed bytes with the page, so a hit compresses nothing.

Levels and preference were measured on a 500-row page of the 1,000-session demo home (312 KB,
``python -m webui.bench.compression``; best of 30 on the 2-core dev machine):

=======  ========  =======  =====================================================
coding   level     time     ratio
=======  ========  =======  =====================================================
zstd     1         0.31 ms  7.7x (levels 2-4 are slower and no smaller on this JSON)
br       4         1.4 ms   7.7x (quality 5: 2.5 ms for 8.0x; 11: 290 ms for 9.9x)
gzip     5         2.1 ms   6.8x (level 6: 2.7 ms for 7.0x; 9: 5.0 ms for 7.2x)
=======  ========  =======  =====================================================

So zstd first (the fastest to compress and as small as any here), then brotli, then gzip, the
one every client has. A page is compressed on the event loop, once per coding: about 2 ms at
most for a 500-row page (ten times that, once, for a 5,000-row one). Inline, two requests in
one tick can never compress the same page twice; a worker thread would need a single flight
of its own.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

import brotli  # type: ignore[import-untyped]  # ships no stubs

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # the same module, backported (httpx2's zstd decoding uses it too)
    from backports import zstd

Coding = Literal["zstd", "br", "gzip"]

# The server's order among codings the client weighs equally; identity comes last.
PREFERENCE: Final[tuple[Coding, ...]] = ("zstd", "br", "gzip")
LEVELS: Final[Mapping[Coding, int]] = {"zstd": 1, "br": 4, "gzip": 5}
# Below about a packet, compression saves no round trip and costs CPU and a header.
MIN_SIZE: Final = 1024
# RFC 9110 8.4.1.3: "x-gzip" is gzip.
_ALIASES: Final = {"x-gzip": "gzip"}
_IDENTITY: Final = "identity"
# Identity, neither named nor weighed by "*", is acceptable below any weight the grammar allows
# (three decimals).
_IDENTITY_DEFAULT: Final = 0.0001


@dataclass(slots=True)
class CompressionStats:
    """What one endpoint compressed: calls per coding and bytes before and after."""

    compressions: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    bytes_out: int = 0


def _weight(params: list[str]) -> float | None:
    """The ``q`` of one list element (1 when absent); None when it is malformed."""
    q = 1.0
    for param in params:
        name, eq, value = param.partition("=")
        if name.strip().lower() != "q":
            continue  # no other parameter is defined for Accept-Encoding; ignore it
        if not eq:
            return None
        try:
            q = float(value.strip())
        except ValueError:
            return None
        if not 0.0 <= q <= 1.0:  # also rejects nan
            return None
    return q


def parse_accept_encoding(header: str) -> dict[str, float]:
    """Coding (lower case) -> weight, from an ``Accept-Encoding`` value.

    Lenient where the grammar allows no answer: an element with a malformed weight is
    dropped, a repeated coding keeps its first weight. Never raises.
    """
    weights: dict[str, float] = {}
    for element in header.split(","):
        name, *params = element.split(";")
        coding = name.strip().lower()
        if not coding:
            continue
        coding = _ALIASES.get(coding, coding)
        q = _weight(params)
        if q is not None:
            weights.setdefault(coding, q)
    return weights


def choose_coding(
    weights: Mapping[str, float], offered: tuple[Coding, ...] = PREFERENCE
) -> Coding | None:
    """The coding to send (None: identity), by RFC 9110 12.5.3.

    The client's weights rule; among equal weights the server's order does, identity last.
    ``*`` weighs every coding not named (identity included); identity unnamed and not
    refused by ``*;q=0`` is acceptable at the lowest weight. When nothing is acceptable,
    not even identity, the body goes out as identity anyway: refusing a poll (406) helps
    no one.
    """
    star = weights.get("*")
    best: Coding | None = None
    best_q = 0.0
    for coding in offered:
        q = weights.get(coding, star if star is not None else 0.0)
        if q > best_q:
            best, best_q = coding, q
    identity = weights.get(_IDENTITY, star if star is not None else _IDENTITY_DEFAULT)
    if best is not None and identity > best_q:
        return None
    return best


def negotiate(header: str | None) -> Coding | None:
    """The coding for a request's ``Accept-Encoding`` (absent or empty: identity)."""
    if not header:
        return None
    return choose_coding(parse_accept_encoding(header))


def compress(body: bytes, coding: Coding, level: int | None = None) -> bytes:
    """``body`` in ``coding``, at the server's level unless told (the bench sweeps them)."""
    level = LEVELS[coding] if level is None else level
    if coding == "zstd":
        return zstd.compress(body, level=level)
    if coding == "br":
        data: bytes = brotli.compress(body, quality=level)
        return data
    # mtime=0: the same page gives the same bytes from every worker.
    return gzip.compress(body, compresslevel=level, mtime=0)
