"""The terms of a search as typed, and their safe forms in SQL: FTS5 ``MATCH`` text and
``LIKE`` patterns.

User text never reaches FTS syntax: every term goes into the query as one double-quoted string
(quotes doubled), so ``AND``, ``NEAR(``, ``-``, ``*`` and stray quotes are text to find. A
term's trailing ``*`` asks for a prefix. In a ``LIKE`` pattern, ``%``, ``_`` and the escape
character are escaped the same way: they are text to find, never wildcards.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_TERMS = 12
_WORD = re.compile(r"[^\W_]+")
# Han, Hiragana, Katakana, Hangul, Thai: scripts the word index does not split into words.
_UNSPACED = re.compile(
    "[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002fa1f]"
)


@dataclass(frozen=True, slots=True)
class Term:
    """One thing to find: a word, a phrase (typed in balanced double quotes), or text."""

    text: str
    prefix: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        """The unicode61 tokens of the term (letters and digits runs)."""
        return tuple(_WORD.findall(self.text))

    @property
    def unspaced(self) -> bool:
        return _UNSPACED.search(self.text) is not None


def _split(text: str) -> list[tuple[str, bool]]:
    """(piece, quoted) pairs: balanced double quotes group a phrase; an odd one is text."""
    if text.count('"') % 2 or '"' not in text:
        return [(piece, False) for piece in text.split()]
    pieces: list[tuple[str, bool]] = []
    for index, part in enumerate(text.split('"')):
        if index % 2:
            if part.strip():
                pieces.append((" ".join(part.split()), True))
        else:
            pieces.extend((piece, False) for piece in part.split())
    return pieces


def parse_terms(q: str) -> tuple[Term, ...]:
    """The terms of a query as typed; a trailing ``*`` on an unquoted term means a prefix."""
    terms: list[Term] = []
    for piece, quoted in _split(q):
        prefix = not quoted and len(piece) > 1 and piece.endswith("*") and piece.strip("*") != ""
        term = Term(piece.rstrip("*") if prefix else piece, prefix)
        if term not in terms:
            terms.append(term)
    return tuple(terms[:MAX_TERMS])


def fts_string(text: str) -> str:
    """``text`` as one FTS5 string: whatever it holds, it is never query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _phrase(term: Term, trigram: bool) -> str:
    # A substring already matches wherever the prefix would: no ``*`` for the trigram index.
    return fts_string(term.text) + ("*" if term.prefix and not trigram else "")


def match_expression(terms: Sequence[Term], *, column: bool, trigram: bool) -> str:
    """The ``MATCH`` text finding every term, limited to the ``content`` column where the
    table has one (beside it, the external layout indexes tool names and tool calls)."""
    expression = " ".join(_phrase(t, trigram) for t in terms)
    return f"content : ({expression})" if column else expression


def like_pattern(text: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern finding ``text`` anywhere, wildcards in it escaped."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
