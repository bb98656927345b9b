"""The Claude Code tree benchmark, as a tiny smoke run (the real one is 1,000 × 1 MB)."""

from __future__ import annotations

from pathlib import Path

from webui.bench.claude_tree import measure


def test_the_claude_tree_bench_measures_an_append_on_the_next_poll(tmp_path: Path) -> None:
    result = measure(tmp_path, transcripts=12, bytes_each=20_000)
    assert result.transcripts == 12 and result.shown
    # The append is read from the last complete line on: a few hundred bytes, not the file.
    assert 0 < result.append_bytes_parsed < 2_000
    assert "| Target | Measured | Result |" in result.markdown()
