"""The home watcher, against real folders and real SQLite writers and readers."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from claudecode.jsonl import Session, append, conversation, write

from webui.claudecode.source import ClaudeCodeSource
from webui.live.changes import LiveChanges
from webui.live.events import ChangeEvent, EventBroker
from webui.live.watcher import (
    CLAUDE,
    PROFILES,
    SETTINGS,
    STATE_DEFAULT,
    WEBUI,
    FileChange,
    HomeWatcher,
    TranscriptWatch,
    TranscriptWatcher,
    classify,
    classify_transcript,
    is_structural,
    is_transcript_structural,
    resync_changes,
    transcript_watch,
    watched_dirs,
)
from webui.state.prefs import PreferenceStore
from webui.state.registry import StreamRegistry
from webui.state.webuidb import WebuiDB

pytestmark = pytest.mark.anyio

HOME = Path("/h")
REPORT_WITHIN = 1.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- the pure part -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("state.db", STATE_DEFAULT),
        ("state.db-wal", STATE_DEFAULT),
        ("state.db-journal", STATE_DEFAULT),
        ("profiles", PROFILES),
        ("profiles/work", PROFILES),
        ("profiles/work/state.db", FileChange("state", "work")),
        ("profiles/work/state.db-wal", FileChange("state", "work")),
        ("profiles/a_b-9/state.db-journal", FileChange("state", "a_b-9")),
        ("webui/settings.json", SETTINGS),
        ("webui/webui.db", WEBUI),
        ("webui/webui.db-wal", WEBUI),
        # Readers write -shm on every transaction: never news.
        ("state.db-shm", None),
        ("profiles/work/state.db-shm", None),
        ("webui/webui.db-shm", None),
        # Everything else the agent keeps in its home.
        ("config.yaml", None),
        ("logs", None),
        ("logs/agent.log", None),
        ("sessions/s1.json", None),
        ("state.db.bak", None),
        ("settings.json", None),
        ("webui", None),
        ("webui/settings.json.tmp", None),
        ("webui/other.db", None),
        ("profiles/work/logs/agent.log", None),
        ("profiles/work/config.yaml", None),
        ("profiles/work/webui/settings.json", None),
        ("profiles/Work/state.db", None),
        ("profiles/.hidden/state.db", None),
        ("profiles/-x/state.db", None),
        ("profiles/" + "a" * 65 + "/state.db", None),
        ("profiles/Bad.Name", None),
        # The "default" profile is the home itself, not a folder under profiles/.
        ("profiles/default", None),
        ("profiles/default/state.db", None),
        # A reserved name is another source's, never a profile of the home.
        ("profiles/claude-code", None),
        ("profiles/claude-code/state.db", None),
    ],
)
def test_classify(relative: str, expected: FileChange | None) -> None:
    assert classify(HOME, HOME / relative) == expected


def test_paths_outside_the_home_mean_nothing() -> None:
    assert classify(HOME, Path("/elsewhere/state.db")) is None
    assert not is_structural(HOME, Path("/elsewhere"))
    assert classify(HOME, HOME) is None
    assert classify(HOME / "profiles", HOME / "state.db") is None


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("", True),
        ("profiles", True),
        ("webui", True),
        ("profiles/work", True),
        ("profiles/default", False),
        ("profiles/claude-code", False),
        ("profiles/Bad.Name", False),
        ("logs", False),
        ("state.db", False),
        ("profiles/work/state.db", False),
    ],
)
def test_is_structural(relative: str, expected: bool) -> None:
    assert is_structural(HOME, HOME / relative) is expected


def test_resync_reports_every_watched_file_but_profiles_only_when_new() -> None:
    dirs = frozenset({HOME, HOME / "profiles", HOME / "profiles/work", HOME / "webui"})
    expected = {STATE_DEFAULT, FileChange("state", "work"), SETTINGS, WEBUI}
    assert resync_changes(HOME, dirs, dirs) == expected
    assert resync_changes(HOME, dirs, frozenset({HOME})) == expected | {PROFILES}


def test_watched_dirs_lists_only_folders_that_matter(tmp_path: Path) -> None:
    assert watched_dirs(tmp_path / "missing") == frozenset()
    folders = ("profiles/work", "profiles/Bad.Name", "profiles/default", "profiles/claude-code")
    for folder in (*folders, "webui", "logs"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "profiles/file").write_text("not a folder")
    assert watched_dirs(tmp_path) == {
        tmp_path,
        tmp_path / "profiles",
        tmp_path / "profiles/work",
        tmp_path / "webui",
    }


# --- the real thing ------------------------------------------------------------------------


class Recorder:
    """Collects every batch and lets a test wait for a particular change."""

    def __init__(self, inner: Callable[[frozenset[FileChange]], Awaitable[None]] | None) -> None:
        self.batches: list[frozenset[FileChange]] = []
        self._inner = inner
        self._arrived = asyncio.Event()

    async def __call__(self, changes: frozenset[FileChange]) -> None:
        self.batches.append(changes)
        self._arrived.set()
        if self._inner is not None:
            await self._inner(changes)

    def since(self, mark: int) -> set[FileChange]:
        return set().union(*self.batches[mark:])

    async def wait_for(self, change: FileChange, mark: int, timeout: float = REPORT_WITHIN) -> None:
        """Until a batch after ``mark`` holds ``change``; fails after ``timeout`` seconds."""
        async with asyncio.timeout(timeout):
            while change not in self.since(mark):
                self._arrived.clear()
                await self._arrived.wait()

    async def ready(self) -> None:
        """The first batch comes once the watch is in place (the re-report after a build)."""
        async with asyncio.timeout(5):
            while not self.batches:
                self._arrived.clear()
                await self._arrived.wait()


@contextlib.asynccontextmanager
async def watching(
    home: Path,
    inner: Callable[[frozenset[FileChange]], Awaitable[None]] | None = None,
    *,
    wait_ready: bool = True,
) -> AsyncIterator[Recorder]:
    recorder = Recorder(inner)
    watcher = HomeWatcher(home, recorder, debounce_ms=50, step_ms=20, idle_ms=100)
    async with running(watcher, recorder, wait_ready=wait_ready):
        yield recorder


@contextlib.asynccontextmanager
async def running(
    watcher: HomeWatcher | TranscriptWatcher, recorder: Recorder, *, wait_ready: bool
) -> AsyncIterator[None]:
    """``watcher`` running until the block ends, then stopped within the report bound."""
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    try:
        if wait_ready:
            await recorder.ready()
        yield
    finally:
        stop.set()
        async with asyncio.timeout(REPORT_WITHIN):
            await task


def agent_db(path: Path, journal_mode: str = "wal") -> sqlite3.Connection:
    """A writer connection playing the agent, left open as the agent leaves it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(f"PRAGMA journal_mode={journal_mode}")
    conn.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, title TEXT)")
    commit(conn, "s0")
    return conn


