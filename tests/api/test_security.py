"""Who may do what, and what no input can do: escapes, injections, sizes, types, tokens.

In-process for the input rules (every place a profile or a session id is accepted, SQL
metacharacters in every string parameter, body sizes and types), and end to end against real
servers for binding, tokens, the login cookie and the same-origin rule. ``tests/api/test_routes.py``
already checks one escaping ``profile=`` on the list, malformed JSON and one 415; these cover
the rest.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from clients import Client
from factory import AgentDB
from servers import Server, free_port, run_server
from starlette.testclient import TestClient

ESCAPING_PROFILES = [
    "..", "../..", "../../etc", "..%2f..", "%2e%2e", "a/b", "/etc", "work/../..", ".", "\x00",
    "work\x00", "x" * 65, "y" * 5000, "Work", " work", "work ", "wörk", "-work", "_work",
]  # fmt: skip
ESCAPING_SESSION_IDS = [
    "%2e%2e", ".hidden", "a%00b", "%00", "x" * 201, "z" * 5000,
    "a%20b", "a'b", "a%22b", "a;b", "a%5cb", "-rf",
]  # fmt: skip
SQL = [
    "' OR '1'='1",
    '" OR ""="',
    "x'); DROP TABLE sessions; --",
    "1; DELETE FROM overrides",
    "%' OR title LIKE '%",
    "\\'; SELECT * FROM sqlite_master; --",
]


@pytest.fixture
def home_files(agent_home: Path) -> Iterator[None]:
    """Fail the test if anything appeared outside the home (a path that escaped it)."""
    outside = agent_home.parent

    def snapshot() -> set[Path]:
        return {p for p in outside.rglob("*") if agent_home not in p.parents and p != agent_home}

    before = snapshot()
    yield
    assert snapshot() == before


@pytest.fixture
def rows(agent_db: Any) -> dict[str, str]:
    default: AgentDB = agent_db()
    work: AgentDB = agent_db("work")
    return {
        "default": default.session("cli", title="Default chat", messages=2),
        "work": work.session("cli", title="Work chat", messages=2),
    }


def error(response: Any, status: int, param: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()["error"]
    assert body["code"] and body["message"]
    if param is not None:
        assert body["param"] == param, body
    return body


# -- profile names ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ESCAPING_PROFILES)
def test_escaping_profile_names_are_400_wherever_a_profile_is_accepted(
    client: TestClient, rows: dict[str, str], home_files: None, name: str
) -> None:
    sid = rows["default"]
    for method, path in (
        ("GET", "/api/sessions"),
        ("GET", f"/api/sessions/{sid}"),
        ("GET", f"/api/sessions/{sid}/messages"),
        ("PATCH", f"/api/sessions/{sid}"),
        ("DELETE", f"/api/sessions/{sid}"),
        ("POST", f"/api/sessions/{sid}/restore"),
        ("POST", f"/api/sessions/{sid}/messages"),
    ):
        body = {"title": "t"} if method == "PATCH" else {"content": "hi"}
        response = client.request(method, path, params={"profile": name}, json=body)
        error(response, 400, "profile")
    error(client.post("/api/sessions", json={"profile": name}), 400, "profile")
    error(client.post("/api/profile/switch", json={"profile": name}), 400, "profile")
    error(client.patch("/api/settings", json={"default_profile": name}), 400, "default_profile")


# (Spaces around a cookie value are not part of it: " work" is the cookie "work".)
# (a cookie value is ASCII: "wörk" cannot even be sent).
@pytest.mark.parametrize("name", [n for n in ESCAPING_PROFILES if n == n.strip() and n.isascii()])
def test_an_escaping_profile_cookie_is_ignored(
    make_client: Client, rows: dict[str, str], home_files: None, name: str
) -> None:
    client = make_client()
    client.cookies.set("webui_profile", name.replace("\x00", "%00"))
    for path in ("/api/sessions", "/api/profiles"):
        response = client.get(path)
        assert response.status_code == 200, response.text
    listed = client.get("/api/sessions").json()
    assert listed["profile"] == "default"
    assert [r["session_id"] for r in listed["sessions"]] == [rows["default"]]
    created = client.post("/api/sessions", json={"title": "From a bad cookie"})
    assert created.status_code == 201 and created.json()["profile"] == "default"


@pytest.mark.parametrize("session_id", ESCAPING_SESSION_IDS)
def test_escaping_session_ids_are_400_on_every_session_route(
    client: TestClient, rows: dict[str, str], home_files: None, session_id: str
) -> None:
    for method, suffix, body in (
        ("GET", "", None),
        ("PATCH", "", {"title": "t"}),
        ("DELETE", "", None),
        ("POST", "/restore", None),
        ("GET", "/messages", None),
        ("POST", "/messages", {"content": "hi"}),
    ):
        response = client.request(method, f"/api/sessions/{session_id}{suffix}", json=body)
        error(response, 400, "session_id")


@pytest.mark.parametrize(
    "path",
    ["/api/sessions/..%2f..%2fstate.db", "/api/sessions/%2e%2e%2fstate.db", "/api/sessions/a%2fb"],
)
def test_an_encoded_slash_in_a_session_id_matches_no_route(client: TestClient, path: str) -> None:
    for method in ("GET", "DELETE"):
        assert error(client.request(method, path), 404)["code"] == "not_found"


@pytest.mark.parametrize("stream_id", ["%2e%2e", "a-b", "x" * 65, "a%00", "a'b"])
def test_escaping_stream_ids_are_400(client: TestClient, stream_id: str) -> None:
    error(client.get(f"/api/streams/{stream_id}"), 400, "stream_id")
    error(client.post(f"/api/streams/{stream_id}/cancel"), 400, "stream_id")


# -- SQL metacharacters ----------------------------------------------------------------------


@pytest.mark.parametrize("text", SQL)
def test_sql_metacharacters_are_data_in_every_string_parameter(
    client: TestClient, agent_db: Any, text: str
) -> None:
    db: AgentDB = agent_db()
    sid = db.session("cli", title="Plain", messages=1)
    other = db.session("cli", title="Other", messages=1)
    # A search is a search: nothing matches, nothing breaks.
    found = client.get("/api/sessions", params={"q": text}).json()
    assert found["total"] == 0 and found["sessions"] == []
    # Validated parameters refuse them, naming themselves.
    for params, param in (
        ({"profile": text}, "profile"),
        ({"sidebar_source": text}, "sidebar_source"),
        ({"include_archived": text}, "include_archived"),
        ({"limit": text}, "limit"),
        ({"offset": text}, "offset"),
    ):
        error(client.get("/api/sessions", params=params), 400, param)
    error(client.get(f"/api/sessions/{sid}/messages", params={"after": text}), 400, "after")
    # Free text is stored as is: a title, a new chat's title, a message.
    renamed = client.patch(f"/api/sessions/{sid}", json={"title": text})
    assert renamed.status_code == 200 and renamed.json()["title"] == " ".join(text.split())
    created = client.post("/api/sessions", json={"title": text})
    assert created.status_code == 201 and created.json()["title"] == " ".join(text.split())
    turn = client.post(f"/api/sessions/{sid}/messages", json={"content": text})
    assert turn.status_code == 202
    stored = db.conn.execute(
        "SELECT content FROM messages WHERE session_id = ? AND role = 'user' ORDER BY id DESC",
        (sid,),
    ).fetchone()[0]
    assert stored == text
    # Searching for the exact text finds exactly the row that carries it (the new chat has
    # no message yet, so it is not listed).
    hits = client.get("/api/sessions", params={"q": " ".join(text.split())}).json()
    assert [r["session_id"] for r in hits["sessions"]] == [sid]
    again = client.get(f"/api/sessions/{created.json()['session_id']}").json()
    assert again["title"] == " ".join(text.split())
    # Nothing else was touched: the other row, the tables, the agent's own title.
    listed = {r["session_id"]: r["title"] for r in client.get("/api/sessions").json()["sessions"]}
    assert listed[other] == "Other"
    tables = {r[0] for r in db.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "messages"} <= tables
    agent_title = db.conn.execute("SELECT title FROM sessions WHERE id = ?", (sid,)).fetchone()
    assert agent_title[0] == "Plain"


# -- body sizes and types --------------------------------------------------------------------

BODY_ENDPOINTS = [
    ("POST", "/api/sessions"),
    ("PATCH", "/api/sessions/{sid}"),
    ("POST", "/api/sessions/{sid}/messages"),
    ("PATCH", "/api/settings"),
    ("POST", "/api/profile/switch"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
def test_oversized_bodies_are_413_declared_or_streamed(
    make_client: Client, rows: dict[str, str], method: str, path: str
) -> None:
    client = make_client(max_body_bytes=1024)
    url = path.format(sid=rows["default"])
    big = b'{"title": "' + b"x" * 2000 + b'"}'
    error(client.request(method, url, content=big), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while reading
        yield big[:600]
        yield big[600:]

    error(client.request(method, url, content=chunks()), 413)
    # Just under the limit is read (and judged on its content, not its size).
    assert client.request(method, url, content=b"{}").status_code != 413


@pytest.mark.parametrize(("method", "path"), BODY_ENDPOINTS)
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/xml", "application/json-patch+json"],
)  # fmt: skip
def test_bodies_of_another_type_are_415(
    client: TestClient, rows: dict[str, str], method: str, path: str, content_type: str
) -> None:
    url = path.format(sid=rows["default"])
    response = client.request(
        method, url, content=b'{"title": "x"}', headers={"content-type": content_type}
    )
    assert error(response, 415)["code"] == "unsupported_media_type"


def test_json_with_a_charset_is_accepted(client: TestClient) -> None:
    response = client.patch(
        "/api/settings",
        content=b'{"show_cron": true}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200 and response.json()["show_cron"] is True


# -- binding ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--host", "0.0.0.0"], {}),
        (["--host", "::"], {}),
        (["--host", "192.0.2.10"], {}),
        (["--host", "127.0.0.1.example.com"], {}),
        ([], {"WEBUI_HOST": "0.0.0.0"}),
        (["--host", "0.0.0.0"], {"WEBUI_TOKEN": ""}),
    ],
)
def test_binding_beyond_loopback_without_a_token_refuses_to_start(
    agent_home: Path, args: list[str], env: dict[str, str]
) -> None:
    port = free_port()
    command = [sys.executable, "-m", "webui", "serve", "--home", str(agent_home),
               "--port", str(port), "--claude-home", "", *args]  # fmt: skip
    clean = {k: v for k, v in __import__("os").environ.items() if not k.startswith("WEBUI_")}
    done = subprocess.run(
        command, env={**clean, **env}, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "refusing to bind" in done.stderr and "WEBUI_TOKEN" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing is listening


# -- the token, end to end -------------------------------------------------------------------

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def guarded(agent_home: Path, rows: dict[str, str]) -> Iterator[Server]:
    """A real server bound to every address, with a token (reached over loopback)."""
    with run_server(agent_home, "--host", "0.0.0.0", "--token", TOKEN) as server:
        yield server


def api_requests(sid: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", "/api/sessions", None),
        ("GET", f"/api/sessions/{sid}", None),
        ("GET", f"/api/sessions/{sid}/messages", None),
        ("GET", "/api/settings", None),
        ("GET", "/api/profiles", None),
        ("GET", "/api/health", None),
        ("GET", "/api/openapi.json", None),
        ("GET", "/api/sessions/events", None),
        ("GET", "/api/streams/abc123", None),
        ("GET", "/api/nothing-here", None),
        ("POST", "/api/sessions", {"title": "x"}),
        ("PATCH", f"/api/sessions/{sid}", {"pinned": True}),
        ("DELETE", f"/api/sessions/{sid}", None),
        ("POST", f"/api/sessions/{sid}/restore", None),
        ("POST", f"/api/sessions/{sid}/messages", {"content": "hi"}),
        ("POST", "/api/streams/abc123/cancel", None),
        ("PATCH", "/api/settings", {"show_cron": True}),
        ("POST", "/api/profile/switch", {"profile": "work"}),
    ]


@pytest.mark.server
def test_every_api_request_needs_the_token(guarded: Server, rows: dict[str, str]) -> None:
    with httpx2.Client(base_url=guarded.url, timeout=10) as client:
        origin = {"Origin": guarded.url}
        for method, path, body in api_requests(rows["default"]):
            for headers in (
                origin,
                {**origin, "Authorization": "Bearer wrong"},
                {**origin, "Authorization": f"Bearer {TOKEN}x"},
                {**origin, "Authorization": f"Basic {TOKEN}"},
                {**origin, "Cookie": "webui_token=wrong"},
            ):
                response = client.request(method, path, json=body, headers=headers)
                assert error(response, 401)["code"] == "unauthorized", (method, path, headers)
        # With the token, the same requests get through to the endpoints.
        bearer = {"Origin": guarded.url, "Authorization": f"Bearer {TOKEN}"}
        for method, path, body in api_requests(rows["default"]):
            if path.endswith("/events"):
                with client.stream(method, path, headers=bearer) as response:
                    assert response.status_code == 200
                continue
            response = client.request(method, path, json=body, headers=bearer)
            assert response.status_code not in (401, 403, 500), (method, path, response.text)
        # The sidebar page and the login page themselves are public.
        assert client.get("/").status_code == 200
        assert client.get("/login").status_code == 200


@pytest.mark.server
def test_no_path_trick_reaches_the_api_without_the_token(
    guarded: Server, rows: dict[str, str]
) -> None:
    """Raw request lines, so no client normalizes them first."""
    for target in (
        "//api/sessions", "/api//sessions", "/api/../api/sessions", "/static/../api/sessions",
        "/%61pi/sessions", "/api/sessions/../settings", "/API/sessions", "/api/sessions?",
        "/api/sessions%3f", "/./api/sessions",
    ):  # fmt: skip
        status, body = raw_get(guarded.port, target)
        assert status in (401, 404), (target, status, body[:200])
        assert b"Default chat" not in body, target


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.server
def test_the_login_page_sets_an_httponly_samesite_cookie(
    guarded: Server, rows: dict[str, str]
) -> None:
    with httpx2.Client(base_url=guarded.url, timeout=10, follow_redirects=False) as client:
        page = client.get("/login")
        assert page.status_code == 200 and 'name="token"' in page.text
        assert 'type="password"' in page.text
        wrong = client.post("/login", data={"token": "nope"}, headers={"Origin": guarded.url})
        assert wrong.status_code == 401 and "Wrong token" in wrong.text
        assert "set-cookie" not in wrong.headers
        foreign = client.post("/login", data={"token": TOKEN}, headers={"Origin": "https://evil"})
        assert error(foreign, 403)["code"] == "cross_origin"
        signed_in = client.post("/login", data={"token": TOKEN}, headers={"Origin": guarded.url})
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        cookie = signed_in.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower(): part for part in cookie.split(";")}
        assert cookie.startswith(f"webui_token={TOKEN}")
        assert "httponly" in attributes
        assert attributes["samesite"].split("=")[1].strip().lower() == "strict"
        assert attributes["path"].split("=")[1].strip() == "/"
        assert int(attributes["max-age"].split("=")[1]) > 0
    # The cookie alone now opens the API; changes still need a same-origin Origin.
    with httpx2.Client(base_url=guarded.url, timeout=10) as client:
        client.cookies.set("webui_token", TOKEN)
        listed = client.get("/api/sessions")
        assert listed.status_code == 200 and listed.json()["sessions"]
        sid = rows["default"]
        assert error(client.patch(f"/api/sessions/{sid}", json={"pinned": True}), 403)
        same = client.patch(
            f"/api/sessions/{sid}", json={"pinned": True}, headers={"Origin": guarded.url}
        )
        assert same.status_code == 200 and same.json()["pinned"] is True


@pytest.mark.server
def test_state_changing_requests_need_a_same_origin_origin(
    guarded: Server, rows: dict[str, str]
) -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    sid = rows["default"]
    changes = [(m, p, b) for m, p, b in api_requests(sid) if m != "GET"]
    with httpx2.Client(base_url=guarded.url, timeout=10) as client:
        for method, path, body in changes:
            missing = client.request(method, path, json=body, headers=bearer)
            assert error(missing, 403)["code"] == "origin_required", (method, path)
            for origin in (
                "https://evil.example",
                "null",
                f"http://127.0.0.1:{guarded.port + 1}",
                f"https://127.0.0.1:{guarded.port}",
                f"{guarded.url}.evil.example",
            ):
                foreign = client.request(
                    method, path, json=body, headers={**bearer, "Origin": origin}
                )
                assert error(foreign, 403)["code"] == "cross_origin", (method, path, origin)
        # Reads need no Origin.
        assert client.get("/api/sessions", headers=bearer).status_code == 200
        # Nothing above changed anything.
        row = client.get(f"/api/sessions/{sid}", headers=bearer).json()
        assert row["pinned"] is False and row["title"] == "Default chat"


@pytest.mark.server
def test_without_a_token_a_foreign_origin_still_cannot_change_anything(
    agent_home: Path, rows: dict[str, str]
) -> None:
    with run_server(agent_home) as server, httpx2.Client(base_url=server.url) as client:
        sid = rows["default"]
        response = client.patch(
            f"/api/sessions/{sid}", json={"pinned": True}, headers={"Origin": "https://evil"}
        )
        assert error(response, 403)["code"] == "cross_origin"
        assert client.get(f"/api/sessions/{sid}").json()["pinned"] is False


@pytest.mark.server
def test_a_streamed_oversized_body_is_413_on_a_real_server(
    agent_home: Path, rows: dict[str, str]
) -> None:
    with run_server(agent_home, "--max-body-bytes", "2048") as server, server.client() as client:

        def chunks() -> Iterator[bytes]:
            yield b'{"content": "'
            for _ in range(64):
                yield b"x" * 1024
            yield b'"}'

        sid = rows["default"]
        response = client.post(f"/api/sessions/{sid}/messages", content=chunks())
        assert error(response, 413)["code"] == "body_too_large"
        login = client.post(
            "/login",
            content=(b"token=" + b"x" * 1024 for _ in range(16)),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert error(login, 413)["code"] == "body_too_large"
        assert client.get("/api/health").status_code == 200  # and the server is fine
