"""The agent's FTS5 tables and triggers as ``fts_schema`` builds them, per layout.

Their behaviour under writes and searches is tested through real databases in ``test_search``
and ``test_schema``.
"""

from __future__ import annotations

import pytest

from webui.agentdb import fts_schema


def test_the_schema_builds_the_layouts_the_agent_leaves() -> None:
    assert fts_schema.default_fts_layout(22) == "legacy"
    assert fts_schema.default_fts_layout(30) == "external"
    assert fts_schema.default_fts_layout(30, upgraded=True) == "legacy"
    assert fts_schema.fts_statements("none") == ()
    assert not any("trigram" in sql for sql in fts_schema.fts_statements("legacy", trigram=False))
    with pytest.raises(ValueError):
        fts_schema.fts_statements("contentless")