def commit(conn: sqlite3.Connection, session_id: str) -> None:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO sessions VALUES (?, ?)", (session_id, f"title {session_id}"))
    conn.execute("COMMIT")


def write_settings(home: Path, text: str) -> None:
    """Written the way the server does: a temp file, then ``os.replace``."""
    temp = home / "webui" / "settings.json.tmp"
    temp.write_text(text)
    os.replace(temp, home / "webui" / "settings.json")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    (path / "profiles").mkdir(parents=True)
    (path / "webui").mkdir()
    return path


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
@pytest.mark.parametrize("profile", ["default", "work"])
async def test_a_commit_is_reported_with_its_profile(
    home: Path, journal_mode: str, profile: str
) -> None:
    db = home / "state.db" if profile == "default" else home / "profiles" / profile / "state.db"
    writer = agent_db(db, journal_mode)
    try:
        async with watching(home) as seen:
            mark = len(seen.batches)
            commit(writer, "s1")
            await seen.wait_for(FileChange("state", profile), mark)
            assert seen.since(mark) == {FileChange("state", profile)}
    finally:
        writer.close()


async def test_profile_folders_appearing_and_disappearing(home: Path) -> None:
    async with watching(home) as seen:
        mark = len(seen.batches)
        (home / "profiles" / "new").mkdir()
        await seen.wait_for(PROFILES, mark)
        # The watch is rebuilt over the new folder: its database is watched from now on.
        mark = len(seen.batches)
        writer = agent_db(home / "profiles" / "new" / "state.db")
        try:
            await seen.wait_for(FileChange("state", "new"), mark)
            mark = len(seen.batches)
            commit(writer, "s1")
            await seen.wait_for(FileChange("state", "new"), mark)
        finally:
            writer.close()
        mark = len(seen.batches)
        shutil.rmtree(home / "profiles" / "new")
        await seen.wait_for(PROFILES, mark)


