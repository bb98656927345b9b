"""The per-file cache: appends cost their bytes, anything else is a fresh parse, one at a time."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from claudecode.jsonl import T0, Session, append, line, write
from webui.claudecode.filecache import FileCache, parse_file
from webui.claudecode.transcript import TranscriptState
from webui.files import FileStat, file_stat


def stat(path: Path) -> FileStat:
    found = file_stat(path)
    assert found is not None
    return found


@pytest.fixture
def transcript(tmp_path: Path) -> tuple[Path, Session]:
    s = Session()
    path = write(tmp_path / f"{s.session_id}.jsonl", s.user("one"), s.assistant("two"))
    return path, s


def get(cache: FileCache, path: Path, s: Session) -> TranscriptState:
    return cache.get(str(path), s.session_id, stat(path))


def same(a: TranscriptState, b: TranscriptState) -> bool:
    return a.record(None) == b.record(None) and (a.lines, a.offset, a.leaves) == (
        b.lines,
        b.offset,
        b.leaves,
    )


def test_an_unchanged_file_is_a_hit(transcript: tuple[Path, Session]) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    first = get(cache, path, s)
    assert get(cache, path, s) is first
    assert (cache.counters.full_parses, cache.counters.hits) == (1, 1)


def test_an_append_parses_only_the_appended_bytes(transcript: tuple[Path, Session]) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    get(cache, path, s)
    size = path.stat().st_size
    extra = line(s.user("three"))
    append(path, extra)
    state = get(cache, path, s)
    assert cache.counters.append_parses == 1 and cache.counters.full_parses == 1
    assert cache.counters.bytes_parsed == size + len(extra)
    assert state.message_count == 3 and same(state, parse_file(path, s.session_id))


def test_a_torn_line_is_completed_by_a_later_append(transcript: tuple[Path, Session]) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    whole = line(s.user("three"))
    append(path, whole[:20])
    assert get(cache, path, s).message_count == 2
    append(path, whole[20:])
    state = get(cache, path, s)
    assert state.message_count == 3 and state.corrupt == 0
    assert cache.counters.append_parses == 1
    assert same(state, parse_file(path, s.session_id))


def test_a_truncated_file_is_parsed_again(transcript: tuple[Path, Session]) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    get(cache, path, s)
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"\n") + 1])  # the same inode, shorter
    state = get(cache, path, s)
    assert state.message_count == 1 and cache.counters.full_parses == 2


def test_a_replaced_file_is_parsed_again(transcript: tuple[Path, Session]) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    get(cache, path, s)
    other = Session(session_id=s.session_id)
    replacement = write(path.with_suffix(".tmp"), other.user("a"), other.user("b"), other.user("c"))
    os.replace(replacement, path)  # a new inode, and longer: never read on from the old offset
    state = get(cache, path, s)
    assert cache.counters.full_parses == 2 and cache.counters.append_parses == 0
    assert same(state, parse_file(path, s.session_id))


def test_a_file_rewritten_in_place_and_grown_is_parsed_again(
    transcript: tuple[Path, Session],
) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    get(cache, path, s)
    other = Session(session_id=s.session_id, at=T0 + 999)
    with path.open("r+b") as fh:  # the same inode, other entries over the old ones, and more
        for entry in (other.user("a"), other.assistant("b"), other.user("c")):
            fh.write(line(entry))
    state = get(cache, path, s)
    assert cache.counters.full_parses == 2
    assert same(state, parse_file(path, s.session_id))


def test_a_touched_file_of_the_same_size_is_parsed_again(
    transcript: tuple[Path, Session],
) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    get(cache, path, s)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    get(cache, path, s)
    assert cache.counters.full_parses == 2


def test_an_unreadable_file_raises_and_is_not_cached(tmp_path: Path) -> None:
    cache = FileCache(1 << 20)
    with pytest.raises(FileNotFoundError):
        cache.get(str(tmp_path / "gone.jsonl"), "gone", FileStat(1, 1, 1, True))
    assert len(cache) == 0


def test_the_budget_evicts_the_least_recently_used(tmp_path: Path) -> None:
    sessions = [Session() for _ in range(4)]
    paths = [
        write(tmp_path / f"{s.session_id}.jsonl", s.user("x"), s.assistant("y")) for s in sessions
    ]
    one = parse_file(paths[0], sessions[0].session_id).cost()
    cache = FileCache(one * 2 + one // 2)  # room for two
    for path, s in zip(paths[:3], sessions[:3], strict=True):
        get(cache, path, s)
    assert len(cache) == 2 and cache.counters.evictions == 1
    assert cache.held_bytes <= cache.budget
    get(cache, paths[1], sessions[1])  # a hit: now the most recently used
    get(cache, paths[3], sessions[3])  # evicts paths[2], not paths[1]
    assert cache.counters.hits == 1
    get(cache, paths[1], sessions[1])
    assert cache.counters.hits == 2
    get(cache, paths[0], sessions[0])  # evicted first: parsed again
    assert cache.counters.full_parses == 5


def test_a_state_over_the_whole_budget_is_returned_but_not_kept(
    transcript: tuple[Path, Session],
) -> None:
    path, s = transcript
    cache = FileCache(10)
    assert get(cache, path, s).message_count == 2
    assert len(cache) == 0 and cache.held_bytes == 0


def test_concurrent_callers_for_one_file_share_one_parse(tmp_path: Path) -> None:
    s = Session()
    entries = [s.user(f"question {n} " + "x" * 2000) for n in range(2000)]
    path = write(tmp_path / f"{s.session_id}.jsonl", *entries)
    cache = FileCache(1 << 26)
    callers = 8
    start = threading.Barrier(callers)
    results: list[object] = []

    def call() -> None:
        start.wait()
        results.append(get(cache, path, s))

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.counters.full_parses == 1 and cache.counters.append_parses == 0
    assert cache.counters.hits + cache.counters.shared == callers - 1
    assert all(r is results[0] for r in results)
    assert cache.counters.bytes_parsed == path.stat().st_size


def test_a_state_handed_out_is_never_changed_by_a_later_append(
    transcript: tuple[Path, Session],
) -> None:
    path, s = transcript
    cache = FileCache(1 << 20)
    before = get(cache, path, s)
    count = before.message_count
    append(path, s.user("three"))
    after = get(cache, path, s)
    assert after is not before and before.message_count == count == after.message_count - 1


def test_a_huge_line_is_skipped_counted_and_never_stops_the_file(tmp_path: Path) -> None:
    s = Session()
    path = write(tmp_path / "t.jsonl", s.user("before"), s.user("x" * 10_000), s.user("after"))
    cache = FileCache(1 << 20, max_line=2_000)
    state = cache.get(str(path), s.session_id, stat(path))
    assert (state.lines, state.oversized, state.user_turns) == (3, 1, 2)
    assert "line(s) over" in (state.problem() or "")
    append(path, s.user("y" * 10_000), s.user("last"))
    state = cache.get(str(path), s.session_id, stat(path))
    assert (state.lines, state.oversized, state.user_turns) == (5, 2, 3)
    assert cache.counters.append_parses == 1
