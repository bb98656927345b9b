"""Every endpoint fuzzed against the app's OpenAPI document, and the document against the app.

schemathesis drives the in-process ASGI app (lifespan included) on a real demo home, its
Claude Code folder included: valid and invalid parameters, headers, bodies and paths. No
request may produce a 500, every response must match the document (body and headers), and
every 4xx of the API is the JSON error shape with a code, naming the parameter when a parameter
is at fault. Answers a fuzzer rarely reaches — a delta, a compressed page, a 304, the refusals
of the Claude Code source — are made on purpose and checked against the document too.
hypothesis then aims at the list's query string through HTTP (``tests/sessions/test_query.py``
fuzzes the parser itself).

No app here reads the machine's ``~/.claude``: each names its Claude Code folder, the demo
home's own or none (``claude_home=""``, the source off).
"""

from __future__ import annotations

import re
import urllib.parse
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis.python import asgi
from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from webui.api.app import create_app
from webui.api.openapi import SESSION_ID_PATTERN, openapi_document
from webui.config import Settings
from webui.demo import build_demo_home
from webui.sessions.query import GATE_NAMES, MAX_LIMIT

# Endless Server-Sent Events: covered by tests/live/test_turns.py, not fuzzable request/response.
ENDLESS = "/api/sessions/events"
FUZZ_SETTINGS = hypothesis.settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("fuzz") / "home"
    build_demo_home(home, profiles=2, sessions=40, seed=7, progress=False)
    return home


def settings(home: Path, *, claude_home: str = "", **changes: Any) -> Settings:
    """Settings of a test app: never the machine's ``~/.claude`` (the default of the real
    server), only a folder the test made, or none."""
    return Settings(home=home, watch=False, claude_home=claude_home, **changes)


@pytest.fixture(scope="module")
def fuzz_app(demo_home: Path) -> Iterator[Starlette]:
    # The demo home's own Claude Code folder: its rows (project, git_branch) and the
    # claude-code profile of the session routes are fuzzed too.
    app = create_app(
        settings(demo_home, claude_home=str(demo_home / "claude"), demo_tokens_per_second=2000.0)
    )
    yield app
    asgi.shutdown_lifespans()  # schemathesis keeps the app's lifespan running until asked


# The document as the app serves it (test_the_document_is_served… checks they are the same);
# loaded at import, as schemathesis parametrizes at collection. Calls go to ``fuzz_app``.
schema = schemathesis.openapi.from_dict(openapi_document()).exclude(path=ENDLESS)


def _param_names(case: Any) -> set[str]:
    """What a 400 may name: a parameter or body field sent or documented, or the body."""
    names = {"body"}
    for part in (case.query, case.path_parameters, case.body):
        if isinstance(part, dict):
            names.update(str(k) for k in part)
    operation = openapi_document()["paths"][case.path][case.method.lower()]
    names.update(p["name"] for p in operation["parameters"])
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    names.update(body.get("schema", {}).get("properties", {}))
    return names


def check_api_errors(response: Any, case: Any) -> None:
    """A 4xx of the API is ``{"error": {code, message, param}}``; a 400 names a parameter
    that the request actually sent."""
    status = response.status_code
    if not case.path.startswith("/api/") or not 400 <= status < 500:
        return
    content_type = response.headers.get("content-type") or [""]
    assert content_type[0].startswith("application/json"), (status, content_type)
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and error["message"], error
    if status == 400:
        assert error["param"] in _param_names(case), (error, case.query, case.body)


@pytest.fixture(scope="module")
def real_ids(fuzz_app: Starlette) -> list[tuple[str, str]]:
    """(profile, session id) of listed demo sessions, to aim some cases at real rows."""
    with TestClient(fuzz_app) as client:
        rows = client.get("/api/sessions", params={"all_profiles": 1}).json()["sessions"]
    return [(row["profile"], row["session_id"]) for row in rows]


