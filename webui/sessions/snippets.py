"""Where a search's terms match in text, and the excerpt that shows it: case and diacritics
folded as the word index folds them, match ranges in characters, snippets cut around the first
match.

A message matched through the word index matches as whole tokens; a title, or a message found
by substring, matches as a substring. Ranges are ``[start, end)`` in code points of the text
shown, so the sidebar can mark them with ``Array.from(snippet)``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from webui.agentdb.fts_terms import Term

# An excerpt's length, how much of it leads up to the match, and how far either edge may move
# back to fall between words rather than inside one.
SNIPPET_CHARS = 180
SNIPPET_LEAD = 60
_NUDGE = 20


def fold(text: str, *, mapped: bool = False) -> tuple[str, list[int] | None]:
    """``text`` case-folded with diacritics removed, as the word index compares text; with
    ``mapped``, the index in ``text`` of every folded character (None when it is 1:1)."""
    if text.isascii():
        return text.lower(), None
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for part in unicodedata.normalize("NFD", ch):
            if unicodedata.combining(part):
                continue
            for folded in part.casefold():
                chars.append(folded)
                origin.append(i)
    return "".join(chars), origin if mapped else None


def _patterns(terms: Sequence[Term], words: bool) -> list[re.Pattern[str]]:
    """How each term matches folded text: through the word index, as whole tokens (a prefix
    open at its end; a phrase's words apart by any separators); otherwise as a substring."""
    patterns = []
    for term in terms:
        tokens = [fold(w)[0] for w in term.words]
        if words and tokens and not term.unspaced:
            body = r"[\W_]+".join(re.escape(t) for t in tokens if t)
            tail = "" if term.prefix else r"(?![^\W_])"
            patterns.append(re.compile(r"(?<![^\W_])" + body + tail))
        elif term.text:
            patterns.append(re.compile(re.escape(fold(term.text)[0])))
    return patterns


def _spans(text: str, patterns: Sequence[re.Pattern[str]]) -> list[tuple[int, int]]:
    """Every match in ``text`` as (start, end) character offsets of ``text``, merged."""
    folded, origin = fold(text, mapped=True)
    spans = []
    for pattern in patterns:
        for m in pattern.finditer(folded):
            if m.end() > m.start():
                start, end = m.start(), m.end()
                if origin is not None:
                    start, end = origin[start], origin[end - 1] + 1
                spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _ranges(spans: list[tuple[int, int]]) -> list[list[int]]:
    """Spans as JSON ranges: ``[start, end)`` in characters (code points), as Python and
    ``Array.from(snippet)`` count them."""
    return [[a, b] for a, b in spans]


def title_snippet(title: str, terms: Sequence[Term]) -> tuple[str, list[list[int]]]:
    """The title, with the ranges of every term in it (substrings, as titles are matched)."""
    return title, _ranges(_spans(title, _patterns(terms, words=False)))


def message_snippet(
    text: str, terms: Sequence[Term], *, words: bool
) -> tuple[str, list[list[int]]]:
    """A short one-line excerpt of ``text`` around its first match, with every match's range;
    the head of the text when the match cannot be found again (an index out of step)."""
    patterns = _patterns(terms, words)
    spans = _spans(text, patterns)
    pos = spans[0][0] if spans else 0
    start = max(0, pos - SNIPPET_LEAD)
    if start > 0:
        space = text.find(" ", start, min(pos, start + _NUDGE))
        start = space + 1 if space >= 0 else start
    end = min(len(text), start + SNIPPET_CHARS)
    if end < len(text):
        space = text.rfind(" ", max(pos + 1, end - _NUDGE), end)
        end = space if space > 0 else end
    piece = " ".join(text[start:end].split())
    snippet = ("…" if start > 0 else "") + piece + ("…" if end < len(text) else "")
    return snippet, _ranges(_spans(snippet, patterns))
