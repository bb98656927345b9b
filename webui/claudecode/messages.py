"""One session's messages for the chat pane, read from its transcript, paged by line.

A message's id is the 1-based number of its line in the file: appends never move it, and a
page after ``after`` only counts newlines up to there, it never decodes them. What is shown:

- the user's prompts, and slash or ``!`` commands as typed (``/review 12``);
- the assistant's text, with each tool call as one compact line (``⚙ Bash: ls -la``) and
  thinking left out; one API reply written over several lines is several messages;
- tool results as ``tool`` messages cut to their first lines (the pane folds them), errors
  marked ``⚠``;
- never: subagent (sidechain) entries, Claude Code's bookkeeping (meta entries, caveats,
  compaction summaries, the output of local commands), summaries, snapshots, system events,
  a corrupt line, a line too long to hold, or the torn line still being written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from webui.claudecode.entries import (
    Corrupt,
    UserKind,
    assistant_text,
    classify_user,
    decode,
    epoch,
    is_bookkeeping,
    message_of,
    results_text,
)
from webui.claudecode.lines import complete_lines
from webui.claudecode.transcript import MAX_LINE_BYTES
from webui.records import MessageRecord


def message_of_entry(line: int, entry: dict[str, Any]) -> MessageRecord | None:
    """The message one entry shows as, or None."""
    if entry.get("isSidechain") is True:
        return None
    kind = entry.get("type")
    when = epoch(entry.get("timestamp"))
    content = message_of(entry).get("content")
    if kind == "assistant":
        text = assistant_text(content)
        return MessageRecord(line, "assistant", text, when) if text else None
    if kind != "user" or is_bookkeeping(entry):
        return None
    user_kind, text = classify_user(content)
    if user_kind is UserKind.PROMPT or user_kind is UserKind.COMMAND:
        return MessageRecord(line, "user", text, when)
    if user_kind is UserKind.RESULT:
        return MessageRecord(line, "tool", results_text(content), when)
    return None


def read_messages(
    path: str | Path, *, after: int, limit: int, max_line: int = MAX_LINE_BYTES
) -> list[MessageRecord]:
    """Up to ``limit`` messages with ids above ``after``, oldest first; OSError if unreadable."""
    found: list[MessageRecord] = []
    with open(path, "rb") as fh:
        end = os.fstat(fh.fileno()).st_size
        for line, (raw, _) in enumerate(complete_lines(fh, 0, end, max_line=max_line), 1):
            if line <= after or raw is None:
                continue
            raw = raw.strip()
            if not raw:
                continue
            try:
                message = message_of_entry(line, decode(raw))
            except Corrupt:
                continue
            if message is not None:
                found.append(message)
                if len(found) >= limit:
                    break
    return found
