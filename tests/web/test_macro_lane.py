"""The macro lane: macro views answered before Flask (repeats from memory, first views built there), with
the route's checks and the route's page; everything else goes through the route as before."""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import jwt
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request, Response

from addon import logs, metrics
from addon.extensions import db
from addon.macros import action_tokens, answers
from addon.macros.service import TitleRef, cache_key, macro_cache
from addon.platform import tenants
from addon.settings.service import update_settings
from addon.turns import TURNS
from addon.web import macro_lane
from addon.web.macro_lane import AnsweredThen, MacroLane, query_arguments
from tests.fixtures.macros import INSTALLATION, SITE, connect_tenant_to
from tests.platform.signing import connect_claims
from tests.web import after_answer_app
from tests.web.server_process import serving

PATH = "/connect/macro/title-status"
QUERY = "pageId=42&pageVersion=3&spaceKey=PUB&macroId=m-1&outputType=display&title=5"
FORM_VALUES = re.compile(r'(name="(?:idempotencyKey|actionToken)" value=")[^"]*(")')


def lane_count(outcome: str) -> float:
    return REGISTRY.get_sample_value("c4c_macro_lane_requests_total", {"outcome": outcome}) or 0.0


def token(site, *, account="557058:user-1", secret=None, path=PATH, query=None, **claims):
    """A page-context token (the iframe's), or with `query` one bound to exactly this request."""
    made = connect_claims(
        site["clientKey"], "GET", path, query or "", qsh=None if query is not None else "context-qsh", **claims
    )
    if account is None:
        made.pop("sub")
    else:
        made["sub"] = account
    return jwt.encode(made, secret or site["sharedSecret"], algorithm="HS256")


@pytest.fixture
def site(client, connect_install, consonance):
    payload = connect_install()
    connect_tenant_to(tenants.find_tenant(tenants.CONNECT, payload["clientKey"]), consonance)
    return payload


@pytest.fixture
def route_only(app):
    """The same app without the lane: what the route alone answers."""
    assert isinstance(app.wsgi_app, MacroLane)
    return Client(app.wsgi_app.wsgi_app, Response)


def view(client, site, query=QUERY, **token_options):
    return client.get(f"{PATH}?{query}&jwt={token(site, **token_options)}")


def without_form_values(html: str) -> str:
    return FORM_VALUES.sub(r"\1…\2", html)


def test_a_first_view_is_built_by_the_lane_and_repeats_come_from_memory(client, route_only, site, consonance):
    served, built, deferred = lane_count("served"), lane_count("built"), lane_count("deferred")
    asked = consonance.control.counters()["total"]
    first = view(client, site)
    assert first.status_code == 200
    assert (lane_count("served"), lane_count("built"), lane_count("deferred")) == (served, built + 1, deferred)
    assert consonance.control.counters()["total"] == asked + 1  # the title read once, by the lane
    asked = consonance.control.counters()["total"]
    routed_first = route_only.get(f"{PATH}?{QUERY}&jwt={token(site)}")
    assert without_form_values(first.get_data(as_text=True)) == without_form_values(routed_first.get_data(as_text=True))
    for header in ("Content-Type", "Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options"):
        assert first.headers[header] == routed_first.headers[header], header

    repeat = view(client, site, account="557058:user-2")
    assert repeat.status_code == 200
    assert lane_count("served") == served + 1
    assert consonance.control.counters()["total"] == asked  # from memory: Consonance is not asked again
    routed = route_only.get(f"{PATH}?{QUERY}&jwt={token(site, account='557058:user-2')}")
    assert without_form_values(repeat.get_data(as_text=True)) == without_form_values(routed.get_data(as_text=True))
    assert consonance.control.work(5)["title"].replace("'", "&#39;") in repeat.get_data(as_text=True)
    for header in ("Content-Type", "Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options"):
        assert repeat.headers[header] == routed.headers[header], header
    assert "frame-ancestors https://site-a.atlassian.test;" in repeat.headers["Content-Security-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", repeat.headers["X-Request-Id"])
    assert repeat.headers["Content-Length"] == str(len(repeat.get_data()))


