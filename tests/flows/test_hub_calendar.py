"""The campaign calendar reads marketing's own dates off a launch hub the way marketing writes them."""

from __future__ import annotations

from datetime import date

from addon.flows.hub_calendar import marketing_dates


def test_a_table_with_a_header_column_gives_its_typed_dates():
    page = (
        "<table><tbody><tr><th><p>Bookseller ad</p></th><td><p>12 March 2027</p></td></tr>"
        "<tr><th><p>Proof mailing</p></th><td><p>2027-02-01</p></td></tr></tbody></table>"
    )
    assert [(d.day, d.what) for d in marketing_dates(page, [])] == [
        (date(2027, 3, 12), "Bookseller ad 12 March 2027"),
        (date(2027, 2, 1), "Proof mailing 2027-02-01"),
    ]


def test_a_status_lozenge_reads_as_its_title_not_its_colour():
    page = (
        "<table><tbody><tr><td><p>Ad for The Salt Road</p></td>"
        '<td><p><time datetime="2027-03-12" /></p></td><td><p><ac:structured-macro ac:name="status">'
        '<ac:parameter ac:name="colour">Green</ac:parameter><ac:parameter ac:name="title">Booked</ac:parameter>'
        "</ac:structured-macro></p></td></tr></tbody></table>"
    )
    [found] = marketing_dates(page, ["The Salt Road"])
    assert (found.day, found.what, found.title) == (
        date(2027, 3, 12),
        "Ad for The Salt Road 2027-03-12 Booked",
        "The Salt Road",
    )


def test_a_date_typed_in_a_list_item_sentence_is_read():
    page = (
        "<h2>Announcements</h2><ul><li><p>12 February 2027: Glass Cartographer launch party at Foyles</p></li>"
        "<li><p>Blog tour starts Feb 15, 2027</p></li><li><p>No date here, 2027 at some point</p></li></ul>"
    )
    assert [(d.day, d.title) for d in marketing_dates(page, ["The Glass Cartographer", "Glass Cartographer"])] == [
        (date(2027, 2, 12), "Glass Cartographer"),
        (date(2027, 2, 15), ""),
    ]


def test_the_month_grid_names_a_title_once():
    from addon.flows.hub_calendar import CalendarDate, calendar_inner

    dates = [CalendarDate(date(2027, 3, 12), "Ad for The Salt Road", "The Salt Road", "marketing")]
    grid = str(calendar_inner(dates, {}))
    assert "Ad for The Salt Road: The Salt Road" not in grid and "Ad for The Salt Road" in grid
