"""Summaries name sessions by leaf, across files; the index always agrees with the oracle."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from webui.claudecode.titles import TitleIndex, best_summary, oracle_titles

NAMES = ("a", "b", "c", "d")


def test_own_file_first_then_the_newest_holder_then_the_later_line() -> None:
    started = {"a": 10.0, "b": 30.0, "c": 20.0}.get
    candidates = [("b", 1, "from b"), ("c", 9, "from c"), ("a", 2, "own old"), ("a", 5, "own")]
    assert best_summary("a", candidates, started) == "own"
    assert best_summary("a", candidates[:2], started) == "from b"  # b started last
    assert best_summary("a", [("x", 1, "t"), ("x", 2, "u")], lambda _: None) == "u"
    assert best_summary("a", [], started) is None


def test_a_summary_in_another_file_titles_the_session_holding_its_leaf() -> None:
    index = TitleIndex()
    resident = {"old": {1, 2, 3}, "new": {7, 8}}
    assert index.update("old", {}, resident["old"], lambda: resident.items()) == {"old"}
    # The newer session's file names the old one's leaf (and not its own).
    touched = index.update("new", {3: (1, "Old work")}, resident["new"], lambda: resident.items())
    assert touched == {"new", "old"}
    assert index.summary_for("old", lambda _: None) == "Old work"
    assert index.summary_for("new", lambda _: None) is None
    # The file holding the summary goes away: so does the title.
    assert index.remove("new") == {"old"}
    assert index.summary_for("old", lambda _: None) is None


def test_a_leaf_in_no_file_titles_nobody_until_its_session_appears() -> None:
    index = TitleIndex()
    index.update("holder", {5: (1, "Later")}, {1}, lambda: [("holder", {1})])
    assert index.summary_for("late", lambda _: None) is None
    assert "late" in index.update("late", {}, {5, 6}, lambda: [])
    assert index.summary_for("late", lambda _: None) == "Later"


sessions = st.sampled_from(NAMES)
leafsets = st.sets(st.integers(0, 9), max_size=5)
summaries = st.dictionaries(
    st.integers(0, 9), st.tuples(st.integers(1, 5), st.sampled_from(["s1", "s2", "s3"])), max_size=3
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("update"), sessions, summaries, leafsets, st.integers(0, 3)),
        st.tuples(st.just("remove"), sessions),
    ),
    max_size=25,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_the_index_matches_the_oracle_after_any_updates(ops: list[tuple[Any, ...]]) -> None:
    index = TitleIndex()
    held: dict[str, dict[int, tuple[int, str]]] = {}
    leaves: dict[str, set[int]] = {}
    starts: dict[str, float] = {}
    for op in ops:
        if op[0] == "update":
            _, name, found, own, start = op
            held[name], leaves[name], starts[name] = found, set(own), float(start)
            index.update(name, found, leaves[name], lambda: list(leaves.items()))
        else:
            name = op[1]
            held.pop(name, None), leaves.pop(name, None), starts.pop(name, None)
            index.remove(name)
        expected = oracle_titles(held, leaves, starts.get)
        assert {n: index.summary_for(n, starts.get) for n in leaves} == expected
