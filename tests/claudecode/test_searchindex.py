"""Our search index of Claude Code transcripts: the pane's text by line, kept up to date by
file (appends index their own lines, anything else is indexed again), rebuilt when damaged."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import hypothesis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claudecode.jsonl import Session, append, line, project_dir, write
from webui.claudecode.searchindex import LAYOUT, ClaudeSearchIndex
from webui.claudecode.searchread import ClaudeHit, Lookup, open_read


class Clock:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "claude"


def make_index(tmp_path: Path, root: Path, **options: object) -> ClaudeSearchIndex:
    return ClaudeSearchIndex(tmp_path / "home" / "webui" / "claude-search.db", root / "projects",
                             **options)  # type: ignore[arg-type]  # fmt: skip


def transcript(root: Path, s: Session, *entries: dict[str, object] | bytes) -> Path:
    return write(project_dir(root, s.cwd) / f"{s.session_id}.jsonl", *entries)


def find(index: ClaudeSearchIndex, word: str, lookup: Lookup = Lookup.WORDS) -> list[ClaudeHit]:
    with open_read(index.path, 5.0) as read:
        assert read is not None
        match = None if lookup is Lookup.SCAN else f'"{word}"'
        likes = [f"%{word}%"] if lookup is Lookup.SCAN else []
        hits, complete = read.find(lookup, match, likes, limit=1000, seconds=2.0)
    assert complete
    return sorted(hits)


def rows(index: ClaudeSearchIndex) -> list[tuple[object, ...]]:
    with sqlite3.connect(index.path) as conn:
        found = conn.execute(
            "SELECT session_id, line, role, content FROM messages ORDER BY session_id, line"
        )
        return found.fetchall()


def test_user_and_assistant_text_is_found_by_line(tmp_path: Path, root: Path) -> None:
    s = Session()
    transcript(
        root,
        s,
        s.user("why is the Postgres pool exhausted?"),
        s.assistant([s.tool_use("Bash", command="psql -c 'show max_connections'")]),
        s.tool_result("max_connections 100 postgres"),
        s.assistant("The pool is too small for the workers."),
        s.user("Érable sirop", isSidechain=True),
    )
    index = make_index(tmp_path, root)
    assert index.update() is True
    assert [(h.session_id, h.line, h.role) for h in find(index, "postgres")] == [
        (s.session_id, 1, "user")
    ]
    assert find(index, "workers")[0].line == 4
    assert find(index, "psql")[0].line == 2  # a tool call as the pane shows it (⚙ Bash: …)
    assert find(index, "connections")[0].line == 2  # only the call: tool output is not indexed
    assert find(index, "erable") == []  # subagent work is not shown, so not found
    assert find(index, "ool is to", Lookup.TRIGRAM)[0].line == 4
    with open_read(index.path, 5.0) as read:
        assert read is not None
        assert read.contents([(s.session_id, 4)], chars=8) == {(s.session_id, 4): "The pool"}
    with sqlite3.connect(index.path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LAYOUT
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_append_indexes_only_its_lines(tmp_path: Path, root: Path) -> None:
    s = Session()
    path = transcript(root, s, s.user("first question"), s.assistant("first answer"))
    index = make_index(tmp_path, root)
    index.update()
    before = index.counters.as_dict()
    extra = line(s.user("the kubernetes ingress")) + line(s.assistant("use nginx"))
    append(path, extra)
    assert index.update() is True
    after = index.counters.as_dict()
    assert after["lines_read"] - before["lines_read"] == 2
    assert after["bytes_read"] - before["bytes_read"] == len(extra)
    assert after["rows_added"] - before["rows_added"] == 2
    assert after["files_reset"] == 0
    assert [h.line for h in find(index, "kubernetes")] == [3]
    assert len(rows(index)) == 4
    index.update()  # nothing changed: nothing read
    assert index.counters.lines_read == after["lines_read"]


def test_a_torn_last_line_waits_for_its_newline(tmp_path: Path, root: Path) -> None:
    s = Session()
    whole = line(s.user("the torn redis line"))
    path = transcript(root, s, s.user("hello"), whole[:20])
    index = make_index(tmp_path, root)
    index.update()
    assert find(index, "redis") == []
    append(path, whole[20:])
    index.update()
    assert [h.line for h in find(index, "redis")] == [2]
    assert index.counters.files_reset == 0


def test_truncation_and_replacement_index_again(tmp_path: Path, root: Path) -> None:
    s = Session()
    path = transcript(root, s, s.user("alpha topic"), s.assistant("beta topic"))
    index = make_index(tmp_path, root)
    index.update()
    # Shrunk: what was there is gone, what is there now is found at its own line.
    write(path, s.user("gamma topic"))
    index.update()
    assert index.counters.files_reset == 1
    assert find(index, "alpha") == [] and find(index, "beta") == []
    assert [h.line for h in find(index, "gamma")] == [1]
    # Replaced by another file of the same name (a new inode), longer than before.
    other = path.with_suffix(".tmp")
    write(other, s.user("delta topic"), s.assistant("epsilon topic"))
    os.replace(other, path)
    index.update()
    assert index.counters.files_reset == 2
    assert find(index, "gamma") == [] and [h.line for h in find(index, "epsilon")] == [2]
    # Rewritten in place, same size: read again, not on.
    text = path.read_bytes()
    path.write_bytes(text.replace(b"delta", b"omega"))
    os.utime(path, ns=(1, 1))
    index.update()
    assert find(index, "delta") == [] and [h.line for h in find(index, "omega")] == [1]
    assert len(rows(index)) == 2


def test_a_removed_transcript_takes_its_rows(tmp_path: Path, root: Path) -> None:
    a, b = Session(), Session()
    transcript(root, a, a.user("shared words here"))
    gone = transcript(root, b, b.user("shared words there"))
    index = make_index(tmp_path, root)
    index.update()
    assert len(find(index, "shared")) == 2
    gone.unlink()
    index.update()
    assert [h.session_id for h in find(index, "shared")] == [a.session_id]
    assert index.counters.files_removed == 1 and len(rows(index)) == 1


@pytest.mark.parametrize("damage", ["garbage", "deleted", "old layout", "truncated"])
def test_a_damaged_missing_or_older_index_is_built_again(
    tmp_path: Path, root: Path, damage: str
) -> None:
    s = Session()
    transcript(root, s, s.user("the grafana dashboard"))
    index = make_index(tmp_path, root)
    index.update()
    assert index.counters.rebuilds == 1  # the first update builds it
    for suffix in ("-wal", "-shm"):
        Path(f"{index.path}{suffix}").unlink(missing_ok=True)
    if damage == "garbage":
        index.path.write_bytes(b"this is not a database at all" * 200)
    elif damage == "deleted":
        index.path.unlink()
    elif damage == "truncated":
        with index.path.open("r+b") as fh:
            fh.truncate(4096)
    else:
        with sqlite3.connect(index.path) as conn:
            conn.execute(f"PRAGMA user_version = {LAYOUT - 1}")
    assert index.update() is True
    assert index.counters.rebuilds == 2
    assert [h.line for h in find(index, "grafana")] == [1]


def test_a_far_behind_index_catches_up_over_updates(tmp_path: Path, root: Path) -> None:
    sessions = [Session() for _ in range(3)]
    for n, s in enumerate(sessions):
        entries = [s.user(f"note {i} about terraform") for i in range(600)]
        path = transcript(root, s, *entries)
        os.utime(path, ns=(n * 10**9, n * 10**9))
    # Each read of the clock moves it 0.5 s: a 1 s budget runs out inside the first file.
    index = make_index(tmp_path, root, clock=Clock(0.5))
    assert index.update() is False
    first = {h.session_id for h in find(index, "terraform")}
    assert first == {sessions[-1].session_id}  # the newest transcript first
    assert 0 < len(rows(index)) < 600
    updates = 1
    while not index.update():
        updates += 1
        assert updates < 50
    assert len(rows(index)) == 1800 and index.counters.files_reset == 0
    assert index.counters.lines_read == 1800 and index.counters.behind == updates
    assert [h.line for h in find(index, "599")] == [600, 600, 600]


def test_a_missing_folder_is_an_empty_index(tmp_path: Path, root: Path) -> None:
    index = make_index(tmp_path, root)
    assert index.update() is True
    assert rows(index) == []


OPS = ("append", "append", "torn", "truncate", "replace", "remove")


def apply(op: str, s: Session, path: Path) -> None:
    n = s.at
    if op == "remove":
        path.unlink(missing_ok=True)
    elif op == "truncate" and path.exists():
        data = path.read_bytes()
        cut = data.rfind(b"\n", 0, len(data) - 1) + 1  # drop the last line
        path.write_bytes(data[:cut])
    elif op == "replace":
        other = path.with_suffix(".new")
        write(other, s.user(f"replaced {n}"), s.assistant(f"anew {n}"))
        os.replace(other, path)
    elif op == "torn":
        whole = line(s.assistant(f"torn reply {n}"))
        if not path.exists():
            write(path, s.user(f"start {n}"))
        append(path, whole[: len(whole) // 2])
        append(path, whole[len(whole) // 2 :] if n % 2 else b"")
    else:
        if not path.exists():
            write(path)
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            append(path, b"\n")  # end a torn line (as garbage: a corrupt line, skipped)
        append(path, s.user(f"prompt {n}"), s.assistant(f"reply {n}"))


@given(steps=st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 2)), max_size=14))
@hypothesis.settings(max_examples=40, deadline=None, database=None, derandomize=True)
def test_the_incremental_index_is_the_index_built_from_scratch(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    """Appends, torn lines, truncations, replacements and removals, updating after each:
    the rows held are always those of a new index of the same files."""
    tmp = tmp_path_factory.mktemp("incremental")
    root = tmp / "claude"
    sessions = [Session() for _ in range(3)]
    index = make_index(tmp / "a", root)
    for op, which in steps:
        s = sessions[which]
        path = project_dir(root, s.cwd) / f"{s.session_id}.jsonl"
        apply(op, s, path)
        index.update()
        fresh = make_index(tmp / f"b{len(os.listdir(tmp))}", root)
        fresh.update()
        assert rows(index) == rows(fresh)