def test_each_viewer_gets_a_form_bound_to_them(client, site):
    view(client, site)
    pages = {
        account: view(client, site, account=account).get_data(as_text=True)
        for account in ("557058:user-1", "557058:user-2")
    }
    tenant = tenants.find_tenant(tenants.CONNECT, site["clientKey"])
    values = {
        account: dict(re.findall(r'name="(idempotencyKey|actionToken)" value="([^"]*)"', page))
        for account, page in pages.items()
    }
    assert values["557058:user-1"]["idempotencyKey"] != values["557058:user-2"]["idempotencyKey"]
    for account, own in values.items():
        action_tokens.verify(
            own["actionToken"], tenant_id=tenant.id, account_id=account, work_id="5", macro_key="title-status"
        )
    with pytest.raises(action_tokens.ActionTokenError):
        action_tokens.verify(
            values["557058:user-1"]["actionToken"],
            tenant_id=tenant.id,
            account_id="557058:user-2",
            work_id="5",
            macro_key="title-status",
        )


def test_a_viewer_who_is_not_logged_in_is_asked_to_log_in_even_for_a_title_in_memory(client, site):
    """The iframe's `title=` is not signed by a context token: someone not logged in could name any title in
    the catalogue, so they are shown none, even one this process has ready."""
    signed_in = view(client, site).get_data(as_text=True)
    assert "c4c-contributor" in signed_in and "Log in to see this title" not in signed_in
    for _ in range(2):
        anonymous = view(client, site, account=None)
        assert anonymous.status_code == 200
        html = anonymous.get_data(as_text=True)
        assert "Log in to see this title" in html
        assert "c4c-contributor" not in html and 'name="actionToken"' not in html


def test_a_request_bound_token_in_the_header_is_served_too(client, site):
    view(client, site)
    served = lane_count("served")
    bound = token(site, query=QUERY)
    answer = client.get(f"{PATH}?{QUERY}", headers={"Authorization": f"JWT {bound}"})
    assert answer.status_code == 200 and lane_count("served") == served + 1


