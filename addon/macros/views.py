"""One view model per macro: pure functions from domain objects to plain dicts the templates render.

Both transports (Forge Custom UI, Connect iframe, static export) render these same dicts, so what
an editor sees cannot differ by transport. No I/O here: the caller brings the title, settings,
today's date and the cache lookup's metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from addon.decisions.models import DECISION_LABELS, DECISION_TYPES
from addon.publishing import stages
from addon.publishing.domain import Format, FormatKind, RightsPosition, Stage, Title, work_url
from addon.publishing.formats import is_cancelled, is_published, kind_label
from addon.publishing.guidance import matching_guidance
from addon.publishing.readiness import V_GO, V_PUBLISHED, V_TOO_EARLY, ReadinessPolicy, assess_title
from addon.publishing.rules import Outcome, RuleSet, Severity, evaluate
from addon.publishing.stages import next_stage_name
from addon.publishing.standards import DEFAULT_RULE_SET
from addon.publishing.territories import territory_names
from addon.publishing.wording import long_ago

MACRO_KEYS = ("title-status", "rights-link", "metadata-checklist", "launch-readiness")
MACRO_NAMES = {
    "title-status": "Title status",
    "rights-link": "Rights",
    "metadata-checklist": "Metadata checklist",
    "launch-readiness": "Launch readiness",
}
DECISION_CHOICES = tuple((kind, DECISION_LABELS[kind].choice) for kind in DECISION_TYPES)


@dataclass(frozen=True)
class Freshness:
    """What the cache said about the data shown: when Consonance answered, and whether that is current."""

    fetched_at: float  # epoch seconds
    fresh: bool = True
    refreshing: bool = False
    error: str | None = None  # set when an older answer is shown because Consonance failed
    zone: str = "Europe/London"
    refresh_limited: bool = False  # a Refresh was asked for too soon after the last one


def _zone(name: str):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def freshness_view(meta: Freshness) -> dict:
    """The "as of" line and, when the data is old because Consonance failed, the notice."""
    at = datetime.fromtimestamp(meta.fetched_at, tz=_zone(meta.zone))
    as_of = at.strftime("%H:%M")
    notice = None
    if meta.error:
        notice = f"as of {as_of} — Consonance is not answering"
    elif meta.refreshing:
        notice = f"as of {as_of} — fetching newer data from Consonance"
    return {
        "asOf": as_of,
        "asOfIso": at.isoformat(timespec="seconds"),
        "stale": bool(meta.error),
        "refreshing": meta.refreshing,
        "notice": notice,
        "refreshLimited": meta.refresh_limited,
    }


# --- messages ---------------------------------------------------------------------------------


def message_view(
    macro_key: str, kind: str, *, title_ref: str = "", viewer_is_admin: bool = False, detail: str | None = None
) -> dict:
    """A friendly panel for when there is nothing to show: it says what happened and what to do."""
    if kind == "no_title":
        heading = "No title chosen"
        body = (
            "Edit this macro and choose a title (search by title, or enter a work id or ISBN). "
            "On a title's own pages it shows that title without any setting."
        )
    elif kind == "not_found":
        heading = "Title not found"
        body = (
            f"Consonance has no title with the work id or ISBN “{title_ref}”. "
            "Edit this macro and choose the title again."
        )
    elif kind == "not_configured":
        heading = "Consonance is not connected"
        if viewer_is_admin:
            body = (
                "Connect Consonance on the Consonance for Confluence configuration page "
                "(Settings → Apps → Consonance for Confluence): enter your Consonance address and API key."
            )
        else:
            body = "Consonance is not connected for this site yet. Ask a Confluence administrator to connect it."
    elif kind == "unavailable":
        heading = "Consonance is not answering"
        body = "Consonance did not answer and there is no earlier copy of this title to show. Try Refresh in a minute."
    elif kind == "log_in":
        heading = "Log in to see this title"
        body = "This panel shows a title's live status from Consonance to people logged in to Confluence."
    elif kind == "auth_failed":
        heading = "Consonance refused the connection"
        body = "Consonance did not accept this site's API key. " + (
            "Check the key on the configuration page."
            if viewer_is_admin
            else "Ask a Confluence administrator to check the Consonance connection."
        )
    else:
        heading = "Something went wrong"
        body = "This panel could not be shown. Try again in a minute."
    return {
        "macro": macro_key,
        "macroName": MACRO_NAMES.get(macro_key, macro_key),
        "kind": "message",
        "message": {"kind": kind, "heading": heading, "body": body, "detail": detail},
        "canRefresh": kind == "unavailable",
    }


# --- shared pieces ----------------------------------------------------------------------------

_STAGE_APPEARANCE = {  # Atlassian lozenge appearances by how far along the workflow a stage is
    "acquisition": "new",
    "contracted": "new",
    "writing": "new",
    "manuscript delivered": "inprogress",
    "editorial": "inprogress",
    "copy-editing": "inprogress",
    "typesetting": "inprogress",
    "proofs": "inprogress",
    "production": "moved",
    "published": "success",
}


def stage_view(stage: Stage | None) -> dict | None:
    if stage is None:
        return None
    key = " ".join(stage.name.strip().lower().split())
    return {"name": stage.name, "appearance": _STAGE_APPEARANCE.get(key, "default")}


def _date(value: date | None) -> str | None:
    return value.strftime("%-d %b %Y") if value else None


def _title_head(title: Title, host: str | None) -> dict:
    return {
        "workId": title.work_id,
        "title": title.title,
        "subtitle": title.subtitle,
        "imprint": title.imprint,
        "stage": stage_view(title.stage),
        "season": title.season,
        "consonanceUrl": work_url(host, title.work_id) if host else None,
        # Facts this tenant's Consonance cannot tell: said plainly, never shown as blank or guessed.
        "unavailable": [f"{fact}: not available from your Consonance" for fact in title.unknown],
        "unknown": list(title.unknown),
    }


def _base(macro_key: str, title: Title, host: str | None, meta: Freshness) -> dict:
    return {
        "macro": macro_key,
        "macroName": MACRO_NAMES[macro_key],
        "kind": "panel",
        "title": _title_head(title, host),
        "freshness": freshness_view(meta),
        "canRefresh": True,
    }


def _status_lozenge(fmt: Format) -> dict:
    status = fmt.publishing_status
    text = (status.description if status and status.description else None) or (
        f"Status {status.code}" if status and status.code else "No status"
    )
    if is_published(fmt):
        appearance = "success"
    elif is_cancelled(fmt):
        appearance = "removed"
    else:
        appearance = "default"
    return {"text": text, "appearance": appearance}


# --- title-status -----------------------------------------------------------------------------


def title_status_view(
    title: Title,
    *,
    host: str | None,
    meta: Freshness,
    today: date,
    guidance=None,
    pending_stage: dict | None = None,
) -> dict:
    """The title panel: who, what, which stage and what next, every format with its dates.

    `pending_stage` is a stage move approved here that Consonance does not hold yet: the panel says so
    and does not offer the same approval again."""
    view = _base("title-status", title, host, meta)
    held = title.stage.name if title.stage else None
    pending = pending_stage if pending_stage and pending_stage.get("to") != held else None
    formats = []
    for fmt in title.formats:
        planned, actual = fmt.planned_publication_date, fmt.publication_date
        slip = (actual - planned).days if actual and planned and actual != planned else 0
        formats.append(
            {
                "kind": kind_label(fmt.kind),
                "isbn": fmt.isbn13 or fmt.isbn_raw,
                # "No ISBN" (deliberately none) says it all: no "(No ISBN)" after it
                "isbnProblem": fmt.isbn_problem if fmt.isbn_problem != (fmt.isbn_raw or "").strip() else None,
                "planned": _date(planned),
                "actual": _date(actual),
                "slipDays": slip,
                "status": _status_lozenge(fmt),
            }
        )
    pub = title.earliest_publication_date
    next_stage = None if pending else next_stage_name(title.stage)
    view.update(
        {
            "contributors": [
                {"name": c.name, "role": c.role_label or c.role_code or "Contributor"} for c in title.contributors
            ],
            "formats": formats,
            "marketingTier": title.marketing_tier,
            "series": list(title.series),
            "publication": {"date": _date(pub), "daysAway": (pub - today).days if pub else None},
            "nextStep": guidance.next_step if guidance else stages.next_step_for(title.stage),
            "nextStage": next_stage,
            "pendingStage": (
                {"to": pending["to"], "text": f"Moving to {pending['to']}: waiting for Consonance to confirm"}
                if pending
                else None
            ),
            "decisionChoices": [
                {
                    "value": value,
                    "label": label if value != "approve_stage" or not next_stage else f"{label} (move to {next_stage})",
                }
                for value, label in DECISION_CHOICES
                if value != "approve_stage" or next_stage
            ],
            # Who reviews at this stage, from the admin's stage guide page (Stage | Reviewers | Next step).
            "assignments": [
                {"name": name, "task": f"Reviewer, {title.stage.name}" if title.stage else "Reviewer"}
                for name in _names(guidance.reviewers if guidance else "")
            ],
        }
    )
    return view


def _names(text: str) -> list[str]:
    """People listed in a stage guide cell: separated by commas, semicolons, "and" or new lines."""
    return [name.strip() for name in re.split(r"[,;\n]|\band\b", text or "") if name.strip()]


# --- rights-link ------------------------------------------------------------------------------


def rights_link_view(
    title: Title,
    *,
    host: str | None,
    meta: Freshness,
    mappings: list[dict],
    site_url: str | None,
    rights: RightsPosition | None = None,
) -> dict:
    """A title's rights position beside the guidance pages the admin's mapping rules choose for it."""
    rights = rights or title.rights_position
    view = _base("rights-link", title, host, meta)
    view.update(
        {
            "rights": {
                "worldRights": rights.world_rights,
                "forSale": list(rights.for_sale_countries),
                "notForSale": list(rights.not_for_sale_countries),
                "forSaleNames": territory_names(rights.for_sale_countries),
                "notForSaleNames": territory_names(rights.not_for_sale_countries),
                "descriptions": list(rights.sales_rights_descriptions),
                "licensedRights": list(rights.licensed_right_types),
                "contracts": list(rights.contract_names),
            },
            "guidance": matching_guidance(rights, mappings, site_url),
            "hasMappings": bool(mappings),
        }
    )
    return view


# --- metadata-checklist -------------------------------------------------------------------------


def metadata_checklist_view(
    title: Title,
    *,
    host: str | None,
    meta: Freshness,
    rule_set: RuleSet = DEFAULT_RULE_SET,
    rule_set_name: str | None = None,
) -> dict:
    """Every rule, pass or fail, with the offending value and how to fix it; failures first."""
    result = evaluate(title, rule_set)
    checks = []
    for check in result.checks:
        if check.outcome is Outcome.NOT_APPLICABLE:
            continue
        checks.append(
            {
                "rule": check.rule.describe(),
                "format": check.format_label,
                "passed": check.outcome is Outcome.PASS,
                "severity": check.rule.severity.value,
                "value": check.value,
                "problem": check.problem,
                "fix": check.fix if check.outcome is Outcome.FAIL else None,
            }
        )
    checks.sort(key=lambda c: (c["passed"], c["severity"] != Severity.ERROR.value))
    view = _base("metadata-checklist", title, host, meta)
    view.update(
        {
            "completion": result.completion,
            "completionRounded": int(round(result.completion)),
            "passedCount": sum(1 for c in checks if c["passed"]),
            "failedCount": sum(1 for c in checks if not c["passed"]),
            "checks": checks,
            "ruleSet": rule_set_name or "Built-in default standards",
            "ruleSetVersion": rule_set.version,
        }
    )
    return view


# --- launch-readiness ---------------------------------------------------------------------------


def launch_readiness_view(
    title: Title,
    *,
    host: str | None,
    meta: Freshness,
    today: date,
    rule_set: RuleSet = DEFAULT_RULE_SET,
    policy: ReadinessPolicy | None = None,
) -> dict:
    """The title's verdict (Published, Ready to announce, Don't announce yet, Too early to judge) with the
    reasons behind it, and each format's items with when they are due — the same assessment the launch
    hubs and summaries use (`publishing.readiness`), so a panel and its hub never disagree."""
    readiness = assess_title(title, today, rule_set=rule_set, policy=policy)
    formats = [
        {
            "label": f.label,
            "kind": kind_label(FormatKind(f.kind)),
            "ready": not f.missing,
            "late": bool(f.late),
            "published": f.published,
            "publicationDate": _date(f.publication_date),
            "checks": [
                {
                    "label": item.label,
                    "ok": item.ok,
                    "state": item.state,
                    "detail": item.detail,
                    "due": _date(item.due) if not item.ok and item.due else None,
                }
                for item in f.items
            ],
        }
        for f in readiness.formats
    ]
    decision = readiness.decision
    appearance = {V_PUBLISHED: "success", V_GO: "success", V_TOO_EARLY: "default"}.get(decision.verdict, "removed")
    view = _base("launch-readiness", title, host, meta)
    view.update(
        {
            "formats": formats,
            "publication": {
                "date": _date(readiness.publication_date),
                "daysAway": readiness.days_to_publication,
                "ago": long_ago(readiness.days_to_publication)
                if readiness.days_to_publication is not None and readiness.days_to_publication < 0
                else None,
                "published": decision.verdict == V_PUBLISHED,
            },
            "verdict": {
                "go": decision.go,
                "headline": decision.headline,
                "appearance": appearance,
                "kind": decision.verdict,
                "why": decision.why,
            },
            "reasons": list(decision.reasons),
            "reasonsHeading": "Already late" if decision.verdict == V_TOO_EARLY else "Why not yet",
            "onSale": list(readiness.on_sale),
            "coming": list(readiness.coming),
            "completion": readiness.metadata_completion,
            "completionRounded": int(round(readiness.metadata_completion)),
        }
    )
    return view
