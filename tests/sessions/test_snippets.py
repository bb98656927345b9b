"""Folding, match ranges and snippets: words as the index finds them, ranges in characters."""

from __future__ import annotations

from webui.agentdb.fts_terms import parse_terms
from webui.sessions.snippets import SNIPPET_CHARS, fold, message_snippet, title_snippet


def test_fold_maps_back_to_the_original() -> None:
    folded, origin = fold("Straße Café", mapped=True)
    assert folded == "strasse cafe"
    assert origin is not None and origin[5] == origin[4] == 4  # ß became ss


def test_title_ranges_cover_every_term() -> None:
    assert title_snippet("Fix the rate limiter (rate)", parse_terms("rate")) == (
        "Fix the rate limiter (rate)",
        [[8, 12], [22, 26]],
    )


def test_message_snippets_are_short_one_line_and_find_the_words() -> None:
    text = ("filler " * 60) + "the Postgres\nconnection   pool is full. " + ("tail " * 60)
    snippet, ranges = message_snippet(text, parse_terms('"connection pool" postgres'), words=True)
    assert snippet.startswith("…") and snippet.endswith("…") and "\n" not in snippet
    assert len(snippet) <= SNIPPET_CHARS + 2
    assert [snippet[a:b] for a, b in ranges] == ["Postgres", "connection pool"]


def test_word_matches_respect_token_edges_and_prefixes() -> None:
    _, ranges = message_snippet("pool pooling spool pool_size", parse_terms("pool"), words=True)
    assert ranges == [[0, 4], [19, 23]]  # "_" parts words, as in the index
    _, ranges = message_snippet("pool pooling spool", parse_terms("pool*"), words=True)
    assert ranges == [[0, 4], [5, 9]]
    _, ranges = message_snippet("pool pooling spool", parse_terms("pool"), words=False)
    assert ranges == [[0, 4], [5, 9], [14, 18]]


def test_diacritics_and_case_fold_as_the_index_does() -> None:
    snippet, ranges = message_snippet("Un CAFÉ crème", parse_terms("cafe creme"), words=True)
    assert [snippet[a:b] for a, b in ranges] == ["CAFÉ", "crème"]


def test_a_match_not_found_again_shows_the_head() -> None:
    assert message_snippet("nothing to see", parse_terms("absent"), words=True) == (
        "nothing to see",
        [],
    )