async def test_folders_that_appear_later_are_watched(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    async with watching(home) as seen:
        mark = len(seen.batches)
        (home / "profiles" / "late").mkdir(parents=True)
        await seen.wait_for(PROFILES, mark)
        writer = agent_db(home / "profiles" / "late" / "state.db")
        try:
            await seen.wait_for(FileChange("state", "late"), mark)
        finally:
            writer.close()
        (home / "webui").mkdir()
        write_settings(home, "{}")
        await seen.wait_for(SETTINGS, mark)


async def test_a_missing_home_is_waited_for_and_never_created(tmp_path: Path) -> None:
    home = tmp_path / "home"
    async with watching(home, wait_ready=False) as seen:
        await asyncio.sleep(0.15)  # past one poll of the missing home
        assert not home.exists()
        home.mkdir()
        writer = agent_db(home / "state.db")
        try:
            await seen.wait_for(STATE_DEFAULT, 0)
        finally:
            writer.close()


async def test_the_watcher_creates_nothing_in_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    async with watching(home):
        pass
    assert list(home.iterdir()) == []


async def test_settings_edits_are_reported(home: Path) -> None:
    (home / "webui" / "settings.json").write_text("{}")
    async with watching(home) as seen:
        mark = len(seen.batches)
        write_settings(home, '{"show_cron": true}')
        await seen.wait_for(SETTINGS, mark)
        mark = len(seen.batches)
        (home / "webui" / "settings.json").write_text('{"show_cron": false}')  # by hand
        await seen.wait_for(SETTINGS, mark)
        assert seen.since(mark) == {SETTINGS}


async def test_a_commit_to_webui_db_is_reported(home: Path) -> None:
    writer = agent_db(home / "webui" / "webui.db")
    try:
        async with watching(home) as seen:
            mark = len(seen.batches)
            commit(writer, "s1")
            await seen.wait_for(WEBUI, mark)
            assert seen.since(mark) == {WEBUI}
    finally:
        writer.close()


async def test_irrelevant_files_are_not_reported(home: Path) -> None:
    writer = agent_db(home / "profiles" / "work" / "state.db")
    writer.close()
    (home / "webui" / "settings.json").write_text("{}")
    async with watching(home) as seen:
        mark = len(seen.batches)
        (home / "config.yaml").write_text("model: x")
        (home / "logs").mkdir()
        (home / "logs" / "agent.log").write_text("line\n")
        (home / "sessions").mkdir()
        (home / "sessions" / "s1.json").write_text("{}")
        (home / "state.db-shm").write_bytes(b"\0" * 64)
        (home / "profiles" / "work" / "state.db-shm").write_bytes(b"\0" * 64)
        (home / "profiles" / "work" / "notes.txt").write_text("x")
        (home / "profiles" / "work" / "logs").mkdir()
        (home / "profiles" / "work" / "logs" / "agent.log").write_text("line\n")
        (home / "profiles" / "Bad.Name").mkdir()
        (home / "profiles" / "Bad.Name" / "state.db").write_text("x")
        (home / "webui" / "webui.db-shm").write_bytes(b"\0" * 64)
        (home / "webui" / "notes.json").write_text("{}")
        # A relevant change made last: once it is reported, all the above has been seen.
        (home / "webui" / "settings.json").write_text('{"x": 1}')
        await seen.wait_for(SETTINGS, mark)
        assert seen.since(mark) == {SETTINGS}


class ContentCheck:
    """Plays the layer above: publish a ``state`` change only when ``PRAGMA data_version`` moved.

    ``data_version`` changes when another connection commits, and only on a connection that
    stays open and never holds a read transaction — so this one only ever asks for it.
    """

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
        self.seen = self._data_version()
        self.reports = 0
        self.published: list[int] = []

    def _data_version(self) -> int:
        version: int = self.conn.execute("PRAGMA data_version").fetchone()[0]
        return version

    async def __call__(self, changes: frozenset[FileChange]) -> None:
        if STATE_DEFAULT not in changes:
            return
        self.reports += 1
        now = self._data_version()
        if now != self.seen:
            self.seen = now
            self.published.append(now)


def read_sessions(db: Path, conn: sqlite3.Connection | None = None) -> int:
    """A list build's read: a fresh read-only connection unless one is given."""
    reader = conn or sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        count: int = reader.execute("SELECT count(*) FROM sessions").fetchone()[0]
    finally:
        if conn is None:
            reader.close()
    return count


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
async def test_reads_alone_never_publish(home: Path, journal_mode: str) -> None:
    db = home / "state.db"
    writer = agent_db(db, journal_mode)
    (home / "webui" / "settings.json").write_text("{}")
    check = ContentCheck(db)
    long_lived = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        async with watching(home, check) as seen:
            mark = len(seen.batches)
            check.reports = 0
            loop = asyncio.get_running_loop()
            until = loop.time() + 1.0
            while loop.time() < until:
                assert read_sessions(db) == 1
                assert read_sessions(db, long_lived) == 1
                await asyncio.sleep(0.01)
            write_settings(home, '{"x": 1}')  # everything the reads touched is seen by now
            await seen.wait_for(SETTINGS, mark)
            # Touch events from reads may be reported (SQLite running as root chowns the
            # -wal on open); the content check is what keeps them from being published.
            assert check.published == []
            # No feedback loop: the check's own reads cause no further reports.
            reports = check.reports
            await asyncio.sleep(0.3)
            assert check.reports == reports
            # And the check is not blind: a real commit is published.
            mark = len(seen.batches)
            commit(writer, "s1")
            await seen.wait_for(STATE_DEFAULT, mark)
            assert len(check.published) == 1
    finally:
        long_lived.close()
        check.conn.close()
        writer.close()


@pytest.mark.parametrize("home_exists", [True, False])
async def test_stop_event_stops_it_promptly(tmp_path: Path, home_exists: bool) -> None:
    home = tmp_path / "home"
    if home_exists:
        home.mkdir()
    stop = asyncio.Event()
    recorder = Recorder(None)
    task = asyncio.create_task(HomeWatcher(home, recorder).run(stop))  # default idle wake-up
    if home_exists:
        await recorder.ready()
    else:
        await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    stop.set()
    async with asyncio.timeout(REPORT_WITHIN):
        await task
    assert loop.time() - started < REPORT_WITHIN


async def test_a_folder_vanishing_before_the_watch_takes_hold_is_survived(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listings: list[frozenset[Path]] = []

    def stale_once(path: Path) -> frozenset[Path]:
        # The first listings still name a profile folder that is gone by the time it is watched.
        dirs = watched_dirs(path)
        if len(listings) < 2:
            dirs |= {path / "profiles" / "gone"}
        listings.append(dirs)
        return dirs

    monkeypatch.setattr("webui.live.watcher.watched_dirs", stale_once)
    writer = agent_db(home / "state.db")
    try:
        async with watching(home) as seen:
            mark = len(seen.batches)
            commit(writer, "s1")
            await seen.wait_for(STATE_DEFAULT, mark)
    finally:
        writer.close()
    assert len(listings) >= 4  # the start, the stale watch, its re-check, the watch rebuilt


# --- Claude Code's transcripts -------------------------------------------------------------

ROOT = Path("/c")
PROJECTS = ROOT / "projects"
SID = "0b7c5b6e-1d2f-4c3a-9e8d-7f6a5b4c3d2e"


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        (f"p/{SID}.jsonl", CLAUDE),
        ("-home-ada-code-webui/s1.jsonl", CLAUDE),
        # Subagent work is not a session: neither form of it is reported.
        ("p/agent-1a2b3c.jsonl", None),
        (f"p/{SID}/subagents/agent-1a2b3c.jsonl", None),
        (f"p/{SID}/tool-results/x.txt", None),
        (f"p/{SID}", None),
        ("p/notes.txt", None),
        ("p/s1.jsonl.tmp", None),
        (f"{SID}.jsonl", None),  # a project's own files only
        ("p", None),
        ("", None),
    ],
)
def test_classify_transcript(relative: str, expected: FileChange | None) -> None:
    assert classify_transcript(PROJECTS, PROJECTS / relative) == expected


