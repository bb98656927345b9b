"""The source: a full first read, then only what changed; always what a fresh parse says."""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from claudecode.jsonl import Session, append, conversation, line, project_dir, summary, write
from webui.claudecode.source import ClaudeCodeSource, project_of
from webui.records import RecordChanges, SessionRecord

BUDGET = 1 << 26


def listed(source: ClaudeCodeSource) -> dict[str, SessionRecord]:
    return {r.id: r for r in source.read_all()}


def title_of(source: ClaudeCodeSource, session_id: str) -> str | None:
    record = source.session(session_id)
    assert record is not None
    return record.title


def apply(held: dict[str, SessionRecord], changes: RecordChanges) -> None:
    if changes.full:
        held.clear()
    held.update(changes.upserted)
    for sid in changes.removed:
        held.pop(sid, None)


def test_the_first_read_is_full_and_later_ones_carry_only_changes(tmp_path: Path) -> None:
    a, b = Session(cwd="/work/one"), Session(cwd="/work/two")
    path_a = conversation(tmp_path, a)
    path_b = conversation(tmp_path, b)
    source = ClaudeCodeSource(tmp_path, BUDGET)
    first = source.read_changes()
    assert first.full and set(first.upserted) == {a.session_id, b.session_id}
    assert first.removed == frozenset()
    assert source.read_changes() == RecordChanges(False, {}, frozenset())
    append(path_a, a.user("one more"))
    grown = source.read_changes()
    assert not grown.full and set(grown.upserted) == {a.session_id}
    assert grown.upserted[a.session_id].message_count == 5
    path_b.unlink()
    assert source.read_changes() == RecordChanges(False, {}, frozenset({b.session_id}))
    assert source.stats()["full_parses"] == 2 and source.stats()["append_parses"] == 1


def test_a_change_that_changes_nothing_listed_is_not_delivered(tmp_path: Path) -> None:
    s = Session()
    path = conversation(tmp_path, s)
    source = ClaudeCodeSource(tmp_path, BUDGET)
    source.read_changes()
    append(path, line(s.user("typing"))[:30])  # a torn line: nothing complete yet
    assert source.read_changes().upserted == {}
    append(path, line({"type": "file-history-snapshot", "messageId": "m", "snapshot": {}}))
    assert source.read_changes().upserted == {}  # a line, but nothing the list shows moved


def test_a_summary_in_a_newer_file_titles_the_older_session(tmp_path: Path) -> None:
    old, new = Session(), Session(at=1_763_900_000.0)
    old_path = conversation(tmp_path, old)
    new_path = write(project_dir(tmp_path) / f"{new.session_id}.jsonl", new.user("next task"))
    source = ClaudeCodeSource(tmp_path, BUDGET)
    source.read_changes()
    # Claude Code summarizes the old conversation into the file open now (the new one).
    append(new_path, summary("Cache design", old.parent or ""))
    changes = source.read_changes()
    assert set(changes.upserted) == {old.session_id}
    assert changes.upserted[old.session_id].title == "Cache design"
    assert title_of(source, new.session_id) is None
    # The old session's own summary outranks the other file's.
    append(old_path, summary("Its own title", old.parent or ""))
    assert source.read_changes().upserted[old.session_id].title == "Its own title"
    now = [source.session(old.session_id), source.session(new.session_id)]
    assert listed(source) == {r.id: r for r in now if r is not None}
    # A summary whose leaf is nowhere titles nobody.
    append(new_path, summary("Lost", "no-such-uuid"))
    assert source.read_changes().upserted == {}


def test_a_custom_title_outranks_summaries(tmp_path: Path) -> None:
    s = Session()
    path = conversation(tmp_path, s)
    append(path, summary("Summary", s.parent or ""))
    source = ClaudeCodeSource(tmp_path, BUDGET)
    assert title_of(source, s.session_id) == "Summary"
    append(path, {"type": "custom-title", "customTitle": "My name", "sessionId": s.session_id})
    assert title_of(source, s.session_id) == "My name"


