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
from addon.flows.launch_hubs import find_or_create_sync_page, rewrite_region, sync_page_location
from addon.flows.metadata_standards import current_rule_set
from addon.flows.sync_models import managed_work_ids
from addon.gateways import gateways
from addon.jobs.models import OutboxEntry
from addon.jobs.outbox import PermanentError, enqueue, outbox_handler
from addon.jobs.schedule import scheduled
from addon.platform.models import Tenant, utcnow
from addon.publishing.pipeline import MONTHLY, WEEKLY, period_for, summarise_pipeline
from addon.settings.schema import WEEKDAYS
from addon.settings.service import get_settings

log = logging.getLogger("addon.flows.pipeline_summaries")

KIND = "confluence.pipeline_summary"
PROPERTY_KEY = "consonance-pipeline-summary"
MAX_TASK_TITLES = 500  # overdue to-dos are read for managed titles only, at most this many (one request each)


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
_BAR = (0, 82, 204)
_AXIS = (66, 82, 110)


def png_bytes(width: int, height: int, pixels: bytearray) -> bytes:
    """Encode RGB rows as a PNG (signature, IHDR, one zlib IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    stride = width * 3
    raw = b"".join(b"\x00" + bytes(pixels[y * stride : (y + 1) * stride]) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def bar_chart_png(counts: list[int], *, width: int = 640, height: int = 240) -> bytes:
    """Bars for counts in order, each with its number above it; deterministic bytes for the same counts."""
    pixels = bytearray(b"\xff" * (width * height * 3))

    def fill(x0, y0, x1, y1, colour):
        for y in range(max(0, y0), min(height, y1)):
            row = y * width * 3
            for x in range(max(0, x0), min(width, x1)):
                pixels[row + x * 3 : row + x * 3 + 3] = bytes(colour)

    left, bottom, top = 20, height - 20, 30
    fill(left, bottom, width - 10, bottom + 2, _AXIS)
    fill(left - 2, top - 10, left, bottom + 2, _AXIS)
    if counts:
        slot = (width - 10 - left) // len(counts)
        peak = max(max(counts), 1)
        for index, count in enumerate(counts):
            bar_height = round((bottom - top) * count / peak)
            x0 = left + index * slot + slot // 5
            x1 = left + (index + 1) * slot - slot // 5
            fill(x0, bottom - bar_height, x1, bottom, _BAR)
            _draw_number(fill, str(count), (x0 + x1) // 2, bottom - bar_height - 14)
    return png_bytes(width, height, pixels)


def _draw_number(fill, text: str, centre_x: int, top_y: int, scale: int = 2) -> None:
    x = centre_x - (len(text) * 4 * scale) // 2
    for char in text:
        for row, bits in enumerate(_DIGITS[char]):
            for col, bit in enumerate(bits):
                if bit == "1":
                    fill(x + col * scale, top_y + row * scale, x + (col + 1) * scale, top_y + (row + 1) * scale, _AXIS)
        x += 4 * scale


# ------------------------------------------------------------------ the page
def _managed_tasks(tenant: Tenant, gateway) -> list:
    if not gateway.supports("tasks"):
        return []  # this Consonance has no to-dos the app can read
    tasks = []
    for work_id in managed_work_ids(tenant.id, limit=MAX_TASK_TITLES):
        tasks.extend(gateway.list_tasks(work_id))
    return tasks


def summary_content(tenant: Tenant, gateway, cadence: str, today: date) -> dict:
    """The rendered summary for the period containing `today`: the outbox payload of its page write.

    The slow part (the whole catalogue from Consonance) happens here, in the scheduled job, so the
    outbox handler only writes to Confluence and finishes well inside its lease.
    """
    summary = summarise_pipeline(
        gateway.iter_titles(),
        today,
        cadence=cadence,
        tasks=_managed_tasks(tenant, gateway),
        rule_set=current_rule_set(tenant),
    )
    period = summary.period
    chart_name = f"pipeline-{period.key}.png"
    chart = bar_chart_png([count for _, count in summary.stage_counts])
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
def generate_summary(tenant: Tenant, payload: dict, services) -> dict:
    if payload.get("cadence") not in (WEEKLY, MONTHLY) or "region" not in payload:
        raise PermanentError("not a pipeline summary payload")
    return write_summary(tenant, services.confluence(tenant), payload)
