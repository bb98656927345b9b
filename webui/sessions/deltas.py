"""Deltas: what changed in the rows a client holds, since the version it names.

A client that sends ``since=<version>`` (and ``have=<rows held>``) holds the first rows of the
list as that version showed them. When the server still remembers that version (a short
history per key) the answer may be a delta instead of the page: the rows of the new window the
client lacks (``upserted``, with their new index) and the keys of the rows it should drop
(``removed``). Applying it — drop every row named in ``removed`` or ``upserted``, insert each
upserted row at its index, in order — gives exactly the new window; that is checked here by
applying it before sending, and anything that does not check out, or is no smaller than the
page, is answered with the full page instead. Rows are compared as their serialized bytes:
an unchanged row is the same bytes in both versions, so nothing is parsed but the few rows
that left.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from webui.sessions.built import BuiltList, Page, page_counts, page_meta, page_version
from webui.sessions.overlay import Overlay, visible_rows
from webui.sessions.query import ListKey, ListQuery

VERSIONS_KEPT = 8  # per key: a tab polling every 2 s may miss this many changes


@dataclass(frozen=True, slots=True)
class Held:
    """What one version showed: its rows in base order and the overlay laid over them."""

    rows: list[bytes]
    overlay: Overlay


def window(rows: list[bytes], overlay: Overlay, have: int) -> list[bytes]:
    """The first ``have`` rows a page shows (overlay included)."""
    return list(itertools.islice(visible_rows(rows, (), overlay, None), have))


def diff(
    old: Sequence[bytes], new: Sequence[bytes]
) -> tuple[list[tuple[int, bytes]], list[bytes]] | None:
    """(upserted with their index, rows removed), or None when applying them would not give
    ``new`` (a row whose bytes did not change but whose place did)."""
    old_set, new_set = set(old), set(new)
    upserted = [(i, row) for i, row in enumerate(new) if row not in old_set]
    result = [row for row in old if row in new_set]
    for index, row in upserted:
        result.insert(index, row)
    if result != list(new):
        return None
    return upserted, [row for row in old if row not in new_set]


def _key(row: bytes) -> tuple[str, str]:
    data = orjson.loads(row)
    return (data["profile"], data["session_id"])


def _removed_keys(removed: list[bytes], upserted: list[tuple[int, bytes]]) -> list[list[str]]:
    """The keys of the rows that left the window, less those coming back changed (an
    upserted row replaces its old self anyway)."""
    back = {_key(row) for _, row in upserted}
    return [list(key) for row in removed if (key := _key(row)) not in back]


def delta_page(
    built: BuiltList,
    overlay: Overlay,
    query: ListQuery,
    held: Held,
    full: Page,
    other_profiles: int,
) -> Page | None:
    """The delta from ``held`` to this list for ``query``'s window, or None for the page."""
    assert query.since is not None
    new = window(built.row_bytes, overlay, query.limit)
    found = diff(window(held.rows, held.overlay, query.limit), new)
    if found is None:
        return None
    upserted, removed = found
    counts = page_counts(built, overlay, other_profiles)
    meta = page_meta(built, query, full.total, counts)
    parts = [
        b'{"delta":true,"since":',
        orjson.dumps(query.since),
        b',"removed":',
        orjson.dumps(_removed_keys(removed, upserted)),
        b',"upserted":[',
        b",".join(b'{"index":%d,"row":%s}' % (index, row) for index, row in upserted),
        b"],",
        orjson.dumps(meta)[1:-1],
        b',"version":',
        orjson.dumps(page_version(built, overlay)),
        b',"server_time":',
        orjson.dumps(built.built_at),
        b"}",
    ]
    body = b"".join(parts)
    if len(body) >= len(full.body):
        return None
    # The tag is the page's: the next poll's If-None-Match names the list the client now has.
    return Page(body, full.etag, full.total, full.etag_bytes)


class History:
    """The last few versions of each key, for deltas (bounded in keys and versions)."""

    def __init__(self, max_keys: int) -> None:
        self.max_keys = max_keys
        self._keys: OrderedDict[ListKey, OrderedDict[str, Held]] = OrderedDict()

    def remember(self, key: ListKey, version: str, built: BuiltList, overlay: Overlay) -> None:
        versions = self._keys.get(key)
        if versions is None:
            versions = self._keys[key] = OrderedDict()
            while len(self._keys) > self.max_keys:
                self._keys.popitem(last=False)
        else:
            self._keys.move_to_end(key)
        if version in versions:
            return
        versions[version] = Held(built.row_bytes, overlay)
        while len(versions) > VERSIONS_KEPT:
            versions.popitem(last=False)

    def get(self, key: ListKey, version: str) -> Held | None:
        versions = self._keys.get(key)
        return None if versions is None else versions.get(version)
