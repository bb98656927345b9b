"""User text as search terms, and the FTS5 and LIKE text made of them: never syntax."""

from __future__ import annotations

from webui.agentdb.fts_terms import Term, fts_string, parse_terms


def test_terms_are_words_phrases_and_prefixes() -> None:
    assert parse_terms("postgres  pool") == (Term("postgres"), Term("pool"))
    assert parse_terms('"connection pool" leak') == (Term("connection pool"), Term("leak"))
    assert parse_terms("postg* *") == (Term("postg", prefix=True), Term("*"))
    assert parse_terms('say "hi') == (Term("say"), Term('"hi'))
    assert parse_terms("a a A") == (Term("a"), Term("A"))
    assert len(parse_terms(" ".join(f"w{i}" for i in range(40)))) == 12
    assert Term("数据库").unspaced and not Term("pool").unspaced
    assert Term("e-mail's").words == ("e", "mail", "s")


def test_fts_strings_are_never_syntax() -> None:
    assert fts_string('say "hi" NEAR(') == '"say ""hi"" NEAR("'
