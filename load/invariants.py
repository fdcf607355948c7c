"""The invariants both suites end with, as pure functions over what the sandboxes and the app recorded,
plus the table they are printed in. No I/O here: the runners gather the records, these judge them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def decisions_exactly_once(decision_keys: dict[str, str], notes_by_work: dict[str, list[str]]) -> Check:
    """Every recorded decision (idempotency key -> work id) has exactly one Consonance note with that
    externalRef on its work, and no note carries an externalRef twice."""
    missing, doubled = [], []
    for key, work_id in decision_keys.items():
        count = Counter(notes_by_work.get(work_id, []))[key]
        if count == 0:
            missing.append(key)
        elif count > 1:
            doubled.append(key)
    ok = not missing and not doubled
    detail = f"{len(decision_keys)} decisions, {len(decision_keys) - len(missing) - len(doubled)} noted once"
    if missing:
        detail += f"; missing {missing[:5]}"
    if doubled:
        detail += f"; duplicated {doubled[:5]}"
    return Check("every decision reaches Consonance exactly once", ok, detail)


def page_sets_complete(acquired: list[str], pages: list[dict], roles: list[str]) -> Check:
    """Each acquired work has exactly one page per role (content property workId/role), the children under
    the home. `pages` are {id, parent_id, work_id, role} for every current page carrying the property."""
    problems = []
    by_work: dict[str, list[dict]] = {}
    for page in pages:
        by_work.setdefault(str(page["work_id"]), []).append(page)
    for work_id in acquired:
        mine = by_work.get(str(work_id), [])
        counts = Counter(p["role"] for p in mine)
        duplicates = sorted(role for role, n in counts.items() if n > 1)
        absent = sorted(set(roles) - set(counts))
        duplicates += sorted(f"unexpected {role}" for role in set(counts) - set(roles))
        homes = [p for p in mine if p["role"] == "home"]
        orphans = [p["role"] for p in mine if p["role"] != "home" and homes and p["parent_id"] != homes[0]["id"]]
        if duplicates or absent or orphans:
            problems.append(f"work {work_id}: duplicates {duplicates}, missing {absent}, not under home {orphans}")
    detail = f"{len(acquired)} acquired titles × {len(roles)} pages"
    if problems:
        detail += "; " + "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
    return Check("every acquired title has exactly one complete page set", not problems, detail)


def markers_survive(markers: dict[str, str], bodies: dict[str, str | None]) -> Check:
    """Every paragraph people wrote (page id -> marker text) is still in that page's current body."""
    lost = [page_id for page_id, marker in markers.items() if marker not in (bodies.get(page_id) or "")]
    detail = f"{len(markers) - len(lost)} of {len(markers)} people's paragraphs intact"
    if lost:
        detail += f"; lost on pages {lost[:5]}"
    return Check("no page lost content people wrote", not lost, detail)


def outbox_drained(depth: dict, waited_seconds: float) -> Check:
    """Nothing pending or in flight once faults cleared (failed entries are judged by `nothing_hidden`)."""
    waiting = int(depth.get("pending", 0)) + int(depth.get("in_flight", 0))
    return Check(
        "the outbox drains once faults clear",
        waiting == 0,
        f"pending {depth.get('pending', 0)}, in flight {depth.get('in_flight', 0)}, failed {depth.get('failed', 0)}, "
        f"delivered {depth.get('delivered', 0)} after {waited_seconds:.0f}s",
    )


def steady_runs(before: dict[int, dict], after: dict[int, dict]) -> list[dict]:
    """Job runs (id -> shown kind and outcome) that did not end well, read before and after the activity page
    was: a run that ended or started in between was in flux while the page was read, not hidden from it."""
    return [run for run_id, run in before.items() if after.get(run_id) == run]


def nothing_hidden(failed_entry_ids: list[int], unfinished_runs: list[dict], activity: dict) -> Check:
    """Every failed outbox entry is among the activity page's failed writes, and every job run that did not
    end well (failed, partial, lost) is among its job runs with that outcome."""
    shown_writes = {row["id"] for row in activity.get("failed_writes", [])}
    hidden_writes = sorted(set(failed_entry_ids) - shown_writes)
    shown_runs = Counter((row["kind"], row["outcome"]) for row in activity.get("job_runs", []))
    expected_runs = Counter((run["kind_label"], run["shown_outcome"]) for run in unfinished_runs)
    hidden_runs = sorted((expected_runs - shown_runs).elements())
    ok = not hidden_writes and not hidden_runs
    detail = f"{len(failed_entry_ids)} failed writes and {len(unfinished_runs)} failed/lost job runs, all listed"
    if not ok:
        detail = f"not on the activity page: writes {hidden_writes[:5]}, runs {hidden_runs[:5]}"
    return Check("nothing half-done is invisible on the activity page", ok, detail)


def cell(text: str) -> str:
    """Text safe inside one Markdown table cell (log lines and answers may hold pipes and newlines)."""
    return str(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def table(checks: list[Check]) -> str:
    """Markdown table of checks (printed, and appended to bench/RESULTS.md)."""
    lines = ["| invariant | result | detail |", "|---|---|---|"]
    lines += [f"| {cell(c.name)} | {'PASS' if c.ok else 'FAIL'} | {cell(c.detail)} |" for c in checks]
    return "\n".join(lines)


def figures_table(rows: list[tuple[str, str]]) -> str:
    lines = ["| figure | value |", "|---|---|"]
    lines += [f"| {cell(name)} | {cell(value)} |" for name, value in rows]
    return "\n".join(lines)
