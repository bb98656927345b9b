"""The Claude Code source on a big tree: cold list, warm poll, and an append under polling.

Run as ``python -m webui.bench.claude_tree [--transcripts 1000] [--bytes-each 1000000]``
(about 1 GB; the tree is written once into the work folder and reused). Everything runs
in-process against the real files, through the same app a server runs:

- **cold**: the first ``GET /api/sessions`` of a fresh app on the tree (every transcript
  parsed once, with the source's progress line in the log);
- **warm poll**: the folder's stamp alone (one directory read per project, a ``stat`` per
  transcript) — the stat work a poll adds, shared by every poller of a loop tick;
- **append**: one line appended to one transcript, then the poll that shows it: its refresh
  (bytes parsed, time) against re-parsing that whole file and against re-parsing the tree.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.testclient import TestClient

from webui.api.app import create_app
from webui.claudecode.filecache import parse_file
from webui.claudecode.source import ClaudeCodeSource
from webui.config import Settings
from webui.demo.claude import write_claude_tree

READY = ".bench-ready"


@dataclass(frozen=True)
class ClaudeTreeResult:
    transcripts: int
    tree_bytes: int
    cold_seconds: float
    stamp_ms_p50: float
    stamp_ms_p95: float
    append_poll_ms: float  # the poll after the append, request to answer
    append_bytes_parsed: int
    file_reparse_ms: float
    tree_reparse_seconds: float
    shown: bool  # the appended turn was in the answer

    @property
    def append_vs_tree(self) -> float:
        return (self.append_poll_ms / 1000) / self.tree_reparse_seconds

    def targets(self) -> list[tuple[str, str, bool]]:
        return [
            (
                "warm poll stat work ≤ 10 ms (p95)",
                f"{self.stamp_ms_p95:.1f} ms",
                self.stamp_ms_p95 <= 10,
            ),
            (
                "append on the next poll ≤ 1/50 of a tree re-parse",
                f"1/{1 / self.append_vs_tree:,.0f}",
                self.append_vs_tree <= 1 / 50 and self.shown,
            ),
            ("cold list of the tree ≤ 10 s", f"{self.cold_seconds:.1f} s", self.cold_seconds <= 10),
        ]

    def markdown(self) -> str:
        mb = self.tree_bytes / 1e6
        rows = [
            "| Claude Code tree | figure |",
            "|---|---|",
            f"| transcripts, size | {self.transcripts:,}, {mb:,.0f} MB |",
            f"| cold first list | {self.cold_seconds:.2f} s |",
            "| warm poll: folder stamp p50 / p95 | "
            f"{self.stamp_ms_p50:.2f} / {self.stamp_ms_p95:.2f} ms |",
            f"| append: the next poll | {self.append_poll_ms:.1f} ms, "
            f"{self.append_bytes_parsed:,} bytes parsed |",
            f"| re-parse of that file / of the tree | {self.file_reparse_ms:.1f} ms / "
            f"{self.tree_reparse_seconds:.2f} s |",
            "",
            "| Target | Measured | Result |",
            "|---|---|---|",
        ]
        rows += [f"| {t} | {m} | {'PASS' if ok else 'MISS'} |" for t, m, ok in self.targets()]
        return "\n".join(rows)


def tree(work: Path, transcripts: int, bytes_each: int) -> Path:
    root = work / "homes" / f"claude-{transcripts}x{bytes_each}"
    if not (root / READY).is_file():
        if root.exists():
            import shutil

            shutil.rmtree(root)
        write_claude_tree(root, transcripts=transcripts, bytes_each=bytes_each)
        (root / READY).write_text("ready\n")
    return root


def measure(
    work: Path, *, transcripts: int = 1000, bytes_each: int = 1_000_000
) -> ClaudeTreeResult:
    root = tree(work, transcripts, bytes_each)
    files = sorted((root / "projects").glob("*/*.jsonl"))
    files = [f for f in files if not f.name.startswith("agent-")]
    home = work / "run" / "claude-home"
    home.mkdir(parents=True, exist_ok=True)
    settings = Settings(home=home, watch=False, claude_home=str(root))
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8787") as client:
        started = time.perf_counter()
        first = client.get("/api/sessions", params={"limit": 50})
        cold = time.perf_counter() - started
        assert first.status_code == 200, first.text
        source = client.app.state.ctx.claude  # type: ignore[attr-defined]
        assert isinstance(source, ClaudeCodeSource)
        stamps = []
        for _ in range(60):
            t0 = time.perf_counter()
            source.stamp()
            stamps.append((time.perf_counter() - t0) * 1000)
        target = files[len(files) // 2]
        before = source.stats()["bytes_parsed"]
        with target.open("ab") as fh:
            fh.write(_user_line(target))
        t0 = time.perf_counter()
        after = client.get("/api/sessions", params={"limit": 5000})
        poll_ms = (time.perf_counter() - t0) * 1000
        parsed = source.stats()["bytes_parsed"] - before
        shown = any(r["session_id"] == target.stem for r in after.json()["sessions"])
    fresh = ClaudeCodeSource(root, 1 << 30)
    t0 = time.perf_counter()
    fresh.read_all()
    tree_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    parse_file(target, target.stem)
    file_ms = (time.perf_counter() - t0) * 1000
    return ClaudeTreeResult(
        transcripts=len(files),
        tree_bytes=sum(f.stat().st_size for f in files),
        cold_seconds=cold,
        stamp_ms_p50=statistics.median(stamps),
        stamp_ms_p95=sorted(stamps)[int(len(stamps) * 0.95) - 1],
        append_poll_ms=poll_ms,
        append_bytes_parsed=parsed,
        file_reparse_ms=file_ms,
        tree_reparse_seconds=tree_seconds,
        shown=shown,
    )


def _user_line(path: Path) -> bytes:
    import json

    session = path.stem
    entry = {
        "type": "user",
        "sessionId": session,
        "uuid": f"bench-{time.time_ns()}",
        "parentUuid": None,
        "isSidechain": False,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "cwd": "/bench",
        "message": {"role": "user", "content": "one more question from the benchmark"},
    }
    return json.dumps(entry).encode() + b"\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m webui.bench.claude_tree")
    parser.add_argument("--work", type=Path, default=Path("bench-out/work"))
    parser.add_argument("--transcripts", type=int, default=1000)
    parser.add_argument("--bytes-each", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(measure(args.work, transcripts=args.transcripts, bytes_each=args.bytes_each).markdown())


if __name__ == "__main__":
    main()
