"""Pure: the sort order of a list and the live runtime overlay laid over a cached list.

A cached list holds rows in their base order (pinned, then activity) with the runtime fields
off. The overlay copies only the rows a live stream touches, sets their runtime fields and
live counts, and moves runtime-active rows to the front; every other row keeps its
pre-serialized bytes. A stream that ended after the list was built (the list is being
rebuilt in the background) shows its last count and activity, not streaming, at the head of
its pinned group — where its fresh activity puts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import orjson

from webui.sessions.rules import ListedRow, SessionRow, activity_of
from webui.state.registry import LiveStream

_NO_TIME = float("-inf")


def base_sort_key(item: ListedRow) -> tuple[bool, float, str, str]:
    """Pinned first, then newest activity first; ties and bad times settle by id, never raise."""
    activity = item.activity if item.activity is not None else _NO_TIME
    return (not item.pinned, -activity, item.row["session_id"], item.row["profile"])


def runtime_activity(row: SessionRow) -> float | None:
    """The activity time raised to ``pending_started_at`` when that is later."""
    base = activity_of(row)
    pending = row["pending_started_at"]
    if pending is not None and (base is None or pending > base):
        return pending
    return base


def overlay_row(row: SessionRow, stream: LiveStream) -> SessionRow:
    """A copy of ``row`` showing ``stream``: streaming, pending, live count and last activity;
    for an ended stream, just its final count and activity."""
    live = row.copy()
    if stream.ended_at is None:
        live["is_streaming"] = True
        live["active_stream_id"] = stream.stream_id
        live["has_pending_user_message"] = stream.pending_started_at is not None
        live["pending_started_at"] = stream.pending_started_at
    if stream.message_count is not None and stream.message_count > live["message_count"]:
        live["message_count"] = stream.message_count
    last = stream.last_activity_at
    if last is not None and (live["last_message_at"] is None or last > live["last_message_at"]):
        live["last_message_at"] = last
    return live


@dataclass(frozen=True, slots=True)
class ActiveRow:
    row: SessionRow
    data: bytes
    search: str


@dataclass(frozen=True, slots=True)
class Overlay:
    """Runtime-active rows (in front, in their order), rows of ended streams (each before a
    base index), and the base positions they replace."""

    active: tuple[ActiveRow, ...] = ()
    replaced: frozenset[int] = frozenset()
    signature: bytes = b""
    moved: tuple[tuple[int, ActiveRow], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.active or self.moved)

    @property
    def added(self) -> tuple[ActiveRow, ...]:
        """Every row the overlay shows in a new place."""
        return self.active + tuple(item for _, item in self.moved)


def build_overlay(
    position: Mapping[tuple[str, str], int],
    rows: Sequence[SessionRow],
    search: Sequence[str],
    empty: Mapping[tuple[str, str], ListedRow],
    streams: Iterable[LiveStream],
    ended: Iterable[LiveStream] = (),
    pinned_count: int = 0,
) -> Overlay:
    """The overlay of live ``streams`` and lately ``ended`` ones on a list (``pinned_count``
    rows lead it); a stream on a row the list does not show is moot."""
    active: list[tuple[float, str, ActiveRow]] = []
    moved: list[tuple[int, float, str, ActiveRow]] = []
    replaced: set[int] = set()
    live_keys = set()
    for stream in (*streams, *ended):
        key = (stream.profile, stream.session_id)
        if key in live_keys:  # live again already: the live stream wins
            continue
        index = position.get(key)
        if index is not None:
            base, text = rows[index], search[index]
        elif key in empty:
            base, text = empty[key].row, empty[key].search
        else:
            continue
        live_keys.add(key)
        if index is not None:
            replaced.add(index)
        row = overlay_row(base, stream)
        when = runtime_activity(row)
        order = -(when if when is not None else _NO_TIME)
        item = ActiveRow(row, orjson.dumps(row), text)
        if stream.ended_at is None:
            active.append((order, row["session_id"], item))
        else:
            moved.append((0 if row["pinned"] else pinned_count, order, row["session_id"], item))
    if not active and not moved:
        return Overlay()
    active.sort(key=lambda entry: (entry[0], entry[1]))
    moved.sort(key=lambda entry: (entry[0], entry[1], entry[2]))
    ordered = tuple(entry[2] for entry in active)
    placed = tuple((entry[0], entry[3]) for entry in moved)
    signature = b"".join(a.data for a in ordered) + b"|" + b"".join(m.data for _, m in placed)
    return Overlay(ordered, frozenset(replaced), signature, placed)


def visible_rows(
    row_bytes: Sequence[bytes], search: Sequence[str], overlay: Overlay, q: str | None
) -> Iterator[bytes]:
    """Every row of the list in response order, overlaid and matched against ``q``."""
    needle = q.lower() if q else None
    for item in overlay.active:
        if needle is None or needle in item.search:
            yield item.data
    replaced = overlay.replaced
    moved = list(overlay.moved)
    for index, data in enumerate(row_bytes):
        while moved and moved[0][0] <= index:
            item = moved.pop(0)[1]
            if needle is None or needle in item.search:
                yield item.data
        if index in replaced:
            continue
        if needle is None or needle in search[index]:
            yield data
    for _, item in moved:
        if needle is None or needle in item.search:
            yield item.data
