"""The agent at work, as a process of its own: one commit a second into ``state.db``.

``python -m webui.bench.agentloop --db PATH --seconds 60 --out FILE`` plays a busy agent the
way it writes (``BEGIN IMMEDIATE``, one message inserted and its session's ``message_count``
bumped per commit; the schema's FTS triggers pay their share). Every tenth commit is instead a
title change or an archive, alternately. Sessions are drawn at random (seeded) from those with
messages, so each commit changes a listed row.

The process loads its session ids, prints ``ready`` and waits for a line on stdin before its
first commit, so the bench can take its "before" figures at the right moment. It times each
commit from ``BEGIN IMMEDIATE`` to the return of ``COMMIT`` (the agent's own commit latency:
in a rollback-journal home a reader's lock shows up here), and writes them as JSON to ``--out``.
A separate process, so that neither its CPU nor its GIL is the server's or the pollers'.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from webui.agentdb.reader import table_columns
from webui.agentdb.schema import (
    insert_message,
    open_writer,
    update_session,
    write_transaction,
)

BUSY_TIMEOUT = 10.0
EVERY = 10  # every EVERY-th commit is a title change or an archive, not a message
MESSAGE, TITLE, ARCHIVE = "message", "title", "archive"


@dataclass
class Churn:
    """One writer connection and what it committed."""

    conn: sqlite3.Connection
    ids: list[str]
    rng: random.Random
    can_archive: bool
    nonce: str
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    kinds: Counter[str] = field(default_factory=Counter)

    def kind(self, n: int) -> str:
        """The kind of the ``n``-th commit (from 1)."""
        if n % EVERY:
            return MESSAGE
        return TITLE if (n // EVERY) % 2 or not self.can_archive else ARCHIVE

    def commit(self) -> str:
        """One commit of the next kind, on a random session; returns the kind."""
        n = next(self.serial)
        kind = self.kind(n)
        session_id = self.rng.choice(self.ids)
        with write_transaction(self.conn):
            if kind == MESSAGE:
                insert_message(
                    self.conn,
                    session_id=session_id,
                    role="user" if n % 2 else "assistant",
                    content=f"churn message {self.nonce} {n}",
                    timestamp=time.time(),
                )
            elif kind == TITLE:
                update_session(self.conn, session_id, title=f"churn {self.nonce} {n}")
            else:
                update_session(self.conn, session_id, archived=1)
        self.kinds[kind] += 1
        return kind


def open_churn(db: Path, *, seed: int = 0, journal_mode: str | None = None) -> Churn:
    conn = open_writer(db, busy_timeout=BUSY_TIMEOUT)
    if journal_mode is not None:
        (mode,) = conn.execute(f"PRAGMA journal_mode = {journal_mode}").fetchone()
        if str(mode).lower() != journal_mode:
            raise sqlite3.OperationalError(f"journal_mode {journal_mode} refused (got {mode})")
    ids = [str(r[0]) for r in conn.execute("SELECT id FROM sessions WHERE message_count > 0")]
    if not ids:
        raise ValueError(f"{db}: no session with messages to write to")
    ids.sort()
    can_archive = "archived" in table_columns(conn, "sessions")
    return Churn(conn, ids, random.Random(seed), can_archive, f"{seed:x}{time.time_ns() % 10**6}")


def run(churn: Churn, seconds: float, rate: float) -> dict[str, object]:
    """Commits at ``rate`` per second for ``seconds``; their latencies, kinds and timing."""
    latencies: list[float] = []
    started = time.perf_counter()
    for n in itertools.count():
        due = started + n / rate
        if due - started >= seconds:
            break
        time.sleep(max(0.0, due - time.perf_counter()))
        sent = time.perf_counter()
        churn.commit()
        latencies.append(time.perf_counter() - sent)
    return {
        "commits": len(latencies),
        "seconds": time.perf_counter() - started,
        "latencies": latencies,
        "kinds": dict(churn.kinds),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webui.bench.agentloop")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--rate", type=float, default=1.0, help="commits per second")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--journal-mode", choices=("wal", "delete"), default=None)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    churn = open_churn(args.db, seed=args.seed, journal_mode=args.journal_mode)
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        figures = run(churn, args.seconds, args.rate)
    finally:
        churn.conn.close()
    args.out.write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
