"""A built session list (rows serialized once, at build time) and the responses cut from it."""

from __future__ import annotations

import functools
import hashlib
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import orjson

from webui.agentdb.home import state_db_path
from webui.agentdb.reader import read_sessions
from webui.records import SessionRecord
from webui.sessions.overlay import Overlay, base_sort_key, visible_rows
from webui.sessions.query import ListKey, ListQuery
from webui.sessions.rules import ListedRow, SessionRow, build_profile_listing
from webui.state.webuidb import Override

PAGE_MEMO = 32

ProfileState = Callable[[str], tuple[dict[str, Override], frozenset[str]]]
# Session sources beside the agent's databases, by scope name: each reads all its records.
OtherSources = Mapping[str, Callable[[], Sequence[SessionRecord]]]


@dataclass(frozen=True, slots=True)
class Page:
    """One response body with its validator. ``encoded`` keeps the body's compressed forms,
    by content coding, made once the first time a client accepts one."""

    body: bytes
    etag: str
    total: int
    etag_bytes: bytes
    encoded: dict[str, bytes] = field(default_factory=dict, compare=False)


class RowView(Sequence[SessionRow]):
    """The rows of a built list as dicts, decoded from their bytes on demand.

    Only the overlay needs a row as a dict — the one or two rows a live stream touches — so
    a cache entry keeps each row once, as bytes, rather than a dict beside them.
    """

    __slots__ = ("_data",)

    def __init__(self, data: list[bytes]) -> None:
        self._data = data

    def __len__(self) -> int:
        return len(self._data)

    @overload
    def __getitem__(self, index: int) -> SessionRow: ...
    @overload
    def __getitem__(self, index: slice) -> list[SessionRow]: ...
    def __getitem__(self, index: int | slice) -> SessionRow | list[SessionRow]:
        if isinstance(index, slice):
            return [orjson.loads(data) for data in self._data[index]]
        row: SessionRow = orjson.loads(self._data[index])
        return row


@dataclass(slots=True)
class BuiltList:
    """One cache entry's value: base-ordered row bytes and what the overlay needs.

    Pages are memoized: every plain page (no overlay) up to ``PAGE_MEMO``, and the pages of
    the newest overlay only (a live stream's overlay changes with each heartbeat).
    """

    row_bytes: list[bytes]
    search: list[str]
    position: Mapping[tuple[str, str], int]
    empty: dict[tuple[str, str], ListedRow]
    counts: dict[str, int]
    built_at: float
    pinned_count: int
    # (profile, id of an earlier segment of a shown chain) -> the chain's row id
    tips: dict[tuple[str, str], str] = field(default_factory=dict)
    version: str = ""  # opaque, unique per built list in this process (deltas name it)
    pages: dict[tuple[object, ...], Page] = field(default_factory=dict)
    overlaid: dict[tuple[object, ...], Page] = field(default_factory=dict)
    overlay_signature: bytes = b""

    @property
    def rows(self) -> RowView:
        return RowView(self.row_bytes)


def build_list(
    key: ListKey,
    *,
    home: Path,
    busy_timeout: float,
    profile_state: ProfileState,
    wall_time: float,
    others: OtherSources | None = None,
) -> BuiltList:
    """Read every profile in scope, and every other source, and lay out the list from
    scratch (runs in a worker thread)."""
    items: list[ListedRow] = []
    empty: dict[tuple[str, str], ListedRow] = {}
    counts: dict[str, int] = {}
    readers: list[tuple[str, Callable[[], Sequence[SessionRecord]]]] = [
        (p, functools.partial(read_sessions, state_db_path(home, p), busy_timeout))
        for p in key.profiles
    ]
    readers.extend((others or {}).items())
    for profile, read in readers:
        records = read()
        overrides, tombstones = profile_state(profile)
        listing = build_profile_listing(profile, records, key.flags, overrides, tombstones)
        items.extend(listing.rows)
        empty.update(((profile, e.row["session_id"]), e) for e in listing.empty)
        for name, value in listing.counts.items():
            counts[name] = counts.get(name, 0) + value
    items.sort(key=base_sort_key)
    rows = [item.row for item in items]
    return BuiltList(
        row_bytes=[_compact(orjson.dumps(row)) for row in rows],
        search=[item.search for item in items],
        position={(r["profile"], r["session_id"]): i for i, r in enumerate(rows)},
        empty=empty,
        counts=counts,
        built_at=wall_time,
        pinned_count=sum(1 for item in items if item.pinned),
        tips={
            (item.row["profile"], older): item.row["session_id"]
            for item in items
            for older in item.older
        },
    )