def test_corrupt_lines_and_unreadable_files_are_problems_never_errors(tmp_path: Path) -> None:
    s, t = Session(), Session()
    path = conversation(tmp_path, s)
    append(path, b"{oops\n", b"\xff\xfe\n")
    other = conversation(tmp_path, t)
    source = ClaudeCodeSource(tmp_path, BUDGET)
    records = source.read_changes().upserted
    assert records[s.session_id].message_count == 4
    [problem] = source.problems()
    assert f"{s.session_id}.jsonl: 2 corrupt line(s) skipped, the first at line 5" in problem
    if os.geteuid() != 0:  # root reads anything
        other.chmod(0)
        append(other, b"")
        os.utime(other, ns=(1, 1))
        assert source.read_changes().removed == frozenset({t.session_id})
        assert any("cannot read" in p for p in source.problems())


def test_an_off_source_and_a_missing_folder_are_no_sessions(tmp_path: Path) -> None:
    off = ClaudeCodeSource(None, BUDGET)
    assert not off.enabled and off.stamp() is None
    assert off.read_changes() == RecordChanges(True, {}, frozenset())
    assert off.read_all() == [] and off.session("x") is None and off.problems() == []
    missing = ClaudeCodeSource(tmp_path / "nothing", BUDGET)
    assert missing.read_changes().upserted == {} and missing.messages("x", after=0, limit=5) == []


def test_the_stamp_moves_only_with_the_files(tmp_path: Path) -> None:
    s = Session()
    path = conversation(tmp_path, s)
    source = ClaudeCodeSource(tmp_path, BUDGET)
    stamp = source.stamp()
    assert source.stamp() == stamp
    source.read_changes()
    assert source.stamp() == stamp  # reading never writes
    append(path, s.user("more"))
    assert source.stamp() != stamp


def test_session_and_messages(tmp_path: Path) -> None:
    s = Session(cwd="/home/ada/code/webui", branch="cache")
    conversation(tmp_path, s, turns=3)
    source = ClaudeCodeSource(tmp_path, BUDGET)
    record = source.session(s.session_id)
    assert record is not None and record.preview == "question 0 about the cache"
    assert project_of(record.cwd) == "webui" and record.git_branch == "cache"
    assert source.session("unknown") is None
    page = source.messages(s.session_id, after=2, limit=2)
    assert [(m.id, m.role) for m in page] == [(3, "user"), (4, "assistant")]
    assert source.messages("unknown", after=0, limit=2) == []


def test_project_of_a_cwd() -> None:
    assert project_of("/home/ada/code/webui") == "webui"
    assert project_of("/home/ada/code/webui/") == "webui"
    assert project_of("C:\\Users\\ada\\proj") == "proj"
    assert project_of("/") is None and project_of(None) is None and project_of("") is None


def test_an_append_while_a_read_runs_shows_on_the_next_read(tmp_path: Path) -> None:
    s = Session()
    path = conversation(tmp_path, s, turns=1)
    source = ClaudeCodeSource(tmp_path, BUDGET)
    held: dict[str, SessionRecord] = {}
    stop = threading.Event()

    def writer() -> None:
        for n in range(200):
            append(path, s.user(f"appended {n}"))
        stop.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not stop.is_set():
        apply(held, source.read_changes())
    thread.join()
    apply(held, source.read_changes())
    assert held == listed(source)
    assert held[s.session_id].message_count == 202


def test_a_tiny_budget_evicts_states_and_keeps_records_right(tmp_path: Path) -> None:
    sessions = [Session() for _ in range(5)]
    paths = [conversation(tmp_path, s) for s in sessions]
    source = ClaudeCodeSource(tmp_path, 1)
    held: dict[str, SessionRecord] = {}
    apply(held, source.read_changes())
    append(paths[0], sessions[0].user("more"), summary("Own title", sessions[0].parent or ""))
    apply(held, source.read_changes())
    assert held == listed(source)
    stats = source.stats()
    assert stats["cached_states"] == 0 and stats["evictions"] == 6
    assert stats["full_parses"] == 6  # an evicted state is parsed again in full


@pytest.mark.parametrize("agent_name", ["agent-1234abcd.jsonl"])
def test_subagent_transcripts_are_hidden(tmp_path: Path, agent_name: str) -> None:
    s = Session()
    conversation(tmp_path, s)
    write(project_dir(tmp_path) / agent_name, s.user("sub task", isSidechain=True))
    source = ClaudeCodeSource(tmp_path, BUDGET)
    assert list(source.read_changes().upserted) == [s.session_id]


