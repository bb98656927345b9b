"""One transcript parsed into what the list needs of its session, line by line, resumable.

Pure: ``TranscriptState`` takes complete lines in file order (``add``) and keeps the offset
after the last one, so a grown file is read on from there and the work of an append is the
appended bytes. ``feed`` takes raw bytes starting at that offset and consumes the complete
lines in them. The state holds no line it has read; it keeps only what the session record is
made of, plus the entry uuids that a summary line elsewhere may name (``leaves``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from webui.claudecode.entries import (
    PREVIEW_CHARS,
    SYNTHETIC_MODEL,
    Corrupt,
    UserKind,
    classify_user,
    count_of,
    decode,
    epoch,
    is_bookkeeping,
    message_of,
    one_line,
    text_of,
)
from webui.records import SessionRecord

SOURCE = "claude-code"
CHECK_BYTES = 64  # bytes before the offset that an append must leave as they were
MAX_LINE_BYTES = 64 << 20
_LEAF_COST = 72  # bytes per remembered uuid hash: an int and its set slot


def leaf_key(uuid: str) -> int:
    """The remembered form of an entry uuid: summaries name leaves by uuid, and a hash is a
    third of the string's memory (per process; never stored)."""
    return hash(uuid)


@dataclass(slots=True)
class TranscriptState:
    session_id: str
    offset: int = 0  # the end of the last complete line consumed
    lines: int = 0  # complete lines consumed, blank ones too: a message's id is its line
    check: bytes = b""  # the last CHECK_BYTES bytes before ``offset``
    head: bytes = b""  # the file's first CHECK_BYTES bytes (of those before ``offset``)
    corrupt: int = 0
    first_corrupt: int | None = None
    oversized: int = 0
    started_at: float | None = None
    last_activity_at: float | None = None
    last_message_at: float | None = None
    model: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    preview: str | None = None
    command_preview: str | None = None
    custom_title: str | None = None
    user_turns: int = 0
    assistant_turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    # The run of assistant entries in progress: one API message split over several lines.
    reply_id: str | None = None
    reply_usage: tuple[int, int] = (0, 0)
    summaries: dict[int, tuple[int, str]] = field(default_factory=dict)  # leaf → (line, text)
    leaves: set[int] = field(default_factory=set)

    # -- reading -----------------------------------------------------------------------

    def feed(self, data: bytes) -> int:
        """Consume every complete line of ``data`` (bytes from ``offset`` on); the count used."""
        end = data.rfind(b"\n") + 1
        start = 0
        while start < end:
            stop = data.index(b"\n", start)
            line = data[start:stop]
            self.add(line if len(line) <= MAX_LINE_BYTES else None, self.offset + stop + 1)
            start = stop + 1
        if end:
            self.check = (self.check + data[max(0, end - CHECK_BYTES) : end])[-CHECK_BYTES:]
            if len(self.head) < CHECK_BYTES:
                self.head = (self.head + data[:end])[:CHECK_BYTES]
        return end

    def add(self, raw: bytes | None, end: int) -> None:
        """One complete line (None: too long to hold) ending at offset ``end``; the caller
        keeps ``check`` (``feed`` does)."""
        self.lines += 1
        self.offset = end
        if raw is None:
            self.oversized += 1
            return
        raw = raw.strip()
        if not raw:
            return
        try:
            entry = decode(raw)
        except Corrupt:
            self.corrupt += 1
            if self.first_corrupt is None:
                self.first_corrupt = self.lines
            return
        self._apply(entry)

    # -- one entry ---------------------------------------------------------------------

    def _apply(self, entry: dict[str, Any]) -> None:
        kind = entry.get("type")
        if kind == "summary":
            text, leaf = text_of(entry.get("summary")), text_of(entry.get("leafUuid"))
            if text is not None and leaf is not None and text.strip():
                self.summaries[leaf_key(leaf)] = (self.lines, one_line(text, PREVIEW_CHARS))
            return
        if kind == "custom-title":
            owner = entry.get("sessionId")
            title = text_of(entry.get("customTitle"))
            if title is not None and title.strip() and owner in (None, self.session_id):
                self.custom_title = one_line(title, PREVIEW_CHARS)
            return
        if entry.get("isSidechain") is True:
            return  # subagent work: neither listed nor counted
        when = epoch(entry.get("timestamp"))
        if when is not None:
            if self.started_at is None or when < self.started_at:
                self.started_at = when
            if self.last_activity_at is None or when > self.last_activity_at:
                self.last_activity_at = when
        cwd, branch = text_of(entry.get("cwd")), text_of(entry.get("gitBranch"))
        if cwd is not None:
            self.cwd = cwd
        if branch is not None:
            self.git_branch = branch
        if kind == "user":
            self._user(entry, when)
        elif kind == "assistant":
            self._assistant(entry, when)

    def _remember(self, entry: dict[str, Any]) -> None:
        uuid = entry.get("uuid")
        if isinstance(uuid, str):
            self.leaves.add(leaf_key(uuid))

    def _message_at(self, when: float | None) -> None:
        if when is not None and (self.last_message_at is None or when > self.last_message_at):
            self.last_message_at = when

    def _user(self, entry: dict[str, Any], when: float | None) -> None:
        # A tool result between two lines of one reply does not end the reply's run.
        self._remember(entry)
        if is_bookkeeping(entry):
            return
        kind, text = classify_user(message_of(entry).get("content"))
        if kind is UserKind.PROMPT:
            if self.preview is None:
                self.preview = one_line(text, PREVIEW_CHARS)
        elif kind is UserKind.COMMAND:
            if self.command_preview is None:
                self.command_preview = one_line(text, PREVIEW_CHARS)
        else:
            return
        self.user_turns += 1
        self._message_at(when)

    def _assistant(self, entry: dict[str, Any], when: float | None) -> None:
        self._remember(entry)
        message = message_of(entry)
        model = text_of(message.get("model"))
        if model is not None and model != SYNTHETIC_MODEL:
            self.model = model
        usage = message.get("usage")
        used = (
            (count_of(usage.get("input_tokens")), count_of(usage.get("output_tokens")))
            if isinstance(usage, dict)
            else (0, 0)
        )
        reply_id = text_of(message.get("id"))
        if reply_id is not None and reply_id == self.reply_id:
            # The same API message again, with its usage so far: replace, never add.
            self.input_tokens -= self.reply_usage[0]
            self.output_tokens -= self.reply_usage[1]
        else:
            self.assistant_turns += 1
        self.input_tokens += used[0]
        self.output_tokens += used[1]
        self.reply_id, self.reply_usage = reply_id, used
        self._message_at(when)

    # -- what it amounts to ------------------------------------------------------------

    @property
    def message_count(self) -> int:
        return self.user_turns + self.assistant_turns

    def cost(self) -> int:
        """Bytes this state holds, roughly: what the cache's budget counts."""
        texts = sum(len(t) for _, t in self.summaries.values())
        return 512 + _LEAF_COST * len(self.leaves) + 120 * len(self.summaries) + texts

    def problem(self) -> str | None:
        parts = []
        if self.corrupt:
            parts.append(
                f"{self.corrupt} corrupt line(s) skipped, the first at line {self.first_corrupt}"
            )
        if self.oversized:
            parts.append(f"{self.oversized} line(s) over {MAX_LINE_BYTES >> 20} MiB skipped")
        return "; ".join(parts) or None

    def record(self, title: str | None) -> SessionRecord:
        return SessionRecord(
            id=self.session_id,
            source=SOURCE,
            title=title,
            model=self.model,
            model_config=None,
            parent_session_id=None,
            started_at=self.started_at,
            ended_at=None,
            end_reason=None,
            message_count=self.message_count,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            estimated_cost_usd=None,
            archived=False,
            pinned=False,
            hidden=False,
            session_key=None,
            chat_id=None,
            thread_id=None,
            last_activity_at=self.last_activity_at,
            last_message_at=self.last_message_at,
            preview=self.preview or self.command_preview,
            cwd=self.cwd,
            git_branch=self.git_branch,
        )
