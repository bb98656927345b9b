"""``TitleMemo``: titles read from the rows' JSON as it has them, folded, all needles held."""

from __future__ import annotations

import orjson

from webui.sessions.built import BuiltList
from webui.sessions.title_memo import TitleMemo


def test_title_memo_reads_titles_as_json_has_them() -> None:
    rows = [
        orjson.dumps({"session_id": "a", "title": 'Say "hi" \\ there', "profile": "p"}),
        orjson.dumps({"session_id": "b", "title": "Ünïcode Café", "profile": "p"}),
        orjson.dumps({"title": "odd order", "session_id": "c"}),
    ]
    built = BuiltList(
        row_bytes=rows, search=[], position={}, empty={}, counts={}, built_at=0.0, pinned_count=0
    )
    memo = TitleMemo()
    assert memo.matching(built, ['say "hi" \\']) == [0]
    assert memo.matching(built, ["cafe", "unicode"]) == [1]
    assert memo.matching(built, ["o"]) == [1, 2]
    assert memo.matching(built, ["order", "odd"]) == [2]
    assert memo.matching(built, ["\x00"]) == [] and memo.matching(built, ["r\x00o"]) == []
