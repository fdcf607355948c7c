"""The parts of the sync flows that need no server: event classification, dedupe keys, the stage
guide parser, the summary schedule and the PNG chart."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime

from addon.confluence.owned_regions import region_storage, replace_region
from addon.flows import change_detection as cd
from addon.flows import page_templates as templates
from addon.flows.pipeline_summaries import bar_chart_png, due_cadences
from addon.flows.stage_status import parse_stage_guide, stage_label
from addon.flows.sync_models import TitleSnapshot
from addon.publishing.domain import FormatFingerprint, FormatKind, TitleFingerprint
from addon.publishing.guidance import guidance_for
from addon.settings.schema import with_defaults


def _fp(stage="Editorial", pub=date(2027, 5, 1), isbn="9781910000011", season="Summer 2027"):
    fmt = FormatFingerprint(
        "p1", FormatKind.HARDBACK, isbn, None, pub, pub, "02", ("GBP",), ("BISAC:FIC000000*",), True, True
    )
    return TitleFingerprint("7", "A Title", stage, season, "Core", (("A. Author", "A01"),), (fmt,))


def _snapshot(fp, tracked=True):
    return TitleSnapshot(work_id=fp.work_id, tracked=tracked, revision=3, **cd.snapshot_values(fp))


def test_each_kind_of_change_raises_its_own_event():
    old = _fp()
    row = _snapshot(old)
    assert cd.classify(row, old, cd.snapshot_values(old), None) == []
    moved = _fp(stage="Copy-editing")
    assert cd.classify(row, moved, cd.snapshot_values(moved), None) == [cd.STAGE_CHANGED]
    slipped = _fp(pub=date(2027, 6, 1))
    assert cd.classify(row, slipped, cd.snapshot_values(slipped), None) == [cd.DATES_CHANGED]
    isbn = _fp(isbn=None)
    assert cd.classify(row, isbn, cd.snapshot_values(isbn), None) == [cd.READINESS_CHANGED]
    rights = replace(old, formats=(replace(old.formats[0], not_for_sale_countries=("US",)),))
    assert cd.classify(row, rights, cd.snapshot_values(rights), None) == [cd.RIGHTS_CHANGED]
    licensed = replace(old, licensed_rights=(("Translation", ("FR",)),))
    assert cd.classify(row, licensed, cd.snapshot_values(licensed), None) == [cd.RIGHTS_CHANGED]
    both = replace(_fp(stage="Proofs", pub=date(2027, 7, 1)))
    assert cd.classify(row, both, cd.snapshot_values(both), None) == [cd.STAGE_CHANGED, cd.DATES_CHANGED]


def test_untracked_work_is_acquired_only_on_entering_a_configured_stage():
    row = _snapshot(_fp(stage="Acquisition"), tracked=False)
    contracted = _fp(stage="Contracted")
    assert cd.classify(row, contracted, cd.snapshot_values(contracted), ["Contracted"]) == [cd.TITLE_ACQUIRED]
    assert cd.classify(row, contracted, cd.snapshot_values(contracted), None) == []  # default: new works only
    editorial = _fp(stage="Editorial")
    assert cd.classify(row, editorial, cd.snapshot_values(editorial), ["Contracted"]) == []


def test_dedupe_keys_repeat_for_a_repeat_and_differ_for_a_flip_back():
    first = cd.ChangeEvent(cd.STAGE_CHANGED, "7", "abc", 1)
    assert first.dedupe_key == cd.ChangeEvent(cd.STAGE_CHANGED, "7", "abc", 1).dedupe_key
    assert first.dedupe_key != cd.ChangeEvent(cd.STAGE_CHANGED, "7", "abc", 3).dedupe_key  # A→B→A→B
    assert len(cd.ChangeEvent(cd.RIGHTS_CHANGED, "9" * 64, "f" * 65, 10**9).dedupe_key) <= 255


def test_stage_guide_table_is_read_by_header_names():
    storage = (
        "<p>intro</p><table><tbody><tr><th>Next step</th><th>Stage</th><th>Reviewers</th></tr>"
        "<tr><td>Send the letter.</td><td> Manuscript  Delivered </td><td>Ana</td></tr>"
        "<tr><td></td><td>Proofs</td><td>Tom</td></tr></tbody></table>"
    )
    guide = parse_stage_guide(storage)
    assert guide == {"manuscript delivered": ("Ana", "Send the letter."), "proofs": ("Tom", "")}
    proofs = guidance_for("Proofs", guide)
    assert proofs.reviewers == "Tom" and proofs.next_step.startswith("Collect proof corrections")  # default text
    assert guidance_for("Typesetting", guide).source == "default"
    assert parse_stage_guide("<table><tbody><tr><th>Name</th></tr></tbody></table>") == {}


def test_status_region_renders_the_same_bytes_twice():
    guidance = guidance_for("Editorial", {})
    first = templates.status_region_inner("7", guidance)
    page = "<p>mine</p>" + region_storage(templates.STATUS_REGION, first)
    assert replace_region(page, templates.STATUS_REGION, templates.status_region_inner("7", guidance)) == page
    assert stage_label("Copy-editing") == "consonance-stage-copy-editing"
    assert stage_label("Manuscript delivered") == "consonance-stage-manuscript-delivered"


def test_summaries_fall_due_after_their_scheduled_moment():
    settings = with_defaults(
        {
            "summary_weekly_day": "wednesday",
            "summary_weekly_time": "07:30",
            "summary_monthly_day": 3,
            "summary_timezone": "Europe/London",
        }
    )
    tuesday = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert due_cadences(settings, tuesday) == []
    wednesday_early = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert due_cadences(settings, wednesday_early) == []
    wednesday = datetime(2026, 12, 2, 7, 45, tzinfo=UTC)
    assert [c for c, _ in due_cadences(settings, wednesday)] == ["weekly"]
    thursday = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert [c for c, _ in due_cadences(settings, thursday)] == ["weekly", "monthly"]


def _decode_png(data: bytes):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        assert (
            struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + body) & 0xFFFFFFFF
        )
        chunks.setdefault(kind, b"")
        chunks[kind] += body
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    raw = zlib.decompress(chunks[b"IDAT"])
    assert len(raw) == height * (1 + width * 3)
    return width, height, raw


def test_chart_is_a_valid_png_with_a_labelled_bar_per_stage_following_the_counts():
    rows = [("Writing", 1), ("Editorial", 4), ("Proofs", 0), ("Production", 2)]
    width, height, raw = _decode_png(bar_chart_png(rows, width=300))
    assert width == 300 and height == 4 * 26 + 20
    stride = 1 + width * 3

    def pixel(x, y):
        return raw[y * stride + 1 + x * 3 : y * stride + 4 + x * 3]

    def bar_length(row):
        y = 10 + row * 26 + 8
        return sum(pixel(x, y) == bytes((0, 82, 204)) for x in range(width))

    lengths = [bar_length(i) for i in range(4)]
    assert lengths[2] == 0 and lengths[1] > lengths[3] > lengths[0] > 0

    def label_ink(row):  # the stage name is drawn left of the axis, on the bar's row
        return sum(pixel(x, y) != b"\xff\xff\xff" for x in range(0, 190) for y in range(10 + row * 26, 30 + row * 26))

    assert all(label_ink(i) > 0 for i in range(4))
    assert bar_chart_png(rows) == bar_chart_png(rows)
    assert bar_chart_png(rows) != bar_chart_png([("Writing", 1), ("Editorial", 4), ("Proofs", 1), ("Production", 2)])
    assert bar_chart_png(rows) != bar_chart_png([("Writing", 1), ("Copy-editing", 4), ("Proofs", 0), ("Production", 2)])


def test_stage_guide_as_admins_write_it_in_the_new_editor():
    """Names in paragraphs, a merged reviewers cell, a page properties table above the guide, "Stage:"."""
    storage = (
        '<ac:structured-macro ac:name="details"><ac:rich-text-body><table><tbody>'
        "<tr><th><p>Stage</p></th><td><p>Approved</p></td></tr><tr><th><p>Owner</p></th><td><p>Jo</p></td></tr>"
        "</tbody></table></ac:rich-text-body></ac:structured-macro>"
        "<table><tbody><tr><th><p>Stage:</p></th><th><p>Reviewers</p></th><th><p>Next step</p></th></tr>"
        "<tr><td><p>Proofs</p></td><td><p>Anna Smith</p><p>Ben Jones</p></td>"
        "<td><p>Collect corrections.<br />Then send to the typesetter.</p></td></tr>"
        '<tr><td><p>Copy-editing</p></td><td rowspan="2"><p>Managing editor</p></td><td><p>Send it out</p></td></tr>'
        "<tr><td><p>Typesetting</p></td><td><p>Check first pages</p></td></tr></tbody></table>"
    )
    assert parse_stage_guide(storage) == {
        "proofs": ("Anna Smith, Ben Jones", "Collect corrections. Then send to the typesetter."),
        "copy-editing": ("Managing editor", "Send it out"),
        "typesetting": ("Managing editor", "Check first pages"),
    }
