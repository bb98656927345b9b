"""The agent's full-text indexes as the agent creates them: the FTS5 tables over ``messages``
and the triggers that keep them in step, in each layout found in the wild.

``messages_fts`` indexes unicode61 words and, unless the agent opted out (or its SQLite is older
than 3.34), ``messages_fts_trigram`` indexes substrings. The legacy inline layout (v11 to v22,
and upgraded databases the agent never converted) stores its own copy of the text; the
external-content one (v23 on) reads it back through views, indexes a prefix of tool output and
keeps cron and subagent sessions out of the trigram index. The triggers make every write cost
what it costs the agent; ``fts_layout`` tells the layouts apart when reading.
"""

from __future__ import annotations

# How a database may lay its indexes out; "none" is one without full-text tables at all.
FTS_LAYOUTS = ("legacy", "external", "none")
WORDS_TABLE = "messages_fts"
TRIGRAM_TABLE = "messages_fts_trigram"
# Tool results are machine output, often megabytes: the external layout indexes a prefix only.
TOOL_PREFIX_CHARS = 8192
# Sessions whose messages the external layout keeps out of the trigram index.
TRIGRAM_EXCLUDED_SOURCES = ("cron", "subagent")

# Legacy layout (v11 to v22, and upgraded databases never converted): each table stores its
# own copy of the text, content, tool name and tool call JSON run together; tool rows included.
_LEGACY_TEXT = (
    "COALESCE({0}.content, '') || ' ' || COALESCE({0}.tool_name, '') || ' ' || "
    "COALESCE({0}.tool_calls, '')"
)


def _legacy_fts(table: str, tokenize: str) -> tuple[str, ...]:
    options = f", tokenize='{tokenize}'" if tokenize else ""
    new_text, name = _LEGACY_TEXT.format("new"), table
    return (
        f"CREATE VIRTUAL TABLE {name} USING fts5(content{options})",
        f"""CREATE TRIGGER {name}_insert AFTER INSERT ON messages BEGIN
            INSERT INTO {name}(rowid, content) VALUES (new.id, {new_text});
        END""",
        f"""CREATE TRIGGER {name}_delete AFTER DELETE ON messages BEGIN
            DELETE FROM {name} WHERE rowid = old.id;
        END""",
        f"""CREATE TRIGGER {name}_update AFTER UPDATE OF content, tool_name, tool_calls
        ON messages BEGIN
            DELETE FROM {name} WHERE rowid = old.id;
            INSERT INTO {name}(rowid, content) VALUES (new.id, {new_text});
        END""",
    )


# External-content layout (v23 on, fresh databases): the tables hold only the index and read
# the text back through a view. While the agent backfills an index in chunks, rows with ids in
# (fts_rebuild_progress, fts_rebuild_high_water] are not in it yet; every trigger honours that
# window, so writes during a backfill never touch rows the index does not hold.
def _gate(row: str) -> str:
    meta = "(SELECT CAST(value AS INTEGER) FROM state_meta WHERE key = '{}')"
    return (
        f"({row}.id > COALESCE({meta.format('fts_rebuild_high_water')}, -1) "
        f"OR {row}.id <= COALESCE({meta.format('fts_rebuild_progress')}, -1))"
    )


def _indexed_content(row: str) -> str:
    prefix = f"substr(COALESCE({row}content, ''), 1, {TOOL_PREFIX_CHARS})"
    return f"CASE WHEN {row}role = 'tool' THEN {prefix} ELSE {row}content END"


def _trigram_session(alias: str) -> str:
    excluded = ", ".join(f"'{s}'" for s in TRIGRAM_EXCLUDED_SOURCES)
    config = f"{alias}.model_config"
    marker = f"json_extract(CASE WHEN json_valid({config}) THEN {config} END, '$._delegate_from')"
    return f"{alias}.source NOT IN ({excluded}) AND {marker} IS NULL"


def _trigram_row(row: str) -> str:
    session = _trigram_session("s")
    return (
        f"{row}.role <> 'tool' AND EXISTS "
        f"(SELECT 1 FROM sessions s WHERE s.id = {row}.session_id AND {session})"
    )