REFUSALS = {
    "no token": lambda site: f"{PATH}?{QUERY}",
    "forged signature": lambda site: (
        f"{PATH}?{QUERY}&jwt={token(site, secret='not-the-shared-secret-of-this-site-at-all')}"
    ),
    "expired": lambda site: f"{PATH}?{QUERY}&jwt={token(site, now=int(time.time()) - 3600)}",
    "unknown site": lambda site: f"{PATH}?{QUERY}&jwt={token({**site, 'clientKey': 'someone-else'})}",
    "qsh of another request": lambda site: f"{PATH}?{QUERY}&jwt={token(site, query='title=6')}",
    "alg none": lambda site: (
        f"{PATH}?{QUERY}&jwt="
        + jwt.encode(connect_claims(site["clientKey"], "GET", PATH, qsh="context-qsh"), None, algorithm="none")
    ),
    "malformed": lambda site: f"{PATH}?{QUERY}&jwt=not.a.jwt",
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_are_the_routes_own(client, route_only, site, case):
    view(client, site)  # the page is memoised: a refused token must still never see it
    url = REFUSALS[case](site)
    served = lane_count("served")
    refused = client.get(url)
    assert refused.status_code in (401, 403)
    assert lane_count("served") == served
    expected = route_only.get(url)
    assert (refused.status_code, refused.get_json()) == (expected.status_code, expected.get_json())
    assert "c4c-panel" not in refused.get_data(as_text=True)


def test_a_disabled_app_is_refused_even_with_a_memoised_page(client, site):
    view(client, site)
    path = "/connect/disabled"
    disable = jwt.encode(connect_claims(site["clientKey"], "POST", path), site["sharedSecret"], algorithm="HS256")
    assert client.post(path, json=site, headers={"Authorization": f"JWT {disable}"}).status_code == 200
    assert view(client, site).status_code == 401


def test_a_settings_change_is_never_answered_from_the_lane(app, client, site):
    view(client, site)
    assert view(client, site).status_code == 200
    served = lane_count("served")
    tenant = tenants.find_tenant(tenants.CONNECT, site["clientKey"])
    update_settings(tenant, {"summary_timezone": "America/New_York"}, actor="557058:admin")
    built = lane_count("built")
    after = view(client, site)
    assert lane_count("served") == served and lane_count("built") == built + 1  # built again for the new settings
    assert after.status_code == 200
    assert view(client, site).status_code == 200 and lane_count("served") == served + 1


def test_data_past_its_freshness_window_goes_back_to_consonance(client, site, consonance):
    view(client, site)
    consonance.control.move_to_stage(5, "Proofs")
    assert "Proofs" not in view(client, site).get_data(as_text=True)  # within the window: the memoised page
    served, asked = lane_count("served"), consonance.control.counters()["total"]
    cache = macro_cache()
    real_clock = cache.clock
    cache.clock = lambda: real_clock() + 3600
    try:
        later = view(client, site)
    finally:
        cache.clock = real_clock
    assert lane_count("served") == served and consonance.control.counters()["total"] == asked + 1
    assert "Proofs" in later.get_data(as_text=True)


def test_a_title_never_viewed_is_fetched_once_by_the_lane(client, site, consonance):
    view(client, site)
    asked, built, deferred = consonance.control.counters()["total"], lane_count("built"), lane_count("deferred")
    other = view(client, site, query=QUERY.replace("title=5", "title=6"))
    assert other.status_code == 200 and consonance.control.counters()["total"] == asked + 1
    assert (lane_count("built"), lane_count("deferred")) == (built + 1, deferred)
    assert consonance.control.work(6)["title"].replace("'", "&#39;") in other.get_data(as_text=True)


def test_a_first_views_cache_write_waits_until_the_server_has_its_answer(client, site, consonance):
    """The title goes to the shared cache once the server has taken the answer (servers write a part out
    before asking for the next), not while the viewer waits; until then its lock is held, so nobody asks
    Consonance for it again."""
    tenant = tenants.find_tenant(tenants.CONNECT, site["clientKey"])
    key, store = cache_key(tenant, TitleRef("work", "7")), macro_cache().store
    answer = client.get(f"{PATH}?{QUERY.replace('title=5', 'title=7')}&jwt={token(site)}", buffered=False)
    assert answer.status_code == 200 and store.get(key) is None and store.lock(key, 1) is None
    assert consonance.control.work(7)["title"].replace("'", "&#39;") in answer.get_data(as_text=True)
    assert store.get(key) is not None and store.lock(key, 1) is not None  # written, and the lock freed


def test_a_view_the_lane_fetched_but_could_not_finish_is_the_routes_without_asking_again(
    client, site, consonance, monkeypatch
):
    built = MacroLane._connect_page

    def fails_after_fetching(environ, macro_key):
        built(environ, macro_key)
        raise RuntimeError("a bug after the fetch")

    monkeypatch.setattr(MacroLane, "_connect_page", staticmethod(fails_after_fetching))
    asked, deferred = consonance.control.counters()["total"], lane_count("deferred")
    started = time.monotonic()
    answer = view(client, site, query=QUERY.replace("title=5", "title=8"))
    assert answer.status_code == 200 and lane_count("deferred") == deferred + 1
    assert consonance.control.counters()["total"] == asked + 1 and time.monotonic() - started < 5


def test_what_a_view_leaves_for_after_its_answer_runs_once_the_body_is_taken_or_closed():
    ran: list[str] = []
    body = AnsweredThen([b"one", b"two"], lambda: ran.append("then"))
    assert next(body) == b"one" and next(body) == b"two" and ran == []
    assert list(body) == [] and ran == ["then"]
    body.close()
    assert ran == ["then"]  # once

    class Closable(list):
        def close(self):
            ran.append("body closed")

    ran.clear()
    stopped_early = AnsweredThen(Closable([b"one", b"two"]), lambda: ran.append("then"))
    next(stopped_early)
    stopped_early.close()  # a client gone mid-answer: the server closes it
    assert ran == ["body closed", "then"]


def test_the_production_server_sends_the_answer_before_what_a_view_left_for_after():
    """What the lane leans on: granian (the Procfile's server) writes the body out before it asks for more, so
    the viewer has the answer while the cache write runs."""
    granian = str(Path(sys.executable).with_name("granian"))
    with serving(
        lambda port: [
            *(granian, "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
            *("--blocking-threads", "2", "--http", "1", "--no-ws", "tests.web.after_answer_app:app"),
        ]
    ) as port:
        started = time.monotonic()
        answer = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
        took = time.monotonic() - started
    assert answer.text == "answered" and took < after_answer_app.JOB_SECONDS / 2, took


def test_a_message_view_built_by_the_lane_is_the_routes(client, route_only, connect_install):
    """Not connected to Consonance yet: the friendly message, the same whichever path builds it."""
    site = connect_install()
    built = lane_count("built")
    first = view(client, site)
    assert first.status_code == 200 and lane_count("built") == built + 1
    routed = route_only.get(f"{PATH}?{QUERY}&jwt={token(site)}")
    assert first.get_data(as_text=True) == routed.get_data(as_text=True)
    assert "c4c-panel" in first.get_data(as_text=True)


def test_lane_views_are_timed_under_the_routes_series(client, site):
    view(client, site)
    labels = {"route": "/connect/macro/<macro_key>", "method": "GET", "status": "200"}
    before = REGISTRY.get_sample_value("c4c_http_request_duration_seconds_count", labels) or 0.0
    view(client, site)
    assert REGISTRY.get_sample_value("c4c_http_request_duration_seconds_count", labels) == before + 1


@pytest.fixture
def lane_off(app_config):
    app_config["MACRO_LANE"] = "0"


def test_with_the_lane_off_every_view_takes_the_route(lane_off, app, client, site):
    assert not isinstance(app.wsgi_app, MacroLane)
    served = lane_count("served")
    assert view(client, site).status_code == 200 and view(client, site).status_code == 200
    assert lane_count("served") == served


# --- Forge resolver calls: POST /forge/macro/<key> with an invocation token -------------------------------

FORGE_PATH = "/forge/macro/title-status"


def forge_view(client, fit, body=None, **fit_options):
    return client.post(FORGE_PATH, json={} if body is None else body, headers=fit(config={"title": "5"}, **fit_options))


def without_forge_form_values(payload: dict) -> dict:
    html = re.sub(r'(name="idempotencyKey" value=")[^"]*(")', r"\1…\2", payload["html"])
    form = payload["form"] and {**payload["form"], "idempotencyKey": "…"}
    return {**payload, "html": html, "form": form}


def test_forge_repeats_come_from_the_lane_with_the_routes_payload(client, route_only, fit, forge_tenant, consonance):
    built, deferred = lane_count("built"), lane_count("deferred")
    first = forge_view(client, fit)
    assert first.status_code == 200
    assert (lane_count("built"), lane_count("deferred")) == (built + 1, deferred)
    routed_first = route_only.post(FORGE_PATH, json={}, headers=fit(config={"title": "5"}))
    assert without_forge_form_values(first.get_json()) == without_forge_form_values(routed_first.get_json())
    served, asked = lane_count("served"), consonance.control.counters()["total"]
    repeat = forge_view(client, fit, principal="557058:user-2")
    assert repeat.status_code == 200 and repeat.mimetype == "application/json"
    assert lane_count("served") == served + 1 and consonance.control.counters()["total"] == asked
    routed = route_only.post(FORGE_PATH, json={}, headers=fit(config={"title": "5"}, principal="557058:user-2"))
    assert without_forge_form_values(repeat.get_json()) == without_forge_form_values(routed.get_json())
    payload = repeat.get_json()
    assert payload["form"]["workId"] == "5" and re.fullmatch(r"[0-9a-f]{32}", payload["form"]["idempotencyKey"])
    assert f'value="{payload["form"]["idempotencyKey"]}"' in payload["html"]
    assert payload["viewModel"]["title"]["title"] == consonance.control.work(5)["title"]


def test_forge_refresh_is_always_the_routes(client, fit, forge_tenant, consonance):
    forge_view(client, fit)
    forge_view(client, fit)
    consonance.control.move_to_stage(5, "Proofs")
    served, asked = lane_count("served"), consonance.control.counters()["total"]
    refreshed = forge_view(client, fit, body={"call": {"payload": {"refresh": True}}})
    assert lane_count("served") == served and consonance.control.counters()["total"] == asked + 1
    assert refreshed.get_json()["viewModel"]["title"]["stage"]["name"] == "Proofs"


def test_forge_viewer_without_a_user_token_gets_no_form_from_the_lane(client, fit, forge_tenant):
    forge_view(client, fit, user_token=False)
    served = lane_count("served")
    answer = forge_view(client, fit, user_token=False)
    assert lane_count("served") == served + 1 and answer.get_json()["form"] is None


@pytest.mark.parametrize("case", ["missing", "expired", "signed by someone else"])
def test_forge_refusals_are_the_routes_own(client, route_only, fit, forge_tenant, case):
    forge_view(client, fit)
    headers = fit(config={"title": "5"})
    if case == "missing":
        headers.pop("Authorization")
    elif case == "expired":
        headers = fit(config={"title": "5"}, now=int(time.time()) - 3600)
    else:
        from cryptography.hazmat.primitives.asymmetric import rsa

        from tests.platform.signing import fit_claims, sign_rs256

        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        claims = fit_claims(INSTALLATION, site_url=SITE)
        claims["context"]["extension"]["config"] = {"title": "5"}
        headers["Authorization"] = "Bearer " + sign_rs256(claims, stranger, "forge-1")
    served = lane_count("served")
    refused = client.post(FORGE_PATH, json={}, headers=headers)
    expected = route_only.post(FORGE_PATH, json={}, headers=headers)
    assert refused.status_code == 401 and lane_count("served") == served
    assert refused.get_json() == expected.get_json() and "html" not in refused.get_json()


def test_forge_lane_keeps_the_newest_system_token_without_dropping_memoised_views(app, client, fit, forge_tenant):
    forge_view(client, fit)
    forge_view(client, fit)
    headers = fit(config={"title": "5"})
    headers["x-forge-oauth-system"] = "system-token-2"
    served = lane_count("served")
    assert client.post(FORGE_PATH, json={}, headers=headers).status_code == 200
    assert lane_count("served") == served + 1  # a new system token changes no view
    db.session.expire_all()  # the lane wrote through its own session: read the row as stored now
    assert tenants.get_secret(forge_tenant, tenants.FORGE_SYSTEM_TOKEN) == "system-token-2"


@pytest.mark.parametrize("body, lane", [(b"not json", True), (b"[1, 2]", True)])
def test_forge_bodies_the_route_would_ignore(client, fit, forge_tenant, body, lane):
    forge_view(client, fit)
    served = lane_count("served")
    answer = client.post(
        FORGE_PATH, data=body, headers={**fit(config={"title": "5"}), "Content-Type": "application/json"}
    )
    assert answer.status_code == 200 and answer.get_json()["viewModel"]["title"]["workId"] == "5"
    assert lane_count("served") == served + (1 if lane else 0)


@pytest.mark.parametrize("body", [b"{" * 70_000, b"[" * 1_000 + b"]" * 1_000, b'{"a":' * 40 + b"1" + b"}" * 40])
def test_forge_bodies_nested_too_deep_are_refused_by_the_route_not_served_by_the_lane(client, fit, forge_tenant, body):
    forge_view(client, fit)
    served = lane_count("served")
    answer = client.post(
        FORGE_PATH, data=body, headers={**fit(config={"title": "5"}), "Content-Type": "application/json"}
    )
    assert answer.status_code == 400 and answer.get_json()["error"] == "bad_request"
    assert "nested too deeply" in answer.get_json()["message"]
    assert lane_count("served") == served


# --- query decoding: the lane must read `title`, `pageId` and `jwt` exactly as request.args does -----------

_pieces = st.one_of(
    st.sampled_from(["title", "pageId", "jwt", "ti%74le", "title+", "page%49d", "x", "", "="]),
    st.text(alphabet="abc129=+&%;_.-~", max_size=6),
    st.binary(max_size=4).map(lambda raw: quote(raw, safe="")),
    st.text(max_size=3).map(lambda text: quote(text, safe="")),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_pieces, st.sampled_from(["=", "", "=="]), _pieces), max_size=5), st.booleans())
