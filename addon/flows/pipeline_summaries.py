"""F7: weekly and monthly pipeline summary pages for leadership, on each tenant's schedule.

The generated part (titles by stage with a bar chart, overdue items, format readiness, release risks)
lives in one owned region; Commentary and Action items are outside it, so regeneration never touches
them. The chart is a PNG drawn here (no plotting library) and re-uploaded only when its bytes change.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import struct
import zlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from addon.confluence.storage import trusted
from addon.extensions import db
from addon.flows import page_templates as templates
from addon.flows.launch_hubs import find_or_create_sync_page, readiness_policy, rewrite_region, sync_page_location
from addon.gateways import NotConfigured, gateways
from addon.jobs.models import OutboxEntry
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.schedule import scheduled
from addon.platform.models import Tenant, utcnow
from addon.publishing.pipeline import MONTHLY, REPORTABLE, WEEKLY, period_for, summarise_pipeline
from addon.settings.schema import WEEKDAYS
from addon.settings.service import get_settings
from addon.standards.service import current_rule_set

log = logging.getLogger("addon.flows.pipeline_summaries")

KIND = "confluence.pipeline_summary"
PROPERTY_KEY = "consonance-pipeline-summary"


# ------------------------------------------------------------------ when
def due_cadences(settings, now: datetime) -> list[tuple[str, date]]:
    """(cadence, local day) for each summary whose scheduled moment in this period has passed."""
    zone = ZoneInfo(settings.summary_timezone)
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in settings.summary_weekly_time.split(":"))
    at = time(hour, minute)
    today = local.date()
    due = []
    week_start = today - timedelta(days=today.weekday())
    weekly_moment = datetime.combine(week_start + timedelta(days=WEEKDAYS.index(settings.summary_weekly_day)), at, zone)
    if local >= weekly_moment:
        due.append((WEEKLY, today))
    monthly_moment = datetime.combine(today.replace(day=settings.summary_monthly_day), at, zone)
    if local >= monthly_moment:
        due.append((MONTHLY, today))
    return due


def _owed(tenant: Tenant, dedupe_key: str) -> bool:
    return (
        db.session.execute(
            sa.select(OutboxEntry.id).where(OutboxEntry.tenant_id == tenant.id, OutboxEntry.dedupe_key == dedupe_key)
        ).first()
        is not None
    )


def owe_summary(tenant: Tenant, cadence: str, today: date, *, dedupe_key: str | None = None) -> bool:
    """Read the catalogue, render the summary and owe its page write; by default once per period
    (a later call in the same period reads nothing and returns False). The caller commits."""
    key = dedupe_key or f"summary:{cadence}:{period_for(today, cadence).key}"
    if _owed(tenant, key):
        return False
    payload = summary_content(tenant, gateways().consonance(tenant), cadence, today)
    enqueue(tenant, "confluence", KIND, payload, dedupe_key=key)
    return True


def regenerate_summary(tenant: Tenant, cadence: str, today: date) -> bool:
    """Owe a fresh regeneration (an admin's "Regenerate"); reads the whole catalogue, so run it in a job."""
    return owe_summary(
        tenant, cadence, today, dedupe_key=f"summary:{cadence}:{period_for(today, cadence).key}:{utcnow().isoformat()}"
    )


REGENERATE_JOB = "addon.flows.pipeline_summaries.run_regeneration"


def local_today(tenant: Tenant) -> date:
    """Today where the tenant's summaries are dated (its summary time zone)."""
    return utcnow().astimezone(ZoneInfo(get_settings(tenant).summary_timezone)).date()


def request_regeneration(tenant: Tenant, cadence: str, actor: str | None) -> bool:
    """An admin pressed Regenerate: one background job per period and minute (a double click is one),
    which reads Consonance afresh and owes the rewrite of the generated region only."""
    from addon.jobs.runner import submit

    if cadence not in (WEEKLY, MONTHLY):
        raise ValueError(f"cadence must be {WEEKLY!r} or {MONTHLY!r}")
    if not get_settings(tenant).consonance_host:
        return False
    today = local_today(tenant)
    minute = utcnow().strftime("%Y%m%dT%H%M")
    submit(
        REGENERATE_JOB,
        args=(tenant.id, cadence, today.isoformat()),
        tenant_id=tenant.id,
        kind="pipeline_summary_regenerate",
        dedupe_key=f"regenerate:{tenant.id}:{cadence}:{period_for(today, cadence).key}:{minute}",
        queue="low",
    )
    log.info("regeneration of the %s summary requested by %s", cadence, actor or "an admin")
    return True


def run_regeneration(tenant_id: int, cadence: str, day: str) -> dict:
    """Job function behind Regenerate."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None or not tenant.enabled or tenant.uninstalled_at is not None:
        return {"skipped": 1}
    owed = regenerate_summary(tenant, cadence, date.fromisoformat(day))
    db.session.commit()
    return {"owed": int(owed)}


@scheduled("pipeline_summary", every=timedelta(hours=1), queue="low")
def schedule_summaries(tenant: Tenant) -> dict:
    """Hourly: owe this period's weekly/monthly page once its scheduled moment has passed."""
    settings = get_settings(tenant)
    if not settings.consonance_host:
        return {"skipped": 1}  # not connected to Consonance yet
    owed = 0
    for cadence, today in due_cadences(settings, utcnow()):
        owed += owe_summary(tenant, cadence, today)
        db.session.commit()
    return {"owed": owed}


# ------------------------------------------------------------------ the chart
_DIGITS = {  # 3x5 bitmaps, rows top to bottom
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "010", "010", "010"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}
_LETTERS = {  # 3x5 capitals for the stage labels
    "A": ("010", "101", "111", "101", "101"),
    "B": ("110", "101", "110", "101", "110"),
    "C": ("011", "100", "100", "100", "011"),
    "D": ("110", "101", "101", "101", "110"),
    "E": ("111", "100", "110", "100", "111"),
    "F": ("111", "100", "110", "100", "100"),
    "G": ("011", "100", "101", "101", "011"),
    "H": ("101", "101", "111", "101", "101"),
    "I": ("111", "010", "010", "010", "111"),
    "J": ("001", "001", "001", "101", "010"),
    "K": ("101", "101", "110", "101", "101"),
    "L": ("100", "100", "100", "100", "111"),
    "M": ("101", "111", "111", "101", "101"),
    "N": ("110", "101", "101", "101", "101"),
    "O": ("010", "101", "101", "101", "010"),
    "P": ("110", "101", "110", "100", "100"),
    "Q": ("010", "101", "101", "110", "011"),
    "R": ("110", "101", "110", "101", "101"),
    "S": ("011", "100", "010", "001", "110"),
    "T": ("111", "010", "010", "010", "010"),
    "U": ("101", "101", "101", "101", "111"),
    "V": ("101", "101", "101", "101", "010"),
    "W": ("101", "101", "111", "111", "101"),
    "X": ("101", "101", "010", "101", "101"),
    "Y": ("101", "101", "010", "010", "010"),
    "Z": ("111", "001", "010", "100", "111"),
    "-": ("000", "000", "111", "000", "000"),
    " ": ("000", "000", "000", "000", "000"),
    "?": ("111", "001", "010", "000", "010"),
}
_GLYPHS = {**_DIGITS, **_LETTERS}
_BAR = (0, 82, 204)
_AXIS = (66, 82, 110)
_ROW = 26
_LABEL_WIDTH = 200


def png_bytes(width: int, height: int, pixels: bytearray) -> bytes:
    """Encode RGB rows as a PNG (signature, IHDR, one zlib IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    stride = width * 3
    raw = b"".join(b"\x00" + bytes(pixels[y * stride : (y + 1) * stride]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bar_chart_png(rows: list[tuple[str, int]], *, width: int = 640) -> bytes:
    """A horizontal bar per stage: its name on the left, its bar, and its count at the bar's end.
    Deterministic bytes for the same rows (the page attaches it again only when they change)."""
    height = max(1, len(rows)) * _ROW + 20
    pixels = bytearray(b"\xff" * (width * height * 3))

    def fill(x0, y0, x1, y1, colour):
        for y in range(max(0, y0), min(height, y1)):
            row = y * width * 3
            for x in range(max(0, x0), min(width, x1)):
                pixels[row + x * 3 : row + x * 3 + 3] = bytes(colour)

    left, right = _LABEL_WIDTH, width - 50
    fill(left - 2, 6, left, height - 8, _AXIS)
    peak = max([count for _, count in rows] + [1])
    for index, (label, count) in enumerate(rows):
        top = 10 + index * _ROW
        _draw_text(fill, label.upper()[:24], 6, top + 4)
        length = round((right - left) * count / peak)
        fill(left, top, left + length, top + _ROW - 8, _BAR)
        _draw_text(fill, str(count), left + length + 6, top + 4)
    return png_bytes(width, height, pixels)


def _draw_text(fill, text: str, left_x: int, top_y: int, scale: int = 2) -> None:
    x = left_x
    for char in text:
        for row, bits in enumerate(_GLYPHS.get(char, _GLYPHS["?"])):
            for col, bit in enumerate(bits):
                if bit == "1":
                    fill(x + col * scale, top_y + row * scale, x + (col + 1) * scale, top_y + (row + 1) * scale, _AXIS)
        x += 4 * scale


# ------------------------------------------------------------------ the page
def _titles_and_tasks(gateway, tasks: list):
    """The catalogue's titles, collecting every open to-do Consonance holds on the way (one pass)."""
    for title, open_tasks in gateway.iter_pipeline():
        tasks.extend(open_tasks)
        yield title


def summary_content(tenant: Tenant, gateway, cadence: str, today: date) -> dict:
    """The rendered summary for the period containing `today`: the outbox payload of its page write.

    The slow part (the whole catalogue from Consonance) happens here, in the scheduled job, so the
    outbox handler only writes to Confluence and finishes well inside its lease.
    """
    tasks: list = []
    try:
        client = gateways().confluence(tenant)
    except NotConfigured:
        client = None  # the summary can still be made; its page write will say what is missing
    policy = readiness_policy(tenant, client)
    summary = summarise_pipeline(
        _titles_and_tasks(gateway, tasks),  # consumed before the tasks are read
        today,
        cadence=cadence,
        tasks=tasks,
        rule_set=current_rule_set(tenant),
        policy=policy,
        not_reported=[key for key in REPORTABLE if not gateway.profile.feature(key).available],
    )
    period = summary.period
    chart_name = f"pipeline-{period.key}.png"
    chart = bar_chart_png(list(summary.stage_counts))
    return {
        "cadence": cadence,
        "period": period.key,
        "title": period.title,
        "titles": summary.total_titles,
        "region": templates.summary_region_inner(summary, chart_name).xml,
        "chart_name": chart_name,
        "chart": base64.b64encode(chart).decode("ascii"),
    }


def write_summary(tenant: Tenant, client, content: dict) -> dict:
    """Find or make the period's page, attach the chart if its bytes changed, rewrite the owned region."""
    inner = trusted(content["region"])
    space_id, parent_id = sync_page_location(tenant, client, "summary_parent_id", "pipeline summaries")
    page, row = find_or_create_sync_page(
        tenant,
        client,
        f"summary-{content['cadence']}",
        content["period"],
        PROPERTY_KEY,
        content["title"],
        templates.summary_page(content["title"], inner),
        space_id,
        parent_id,
    )
    chart = base64.b64decode(content["chart"])
    chart_digest = hashlib.sha256(chart).hexdigest()
    uploaded = False
    if row.attachment_digest != chart_digest:
        client.upload_attachment(page.id, content["chart_name"], chart, "image/png", comment="Titles by stage")
        row.attachment_digest = chart_digest
        db.session.commit()
        uploaded = True
    written = rewrite_region(client, page.id, templates.SUMMARY_REGION, inner, "Pipeline summary regenerated")
    return {
        "page_id": page.id,
        "period": content["period"],
        "titles": content["titles"],
        "written": written,
        "chart_uploaded": uploaded,
    }


@outbox_handler(KIND)
def generate_summary(tenant: Tenant, payload: dict) -> dict:
    if payload.get("cadence") not in (WEEKLY, MONTHLY) or "region" not in payload:
        raise PermanentError("not a pipeline summary payload")
    return write_summary(tenant, gateways().confluence(tenant), payload)
