"""Content codings: Accept-Encoding negotiation, the size threshold, one compression per page."""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable

import brotli  # type: ignore[import-untyped]
import pytest
from backports import zstd
from clients import Client
from factory import AgentDB
from hypothesis import given
from hypothesis import strategies as st
from starlette.routing import Route
from starlette.testclient import TestClient

from webui.api.compress import (
    MIN_SIZE,
    PREFERENCE,
    Coding,
    choose_coding,
    compress,
    negotiate,
    parse_accept_encoding,
)
from webui.api.list_endpoint import ListSessionsEndpoint
from webui.sessions.built import Page

DECODE: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "br": brotli.decompress,
    "zstd": zstd.decompress,
}

# -- negotiation, pure -------------------------------------------------------------------------


def test_weights_are_parsed_case_and_space_insensitively() -> None:
    assert parse_accept_encoding(" GZip ; Q=0.5 ,br;q=1.0, x-gzip, zstd;level=3;q=0") == {
        "gzip": 0.5,  # the first weight of a coding named twice (x-gzip is gzip) stands
        "br": 1.0,
        "zstd": 0.0,
    }


def test_a_malformed_weight_drops_its_element_only() -> None:
    header = "zstd;q=high, br;q=1.5, gzip;q, deflate;q=-0, identity;q=nan, *;q=0.2"
    assert parse_accept_encoding(header) == {"deflate": 0.0, "*": 0.2}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),  # no header: identity
        ("", None),  # an empty header asks for no coding
        ("gzip, deflate, br, zstd", "zstd"),  # a current browser: the server's order
        ("gzip, deflate, br", "br"),
        ("gzip, deflate", "gzip"),
        ("gzip;q=1, zstd;q=0.5", "gzip"),  # the client's weights rule
        ("gzip;q=0", None),  # q=0 refuses
        ("br;q=0, gzip", "gzip"),
        ("*", "zstd"),
        ("*;q=0.5, br", "br"),  # a named coding outweighs the wildcard's
        ("*;q=0, gzip;q=0.1", "gzip"),
        ("*;q=0", None),  # nothing acceptable, identity included: identity all the same
        ("identity", None),
        ("identity;q=0", None),
        ("identity;q=1, gzip;q=0.5", None),  # identity weighed higher
        ("identity;q=0.5, gzip", "gzip"),
        ("compress, deflate, exi, pack200-gzip", None),  # nothing we offer
        ("x-gzip", "gzip"),
    ],
)
def test_the_coding_chosen(header: str | None, expected: Coding | None) -> None:
    assert negotiate(header) == expected


@given(st.text())
def test_any_header_text_gives_an_offered_coding_or_identity(header: str) -> None:
    assert negotiate(header) in (*PREFERENCE, None)


NAMES = st.sampled_from(["gzip", "GZIP", "x-gzip", "br", "zstd", "deflate", "identity", "*", "a"])
WEIGHTS = st.one_of(st.none(), st.floats(0, 1).map(lambda q: f"{q:.3f}"), st.text(max_size=4))
ELEMENTS = st.lists(st.tuples(NAMES, WEIGHTS, st.sampled_from(["", " ", "\t"])), max_size=8)


@given(ELEMENTS)
def test_the_choice_is_acceptable_and_outweighed_by_none(
    elements: list[tuple[str, str | None, str]],
) -> None:
    header = ",".join(
        f"{space}{name}{space}" + ("" if q is None else f";q={q}") for name, q, space in elements
    )
    weights = parse_accept_encoding(header)
    star = weights.get("*", 0.0)
    # identity, unless named or weighed by "*", is acceptable at the lowest weight
    identity = weights.get("identity", star if "*" in weights else 0.0001)

    def weight(coding: str) -> float:
        return weights.get(coding, star)

    chosen = choose_coding(weights)
    assert chosen == negotiate(header)
    if chosen is not None:
        assert weight(chosen) > 0
        assert all(weight(chosen) >= weight(other) for other in PREFERENCE)
        assert weight(chosen) >= identity
    elif any(weight(coding) > 0 for coding in PREFERENCE):
        assert identity > max(weight(coding) for coding in PREFERENCE)


@pytest.mark.parametrize("coding", PREFERENCE)
@given(body=st.binary(max_size=4096))
def test_every_coding_round_trips(coding: Coding, body: bytes) -> None:
    assert DECODE[coding](compress(body, coding)) == body


def test_gzip_bytes_do_not_depend_on_when_they_were_made() -> None:
    body = b'{"sessions":[]}' * 200
    assert compress(body, "gzip") == compress(body, "gzip")  # no mtime in the header


# -- the endpoint ------------------------------------------------------------------------------


def list_endpoint(client: TestClient) -> ListSessionsEndpoint:
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and route.path == "/api/sessions":
            assert isinstance(route.endpoint, ListSessionsEndpoint)
            return route.endpoint
    raise AssertionError("no /api/sessions route")