REPLY_IDS = {"reply_a": "msg_a", "reply_b": "msg_b", "reply_none": None}
KINDS = st.lists(
    st.sampled_from(
        ["prompt", "command", "reply_a", "reply_b", "reply_none", "summary", "result", "rename"]
    ),
    max_size=4,
)
PICK = st.integers(0, 1000)


class Transcripts(RuleBasedStateMachine):
    """Claude Code writing (appends, torn lines, summaries anywhere), people meddling
    (truncations, replacements, deletions, corrupt lines), and the list reading between:
    what the incremental reads add up to is always what a parse from scratch says."""

    def __init__(self) -> None:
        super().__init__()
        self.root = Path(tempfile.mkdtemp(prefix="claude-"))
        self.source = ClaudeCodeSource(self.root, BUDGET)
        self.held: dict[str, SessionRecord] = {}
        self.sessions: dict[str, tuple[Session, Path]] = {}
        self.torn: dict[str, bytes] = {}  # the rest of a line half written
        self.uuids: list[str] = []
        self.mtime = itertools.count(1_700_000_000_000_000_000, 1_000_000)

    def teardown(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _written(self, path: Path) -> None:
        # Two writes within one tick of the file system clock must still differ in stat.
        tick = next(self.mtime)
        os.utime(path, ns=(tick, tick))

    def _entries(self, s: Session, kinds: list[str], pick: int) -> list[bytes]:
        made: list[bytes] = []
        for n, kind in enumerate(kinds):
            if kind == "summary" and self.uuids:
                leaf = self.uuids[(pick + n) % len(self.uuids)]
                entry = summary(f"Title {pick % 3}", leaf)
            elif kind.startswith("reply"):
                entry = s.assistant("ok", msg_id=REPLY_IDS[kind], tokens=(3, pick % 7))
            elif kind == "result":
                entry = s.tool_result("done")
            elif kind == "command":
                entry = s.user("<command-name>/clear</command-name>")
            elif kind == "rename":
                entry = {
                    "type": "custom-title",
                    "customTitle": "Renamed",
                    "sessionId": s.session_id,
                }
            else:
                entry = s.user(f"prompt {pick}")
            if "uuid" in entry:
                self.uuids.append(entry["uuid"])
                s.uuids.append(entry["uuid"])
            made.append(line(entry))
        return made

    @rule(project=st.sampled_from(["/w/a", "/w/b"]), kinds=KINDS, pick=PICK)
    def new_session(self, project: str, kinds: list[str], pick: int) -> None:
        s = Session(cwd=project, at=1_763_800_000.0 + 1000 * pick)
        folder = project_dir(self.root, project)
        path = write(folder / f"{s.session_id}.jsonl", *self._entries(s, kinds, pick))
        self.sessions[s.session_id] = (s, path)
        self._written(path)

    def _pick(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from(sorted(self.sessions)))

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), kinds=KINDS, pick=PICK)
    def append_entries(self, data: st.DataObject, kinds: list[str], pick: int) -> None:
        sid = self._pick(data)
        s, path = self.sessions[sid]
        append(path, self.torn.pop(sid, b""), *self._entries(s, kinds, pick))
        self._written(path)

    @precondition(lambda self: len(self.sessions) > 1)
    @rule(data=st.data(), pick=PICK)
    def summarize_another(self, data: st.DataObject, pick: int) -> None:
        """Claude Code summarizing an older conversation into the transcript open now."""
        sid = self._pick(data)
        others = [u for o, (s, _) in self.sessions.items() if o != sid for u in s.uuids]
        if not others:
            return
        _, path = self.sessions[sid]
        leaf = others[pick % len(others)]
        append(path, self.torn.pop(sid, b""), line(summary(f"Recap {pick % 3}", leaf)))
        self._written(path)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), cut=st.integers(1, 200), pick=PICK)
    def append_torn(self, data: st.DataObject, cut: int, pick: int) -> None:
        sid = self._pick(data)
        if sid in self.torn:
            return
        s, path = self.sessions[sid]
        whole = self._entries(s, ["reply_a" if pick % 2 else "prompt"], pick)[0]
        cut = min(cut, len(whole) - 1)
        append(path, whole[:cut])
        self.torn[sid] = whole[cut:]
        self._written(path)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), junk=st.sampled_from([b"{broken\n", b"\xff\xfe\x00\n", b"\n", b"[]\n"]))
    def append_junk(self, data: st.DataObject, junk: bytes) -> None:
        sid = self._pick(data)
        _, path = self.sessions[sid]
        append(path, self.torn.pop(sid, b""), junk)
        self._written(path)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), keep=st.floats(0, 1))
    def truncate(self, data: st.DataObject, keep: float) -> None:
        sid = self._pick(data)
        _, path = self.sessions[sid]
        raw = path.read_bytes()
        with path.open("r+b") as fh:  # the same inode
            fh.truncate(int(len(raw) * keep))
        self.torn.pop(sid, None)
        self._written(path)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data(), kinds=KINDS, pick=PICK)
    def replace(self, data: st.DataObject, kinds: list[str], pick: int) -> None:
        sid = self._pick(data)
        old, path = self.sessions[sid]
        s = Session(session_id=sid, cwd=old.cwd, at=old.at + 50)
        fresh = write(path.with_suffix(".new"), *self._entries(s, kinds, pick))
        os.replace(fresh, path)
        self.sessions[sid] = (s, path)
        self.torn.pop(sid, None)
        self._written(path)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        sid = self._pick(data)
        _, path = self.sessions.pop(sid)
        path.unlink()
        self.torn.pop(sid, None)

    @rule()
    def read(self) -> None:
        """A poll: whatever happened since the last one, the index ends up right."""
        apply(self.held, self.source.read_changes())
        assert self.held == listed(self.source)

    @precondition(lambda self: self.sessions)
    @rule(data=st.data())
    def read_one(self, data: st.DataObject) -> None:
        """The single-row endpoint reads between polls: it must not cost the poll a change."""
        sid = self._pick(data)
        assert self.source.session(sid) == listed(self.source).get(sid)


