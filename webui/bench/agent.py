"""The external writer: another process's commits into ``state.db``, as the agent makes them.

Each method is one ``BEGIN IMMEDIATE … COMMIT`` on a connection of its own and returns once
the commit is durable, so the caller's clock reading right after it is the commit time.
Titles carry a per-writer nonce: the agent's schema keeps titles unique.
"""

from __future__ import annotations

import itertools
import secrets
import time
from pathlib import Path
from types import TracebackType

from webui.agentdb.schema import (
    insert_message,
    insert_session,
    new_session_id,
    open_writer,
    update_session,
    write_transaction,
)

SOURCE = "cli"  # a terminal session: listed with the default settings


class ExternalWriter:
    def __init__(self, state_db: Path) -> None:
        self._conn = open_writer(state_db, busy_timeout=10.0)
        self._nonce = secrets.token_hex(4)
        self._serial = itertools.count(1)

    def retitle(self, session_id: str) -> None:
        """Rename one session: a commit that changes no row count and no file size much."""
        title = f"bench {self._nonce} {next(self._serial)}"
        with write_transaction(self._conn):
            update_session(self._conn, session_id, title=title)

    def touch(self, session_id: str) -> None:
        """A commit that changes nothing a list shows (the title set to itself)."""
        with write_transaction(self._conn):
            self._conn.execute("UPDATE sessions SET title = title WHERE id = ?", (session_id,))

    def new_session(self) -> str:
        """A new terminal session with one user message, in one transaction; returns its id."""
        now = time.time()
        serial = next(self._serial)
        session_id = new_session_id(now, secrets.token_hex(3))
        with write_transaction(self._conn):
            insert_session(
                self._conn,
                id=session_id,
                source=SOURCE,
                started_at=now,
                title=f"bench {self._nonce} {serial}",
            )
            insert_message(
                self._conn,
                session_id=session_id,
                role="user",
                content=f"external commit {serial}",
                timestamp=now,
            )
        return session_id

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ExternalWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