def _external_fts() -> tuple[str, ...]:
    base, old, new = WORDS_TABLE, _indexed_content("old."), _indexed_content("new.")
    return (
        f"""CREATE VIEW messages_fts_src AS
            SELECT id, {_indexed_content("")} AS content, tool_name, tool_calls FROM messages""",
        f"""CREATE VIRTUAL TABLE {base} USING fts5(content, tool_name, tool_calls,
            content='messages_fts_src', content_rowid='id')""",
        f"""CREATE TRIGGER {base}_insert AFTER INSERT ON messages WHEN {_gate("new")} BEGIN
            INSERT INTO {base}(rowid, content, tool_name, tool_calls)
            VALUES (new.id, {new}, new.tool_name, new.tool_calls);
        END""",
        f"""CREATE TRIGGER {base}_delete AFTER DELETE ON messages WHEN {_gate("old")} BEGIN
            INSERT INTO {base}({base}, rowid, content, tool_name, tool_calls)
            VALUES ('delete', old.id, {old}, old.tool_name, old.tool_calls);
        END""",
        f"""CREATE TRIGGER {base}_update AFTER UPDATE OF content, tool_name, tool_calls, role
        ON messages WHEN (old.content IS NOT new.content OR old.tool_name IS NOT new.tool_name
            OR old.tool_calls IS NOT new.tool_calls OR old.role IS NOT new.role)
            AND {_gate("old")} BEGIN
            INSERT INTO {base}({base}, rowid, content, tool_name, tool_calls)
            VALUES ('delete', old.id, {old}, old.tool_name, old.tool_calls);
            INSERT INTO {base}(rowid, content, tool_name, tool_calls)
            VALUES (new.id, {new}, new.tool_name, new.tool_calls);
        END""",
    )


def _external_trigram() -> tuple[str, ...]:
    name = TRIGRAM_TABLE
    return (
        f"""CREATE VIEW messages_fts_trigram_src AS
            SELECT m.id, m.role, m.content, m.tool_name FROM messages m
            JOIN sessions s ON s.id = m.session_id
            WHERE m.role <> 'tool' AND {_trigram_session("s")}""",
        f"""CREATE VIRTUAL TABLE {name} USING fts5(content, tool_name,
            content='messages_fts_trigram_src', content_rowid='id', tokenize='trigram')""",
        f"""CREATE TRIGGER {name}_insert AFTER INSERT ON messages
        WHEN {_trigram_row("new")} AND {_gate("new")} BEGIN
            INSERT INTO {name}(rowid, content, tool_name)
            VALUES (new.id, new.content, new.tool_name);
        END""",
        f"""CREATE TRIGGER {name}_delete AFTER DELETE ON messages
        WHEN {_trigram_row("old")} AND {_gate("old")} BEGIN
            INSERT INTO {name}({name}, rowid, content, tool_name)
            VALUES ('delete', old.id, old.content, old.tool_name);
        END""",
        f"""CREATE TRIGGER {name}_update AFTER UPDATE OF content, tool_name, role ON messages
        WHEN (old.content IS NOT new.content OR old.tool_name IS NOT new.tool_name
            OR old.role IS NOT new.role) AND {_gate("old")} BEGIN
            INSERT INTO {name}({name}, rowid, content, tool_name)
            SELECT 'delete', old.id, old.content, old.tool_name WHERE {_trigram_row("old")};
            INSERT INTO {name}(rowid, content, tool_name)
            SELECT new.id, new.content, new.tool_name WHERE {_trigram_row("new")};
        END""",
    )


def default_fts_layout(version: int, *, upgraded: bool = False) -> str:
    """The layout the agent leaves: external content from v23 on for a database created
    there; an upgraded one keeps the legacy tables until someone runs the agent's optimize."""
    return "external" if version >= 23 and not upgraded else "legacy"


def fts_statements(layout: str, *, trigram: bool = True) -> tuple[str, ...]:
    """The FTS5 tables and the triggers that keep them in step with ``messages``, as the agent
    creates them: ``messages_fts`` (unicode61 words) and, unless ``trigram`` is off (the
    agent's opt-out, or a SQLite older than 3.34), ``messages_fts_trigram`` for substrings."""
    if layout not in FTS_LAYOUTS:
        raise ValueError(f"fts layout must be one of {FTS_LAYOUTS}, not {layout!r}")
    if layout == "none":
        return ()
    if layout == "legacy":
        words = _legacy_fts(WORDS_TABLE, "")
        return (*words, *_legacy_fts(TRIGRAM_TABLE, "trigram")) if trigram else words
    return (*_external_fts(), *_external_trigram()) if trigram else _external_fts()