def aim_at_real_rows(case: Any, real_ids: list[tuple[str, str]]) -> None:
    """Half the schema-valid session ids become real ones (with their profile), so updates,
    deletes, restores and turns run on real rows instead of ending in a 404."""
    value = (case.path_parameters or {}).get("session_id")
    if not isinstance(value, str) or not re.fullmatch(SESSION_ID_PATTERN, value):
        return
    pick = zlib.crc32(value.encode())
    if pick % 2:
        return
    profile, session_id = real_ids[pick // 2 % len(real_ids)]
    case.path_parameters["session_id"] = session_id
    if case.query is not None and "profile" in case.query:
        case.query["profile"] = profile


def pair_have_with_since(case: Any) -> None:
    """The list reads ``have`` only with ``since`` (it sizes the delta's window), so a case
    that sends ``have`` sends a ``since`` too: an unknown version, answered in full."""
    if case.path == "/api/sessions" and case.query and "have" in case.query:
        case.query.setdefault("since", "fuzz.0")


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_endpoint_against_its_openapi_document(
    fuzz_app: Starlette, real_ids: list[tuple[str, str]], case: Any
) -> None:
    aim_at_real_rows(case, real_ids)
    pair_have_with_since(case)
    response = case.call(app=fuzz_app)
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:500])
    check_api_errors(response, case)
    case.validate_response(response)


def _app_routes(app: Starlette) -> set[tuple[str, str]]:
    found = set()
    for route in app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method.lower(), route.path))
    return found