Transcripts.TestCase.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
test_incremental_reads_match_the_oracle = Transcripts.TestCase


def test_polls_single_rows_and_health_from_many_threads_at_once(tmp_path: Path) -> None:
    sessions = [Session() for _ in range(6)]
    paths = [conversation(tmp_path, s) for s in sessions]
    source = ClaudeCodeSource(tmp_path, BUDGET)
    held: dict[str, SessionRecord] = {}
    failures: list[BaseException] = []
    done = threading.Event()

    def guarded(work: Callable[[], object]) -> threading.Thread:
        def run() -> None:
            try:
                while not done.is_set():
                    work()
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                failures.append(exc)

        return threading.Thread(target=run)

    readers = [
        guarded(lambda: source.session(sessions[0].session_id)),
        guarded(lambda: source.messages(sessions[1].session_id, after=0, limit=50)),
        guarded(lambda: (source.problems(), source.stats(), source.stamp())),
    ]
    for thread in readers:
        thread.start()
    for n in range(60):
        append(paths[n % len(paths)], sessions[n % len(paths)].user(f"more {n}"))
        apply(held, source.read_changes())
    done.set()
    for thread in readers:
        thread.join()
    assert failures == []
    apply(held, source.read_changes())
    assert held == listed(source)


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists any folder")
def test_a_folder_that_cannot_be_listed_keeps_what_was_known_in_it(tmp_path: Path) -> None:
    a, b = Session(cwd="/work/one"), Session(cwd="/work/two")
    conversation(tmp_path, a)
    conversation(tmp_path, b)
    source = ClaudeCodeSource(tmp_path, BUDGET)
    source.read_changes()
    folder = project_dir(tmp_path, "/work/one")
    folder.chmod(0)
    try:
        assert source.read_changes() == RecordChanges(False, {}, frozenset())
        assert any("cannot read" in p for p in source.problems())
        assert source.session(a.session_id) is not None
    finally:
        folder.chmod(0o755)
    assert source.problems() != [] and source.read_changes().removed == frozenset()
    assert source.problems() == []


def test_a_long_read_logs_its_progress(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    for _ in range(3):
        conversation(tmp_path, Session())
    ticks = itertools.count(0.0, 1.5)  # every look at the clock is 1.5 s later
    source = ClaudeCodeSource(tmp_path, BUDGET, clock=lambda: next(ticks))
    with caplog.at_level("INFO", logger="webui.claudecode.source"):
        source.read_changes()
    messages = [r.getMessage() for r in caplog.records]
    assert any("parsed so far" in m for m in messages)
    assert any(m.startswith("claude-code: 3 transcripts") for m in messages)
