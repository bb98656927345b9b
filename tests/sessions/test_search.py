"""The search core: its parameters (the list's own errors) and the order of results on a real
list."""

from __future__ import annotations

from typing import Any

import pytest
from factory import AgentDB
from starlette.testclient import TestClient

from webui.errors import ApiError
from webui.sessions.query import parse_list_query
from webui.sessions.search import parse_search_query

GATES = {"show_cli": True, "show_cron": False, "show_webhook": False,
         "show_messaging_history": False}  # fmt: skip


def parse(**params: str) -> Any:
    return parse_search_query(
        params, fallback_profile="default", gate_defaults=GATES, profile_names=lambda: ["default"]
    )


def error(call: Any) -> tuple[int, str | None, str]:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value.status, caught.value.param, caught.value.message


def test_defaults_and_bounds() -> None:
    query = parse(q="  flaky   test ")
    assert (query.q, query.limit, query.offset, query.profile) == ("flaky test", 20, 0, "default")
    assert query.key.flags.show_cli and not query.key.flags.show_cron
    assert parse(q="x", limit="100", offset="10000").limit == 100
    assert error(lambda: parse())[1] == "q"
    assert error(lambda: parse(q="x" * 201))[1] == "q"
    assert error(lambda: parse(q="x", limit="101"))[1] == "limit"


@pytest.mark.parametrize(
    "params",
    [{"profile": "Bad Name"}, {"show_cron": "perhaps"}, {"all_profiles": "2"},
     {"sidebar_source": "tv"}, {"include_archived": ""}],
)  # fmt: skip
def test_profile_and_flag_errors_are_the_lists_own(params: dict[str, str]) -> None:
    def listed() -> Any:
        return parse_list_query(
            params, fallback_profile="default", gate_defaults=GATES, profile_names=lambda: []
        )

    assert error(lambda: parse(q="x", **params)) == error(listed)


def test_order_titles_then_relevance_then_recency(agent_db: Any, client: TestClient) -> None:
    db: AgentDB = agent_db()
    for n in range(12):  # a corpus where the words are rare enough to weigh something
        db.session("cli", messages=[("user", f"other talk {n}")])
    # Titled: an untitled row shows its first message as its title, and a title match wins.
    weak_old = db.session("cli", title="a", messages=[("user", "helm chart " + "words " * 40)])
    strong = db.session("cli", title="b", messages=[("user", "helm chart helm chart helm")])
    weak_new = db.session("cli", title="c", messages=[("user", "helm chart " + "words " * 40)])
    titled = db.session("cli", title="The Helm chart", messages=[("user", "unrelated")])
    response = client.get("/api/sessions/search", params={"q": "helm chart"})
    order = [r["session_id"] for r in response.json()["results"]]
    assert order == [titled, strong, weak_new, weak_old]
