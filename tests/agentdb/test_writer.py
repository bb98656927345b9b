from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from itertools import cycle
from pathlib import Path

import pytest

from webui.agentdb.schema import create_state_db
from webui.agentdb.writer import (
    RETRY_MAX_DELAY,
    RETRY_MIN_DELAY,
    AgentWriter,
    DatabaseBusy,
    is_busy,
)

VERSIONS = (11, 14, 22, 30)
MODES = ("wal", "delete")
NOW = 1_763_800_000.25
AGENT_ID = re.compile(r"^\d{8}_\d{6}_[0-9a-f]{6}$")


def make_db(tmp_path: Path, version: int = 30, journal_mode: str = "wal") -> Path:
    path = tmp_path / "state.db"
    create_state_db(path, version=version, journal_mode=journal_mode)
    return path


def read(path: Path, sql: str, params: tuple[object, ...] = ()) -> list[sqlite3.Row]:
    """Query with a separate connection, as another process would."""
    with closing(sqlite3.connect(path)) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()


def session_row(path: Path, session_id: str) -> sqlite3.Row:
    [row] = read(path, "SELECT * FROM sessions WHERE id = ?", (session_id,))
    return row


def message_total(path: Path, session_id: str) -> int:
    [row] = read(path, "SELECT COUNT(*) FROM messages WHERE session_id = ?", (session_id,))
    return int(row[0])


def schema_snapshot(path: Path) -> list[tuple[object, ...]]:
    rows = read(path, "SELECT type, name, sql FROM sqlite_master ORDER BY type, name")
    return [tuple(row) for row in rows]


def journal_mode(path: Path) -> str:
    [row] = read(path, "PRAGMA journal_mode")
    return str(row[0])


@contextmanager
def lock_held(
    path: Path, *, seconds: float = 60.0, begin: str = "BEGIN EXCLUSIVE"
) -> Iterator[threading.Event]:
    """Another connection holds a lock for ``seconds`` (or until the yielded event is set)."""
    acquired, release = threading.Event(), threading.Event()

    def hold() -> None:
        with closing(sqlite3.connect(path, isolation_level=None)) as conn:
            conn.execute(begin)
            conn.execute("SELECT COUNT(*) FROM sessions").fetchone()
            acquired.set()
            release.wait(seconds)
            conn.execute("COMMIT")

    thread = threading.Thread(target=hold)
    thread.start()
    assert acquired.wait(10)
    try:
        yield release
    finally:
        release.set()
        thread.join(10)