def test_only_transcripts_under_the_projects_folder_mean_something() -> None:
    assert classify_transcript(PROJECTS, ROOT / "history.jsonl") is None
    assert classify_transcript(PROJECTS, ROOT / "todos" / f"{SID}.jsonl") is None
    assert classify_transcript(PROJECTS, Path(f"/elsewhere/p/{SID}.jsonl")) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (ROOT, True),
        (PROJECTS, True),
        (PROJECTS / "p", True),
        (PROJECTS / "p" / f"{SID}.jsonl", False),
        (PROJECTS / "p" / SID / "subagents", False),
        (ROOT / "todos", False),
        (Path("/elsewhere"), False),
    ],
)
def test_is_transcript_structural(path: Path, expected: bool) -> None:
    assert is_transcript_structural(PROJECTS, path) is expected


def test_transcript_watch_follows_what_exists(tmp_path: Path) -> None:
    projects = tmp_path / "claude" / "projects"
    assert transcript_watch(projects) is None
    projects.parent.mkdir()
    assert transcript_watch(projects) == TranscriptWatch(projects.parent, recursive=False)
    projects.mkdir()
    assert transcript_watch(projects) == TranscriptWatch(projects, recursive=True)


class Published:
    """A ``LiveChanges`` over a real home and a real Claude Code folder, and what it publishes."""

    def __init__(self, home: Path, claude_root: Path | None) -> None:
        self.db = WebuiDB(home / "webui" / "webui.db")
        self.events = EventBroker(coalesce_seconds=0.02)
        self.source = ClaudeCodeSource(claude_root, 1 << 22)
        self.live = LiveChanges(
            home=home,
            db=self.db,
            prefs=PreferenceStore(home / "webui" / "settings.json"),
            registry=StreamRegistry(self.db, stale_after=30.0),
            events=self.events,
            claude=self.source,
        )
        self.received: list[ChangeEvent] = []
        self._arrived = asyncio.Event()

    async def collect(self) -> None:
        async with self.events.subscribe() as events:
            async for event in events:
                self.received.append(event)
                self._arrived.set()

    async def next_claude(self, mark: int, timeout: float = REPORT_WITHIN) -> ChangeEvent:
        """The first ``claude-code`` event received after the first ``mark``."""
        async with asyncio.timeout(timeout):
            while True:
                found = [e for e in self.received[mark:] if e.reason == "claude-code"]
                if found:
                    return found[0]
                self._arrived.clear()
                await self._arrived.wait()


