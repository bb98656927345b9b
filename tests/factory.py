"""Test factory: real agent ``state.db`` files and a writer that plays the agent.

``AgentDB`` holds its own writer connection, separate from anything the server opens, and writes
the way the agent does: every change inside ``BEGIN IMMEDIATE … COMMIT`` through
``webui.agentdb.schema``, with ``message_count`` bumped in the same transaction as each message.
Defaults are deterministic (ids, clock, texts) so tests reproduce exactly.

Fixtures: ``agent_home`` (an empty home directory) and ``agent_db`` (a factory of ``AgentDB`` in
that home, all closed at teardown).
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from webui.agentdb import schema as agentschema

CLOCK_START = 1_763_800_000.0
CLOCK_STEP = 60.0
# Message timestamps of one session follow its start at this spacing, well inside a clock step.
MESSAGE_STEP = 2.5
CHECKPOINT_MODES = frozenset({"PASSIVE", "FULL", "RESTART", "TRUNCATE"})

_USER_TEXTS = (
    "Can you help me fix the flaky login test? It fails on CI about one run in five.",
    "Why is the nightly backup job taking twice as long since Tuesday?",
    "Summarize the open pull requests on the api repo.",
    "Rename the config loader and update every import.",
    "What does this stack trace mean?",
    "Draft a short reply to the landlord about the heating.",
)
_ASSISTANT_TEXTS = (
    "Sure. The test races the session cleanup; I added an explicit wait on the fixture.",
    "The job now copies the uploads folder twice. Removing the duplicate rule fixes it.",
    "There are three open pull requests; two are ready to merge and one needs a rebase.",
    "Done: the loader is now `load_settings`, and 14 imports were updated.",
    "It is a timeout in the connection pool: the database was locked for over five seconds.",
    "Here is a draft you can send as is or shorten.",
)


def demo_text(role: str, index: int) -> str:
    """A realistic message text for the ``index``-th message of a session."""
    texts = _USER_TEXTS if role == "user" else _ASSISTANT_TEXTS
    return texts[index // 2 % len(texts)]


def default_messages(count: int) -> list[tuple[str, str]]:
    """``count`` messages alternating user and assistant, starting with the user."""
    roles = ("user", "assistant")
    return [(roles[i % 2], demo_text(roles[i % 2], i)) for i in range(count)]


class AgentDB:
    """One profile's ``state.db`` and the agent's writer connection to it."""

    path: Path
    version: int
    journal_mode: str
    conn: sqlite3.Connection

    def __init__(self, path: Path, *, version: int, journal_mode: str, id_salt: str) -> None:
        self.path = path
        self.version = version
        self.journal_mode = journal_mode
        self.conn = agentschema.open_writer(path)
        # Two profiles' default ids must differ even though their clocks run in step.
        self._id_prefix = f"{zlib.crc32(id_salt.encode()) & 0xFF:02x}"
        self._ticks = 0
        self._serial = 0

    def _tick(self) -> float:
        moment = CLOCK_START + CLOCK_STEP * self._ticks
        self._ticks += 1
        return moment

    def _default_id(self, started_at: float) -> str:
        self._serial += 1
        return agentschema.new_session_id(started_at, f"{self._id_prefix}{self._serial:04x}")

    def session(
        self,
        source: str = "cli",
        *,
        id: str | None = None,
        title: str | None = None,
        started_at: float | None = None,
        messages: int | Sequence[tuple[str, str]] = 1,
        **columns: object,
    ) -> str:
        """Create a session and its messages in one transaction; returns its id.

        An int ``messages`` makes that many alternating user/assistant messages; a sequence
        gives ``(role, content)`` pairs. Messages are timestamped after ``started_at``, and each
        one bumps ``message_count`` as the agent does (on top of any ``message_count`` given).
        """
        start = self._tick() if started_at is None else started_at
        session_id = id if id is not None else self._default_id(start)
        pairs = default_messages(messages) if isinstance(messages, int) else list(messages)
        with agentschema.write_transaction(self.conn):
            if title is not None:
                columns["title"] = title
            agentschema.insert_session(
                self.conn, id=session_id, source=source, started_at=start, **columns
            )
            for index, (role, content) in enumerate(pairs):
                agentschema.insert_message(
                    self.conn,
                    session_id=session_id,
                    role=role,
                    content=content,
                    timestamp=start + MESSAGE_STEP * (index + 1),
                )
        return session_id

    def _next_message_time(self, session_id: str) -> float:
        """After the clock and after everything already in the session, so order holds."""
        row = self.conn.execute(
            "SELECT MAX(s.started_at, COALESCE((SELECT MAX(m.timestamp) FROM messages m "
            "WHERE m.session_id = s.id), 0)) FROM sessions s WHERE s.id = ?",
            (session_id,),
        ).fetchone()
        latest = float(row[0]) if row is not None and row[0] is not None else 0.0
        return max(self._tick(), latest + MESSAGE_STEP)

    def message(
        self,
        session_id: str,
        role: str = "user",
        content: str = "hello",
        timestamp: float | None = None,
    ) -> int:
        """Append one message (and bump the session's count) in its own transaction."""
        when = self._next_message_time(session_id) if timestamp is None else timestamp
        with agentschema.write_transaction(self.conn):
            return agentschema.insert_message(
                self.conn, session_id=session_id, role=role, content=content, timestamp=when
            )

    def update(self, session_id: str, **columns: object) -> None:
        with agentschema.write_transaction(self.conn):
            agentschema.update_session(self.conn, session_id, **columns)

    def delete(self, session_id: str) -> None:
        """Delete the session, its messages and its usage rows in one transaction."""
        with agentschema.write_transaction(self.conn):
            self.conn.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            self.conn.execute("DELETE FROM session_model_usage WHERE session_id = ?", (session_id,))
            self.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def execute(self, sql: str, params: Sequence[object] = ()) -> None:
        with agentschema.write_transaction(self.conn):
            self.conn.execute(sql, tuple(params))

    def checkpoint(self, mode: str = "PASSIVE") -> None:
        """``PRAGMA wal_checkpoint``: changes the ``-wal`` file, never the content."""
        if mode.upper() not in CHECKPOINT_MODES:
            raise ValueError(f"checkpoint mode must be one of {sorted(CHECKPOINT_MODES)}")
        self.conn.execute(f"PRAGMA wal_checkpoint({mode.upper()})").fetchall()

    def close(self) -> None:
        self.conn.close()


def agent_db_path(home: Path, profile: str = "default") -> Path:
    if profile == "default":
        return home / "state.db"
    return home / "profiles" / profile / "state.db"


def make_agent_db(
    home: Path,
    profile: str = "default",
    *,
    version: int = agentschema.LATEST_VERSION,
    journal: str = "wal",
    upgraded: bool = False,
) -> AgentDB:
    """Create ``profile``'s ``state.db`` under ``home`` (directories included) and open it."""
    path = agent_db_path(home, profile)
    agentschema.create_state_db(path, version=version, journal_mode=journal, upgraded=upgraded)
    return AgentDB(path, version=version, journal_mode=journal, id_salt=profile)


@pytest.fixture
def agent_home(tmp_path: Path) -> Path:
    """An empty agent home directory."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def agent_db(agent_home: Path) -> Iterator[Callable[..., AgentDB]]:
    """``make_agent_db`` bound to ``agent_home``; every database it opened is closed at the end."""
    opened: list[AgentDB] = []

    def factory(
        profile: str = "default",
        *,
        version: int = agentschema.LATEST_VERSION,
        journal: str = "wal",
        upgraded: bool = False,
    ) -> AgentDB:
        db = make_agent_db(agent_home, profile, version=version, journal=journal, upgraded=upgraded)
        opened.append(db)
        return db

    yield factory
    for db in opened:
        db.close()
