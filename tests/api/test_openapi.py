"""Every endpoint fuzzed against the app's OpenAPI document, and the document against the app.

schemathesis drives the in-process ASGI app (lifespan included) on a real demo home: valid and
invalid parameters, bodies and paths. No request may produce a 500, every response must match
the document, and every 4xx of the API is the JSON error shape with a code, naming the
parameter when a parameter is at fault. hypothesis then aims at the list's query string
through HTTP (``tests/sessions/test_query.py`` fuzzes the parser itself).
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


@pytest.fixture(scope="module")
def fuzz_app(demo_home: Path) -> Iterator[Starlette]:
    app = create_app(Settings(home=demo_home, watch=False, demo_tokens_per_second=2000.0))
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


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_endpoint_against_its_openapi_document(
    fuzz_app: Starlette, real_ids: list[tuple[str, str]], case: Any
) -> None:
    aim_at_real_rows(case, real_ids)
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
    app = create_app(Settings(home=demo_home, watch=False))
    documented = {
        (method, path)
        for path, operations in openapi_document()["paths"].items()
        for method in operations
    }
    assert documented == _app_routes(app)


def test_the_document_is_served_and_is_openapi_3(demo_home: Path) -> None:
    with TestClient(create_app(Settings(home=demo_home, watch=False))) as client:
        response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()
    assert response.json()["openapi"].startswith("3.")


# -- hypothesis on the list's query string, through HTTP ------------------------------------

BOOLEANS = ("all_profiles", "include_archived", "exclude_hidden", *GATE_NAMES)
KNOWN = (*BOOLEANS, "profile", "sidebar_source", "limit", "offset", "q")
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["..", "../..", "%2e%2e", "/etc/passwd", "\x00", "a\x00b", "' OR 1=1 --", "x" * 300,
         "default", "work", "TRUE", " yes ", "-1", "5001", "0", "1e3", "٣", "½"]
    ),
)  # fmt: skip


@pytest.fixture(scope="module")
def query_client(demo_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(home=demo_home, watch=False))) as client:
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