def test_query_arguments_decode_exactly_like_request_args(pairs, trailing_ampersand):
    query = "&".join(f"{name}{equals}{value}" for name, equals, value in pairs) + ("&" if trailing_ampersand else "")
    args = Request(EnvironBuilder(query_string=query).get_environ()).args
    found = query_arguments(query)
    for name in ("title", "pageId", "jwt"):
        assert found.get(name) == args.get(name), (query, name)


class _ContextCapture(logging.Handler):
    """Each record with the log context it was written in (what the JSON log lines carry)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.seen: list[tuple[str, dict]] = []

    def emit(self, record):
        self.seen.append((record.getMessage(), logs.current_context()))


def test_a_slow_view_is_logged_with_its_route_tenant_and_request(client, site, monkeypatch):
    """An operator asked "why was that panel slow?" finds the view in the log, not only in a histogram."""
    capture, logger = _ContextCapture(), logging.getLogger("addon.metrics")
    logger.addHandler(capture)
    try:
        monkeypatch.setattr(metrics, "SLOW_REQUEST_SECONDS", 0.0)
        answer = view(client, site)
        monkeypatch.setattr(metrics, "SLOW_REQUEST_SECONDS", 60.0)
        view(client, site)
    finally:
        logger.removeHandler(capture)
    assert answer.status_code == 200
    [(message, context)] = capture.seen
    assert message.startswith("slow request: GET /connect/macro/<macro_key> answered 200 after ")
    with client.application.app_context():
        tenant = tenants.find_tenant(tenants.CONNECT, site["clientKey"])
    assert context == {
        "request_id": answer.headers["X-Request-Id"],
        "route": "connect.macro",
        "tenant": tenant.log_name,
    }


def test_a_view_holds_a_turn_while_it_works_and_a_first_view_gives_it_back_to_ask_consonance(client, site, monkeypatch):
    lane = client.application.wsgi_app
    free_turns: dict[str, int] = {}

    def noting(name, real):
        def noted(*args, **kwargs):
            free_turns.setdefault(name, lane.interpreter_turns._free)
            return real(*args, **kwargs)

        return noted

    monkeypatch.setattr(answers, "cached_connect_page", noting("looked in memory", answers.cached_connect_page))
    monkeypatch.setattr(answers, "connect_page", noting("built a first view", answers.connect_page))
    assert view(client, site).status_code == 200
    assert view(client, site).status_code == 200
    assert free_turns == {"looked in memory": TURNS - 1, "built a first view": TURNS}
    assert lane.interpreter_turns._free == TURNS  # every turn back once the views are answered


def test_views_take_no_turn_while_the_process_cannot_trust_its_own_copies(client, site, monkeypatch):
    """Redis unreachable (the bus not listening): views read through to it, and a Redis that does not answer must
    not hold every turn through its timeouts."""
    lane = client.application.wsgi_app
    assert view(client, site).status_code == 200  # built: the next one is served from memory
    free_turns: list[int] = []
    real = answers.cached_connect_page

    def noted(*args, **kwargs):
        free_turns.append(lane.interpreter_turns._free)
        return real(*args, **kwargs)

    monkeypatch.setattr(answers, "cached_connect_page", noted)
    monkeypatch.setattr(macro_lane.invalidation, "bus", lambda app: SimpleNamespace(healthy=False))
    assert view(client, site).status_code == 200
    assert free_turns == [TURNS]