def test_the_document_lists_every_route_the_app_has(demo_home: Path) -> None:
    app = create_app(settings(demo_home))
    documented = {
        (method, path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    }
    assert documented == _app_routes(app)


def test_the_document_is_served_and_is_openapi_3(demo_home: Path) -> None:
    with TestClient(create_app(settings(demo_home))) as client:
        response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()
    assert response.json()["openapi"].startswith("3.")


# -- answers a fuzzer rarely reaches, made on purpose ---------------------------------------


def conforms(response: Any, path: str, method: str, **request: Any) -> None:
    """``response`` matches what the document says of ``method path`` for that request:
    status, body and headers (the checks of the fuzz test, on a response made on purpose)."""
    case = schema[path][method].Case(**request)
    case.validate_response(response)
    check_api_errors(schemathesis.Response.from_any(response), case)


@pytest.fixture
def small_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    build_demo_home(home, profiles=1, sessions=30, seed=3, progress=False, claude_sessions=4)
    return home


@pytest.fixture
def small_client(small_home: Path) -> Iterator[TestClient]:
    app = create_app(settings(small_home, claude_home=str(small_home / "claude")))
    with TestClient(app) as client:
        yield client


def apply_delta(held: list[dict[str, Any]], delta: dict[str, Any]) -> list[dict[str, Any]]:
    """The client's side of a delta, as the README describes it."""
    upserted = [item["row"] for item in delta["upserted"]]
    gone = {tuple(key) for key in delta["removed"]}
    gone.update((row["profile"], row["session_id"]) for row in upserted)
    rows = [row for row in held if (row["profile"], row["session_id"]) not in gone]
    for item in delta["upserted"]:
        rows.insert(item["index"], item["row"])
    return rows


def test_a_delta_and_a_full_answer_to_since_match_the_document(small_client: TestClient) -> None:
    first = small_client.get("/api/sessions")
    conforms(first, "/api/sessions", "GET")
    held = first.json()
    assert "delta" not in held  # no since: the page as before, with its version
    claude = next(row for row in held["sessions"] if row["source_kind"] == "claude-code")
    assert {"project", "git_branch"} <= set(claude)
    renamed = small_client.patch(
        f"/api/sessions/{claude['session_id']}",
        params={"profile": "claude-code"},
        json={"title": "Renamed for a delta"},
    )
    assert renamed.status_code == 200
    query = {"since": held["version"], "have": len(held["sessions"])}
    answer = small_client.get("/api/sessions", params=query)
    conforms(answer, "/api/sessions", "GET", query=query)
    delta = answer.json()
    assert delta["delta"] is True and delta["since"] == held["version"]
    assert [item["row"]["title"] for item in delta["upserted"]] == ["Renamed for a delta"]
    assert delta["version"] != held["version"]
    now = small_client.get("/api/sessions", params={"limit": query["have"]}).json()
    assert apply_delta(held["sessions"], delta) == now["sessions"]

    unknown: dict[str, str | int] = {"since": "not.a.version", "have": 5}
    full = small_client.get("/api/sessions", params=unknown)
    conforms(full, "/api/sessions", "GET", query=unknown)
    body = full.json()
    # The window is what the client holds, or its whole first page when that is more.
    assert body["delta"] is False and len(body["sessions"]) == min(body["total"], 500)


def test_a_compressed_page_a_small_one_and_a_304_match_the_document(
    small_client: TestClient,
) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    page = small_client.get("/api/sessions", headers=gzip)
    conforms(page, "/api/sessions", "GET", headers=gzip)
    assert page.headers["content-encoding"] == "gzip"
    assert page.headers["etag"].startswith('W/"')
    # Below MIN_SIZE a body goes out as it is, under the same kind of tag.
    small = small_client.get("/api/sessions", params={"q": "no such title"}, headers=gzip)
    conforms(small, "/api/sessions", "GET", query={"q": "no such title"}, headers=gzip)
    assert "content-encoding" not in small.headers
    # One tag for every coding: the gzip page's tag revalidates an uncompressed poll.
    again = {"If-None-Match": page.headers["etag"]}
    unchanged = small_client.get("/api/sessions", headers=again)
    conforms(unchanged, "/api/sessions", "GET", headers=again)
    assert unchanged.status_code == 304 and unchanged.headers["vary"] == "accept-encoding"


def test_the_refusals_of_the_claude_code_source_match_the_document(
    small_home: Path, small_client: TestClient
) -> None:
    rows = small_client.get("/api/sessions").json()["sessions"]
    claude = next(row["session_id"] for row in rows if row["profile"] == "claude-code")
    path = f"/api/sessions/{claude}/messages"
    turn = small_client.post(path, params={"profile": "claude-code"}, json={"content": "hi"})
    assert turn.status_code == 409 and turn.json()["error"]["code"] == "read_only_source"
    conforms(
        turn,
        "/api/sessions/{session_id}/messages",
        "POST",
        path_parameters={"session_id": claude},
        query={"profile": "claude-code"},
        body={"content": "hi"},
    )
    with TestClient(create_app(settings(small_home))) as off:  # claude_home "": the source off
        answer = off.get(f"/api/sessions/{claude}", params={"profile": "claude-code"})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "source_off"
    conforms(
        answer,
        "/api/sessions/{session_id}",
        "GET",
        path_parameters={"session_id": claude},
        query={"profile": "claude-code"},
    )


def test_health_matches_the_document(small_client: TestClient) -> None:
    small_client.get("/api/sessions")
    health = small_client.get("/api/health")
    conforms(health, "/api/health", "GET")
    assert health.json()["cache"]["index"]["refreshes"] >= 1


# -- hypothesis on the list's query string, through HTTP ------------------------------------

BOOLEANS = ("all_profiles", "include_archived", "exclude_hidden", *GATE_NAMES)
KNOWN = (*BOOLEANS, "profile", "sidebar_source", "limit", "offset", "q", "since", "have")
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["..", "../..", "%2e%2e", "/etc/passwd", "\x00", "a\x00b", "' OR 1=1 --", "x" * 300,
         "default", "work", "TRUE", " yes ", "-1", "5001", "0", "1e3", "٣", "½"]
    ),
)  # fmt: skip


@pytest.fixture(scope="module")
def query_client(demo_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(settings(demo_home))) as client:
        yield client


@given(params=st.dictionaries(st.sampled_from(KNOWN), hostile_text, max_size=5))
@hypothesis.settings(max_examples=150, deadline=None, database=None, derandomize=True)
@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_list_query_strings_answer_200_or_name_the_parameter(
    query_client: TestClient, params: dict[str, str]
) -> None:
    query = urllib.parse.urlencode(params)
    response = query_client.get(f"/api/sessions?{query}")
    assert response.status_code in (200, 400, 404), (params, response.text)
    if response.status_code == 200:
        body = response.json()
        assert 1 <= body["limit"] <= MAX_LIMIT and len(body["sessions"]) <= body["limit"]
        return
    error = response.json()["error"]
    assert error["param"] in params or (error["param"] == "profile" and "profile" not in params)
    if response.status_code == 404:
        assert error["code"] == "unknown_profile"