def raw_get(client: TestClient, accept: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the body as it came over the wire (not decoded)."""
    sent = {"Accept-Encoding": accept, **headers}
    with client.stream("GET", "/api/sessions", headers=sent) as response:
        raw = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), raw


@pytest.fixture
def big(agent_db: Callable[..., AgentDB]) -> AgentDB:
    """A profile whose first page is well above the threshold."""
    db: AgentDB = agent_db()
    for n in range(12):
        db.session("cli", title=f"Session number {n}", messages=2)
    return db


@pytest.mark.parametrize("coding", PREFERENCE)
def test_each_coding_decodes_to_the_identity_body(
    big: AgentDB, make_client: Client, coding: Coding
) -> None:
    client = make_client()
    status, plain_headers, plain = raw_get(client, "identity")
    assert status == 200 and "content-encoding" not in plain_headers
    assert len(plain) >= MIN_SIZE and plain_headers["content-length"] == str(len(plain))
    status, headers, raw = raw_get(client, f"{coding}, identity;q=0.5")
    assert status == 200 and headers["content-encoding"] == coding
    assert headers["content-length"] == str(len(raw)) and len(raw) < len(plain) / 3
    assert DECODE[coding](raw) == plain
    assert headers["vary"] == plain_headers["vary"] == "accept-encoding"
    assert headers["etag"] == plain_headers["etag"]  # weak, shared by every coding


def test_a_hit_sends_the_bytes_compressed_once(big: AgentDB, make_client: Client) -> None:
    client = make_client()
    endpoint = list_endpoint(client)
    bodies = {raw_get(client, "gzip, br")[2] for _ in range(5)}
    assert len(bodies) == 1
    assert endpoint.compression.compressions == {"br": 1}
    raw_get(client, "gzip")
    raw_get(client, "gzip;q=1, br;q=0.1")
    assert endpoint.compression.compressions == {"br": 1, "gzip": 1}
    assert endpoint.compression.bytes_out < endpoint.compression.bytes_in / 3


def test_each_header_value_is_parsed_once(
    big: AgentDB, make_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str | None] = []

    def counted(header: str | None) -> Coding | None:
        parsed.append(header)
        return negotiate(header)

    monkeypatch.setattr("webui.api.list_endpoint.negotiate", counted)
    client = make_client()
    for accept in ("gzip, br", "gzip, br", "zstd", "gzip, br", "zstd"):
        raw_get(client, accept)
    assert parsed == ["gzip, br", "zstd"]


def test_a_changed_list_is_compressed_again(big: AgentDB, make_client: Client) -> None:
    client = make_client()
    endpoint = list_endpoint(client)
    before = raw_get(client, "zstd")[2]
    big.session("cli", title="A new one", messages=1)
    after = raw_get(client, "zstd")[2]
    assert after != before and b"A new one" in zstd.decompress(after)
    assert endpoint.compression.compressions == {"zstd": 2}


def test_a_304_carries_vary_and_no_body(big: AgentDB, make_client: Client) -> None:
    client = make_client()
    _, headers, _ = raw_get(client, "gzip")
    for accept in ("gzip", "identity", "zstd"):  # the one tag validates every coding
        status, again, raw = raw_get(client, accept, **{"If-None-Match": headers["etag"]})
        assert status == 304 and raw == b""
        assert again["vary"] == "accept-encoding" and "content-encoding" not in again
        assert again["etag"] == headers["etag"]


def test_a_small_body_goes_out_as_it_is(
    agent_db: Callable[..., AgentDB], make_client: Client
) -> None:
    agent_db().session("cli", title="alone", messages=1)
    client = make_client()
    status, headers, raw = raw_get(client, "gzip, br, zstd")
    assert status == 200 and len(raw) < MIN_SIZE
    assert "content-encoding" not in headers and headers["vary"] == "accept-encoding"
    assert list_endpoint(client).compression.compressions == {}


@pytest.mark.parametrize(
    "accept", ["identity", "gzip;q=0, br;q=0, zstd;q=0", "*;q=0", "compress, deflate", ""]
)
def test_refused_or_unknown_codings_get_the_identity_body(
    big: AgentDB, make_client: Client, accept: str
) -> None:
    client = make_client()
    status, headers, raw = raw_get(client, accept)
    assert status == 200 and "content-encoding" not in headers
    assert raw.startswith(b'{"sessions":[') and headers["content-length"] == str(len(raw))
    assert list_endpoint(client).compression.compressions == {}


def test_the_threshold_is_inclusive_and_incompressible_bytes_are_sent_as_they_are() -> None:
    endpoint = ListSessionsEndpoint(min_size=100)
    tag = 'W/"t"'
    below = Page(b"a" * 99, tag, 0, tag.encode())
    at = Page(b"a" * 100, tag, 0, tag.encode())
    assert endpoint.encode(below, "gzip") == (below.body, None)
    body, coding = endpoint.encode(at, "gzip")
    assert coding == "gzip" and gzip.decompress(body) == at.body
    noise = Page(random.Random(0).randbytes(512), tag, 0, tag.encode())
    assert endpoint.encode(noise, "br") == (noise.body, None)
    assert endpoint.encode(noise, "br") == (noise.body, None)
    assert endpoint.compression.compressions == {"gzip": 1, "br": 1}  # noise tried once