@contextlib.asynccontextmanager
async def published(home: Path, claude_root: Path | None, *, run: bool) -> AsyncIterator[Published]:
    """What ``LiveChanges`` publishes; with ``run``, its watchers run as the app runs them."""
    seen = Published(home, claude_root)
    seen.events.start(asyncio.get_running_loop())
    collector = asyncio.create_task(seen.collect())
    task = asyncio.create_task(seen.live.run()) if run else None
    try:
        yield seen
    finally:
        if task is not None:
            await seen.live.stop(task)
        seen.events.close()
        await collector
        seen.db.close()
    assert seen.live.problem is None


@contextlib.asynccontextmanager
async def watching_transcripts(
    projects: Path,
    inner: Callable[[frozenset[FileChange]], Awaitable[None]],
    *,
    wait_ready: bool = True,
) -> AsyncIterator[Recorder]:
    """The transcript watcher alone, each report handed to ``inner`` (the layer above)."""
    recorder = Recorder(inner)
    watcher = TranscriptWatcher(projects, recorder, debounce_ms=50, step_ms=20, idle_ms=100)
    async with running(watcher, recorder, wait_ready=wait_ready):
        yield recorder


@pytest.fixture
def claude_root(tmp_path: Path) -> Path:
    return tmp_path / "claude"


async def test_an_append_to_a_transcript_is_published_within_a_second(
    home: Path, claude_root: Path
) -> None:
    s = Session()
    path = conversation(claude_root, s, turns=1)
    async with published(home, claude_root, run=True) as seen:
        # The watch is in place once a change made after the start has been published.
        append(path, s.user("are you there?"))
        await seen.next_claude(0, timeout=5)
        loop = asyncio.get_running_loop()
        for n in range(3):
            mark = len(seen.received)
            appended = loop.time()
            append(path, s.assistant(f"reply {n}"))
            event = await seen.next_claude(mark)
            assert (event.profile, event.reason) == ("*", "claude-code")
            assert loop.time() - appended < REPORT_WITHIN
        # A new session's file in a known project is news too.
        mark = len(seen.received)
        conversation(claude_root, Session(), turns=1)
        await seen.next_claude(mark)


