"""Complete lines only, in any chunking; a huge line is counted, never held."""

from __future__ import annotations

import io

from hypothesis import given
from hypothesis import strategies as st

from webui.claudecode.lines import complete_lines


def lines(
    data: bytes, start: int = 0, *, max_line: int = 1000, chunk: int = 7
) -> list[tuple[bytes | None, int]]:
    return list(complete_lines(io.BytesIO(data), start, len(data), max_line=max_line, chunk=chunk))


def test_a_torn_tail_is_left_for_the_next_read() -> None:
    assert lines(b'{"a":1}\n{"b":') == [(b'{"a":1}', 8)]
    assert lines(b'{"a":1}\n{"b":2}\n', 8) == [(b'{"b":2}', 16)]


def test_a_line_over_the_limit_is_none_and_its_offset_still_counts() -> None:
    data = b"x" * 50 + b"\nshort\n" + b"y" * 30
    assert lines(data, max_line=10, chunk=8) == [(None, 51), (b"short", 57)]


def test_blank_lines_are_lines() -> None:
    assert lines(b"\n\na\n") == [(b"", 1), (b"", 2), (b"a", 4)]


def test_a_file_shorter_than_asked_ends_quietly() -> None:
    handle = io.BytesIO(b"a\nb")
    assert list(complete_lines(handle, 0, 100, max_line=10)) == [(b"a", 2)]


@given(
    st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=12),
    st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"")),
    st.integers(1, 40),
    st.integers(1, 25),
)
def test_any_chunking_yields_the_same_lines(
    body: list[bytes], tail: bytes, chunk: int, max_line: int
) -> None:
    data = b"".join(line + b"\n" for line in body) + tail
    expected: list[tuple[bytes | None, int]] = []
    end = 0
    for line in body:
        end += len(line) + 1
        expected.append((line if len(line) <= max_line else None, end))
    assert lines(data, max_line=max_line, chunk=chunk) == expected
