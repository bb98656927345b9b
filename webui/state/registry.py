"""The live stream registry, kept in ``webui.db`` so every server process sees every stream.

A stream is live while it has not ended and its heartbeat is recent: a stream whose process
died stops counting as live ``stale_after`` seconds after its last heartbeat.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from dataclasses import dataclass

from webui.state.webuidb import STREAM_COLUMNS, Snapshot, StreamRecord, WebuiDB, stream_from_row


@dataclass(frozen=True, slots=True)
class LiveStream:
    """A stream the registry says is live now (its heartbeat is recent and it has not ended)."""

    stream_id: str
    profile: str
    session_id: str
    started_at: float
    pending_started_at: float | None = None
    message_count: int | None = None
    last_activity_at: float | None = None
    ended_at: float | None = None


class StreamConflict(Exception):
    """The session already has a live stream."""

    def __init__(self, stream_id: str) -> None:
        super().__init__(f"the session is already streaming ({stream_id})")
        self.stream_id = stream_id


def to_live(record: StreamRecord) -> LiveStream:
    return LiveStream(
        stream_id=record.stream_id,
        profile=record.profile,
        session_id=record.session_id,
        started_at=record.started_at,
        pending_started_at=record.pending_started_at,
        message_count=record.message_count,
        last_activity_at=record.last_activity_at,
        ended_at=record.ended_at,
    )


class StreamRegistry:
    def __init__(self, db: WebuiDB, *, stale_after: float) -> None:
        self.db = db
        self.stale_after = stale_after

    def is_live(self, record: StreamRecord, now: float) -> bool:
        return record.ended_at is None and record.heartbeat_at >= now - self.stale_after

    def live(
        self, profiles: Collection[str] | None = None, snapshot: Snapshot | None = None
    ) -> tuple[LiveStream, ...]:
        """Live streams (in ``profiles`` when given); cheap enough for every request."""
        now = self.db.now()
        opened = (snapshot or self.db.snapshot()).open_streams
        return tuple(
            to_live(r)
            for r in opened
            if (profiles is None or r.profile in profiles) and self.is_live(r, now)
        )

    def ended_since(
        self, since: float, profiles: Collection[str], snapshot: Snapshot
    ) -> tuple[LiveStream, ...]:
        """Streams in ``profiles`` that ended after ``since`` (and lately), with their last
        count and activity: what a list built at ``since`` may not show yet."""
        return tuple(
            to_live(r)
            for r in snapshot.ended_streams
            if r.profile in profiles and r.ended_at is not None and r.ended_at > since
        )

    def get(self, stream_id: str) -> StreamRecord | None:
        row = self.db.query_one(
            f"SELECT {STREAM_COLUMNS} FROM streams WHERE stream_id = ?", (stream_id,)
        )
        return None if row is None else stream_from_row(row)

    def start(
        self,
        *,
        stream_id: str,
        profile: str,
        session_id: str,
        pending_message: str,
        message_count: int,
    ) -> int:
        """Register a stream; StreamConflict if the session has a live one (any process)."""
        now = self.db.now()
        with self.db.write() as conn:
            rows = conn.execute(
                f"SELECT {STREAM_COLUMNS} FROM streams "
                "WHERE ended_at IS NULL AND profile = ? AND session_id = ?",
                (profile, session_id),
            ).fetchall()
            for record in map(stream_from_row, rows):
                if self.is_live(record, now):
                    raise StreamConflict(record.stream_id)
                # A dead process left it open: close it so it never counts again.
                conn.execute(
                    "UPDATE streams SET ended_at = ?, status = 'lost' WHERE stream_id = ?",
                    (now, record.stream_id),
                )
            conn.execute(
                "INSERT INTO streams (stream_id, profile, session_id, started_at, heartbeat_at, "
                "pending_user_message, pending_started_at, message_count, last_activity_at, pid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stream_id,
                    profile,
                    session_id,
                    now,
                    now,
                    pending_message,
                    now,
                    message_count,
                    now,
                    os.getpid(),
                ),
            )
            return self.db.journal(conn, profile, "stream_started")

    def heartbeat(
        self,
        stream_id: str,
        *,
        message_count: int | None = None,
        last_activity_at: float | None = None,
        assistant_message_id: int | None = None,
        clear_pending: bool = False,
    ) -> None:
        """Keep the stream live and publish its live count; no journal entry (no rebuild)."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE streams SET heartbeat_at = ?, "
                "message_count = COALESCE(?, message_count), "
                "last_activity_at = COALESCE(?, last_activity_at), "
                "assistant_message_id = COALESCE(?, assistant_message_id), "
                "pending_started_at = CASE WHEN ? THEN NULL ELSE pending_started_at END "
                "WHERE stream_id = ? AND ended_at IS NULL",
                (
                    self.db.now(),
                    message_count,
                    last_activity_at,
                    assistant_message_id,
                    clear_pending,
                    stream_id,
                ),
            )

    def finish(self, stream_id: str, *, status: str, error: str | None = None) -> int | None:
        """End a stream (done, cancelled, error); returns the journal version, None if ended."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT profile FROM streams WHERE stream_id = ? AND ended_at IS NULL",
                (stream_id,),
            ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE streams SET ended_at = ?, status = ?, error = ?, "
                "pending_started_at = NULL WHERE stream_id = ?",
                (self.db.now(), status, error, stream_id),
            )
            return self.db.journal(conn, str(row[0]), "stream_ended")

    def request_cancel(self, stream_id: str) -> bool:
        """Ask whichever process runs the stream to stop it (it checks on each heartbeat)."""
        now = self.db.now()
        with self.db.write() as conn:
            row = conn.execute(
                f"SELECT {STREAM_COLUMNS} FROM streams WHERE stream_id = ? AND ended_at IS NULL",
                (stream_id,),
            ).fetchone()
            if row is None or not self.is_live(stream_from_row(row), now):
                return False
            conn.execute(
                "UPDATE streams SET status = 'cancelling' WHERE stream_id = ?", (stream_id,)
            )
            return True
