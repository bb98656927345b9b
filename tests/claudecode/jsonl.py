"""Claude Code transcript entries as Claude Code writes them, and a folder to write them in."""

from __future__ import annotations

import itertools
import json
import uuid as uuidlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

T0 = 1_763_800_000.0  # 2025-11-22T08:26:40Z


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def line(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False).encode() + b"\n"


@dataclass
class Session:
    """Builds one session's entries: uuids chained by parentUuid, timestamps one step apart."""

    session_id: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    cwd: str = "/home/ada/code/webui"
    branch: str = "main"
    at: float = T0
    step: float = 5.0
    parent: str | None = None
    uuids: list[str] = field(default_factory=list)  # for tests that name entries later
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def _base(self, kind: str, **extra: Any) -> dict[str, Any]:
        self.at += self.step
        uid = extra.pop("uuid", None) or str(uuidlib.uuid4())
        entry = {
            "parentUuid": self.parent,
            "isSidechain": False,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.session_id,
            "version": "2.0.55",
            "gitBranch": self.branch,
            "type": kind,
            "uuid": uid,
            "timestamp": iso(self.at),
            **extra,
        }
        self.parent = uid
        return entry

    def user(self, content: Any, **extra: Any) -> dict[str, Any]:
        return self._base("user", message={"role": "user", "content": content}, **extra)

    def assistant(
        self,
        blocks: list[dict[str, Any]] | str,
        *,
        model: str = "claude-sonnet-4-5-20250929",
        msg_id: str | None = None,
        tokens: tuple[int, int] = (10, 20),
        **extra: Any,
    ) -> dict[str, Any]:
        content = [{"type": "text", "text": blocks}] if isinstance(blocks, str) else blocks
        message = {
            "model": model,
            "id": msg_id or f"msg_{next(self._ids)}_{self.session_id[:8]}",
            "type": "message",
            "role": "assistant",
            "content": content,
            "stop_reason": None,
            "usage": {
                "input_tokens": tokens[0],
                "cache_creation_input_tokens": 100,
                "cache_read_input_tokens": 1000,
                "output_tokens": tokens[1],
            },
        }
        return self._base("assistant", message=message, requestId="req_1", **extra)

    def tool_use(self, name: str, **args: Any) -> dict[str, Any]:
        return {"type": "tool_use", "id": f"toolu_{next(self._ids)}", "name": name, "input": args}

    def tool_result(self, text: str, *, error: bool = False) -> dict[str, Any]:
        block: dict[str, Any] = {"type": "tool_result", "tool_use_id": "toolu_x", "content": text}
        if error:
            block["is_error"] = True
        return self.user([block], toolUseResult={"stdout": text})

    def system(self, subtype: str = "compact_boundary") -> dict[str, Any]:
        return self._base("system", subtype=subtype, content="Conversation compacted", level="info")


def summary(text: str, leaf: str) -> dict[str, Any]:
    return {"type": "summary", "summary": text, "leafUuid": leaf}


def project_dir(root: Path, cwd: str = "/home/ada/code/webui") -> Path:
    folder = root / "projects" / "".join(c if c.isalnum() else "-" for c in cwd)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write(path: Path, *entries: dict[str, Any] | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(e if isinstance(e, bytes) else line(e) for e in entries))
    return path


def append(path: Path, *entries: dict[str, Any] | bytes) -> None:
    with path.open("ab") as fh:
        fh.write(b"".join(e if isinstance(e, bytes) else line(e) for e in entries))


def conversation(root: Path, session: Session, turns: int = 2) -> Path:
    """A plain session file: ``turns`` prompts, each answered with text."""
    entries: list[dict[str, Any]] = []
    for n in range(turns):
        entries.append(session.user(f"question {n} about the cache"))
        entries.append(session.assistant(f"answer {n}"))
    return write(project_dir(root, session.cwd) / f"{session.session_id}.jsonl", *entries)
