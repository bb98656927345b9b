"""The two reference designs webui is measured against, each a tiny Starlette app.

- ``ceiling``: the physical limit of this stack — the very bytes webui served, held in memory
  and returned as they are (or a bare ``304`` when ``If-None-Match`` equals the tag). Nothing
  can answer the same request on uvicorn + Starlette faster.
- ``naive``: the straightforward design of the reference web UI — the list kept as a dict;
  per request a fresh SQLite connection computes a fingerprint of the database, then the dict
  is ``copy.deepcopy``-ed and ``json.dumps``-ed. Its dict is the page webui served (500 rows),
  which is generous: the reference copies its whole list.

Run as ``python -m webui.bench.apps {ceiling,naive} --port P --body FILE --etag TAG --db DB``;
both are served like webui: uvicorn, one worker, no access log.
"""

from __future__ import annotations

import argparse
import copy
import json
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from webui.server import KEEP_ALIVE_SECONDS


async def _health(request: Request) -> Response:
    return PlainTextResponse("ok")


def ceiling_app(body: bytes, etag: str) -> Starlette:
    headers = {"ETag": etag, "Cache-Control": "no-cache"}

    async def sessions(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type="application/json", headers=headers)

    return Starlette(routes=[Route("/api/sessions", sessions), Route("/health", _health)])


def fingerprint(db: Path) -> tuple[object, ...]:
    """What the naive design checks per request, on a connection of its own."""
    conn = sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, timeout=5.0)
    try:
        messages = conn.execute("SELECT COUNT(*), MAX(rowid) FROM messages").fetchone()
        sessions = conn.execute("SELECT COUNT(*), MAX(rowid) FROM sessions").fetchone()
    finally:
        conn.close()
    return (*messages, *sessions)


def naive_app(page: dict[str, Any], db: Path) -> Starlette:
    state: dict[str, Any] = {"fingerprint": fingerprint(db), "page": page}

    # A sync endpoint: Starlette runs it in its thread pool, as a straightforward app would.
    def sessions(request: Request) -> Response:
        current = fingerprint(db)
        if current != state["fingerprint"]:
            # The reference rebuilds here; the bench never writes while the naive app is measured.
            state["fingerprint"] = current
        data = copy.deepcopy(state["page"])
        return Response(json.dumps(data), media_type="application/json")

    return Starlette(routes=[Route("/api/sessions", sessions), Route("/health", _health)])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webui.bench.apps")
    parser.add_argument("kind", choices=["ceiling", "naive"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    parser.add_argument("--etag", required=True)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args(argv)
    body = args.body.read_bytes()
    app = (
        ceiling_app(body, args.etag)
        if args.kind == "ceiling"
        else naive_app(json.loads(body), args.db)
    )
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
