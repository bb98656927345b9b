"""Complete lines of a growing file, read in chunks: never the torn tail, never a huge line whole.

Claude Code appends every entry with its newline in one write, so the bytes after the last
newline are an entry still being written: they are left for the next read, which starts at the
offset of the last complete line. A line above ``max_line`` bytes is counted but never held in
memory (a pasted image or a giant tool result): it is yielded as ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

CHUNK_BYTES = 1 << 20


def complete_lines(
    handle: BinaryIO, start: int, end: int, *, max_line: int, chunk: int = CHUNK_BYTES
) -> Iterator[tuple[bytes | None, int]]:
    """``(line without its newline, or None when over max_line; offset after its newline)``
    for every newline-terminated line in ``[start, end)``."""
    handle.seek(start)
    pos = start  # the offset just after the last complete line yielded
    pieces: list[bytes] = []
    held = 0  # bytes of the current, unfinished line so far
    skipping = False
    remaining = end - start
    while remaining > 0:
        data = handle.read(min(chunk, remaining))
        if not data:
            return  # the file shrank under us: the next read sees the new size
        remaining -= len(data)
        i = 0
        while True:
            j = data.find(b"\n", i)
            if j < 0:
                tail_len = len(data) - i
                held += tail_len
                if not skipping:
                    if held > max_line:
                        skipping, pieces = True, []
                    elif tail_len:
                        pieces.append(data[i:])
                break
            length = held + (j - i)
            pos += length + 1
            if skipping or length > max_line:
                yield None, pos
            elif pieces:
                pieces.append(data[i:j])
                yield b"".join(pieces), pos
            else:
                yield data[i:j], pos
            pieces, held, skipping = [], 0, False
            i = j + 1
