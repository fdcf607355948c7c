"""Guidance written by admins in Confluence, read as data: the stage guide (who reviews each stage
and what the next step is) and the rights guidance mappings (which guidance page fits which rights
position).

Pure: the callers read the pages (tables as rows of cell texts) and settings; this module decides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .domain import RightsPosition
from .stages import next_step_for

StageGuide = dict[str, tuple[str, str]]  # {stage key: (reviewers, next step)}


@dataclass(frozen=True)
class StageGuidance:
    stage: str | None
    reviewers: str
    next_step: str
    source: str  # "stage guide" or "default"


def _key(text: str | None) -> str:
    return " ".join((text or "").strip().lower().split())


_STAGE_HEADERS = ("stage", "stage name", "workflow stage", "title stage", "publishing stage")


def _stage_column(header: Sequence[str]) -> int | None:
    """Where a header row names the stage ("Stage", "Stage:", "Workflow stage"), or None."""
    keys = [_key(cell).rstrip(":").strip() for cell in header]
    return next((i for i, key in enumerate(keys) if key in _STAGE_HEADERS), None)


def stage_guide_from_tables(tables: Iterable[Sequence[Sequence[str]]]) -> StageGuide:
    """{stage key: (reviewers, next step)} from the first table headed Stage | Reviewers | Next step (or, when
    none names Reviewers or a Next step, the first with a Stage column). A page properties table above the guide
    (Stage | Approved, Owner | …) has a Stage cell too, and is not the guide."""
    candidates = [rows for rows in tables if rows and _stage_column(rows[0]) is not None]
    guides = [rows for rows in candidates if any(_key(c).startswith(("reviewer", "next")) for c in rows[0])]
    for rows in guides[:1] or candidates[:1]:
        header = [_key(cell) for cell in rows[0]]
        stage_col = _stage_column(rows[0])
        assert stage_col is not None
        reviewer_col = next((i for i, h in enumerate(header) if h.startswith("reviewer")), None)
        step_col = next((i for i, h in enumerate(header) if h.startswith("next")), None)
        guide: StageGuide = {}
        for row in rows[1:]:
            if stage_col >= len(row) or not row[stage_col].strip():
                continue

            def cell(col: int | None, joiner: str, row: Sequence[str] = row) -> str:
                """The cell's lines (its paragraphs or list items) on one line: names by commas, steps by spaces."""
                text = row[col] if col is not None and col < len(row) else ""
                return joiner.join(line.strip() for line in text.split("\n") if line.strip())

            guide[_key(row[stage_col])] = (cell(reviewer_col, ", "), cell(step_col, " "))
        return guide
    return {}


def guidance_for(stage: str | None, guide: StageGuide) -> StageGuidance:
    """The stage guide's reviewers and next step for `stage`, or the default next step when it has none."""
    reviewers, step = guide.get(_key(stage), ("", ""))
    if step or reviewers:
        return StageGuidance(stage, reviewers, step or next_step_for(stage) or "", "stage guide")
    return StageGuidance(stage, "", next_step_for(stage) or "", "default")


# --- rights guidance ----------------------------------------------------------------------------


def _territory_matches(wanted: str, rights: RightsPosition) -> bool:
    wanted_key = _key(wanted)
    if wanted_key in ("world", "worldwide", "world rights"):
        return rights.world_rights
    codes = {c.upper() for c in (*rights.for_sale_countries, *rights.not_for_sale_countries)}
    if wanted.strip().upper() in codes:
        return True
    return any(wanted_key and wanted_key in _key(d) for d in rights.sales_rights_descriptions)


def matching_guidance(
    rights: RightsPosition, mappings: list[dict[str, Any]], site_url: str | None
) -> list[dict[str, Any]]:
    """The admin's guidance rules that fit this rights position: every criterion a rule sets must match.

    Territory matches a country code the title is (not) for sale in, "World" for world rights, or words
    of the sales-rights description; right type matches a licensed right; contract type matches words of
    a contract's name (Consonance contracts carry no separate type).
    """
    right_types = {_key(r) for r in rights.licensed_right_types}
    contracts = [_key(n) for n in rights.contract_names]
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for rule in mappings or []:
        territory, right_type, contract_type = rule.get("territory"), rule.get("right_type"), rule.get("contract_type")
        if not (territory or right_type or contract_type):
            continue
        if territory and not _territory_matches(territory, rights):
            continue
        if right_type and _key(right_type) not in right_types:
            continue
        if contract_type and not any(_key(contract_type) in name for name in contracts):
            continue
        page_id = str(rule.get("page_id") or "")
        if not page_id or page_id in seen:
            continue
        seen.add(page_id)
        because = ", ".join(part for part in (territory, right_type, contract_type) if part)
        found.append(
            {
                "pageId": page_id,
                "label": rule.get("label") or "Rights guidance",
                "because": because,
                "url": f"{site_url.rstrip('/')}/wiki/pages/viewpage.action?pageId={page_id}" if site_url else None,
            }
        )
    return found