def _compact(data: bytes) -> bytes:
    """A right-sized copy: ``orjson.dumps`` leaves each result in a block of several KiB."""
    return bytes(memoryview(data))


def same_list(old: BuiltList, new: BuiltList) -> bool:
    """Whether a rebuild reproduced ``old`` exactly (then ``old`` and its pages are kept)."""
    return (
        old.counts == new.counts
        and old.row_bytes == new.row_bytes
        and old.empty.keys() == new.empty.keys()
    )


def _etag(content: bytes) -> str:
    """A weak tag of what the page says: the same list gives the same tag from any worker
    and any build, since the build time (``server_time``, last in the body) is left out."""
    return 'W/"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def page_version(built: BuiltList, overlay: Overlay) -> str:
    """The version a page of ``built`` under ``overlay`` shows: the list's, and the overlay's
    when there is one (a stream's rows change with its heartbeat)."""
    if not overlay:
        return built.version
    return built.version + "." + hashlib.blake2b(overlay.signature, digest_size=6).hexdigest()


def _assemble(
    rows: list[bytes], meta: Mapping[str, object], total: int, tail: Mapping[str, object]
) -> Page:
    content = b'{"sessions":[' + b",".join(rows) + b"]," + orjson.dumps(meta)[1:-1]
    etag = _etag(content)
    body = content + b"," + orjson.dumps(tail)[1:]
    return Page(body, etag, total, etag.encode())


def page_meta(
    built: BuiltList, query: ListQuery, total: int, counts: Mapping[str, int]
) -> dict[str, object]:
    end = query.offset + query.limit
    return {
        "total": total,
        "offset": query.offset,
        "limit": query.limit,
        "next_offset": end if end < total else None,
        "counts": counts,
        "profile": query.profile,
        "all_profiles": query.key.all_profiles,
    }


def page_counts(built: BuiltList, overlay: Overlay, other_profiles: int) -> dict[str, int]:
    counts = dict(built.counts)
    for item in overlay.added:
        row = item.row
        if (row["profile"], row["session_id"]) in built.empty and row["source_kind"] in counts:
            counts[row["source_kind"]] += 1
    counts["other_profiles"] = other_profiles
    return counts


def render_page(built: BuiltList, query: ListQuery, overlay: Overlay, other_profiles: int) -> Page:
    """The response body of one page; without search it is memoized (see ``BuiltList``).

    A live stream's overlay changes with its heartbeat, not with every token, so polls
    between two heartbeats share one body and one ETag.
    """
    memo_key = (query.offset, query.limit, query.profile, other_profiles)
    plain = not overlay and query.q is None
    memo = built.pages if plain else built.overlaid
    if query.q is None and overlay.signature != built.overlay_signature and not plain:
        built.overlaid, built.overlay_signature = {}, overlay.signature
        memo = built.overlaid
    if query.q is None and (page := memo.get(memo_key)) is not None:
        return page
    counts = page_counts(built, overlay, other_profiles)
    if plain:
        rows = built.row_bytes[query.offset : query.offset + query.limit]
        total = len(built.row_bytes)
    elif query.q is None:
        total = len(built.row_bytes) - len(overlay.replaced) + len(overlay.added)
        stream = visible_rows(built.row_bytes, built.search, overlay, None)
        rows = list(itertools.islice(stream, query.offset, query.offset + query.limit))
    else:
        matches = list(visible_rows(built.row_bytes, built.search, overlay, query.q))
        total = len(matches)
        rows = matches[query.offset : query.offset + query.limit]
    tail = {"version": page_version(built, overlay), "server_time": built.built_at}
    page = _assemble(rows, page_meta(built, query, total, counts), total, tail)
    if query.q is None:
        if len(memo) >= PAGE_MEMO:
            memo.clear()
        memo[memo_key] = page
    return page
