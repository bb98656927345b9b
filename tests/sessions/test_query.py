"""Query parsing: defaults, booleans in every spelling, bad values name their parameter."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webui.errors import ApiError
from webui.sessions.query import (
    DEFAULT_LIMIT,
    GATE_NAMES,
    ListFlags,
    ListKey,
    default_flags,
    parse_list_query,
)
from webui.state.prefs import Preferences

GATES = {
    "show_cli": True,
    "show_cron": False,
    "show_webhook": False,
    "show_messaging_history": False,
    "show_claude_code": True,
}


def parse(**params: str):  # type: ignore[no-untyped-def]
    return parse_list_query(
        params,
        fallback_profile="default",
        gate_defaults=GATES,
        profile_names=lambda: ["default", "work"],
    )


def test_defaults() -> None:
    query = parse()
    assert query.profile == "default"
    assert query.key == ListKey(("default",), False, ListFlags())
    assert (query.limit, query.offset, query.q) == (DEFAULT_LIMIT, 0, None)


@pytest.mark.parametrize("text", ["1", "true", "TRUE", "yes", "On", " on "])
def test_true_spellings(text: str) -> None:
    assert parse(include_archived=text).key.flags.include_archived is True


@pytest.mark.parametrize("text", ["0", "false", "False", "no", "OFF"])
def test_false_spellings(text: str) -> None:
    assert parse(show_cli=text).key.flags.show_cli is False


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("include_archived", "maybe"),
        ("show_cron", ""),
        ("all_profiles", "2"),
        ("limit", "0"),
        ("limit", "5001"),
        ("limit", "ten"),
        ("offset", "-1"),
        ("offset", "1.5"),
        ("sidebar_source", "telegram"),
        ("q", "x" * 201),
        ("profile", "../etc"),
        ("profile", "Default"),
    ],
)
def test_bad_values_are_400_naming_the_parameter(param: str, value: str) -> None:
    with pytest.raises(ApiError) as info:
        parse(**{param: value})
    assert info.value.status == 400
    assert info.value.param == param


def test_settings_supply_gates_and_parameters_win() -> None:
    assert parse().key.flags.show_cli is True
    assert parse(show_cli="0").key.flags.show_cli is False
    assert parse(show_cron="1").key.flags.show_cron is True


def test_pages_and_search_share_one_cache_key() -> None:
    base = parse()
    assert parse(limit="10", offset="20", q="hello").key == base.key
    assert parse(sidebar_source="cli").key != base.key


def test_all_profiles_scope_and_unknown_parameters_ignored() -> None:
    query = parse(all_profiles="yes", profile="work", whatever="1")
    assert query.key.profiles == ("default", "work")
    assert query.profile == "work"


@given(st.dictionaries(st.text(max_size=30), st.text(max_size=250), max_size=8))
def test_any_query_string_parses_or_names_a_parameter(params: dict[str, str]) -> None:
    try:
        parse(**params)
    except ApiError as exc:
        assert exc.status == 400
        assert exc.param in {*params, "profile"}


def test_claude_code_gate_defaults_on_and_parses_like_the_others() -> None:
    assert "show_claude_code" in GATE_NAMES
    assert ListFlags().show_claude_code is True
    assert parse().key.flags.show_claude_code is True
    assert parse(show_claude_code="off").key.flags.show_claude_code is False
    assert parse(show_claude_code="0").key != parse().key
    with pytest.raises(ApiError) as info:
        parse(show_claude_code="sometimes")
    assert (info.value.status, info.value.param) == (400, "show_claude_code")


def test_claude_code_gate_follows_the_setting() -> None:
    off = parse_list_query(
        {},
        fallback_profile="default",
        gate_defaults={**GATES, "show_claude_code": False},
        profile_names=lambda: ["default"],
    )
    assert off.key.flags.show_claude_code is False
    assert default_flags(Preferences(show_claude_code=False).gates).show_claude_code is False
    assert default_flags(Preferences().gates) == ListFlags()


def test_gate_defaults_written_before_the_claude_code_gate_still_parse() -> None:
    older = {name: value for name, value in GATES.items() if name != "show_claude_code"}
    query = parse_list_query(
        {}, fallback_profile="default", gate_defaults=older, profile_names=lambda: ["default"]
    )
    assert query.key.flags.show_claude_code is True
    assert default_flags(older).show_claude_code is True
