"""View models: pure functions from domain objects to what the panels show."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from addon.macros import views
from addon.macros.service import TitleRef, parse_title_ref
from addon.publishing.domain import Contract, FormatKind, LicensedRight, PublishingStatus, Stage
from tests.publishing.factories import make_format, make_title

TODAY = date(2026, 12, 1)


def meta(**changes):
    at = datetime(2026, 11, 28, 14, 2, tzinfo=ZoneInfo("Europe/London")).timestamp()
    return views.Freshness(at, **changes)


def test_stale_data_carries_the_as_of_time_and_the_notice_in_the_tenant_zone():
    shown = views.freshness_view(meta(fresh=False, error="ConsonanceUnavailable"))
    assert shown["asOf"] == "14:02"
    assert shown["notice"] == "as of 14:02 — Consonance is not answering"
    assert shown["stale"] is True
    fresh = views.freshness_view(meta())
    assert fresh["notice"] is None and fresh["stale"] is False
    new_york = views.freshness_view(replace(meta(), zone="America/New_York"))
    assert new_york["asOf"] == "09:02"


def test_title_status_shows_stage_formats_slip_and_next_step():
    slipped = make_format(FormatKind.HARDBACK, publication=date(2027, 3, 4), publication_date=date(2027, 4, 3))
    title = make_title(stage="Proofs", formats=(slipped, make_format(FormatKind.EBOOK)))
    view = views.title_status_view(title, host="https://web.consonance.app", meta=meta(), today=TODAY)
    assert view["title"]["stage"] == {"name": "Proofs", "appearance": "inprogress"}
    assert view["title"]["consonanceUrl"] == "https://web.consonance.app/works/w-101"
    assert [c["name"] for c in view["contributors"]] == ["Amelia Okafor", "Tomasz Lindqvist"]
    hardback = view["formats"][0]
    assert (hardback["kind"], hardback["isbn"], hardback["slipDays"]) == ("Hardback", "9781402894626", 30)
    assert hardback["planned"] == "4 Mar 2027" and hardback["actual"] == "3 Apr 2027"
    assert view["nextStage"] == "Production"
    assert view["nextStep"].startswith("Collect proof corrections")
    assert view["decisionChoices"][0] == {"value": "approve_stage", "label": "Approve stage (move to Production)"}


def test_a_published_title_cannot_be_approved_further():
    view = views.title_status_view(make_title(stage="Published"), host=None, meta=meta(), today=TODAY)
    assert [c["value"] for c in view["decisionChoices"]] == ["request_changes", "hold", "note"]
    assert view["title"]["consonanceUrl"] is None


RIGHTS_TITLE = make_title(
    formats=(
        make_format(
            FormatKind.HARDBACK,
            for_sale_countries=("GB", "IE"),
            not_for_sale_countries=("US", "CA"),
            sales_rights_description="UK & Commonwealth excl. Canada",
        ),
    ),
    contracts=(
        Contract(
            "c-1",
            "Translation licence: Germany",
            licensed_rights=(LicensedRight("Translation"), LicensedRight("Audio")),
        ),
    ),
)


@pytest.mark.parametrize(
    "rule, matches",
    [
        ({"territory": "US", "page_id": "1"}, True),  # a not-for-sale country still has guidance
        ({"territory": "FR", "page_id": "1"}, False),
        ({"territory": "World", "page_id": "1"}, False),
        ({"territory": "commonwealth", "page_id": "1"}, True),  # words of the sales-rights description
        ({"right_type": "audio", "page_id": "1"}, True),
        ({"right_type": "Film & TV", "page_id": "1"}, False),
        ({"contract_type": "translation licence", "page_id": "1"}, True),
        ({"territory": "GB", "right_type": "Film & TV", "page_id": "1"}, False),  # every criterion must match
        ({"page_id": "1"}, False),  # a rule with no criteria matches nothing
    ],
)
def test_rights_guidance_follows_the_admins_mapping_rules(rule, matches):
    view = views.rights_link_view(
        RIGHTS_TITLE,
        host=None,
        meta=meta(),
        mappings=[{"label": "Guide", **rule}],
        site_url="https://acme.atlassian.net",
    )
    assert bool(view["guidance"]) is matches
    if matches:
        assert view["guidance"][0]["url"] == "https://acme.atlassian.net/wiki/pages/viewpage.action?pageId=1"


def test_rights_position_lists_territories_and_licensed_rights():
    view = views.rights_link_view(RIGHTS_TITLE, host=None, meta=meta(), mappings=[], site_url=None)
    assert view["rights"]["forSale"] == ["GB", "IE"]
    assert view["rights"]["notForSale"] == ["CA", "US"]
    assert view["rights"]["forSaleNames"] == ["United Kingdom", "Ireland"]  # what the panel shows
    assert view["rights"]["notForSaleNames"] == ["Canada", "United States"]
    assert view["rights"]["licensedRights"] == ["Audio", "Translation"]
    assert view["rights"]["worldRights"] is False and view["hasMappings"] is False


def test_metadata_checklist_puts_failures_first_with_value_and_fix():
    broken = make_format(
        FormatKind.EBOOK, isbn13=None, isbn_raw="978-0-00-000000-1", isbn_problem="bad ISBN-13 check digit"
    )
    view = views.metadata_checklist_view(make_title(formats=(make_format(), broken)), host=None, meta=meta())
    assert view["failedCount"] >= 1 and 0 < view["completion"] < 100
    first = view["checks"][0]
    assert first["passed"] is False and first["fix"]
    assert "Ebook" in first["format"]
    assert all(c["passed"] for c in view["checks"][view["failedCount"] :])
    complete = views.metadata_checklist_view(make_title(), host=None, meta=meta())
    assert complete["completion"] == 100.0 and complete["failedCount"] == 0


def test_launch_readiness_says_dont_announce_yet_with_reasons():
    soon = date(2027, 1, 2)
    no_cover = make_format(FormatKind.HARDBACK, has_cover=False, prices=(), publication=soon)
    view = views.launch_readiness_view(
        make_title(formats=(no_cover, make_format(FormatKind.EBOOK, publication=soon))),
        host=None,
        meta=meta(),
        today=TODAY,
    )
    verdict = view["verdict"]
    assert (verdict["go"], verdict["headline"], verdict["appearance"], verdict["kind"]) == (
        False,
        "Don't announce yet",
        "removed",
        "no_go",
    )
    assert any(r.startswith("Hardback") and ": no price yet (needed by" in r for r in view["reasons"])
    assert any(r.startswith("Hardback") and ": no cover image yet (needed by" in r for r in view["reasons"])
    assert view["publication"] == {
        "date": "2 Jan 2027",
        "daysAway": (date(2027, 1, 2) - TODAY).days,
        "ago": None,  # still to come
        "published": False,
    }
    hardback = view["formats"][0]
    failing = {check["label"] for check in hardback["checks"] if not check["ok"]}
    assert hardback["ready"] is False and failing >= {"Price", "Cover"}
    assert {c["state"] for c in hardback["checks"] if not c["ok"]} == {"late"}
    isbn = next(c for c in hardback["checks"] if c["label"] == "ISBN")
    assert isbn["detail"] == "9781402894626"  # not "ISBN ISBN 978…"


def test_launch_readiness_go_when_every_format_is_ready_and_published_when_out():
    ready = views.launch_readiness_view(make_title(), host=None, meta=meta(), today=TODAY)
    assert ready["verdict"]["go"] is True and ready["verdict"]["headline"] == "Ready to announce"
    assert ready["reasons"] == []
    out = make_title(formats=(make_format(status="04", publication_date=date(2026, 1, 5)),))
    published = views.launch_readiness_view(out, host=None, meta=meta(), today=TODAY)
    assert published["verdict"]["headline"] == "Published"


def test_launch_readiness_without_a_date_or_formats_is_no_go():
    view = views.launch_readiness_view(make_title(formats=()), host=None, meta=meta(), today=TODAY)
    assert view["verdict"]["go"] is False
    assert view["reasons"] == ["No formats are set up in Consonance yet."]
    assert view["publication"] == {"date": None, "daysAway": None, "ago": None, "published": False}


def test_messages_say_what_to_do():
    assert "choose a title" in views.message_view("title-status", "no_title")["message"]["body"]
    assert "“12ab”" in views.message_view("rights-link", "not_found", title_ref="12ab")["message"]["body"]
    admin = views.message_view("title-status", "not_configured", viewer_is_admin=True)["message"]["body"]
    other = views.message_view("title-status", "not_configured")["message"]["body"]
    assert "API key" in admin and "Ask a Confluence administrator" in other
    unavailable = views.message_view("title-status", "unavailable")
    assert unavailable["canRefresh"] is True and "Refresh" in unavailable["message"]["body"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("123", TitleRef("work", "123")),
        (" 978-1-4028-9462-6 ", TitleRef("isbn", "9781402894626")),
        ("9781402894626", TitleRef("isbn", "9781402894626")),
        ("0-306-40615-2", TitleRef("isbn", "9780306406157")),  # a hyphenated ISBN-10
        ("0306406152", TitleRef("work", "0306406152")),  # ten bare digits are read as a work id
        ("", None),
        ("robert'); drop", None),
        ("12-ab", None),
    ],
)
def test_title_parameter_is_a_work_id_or_an_isbn(raw, expected):
    assert parse_title_ref(raw) == expected


def test_stage_appearances_and_next_stage():
    assert views.stage_view(Stage("Published"))["appearance"] == "success"
    assert views.stage_view(Stage("Something custom"))["appearance"] == "default"
    assert views.next_stage_name(Stage("Acquisition")) == "Contracted"
    assert views.next_stage_name(Stage("Published")) is None
    assert views.next_stage_name(None) is None
    assert views.title_status_view(
        make_title(formats=(make_format(publishing_status=PublishingStatus("04", "Active")),)),
        host=None,
        meta=meta(),
        today=TODAY,
    )["formats"][0]["status"] == {"text": "Active", "appearance": "success"}


def test_a_format_with_no_isbn_on_purpose_says_so_once():
    none_on_purpose = make_format(FormatKind.EBOOK, isbn13=None, isbn_raw="No ISBN", isbn_problem="No ISBN")
    broken = make_format(
        FormatKind.AUDIOBOOK, isbn13=None, isbn_raw="978-0-00-000000-1", isbn_problem="bad check digit"
    )
    view = views.title_status_view(
        make_title(formats=(none_on_purpose, broken)), host=None, meta=meta(), today=TODAY, guidance=None
    )
    shown = {f["kind"]: (f["isbn"], f["isbnProblem"]) for f in view["formats"]}
    assert shown["Ebook"] == ("No ISBN", None)
    assert shown["Audiobook"] == ("978-0-00-000000-1", "bad check digit")


def test_a_backlist_title_published_long_ago_is_dated_in_years_not_days():
    old = make_format(FormatKind.HARDBACK, publication=date(2023, 12, 2), status="04")
    view = views.launch_readiness_view(
        make_title(formats=(old,), stage="Published"), host=None, meta=meta(), today=TODAY
    )
    assert view["publication"]["ago"] == f"{round((TODAY - date(2023, 12, 2)).days / 365.25)} years ago"
