"""Validators and codings against a real ``uvicorn --workers 2``: the same list gives the same
tag from either worker, and a compressed body is the identity body once a real client decodes it.

Which worker answers is the kernel's choice, made when a worker accepts the connection; the
tests open connections until they hold one to each worker, found by asking the operating
system which worker process owns the server end of each.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2
import orjson
import psutil
import pytest
from factory import AgentDB
from servers import Server, run_server

pytestmark = pytest.mark.server

LIST = "/api/sessions?limit=500"
CONNECT_TRIES = 64


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes  # as sent: not decoded


@dataclass
class Worker:
    """A kept-alive connection and the pid of the worker that accepted it."""

    pid: int
    conn: http.client.HTTPConnection

    def get(self, path: str = LIST, **headers: str) -> Answer:
        return request(self.conn, path, headers)


def request(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> Answer:
    conn.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = conn.getresponse()
    body = response.read()
    return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)


def owner(server: Server, client_port: int) -> int | None:
    """The worker process holding the server end of the connection from ``client_port``."""
    for child in psutil.Process(server.process.pid).children(recursive=True):
        try:
            connections = child.net_connections(kind="tcp")
        except psutil.NoSuchProcess:
            continue
        if any(c.raddr and c.raddr.port == client_port for c in connections):
            return child.pid
    return None


@pytest.fixture
def workers(agent_db: Callable[..., AgentDB]) -> Iterator[tuple[AgentDB, list[Worker]]]:
    """The agent's database (40 sessions) and one connection to each of two workers."""
    db: AgentDB = agent_db()
    for n in range(40):
        db.session("cli", title=f"Chat number {n}", messages=2)
    with run_server(db.path.parent, workers=2) as server:
        found: dict[int, Worker] = {}
        for _ in range(CONNECT_TRIES):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            assert request(conn, "/api/health", {}).status == 200  # accepted and answered
            pid = owner(server, conn.sock.getsockname()[1])
            if pid is None or pid in found:
                conn.close()
            else:
                found[pid] = Worker(pid, conn)
            if len(found) == 2:
                break
        assert len(found) == 2, f"{CONNECT_TRIES} connections all landed on one worker"
        try:
            yield db, list(found.values())
        finally:
            for worker in found.values():
                worker.conn.close()


def without_server_time(body: bytes) -> bytes:
    """The page with what only its worker says cut off: the version (a name for deltas, of
    that process) and the moment it built the list."""
    head, _, tail = body.rpartition(b',"version":')
    assert head and b',"server_time":' in tail and tail.endswith(b"}")
    return head


def test_both_workers_give_the_same_tag_and_revalidate_each_others(
    workers: tuple[AgentDB, list[Worker]],
) -> None:
    db, (a, b) = workers
    first, second = a.get(Accept_Encoding="identity"), b.get(Accept_Encoding="identity")
    assert first.status == second.status == 200
    tag = first.headers["etag"]
    assert tag.startswith('W/"') and second.headers["etag"] == tag
    assert without_server_time(first.body) == without_server_time(second.body)
    for worker in (a, b):  # a poll that lands on either worker ends in 304, in any coding
        for accept in ("identity", "gzip", "br", "zstd"):
            again = worker.get(If_None_Match=tag, Accept_Encoding=accept)
            assert again.status == 304 and again.body == b""
            assert again.headers["etag"] == tag and again.headers["vary"] == "accept-encoding"
    db.session("cli", title="A new chat", messages=1)  # the agent commits
    changed = [worker.get(If_None_Match=tag, Accept_Encoding="gzip") for worker in (a, b)]
    assert [answer.status for answer in changed] == [200, 200]
    new_tag = changed[0].headers["etag"]
    assert new_tag != tag and changed[1].headers["etag"] == new_tag
    assert [w.get(If_None_Match=new_tag).status for w in (b, a)] == [304, 304]


@pytest.mark.parametrize("coding", ["gzip", "br", "zstd"])
def test_a_compressed_body_decodes_to_the_identity_body(
    workers: tuple[AgentDB, list[Worker]], coding: str
) -> None:
    _, pair = workers
    for worker in pair:
        plain = worker.get(Accept_Encoding="identity")
        raw = worker.get(Accept_Encoding=f"{coding}, identity;q=0.1")
        assert "content-encoding" not in plain.headers
        assert (
            raw.headers["content-encoding"] == coding
            and raw.headers["vary"] == plain.headers["vary"]
        )
        assert int(raw.headers["content-length"]) == len(raw.body) < len(plain.body) / 4
    # A real client, on whichever worker it lands: httpx2 decodes what it was sent.
    url = f"http://127.0.0.1:{pair[0].conn.port}"
    with httpx2.Client(base_url=url, trust_env=False) as client:
        plain_body = client.get(LIST, headers={"Accept-Encoding": "identity"}).content
        for _ in range(4):
            response = client.get(LIST, headers={"Accept-Encoding": coding})
            assert response.status_code == 200 and response.headers["content-encoding"] == coding
            assert response.num_bytes_downloaded == int(response.headers["content-length"])
            decoded = response.content
            assert without_server_time(decoded) == without_server_time(plain_body)
            assert orjson.loads(decoded)["total"] == 40