def recording_sleep(calls: list[float]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        calls.append(seconds)
        time.sleep(seconds)

    return sleep


@pytest.fixture(params=[(v, m) for v in VERSIONS for m in MODES], ids=lambda p: f"v{p[0]}-{p[1]}")
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    version, mode = request.param
    return make_db(tmp_path, version, mode)


@pytest.fixture
def writer(db: Path) -> Iterator[AgentWriter]:
    with AgentWriter(db) as opened:
        yield opened


def columns_of(path: Path) -> set[str]:
    return {str(row["name"]) for row in read(path, "PRAGMA table_info(sessions)")}


# --- sessions and messages on every schema version --------------------------------------------


def test_create_session_writes_an_agent_style_webui_row(db: Path, writer: AgentWriter) -> None:
    session_id = writer.create_session(now=NOW, title="  Plan   the trip ", model="demo/model")
    assert AGENT_ID.match(session_id)
    row = session_row(db, session_id)
    assert (row["source"], row["started_at"], row["model"]) == ("webui", NOW, "demo/model")
    assert row["title"] == "Plan the trip"
    assert row["message_count"] == 0
    assert row["ended_at"] is None
    if "created_source" in columns_of(db):
        assert (row["created_source"], row["title_source"]) == ("webui", "user")
        assert row["last_activity_at"] == NOW
    assert writer.session_exists(session_id)
    assert not writer.session_exists("20250101_000000_abcdef")


def test_create_session_without_title_leaves_it_null(db: Path, writer: AgentWriter) -> None:
    first = writer.create_session(now=NOW)
    second = writer.create_session(now=NOW)
    assert first != second
    assert session_row(db, first)["title"] is None
    assert session_row(db, second)["model"] is None


def test_message_count_stays_in_step(db: Path, writer: AgentWriter) -> None:
    session_id = writer.create_session(now=NOW)
    ids = [
        writer.append_message(session_id, role=role, content=f"{role} {n}", now=NOW + n)
        for n, role in enumerate(["user", "assistant", "user"], start=1)
    ]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    row = session_row(db, session_id)
    assert row["message_count"] == 3 == message_total(db, session_id)
    if "last_activity_at" in columns_of(db):
        assert row["last_activity_at"] == NOW + 3
    stored = read(db, "SELECT role, content, timestamp FROM messages ORDER BY id")
    assert tuple(stored[0]) == ("user", "user 1", NOW + 1)


def test_append_to_a_missing_session_raises_and_writes_nothing(
    db: Path, writer: AgentWriter
) -> None:
    with pytest.raises(KeyError):
        writer.append_message("20250101_000000_abcdef", role="user", content="hi", now=NOW)
    assert read(db, "SELECT COUNT(*) FROM messages")[0][0] == 0


def test_set_message_content_grows_the_reply(db: Path, writer: AgentWriter) -> None:
    session_id = writer.create_session(now=NOW)
    writer.append_message(session_id, role="user", content="hello", now=NOW)
    reply = writer.append_message(session_id, role="assistant", content="", now=NOW + 1)
    writer.set_message_content(session_id, reply, content="Hi", now=NOW + 2)
    writer.set_message_content(
        session_id, reply, content="Hi there!", now=NOW + 3, finish_reason="stop"
    )
    [row] = read(db, "SELECT content, finish_reason FROM messages WHERE id = ?", (reply,))
    assert tuple(row) == ("Hi there!", "stop")
    session = session_row(db, session_id)
    assert session["message_count"] == 2
    if "last_activity_at" in columns_of(db):
        assert session["last_activity_at"] == NOW + 3
    with pytest.raises(KeyError):
        writer.set_message_content(session_id, reply + 100, content="x", now=NOW)


def test_set_title_if_missing_keeps_titles_unique(db: Path, writer: AgentWriter) -> None:
    first, second, third = (writer.create_session(now=NOW + n) for n in range(3))
    for session_id in (first, second, third):
        writer.set_title_if_missing(session_id, "Weekly report")
    titles = [session_row(db, s)["title"] for s in (first, second, third)]
    assert titles == ["Weekly report", "Weekly report (2)", "Weekly report (3)"]
    writer.set_title_if_missing(first, "Something else")
    assert session_row(db, first)["title"] == "Weekly report"
    if "title_source" in columns_of(db):
        assert session_row(db, first)["title_source"] == "auto"
    clash = writer.create_session(now=NOW, title="Weekly report")
    assert session_row(db, clash)["title"] == "Weekly report (4)"


def test_set_title_if_missing_cuts_long_titles_and_ignores_blank_ones(
    db: Path, writer: AgentWriter
) -> None:
    long_title = "x" * 150
    first, second, blank = (writer.create_session(now=NOW) for _ in range(3))
    writer.set_title_if_missing(first, long_title)
    writer.set_title_if_missing(second, long_title)
    writer.set_title_if_missing(blank, "   ")
    assert session_row(db, first)["title"] == "x" * 100
    assert session_row(db, second)["title"] == "x" * 96 + " (2)"
    assert session_row(db, blank)["title"] is None
    with pytest.raises(KeyError):
        writer.set_title_if_missing("20250101_000000_abcdef", "t")


def test_history_is_recent_conversation_oldest_first(db: Path, writer: AgentWriter) -> None:
    session_id = writer.create_session(now=NOW)
    script = [("user", "one"), ("assistant", "two"), ("tool", "{}"), ("user", "three")]
    for n, (role, content) in enumerate(script):
        writer.append_message(session_id, role=role, content=content, now=NOW + n)
    writer.append_message(session_id, role="assistant", content="", now=NOW + 9)
    assert writer.history(session_id) == [("user", "one"), ("assistant", "two"), ("user", "three")]
    assert writer.history(session_id, limit=2) == [("assistant", "two"), ("user", "three")]
    assert writer.history("20250101_000000_abcdef") == []


def test_history_skips_messages_the_agent_compacted_away(tmp_path: Path) -> None:
    path = make_db(tmp_path, 30)
    with AgentWriter(path) as writer:
        session_id = writer.create_session(now=NOW)
        old = writer.append_message(session_id, role="user", content="old", now=NOW)
        writer.append_message(session_id, role="user", content="new", now=NOW + 1)
        with closing(sqlite3.connect(path)) as conn, conn:
            conn.execute("UPDATE messages SET active = 0 WHERE id = ?", (old,))
        assert writer.history(session_id) == [("user", "new")]


def test_writer_is_thread_safe(db: Path, writer: AgentWriter) -> None:
    session_id = writer.create_session(now=NOW)

    def append_many() -> None:
        for n in range(25):
            writer.append_message(session_id, role="user", content=str(n), now=NOW + n)

    threads = [threading.Thread(target=append_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert session_row(db, session_id)["message_count"] == 100 == message_total(db, session_id)


# --- locking: retry with jitter, and the budget ---------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_retries_with_jitter_until_another_writer_lets_go(tmp_path: Path, mode: str) -> None:
    path = make_db(tmp_path, 30, mode)
    sleeps: list[float] = []
    writer = AgentWriter(
        path,
        busy_timeout=0.0,
        retry_budget=10.0,
        sleep=recording_sleep(sleeps),
        jitter=cycle([0.0, 1.0, 0.5]).__next__,
    )
    with writer:
        start = time.monotonic()
        with lock_held(path, seconds=0.4):
            session_id = writer.create_session(now=NOW)
        assert time.monotonic() - start >= 0.3
    assert len(sleeps) >= 2
    assert all(RETRY_MIN_DELAY <= s <= RETRY_MAX_DELAY for s in sleeps)
    assert sleeps[:3] == pytest.approx([RETRY_MIN_DELAY, RETRY_MAX_DELAY, 0.085])
    assert session_row(path, session_id)["source"] == "webui"


def test_a_commit_blocked_by_a_reader_rolls_back_and_retries_once_cleanly(
    tmp_path: Path,
) -> None:
    # In rollback-journal mode a reader's SHARED lock blocks the writer's COMMIT, not its BEGIN.
    path = make_db(tmp_path, 30, "delete")
    sleeps: list[float] = []
    with AgentWriter(path, busy_timeout=0.0, sleep=recording_sleep(sleeps)) as writer:
        session_id = writer.create_session(now=NOW)
        with lock_held(path, seconds=0.3, begin="BEGIN"):
            writer.append_message(session_id, role="user", content="hi", now=NOW)
    assert sleeps
    assert session_row(path, session_id)["message_count"] == 1 == message_total(path, session_id)


@pytest.mark.parametrize("mode", MODES)
def test_database_busy_when_the_lock_outlives_the_budget(tmp_path: Path, mode: str) -> None:
    path = make_db(tmp_path, 30, mode)
    sleeps: list[float] = []
    with AgentWriter(
        path, busy_timeout=0.0, retry_budget=0.3, sleep=recording_sleep(sleeps)
    ) as writer:
        start = time.monotonic()
        with lock_held(path), pytest.raises(DatabaseBusy) as caught:
            writer.create_session(now=NOW)
        elapsed = time.monotonic() - start
        assert caught.value.path == path
        assert 0.3 <= elapsed < 3.0
        assert len(sleeps) >= 2
        assert read(path, "SELECT COUNT(*) FROM sessions")[0][0] == 0
        # Once the other writer is gone, the same writer works again.
        assert writer.session_exists(writer.create_session(now=NOW))


def test_two_writers_on_one_file_interleave_without_losing_a_message(tmp_path: Path) -> None:
    path = make_db(tmp_path, 30, "delete")
    writers = [AgentWriter(path, busy_timeout=0.0) for _ in range(2)]
    session_id = writers[0].create_session(now=NOW)

    def append_many(writer: AgentWriter) -> None:
        for n in range(30):
            writer.append_message(session_id, role="user", content=str(n), now=NOW + n)

    threads = [threading.Thread(target=append_many, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for writer in writers:
        writer.close()
    assert session_row(path, session_id)["message_count"] == 60 == message_total(path, session_id)


def test_is_busy_recognises_only_lock_errors() -> None:
    assert is_busy(sqlite3.OperationalError("database is locked"))
    assert not is_busy(sqlite3.OperationalError("no such table: sessions"))


# --- the file: created when missing, otherwise left as the agent made it ---------------------


def test_a_missing_file_is_created_with_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "profiles" / "brand-new" / "state.db"
    with AgentWriter(path) as writer:
        session_id = writer.create_session(now=NOW, title="First")
        writer.append_message(session_id, role="user", content="hi", now=NOW)
    reference = make_db(tmp_path, 30)
    assert schema_snapshot(path) == schema_snapshot(reference)
    assert read(path, "SELECT version FROM schema_version")[0][0] == 30
    assert journal_mode(path) == "wal"
    assert session_row(path, session_id)["message_count"] == 1
    leftovers = [p.name for p in path.parent.iterdir() if not p.name.startswith("state.db")]
    assert leftovers == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("version", VERSIONS)
def test_an_existing_database_keeps_its_journal_mode_and_schema(
    tmp_path: Path, version: int, mode: str
) -> None:
    path = make_db(tmp_path, version, mode)
    before = schema_snapshot(path)
    with AgentWriter(path) as writer:
        session_id = writer.create_session(now=NOW, title="t")
        message_id = writer.append_message(session_id, role="user", content="hi", now=NOW)
        writer.set_message_content(session_id, message_id, content="hello", now=NOW)
        assert journal_mode(path) == mode
    assert journal_mode(path) == mode
    assert schema_snapshot(path) == before


def test_a_closed_writer_refuses_work(tmp_path: Path) -> None:
    writer = AgentWriter(make_db(tmp_path))
    writer.close()
    writer.close()
    with pytest.raises(sqlite3.ProgrammingError):
        writer.create_session(now=NOW)