async def test_subagent_work_and_touches_without_change_are_not_published(
    home: Path, claude_root: Path
) -> None:
    s = Session()
    path = conversation(claude_root, s, turns=1)
    async with (
        published(home, claude_root, run=False) as seen,
        watching_transcripts(claude_root / "projects", seen.live.on_changes) as reports,
    ):
        version, mark = seen.events.version, len(reports.batches)
        agent = Session(session_id="agent-1a2b3c")
        conversation(claude_root, agent, turns=1)  # projects/<project>/agent-1a2b3c.jsonl
        append(path.parent / "agent-1a2b3c.jsonl", agent.user("more"))
        nested = path.parent / s.session_id / "subagents" / "agent-9f8e7d.jsonl"
        write(nested, agent.user("nested"))
        append(nested, agent.assistant("nested reply"))
        # Reported (an attribute change wakes the watch), but no transcript's stamp moved.
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.chmod(path, stat.st_mode)
        await reports.wait_for(CLAUDE, mark)
        assert seen.events.version == version
        # Not blind: a real append is published.
        mark = len(seen.received)
        append(path, s.user("and now?"))
        await seen.next_claude(mark)
        assert seen.events.version == version + 1


async def test_reading_the_transcripts_never_publishes(home: Path, claude_root: Path) -> None:
    s = Session()
    path = conversation(claude_root, s, turns=2)
    async with (
        published(home, claude_root, run=False) as seen,
        watching_transcripts(claude_root / "projects", seen.live.on_changes) as reports,
    ):
        version, source = seen.events.version, seen.source
        for _ in range(10):
            source.read_changes()
            assert source.session(s.session_id) is not None
            assert len(source.messages(s.session_id, after=0, limit=10)) == 4
            assert source.read_all()
            await asyncio.sleep(0.01)  # let the watch see whatever the reads touched
        mark = len(reports.batches)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a report to wait for
        await reports.wait_for(CLAUDE, mark)
        assert seen.events.version == version


@pytest.mark.parametrize("root_exists", [True, False])
async def test_a_projects_folder_made_after_the_start_is_picked_up(
    home: Path, claude_root: Path, root_exists: bool
) -> None:
    if root_exists:
        claude_root.mkdir()
        (claude_root / "history.jsonl").write_text("{}\n")  # the rest of the root: no news
    async with (
        published(home, claude_root, run=False) as seen,
        watching_transcripts(
            claude_root / "projects", seen.live.on_changes, wait_ready=root_exists
        ) as reports,
    ):
        if root_exists:
            (claude_root / "history.jsonl").write_text("{}\n{}\n")
        s = Session()
        # The project folder and its transcript at once: the OS watch of a new folder comes
        # after the folder, so only the re-report after the rebuild can see this file.
        path = conversation(claude_root, s, turns=1)
        await seen.next_claude(0)
        # The new folder is watched from now on.
        mark, reported = len(seen.received), len(reports.batches)
        append(path, s.user("still here"))
        await reports.wait_for(CLAUDE, reported)
        await seen.next_claude(mark)
        # A project folder moved in whole, its transcript with it: only the folder's arrival
        # is reported, and the watch rebuilt over it finds the file.
        mark = len(seen.received)
        elsewhere = claude_root.parent / "restored"
        moved = conversation(elsewhere, Session(cwd="/home/ada/code/other"), turns=1).parent
        moved.rename(claude_root / "projects" / moved.name)
        await seen.next_claude(mark)
        # The folder removed and made again: the watch follows it.
        mark = len(seen.received)
        shutil.rmtree(claude_root / "projects")
        await seen.next_claude(mark)
        mark = len(seen.received)
        conversation(claude_root, Session(), turns=1)
        await seen.next_claude(mark)
        assert [e.reason for e in seen.received] == ["claude-code"] * 5


async def test_without_a_claude_code_source_nothing_of_it_is_published(home: Path) -> None:
    async with published(home, None, run=True) as seen:  # claude_home = "": the source is off
        assert seen.live.claude is None
        await seen.live.on_changes(frozenset({CLAUDE}))
        assert seen.events.version == 0
