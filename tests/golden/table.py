"""The expectations table of docs/golden-catalogue.md, read as the tests' single source of truth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "golden-catalogue.md"


@dataclass(frozen=True)
class Expected:
    work_id: str
    title: str
    verdict: str
    why: str
    completion: int
    to_fix: tuple[str, ...]
    hub: str | None  # lozenge text, or None when the title is not on a forthcoming hub
    backlist: bool
    overdue: tuple[str, ...]  # "what (owner)" or "what" phrases
    risks: tuple[str, ...]


def expectations() -> list[Expected]:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| # | Title |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        number, title, _truth, verdict, why, checklist, hub, summary = (
            c.strip() for c in line.strip().strip("|").split("|")
        )
        completion, _, fix = checklist.partition(";")
        to_fix = tuple(p.strip() for p in fix.replace("to fix:", "").split(", ") if p.strip())
        parts = [p.strip() for p in summary.split(";")]
        rows.append(
            Expected(
                work_id=number,
                title=title,
                verdict=verdict,
                why=why,
                completion=int(completion.strip().rstrip("%")),
                to_fix=to_fix,
                hub=None if hub == "—" else hub,
                backlist=parts[0] == "backlist",
                overdue=tuple(p.removeprefix("overdue:").strip() for p in parts if p.startswith("overdue:")),
                risks=tuple(p.removeprefix("risk:").strip() for p in parts if p.startswith("risk:")),
            )
        )
    return rows


def summary_facts() -> dict[str, int]:
    text = DOC.read_text(encoding="utf-8")
    return {
        "pipeline": int(re.search(r"\*\*Pipeline:\*\* (\d+) titles", text).group(1)),
        "backlist": int(re.search(r"counted apart: (\d+)", text).group(1)),
        "overdue": int(re.search(r"\*\*Overdue:\*\* (\d+)", text).group(1)),
    }
