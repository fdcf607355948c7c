"""The storage-format content of every page the sync flows write, in one place.

Pages are starting points people fill in: headings to write under, and our live macros for the
Consonance facts (so page text never copies fields people would then edit). Generated parts sit in
owned regions; macro ids are derived from what they are, so the same input gives the same bytes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

from addon.confluence import storage as s
from addon.confluence.owned_regions import region_storage
from addon.publishing.domain import Title, contributor_role_label, credit_line
from addon.publishing.guidance import StageGuidance
from addon.publishing.milestones import title_milestones
from addon.publishing.pipeline import PipelineSummary
from addon.publishing.wording import long_date, short_date
from addon.titles import models as roles

STATUS_REGION = "stage-status"
ABOUT_REGION = "about-the-book"
CONTACTS_REGION = "key-contacts"
MILESTONES_REGION = "milestones"
LAUNCH_TABLE_REGION = "launch-table"
SUMMARY_REGION = "pipeline-summary"

# The child pages a tenant can choose (settings.CHILD_PAGES) and the TitlePage role each plays.
CHILD_ROLES = {
    "Manuscript brief": roles.BRIEF,
    "Schedule & dates": roles.SCHEDULE,
    "Key contacts": roles.CONTACTS,
    "Meeting notes": roles.MEETINGS,
    "Decision log": roles.DECISIONS,
}
ROLE_NAMES = {role: name for name, role in CHILD_ROLES.items()}

_IDS = uuid.UUID("0f9e7d8c-3b2a-4c1d-9e8f-7a6b5c4d3e2f")


def stable_id(*parts: object) -> str:
    """A macro id that is the same every time the same thing is rendered (no new version on rewrite)."""
    return str(uuid.uuid5(_IDS, "\x1f".join(str(p) for p in parts)))


def _ours(name: str, work_id: str, where: str) -> s.Fragment:
    return s.our_macro(name, {"title": work_id}, macro_id=stable_id(name, work_id, where))


def _lozenge(text: str, colour: str, where: str) -> s.Fragment:
    return s.macro("status", [("colour", colour), ("title", text)], macro_id=stable_id("status", where, text, colour))


def _prompt(text: str) -> s.Fragment:
    return s.paragraph(s.emphasis(text))


# ------------------------------------------------------------------ F1 title page set
def home_title(title: str) -> str:
    return title.strip() or "Untitled"


def child_title(title: str, role: str) -> str:
    return f"{home_title(title)} — {ROLE_NAMES[role]}"


STAGE_COLOURS = {
    "published": "Green",
    "production": "Blue",
    "proofs": "Blue",
    "acquisition": "Grey",
    "contracted": "Grey",
}


def status_region_inner(work_id: str, guidance: StageGuidance) -> s.Fragment:
    """What the title home's owned status region shows: stage lozenge, reviewers, next step (F2)."""
    stage = guidance.stage or "No stage"
    colour = STAGE_COLOURS.get(stage.strip().lower(), "Yellow")
    return s.trusted(
        s.document(
            s.heading(2, "Where this title is"),
            s.paragraph(s.strong("Stage: "), _lozenge(stage, colour, f"stage:{work_id}")),
            s.paragraph(s.strong("Reviewers: "), guidance.reviewers or "Not named in the stage guide yet."),
            s.paragraph(s.strong("Next step: "), guidance.next_step or "No next step is written for this stage yet."),
            s.paragraph(
                s.emphasis(
                    f"Kept up to date from Consonance by Consonance for Confluence "
                    f"({'from the stage guide' if guidance.source == 'stage guide' else 'default guidance'}). "
                    "Edit outside this box: this part is rewritten when the stage changes."
                )
            ),
        )
    )


# ------------------------------------------------------------------ facts from Consonance, kept current
_TAGS = re.compile(r"<[^>]{0,500}>")


def about_region_inner(title: Title) -> s.Fragment:
    """About the book as Consonance describes it: subtitle, imprint, series, season, the description."""
    facts = [
        ("Subtitle", title.subtitle),
        ("Imprint", title.imprint),
        ("Series", ", ".join(title.series)),
        ("Season", title.season),
        ("By", credit_line(title.contributors)),
    ]
    description = next((f.description for f in title.formats if f.description and f.description.strip()), None)
    parts = [s.paragraph(s.strong(f"{label}: "), value) for label, value in facts if value]
    if description:
        text = " ".join(_TAGS.sub(" ", description).split())
        parts.append(s.paragraph(text[:4000]))
    else:
        parts.append(_prompt("Consonance has no description for this title yet; write one there and it appears here."))
    parts.append(_kept_note("the title's details"))
    return s.trusted(s.document(*parts))


def _kept_note(what: str) -> s.Fragment:
    return s.paragraph(s.emphasis(f"Kept up to date from Consonance ({what}); write your own notes outside this box."))


def contacts_region_inner(title: Title) -> s.Fragment:
    """The people Consonance knows for the title: each contributor with their role."""
    rows = [
        [contributor_role_label(c.role_code) or c.role_label or "Contributor", c.name]
        for c in title.contributors
        if c.name
    ]
    if not rows:
        return s.trusted(
            s.document(s.paragraph("Consonance lists no contributors for this title yet."), _kept_note("contributors"))
        )
    return s.trusted(s.document(s.table(["Role", "Name"], rows), _kept_note("contributors and their roles")))


def milestones_region_inner(title: Title) -> s.Fragment:
    """Deliveries and publication dates with planned vs expected, slipped ones marked."""
    milestones = title_milestones(title)
    if not milestones:
        return s.trusted(
            s.document(
                s.paragraph("Consonance has no delivery or publication dates for this title yet."),
                _kept_note("dates"),
            )
        )
    rows: list[list[s.Content]] = []
    for m in milestones:
        marker = (
            _lozenge("Slipped", "Red", f"slip:{m.name}")
            if m.slipped
            else _lozenge("On plan", "Green", f"onplan:{m.name}")
        )
        rows.append(
            [
                m.name,
                long_date(m.planned) if m.planned else "Not set",
                long_date(m.expected) if m.expected else "Not set",
                marker,
                m.slip_words(),
            ]
        )
    return s.trusted(
        s.document(
            s.table(["Milestone", "Planned", "Expected or actual", "", "Against the plan"], rows),
            _kept_note("contract delivery dates and publication dates per format"),
        )
    )


def home_page(work_id: str, title: str, status_inner: s.Fragment, about_inner: s.Fragment | None = None) -> str:
    return s.document(
        s.info_panel(
            s.paragraph(
                "This is the home of ",
                s.strong(home_title(title)),
                ". Live facts come from Consonance through the panels below; "
                "write the story of the book in the sections under them.",
            ),
            title="Title home",
        ),
        s.trusted(region_storage(STATUS_REGION, status_inner)),
        _ours("title-status", work_id, "home"),
        _ours("launch-readiness", work_id, "home"),
        _ours("rights-link", work_id, "home"),
        s.heading(2, "About the book"),
        s.trusted(region_storage(ABOUT_REGION, about_inner)) if about_inner is not None else None,
        _prompt("Your pitch: what it is, who it is for, why now."),
        s.heading(2, "Team"),
        _prompt(
            "Editor, designer, production controller, publicist (the author and contributors are on Key contacts)."
        ),
        s.heading(2, "Open questions"),
        _prompt("Anything waiting on a decision: record it in the decision log once made."),
    )


def child_page(work_id: str, title: str, role: str, facts: dict | None = None, today: date | None = None) -> str:
    """A child page; `facts` maps a region name to its inner content (the parts kept from Consonance)."""
    body = _CHILD_BODIES[role](work_id, facts or {}, today or date.today())
    return s.document(s.paragraph("Part of the page set for ", s.strong(home_title(title)), "."), *body)


def _brief(work_id: str, facts: dict, today: date) -> list:
    return [
        _ours("metadata-checklist", work_id, "brief"),
        s.heading(2, "Synopsis"),
        _prompt("Two or three paragraphs."),
        s.heading(2, "Audience and comparable titles"),
        _prompt("Who buys it; three comps with their formats."),
        s.heading(2, "Editorial direction"),
        _prompt("Structure, voice, length, what must change."),
        s.heading(2, "Selling points"),
        _prompt("Three lines sales and marketing can use."),
    ]


def _schedule(work_id: str, facts: dict, today: date) -> list:
    return [
        _ours("title-status", work_id, "schedule"),
        _ours("launch-readiness", work_id, "schedule"),
        s.heading(2, "Milestones"),
        _region(MILESTONES_REGION, facts),
        s.heading(2, "Production milestones"),
        _prompt("Dates Consonance does not hold: add an owner and notes per row."),
        s.table(
            ["Milestone", "Date", "Owner", "Notes"],
            [
                ["Copy-edit back", "", "", ""],
                ["Proofs out", "", "", ""],
                ["Files to printer", "", "", ""],
            ],
        ),
        s.heading(2, "Dependencies and risks"),
        _prompt("What could move the dates, and who is watching it."),
    ]


def _contacts(work_id: str, facts: dict, today: date) -> list:
    return [
        _ours("rights-link", work_id, "contacts"),
        s.heading(2, "From Consonance"),
        _region(CONTACTS_REGION, facts),
        s.heading(2, "People"),
        _prompt("Everyone else on the book, and how to reach them."),
        s.table(
            ["Role", "Name", "Email / phone", "Notes"],
            [
                ["Agent", "", "", ""],
                ["Editor", "", "", ""],
                ["Publicist", "", "", ""],
                ["Rights contact", "", "", ""],
            ],
        ),
    ]


def _meetings(work_id: str, facts: dict, today: date) -> list:
    return [
        _ours("title-status", work_id, "meetings"),
        s.heading(2, "How to use this page"),
        _prompt(
            "Newest meeting first: copy the dated block below, change its date and fill it in. "
            "Decisions go in the Decision log, where they reach Consonance."
        ),
        s.heading(2, "Meetings"),
        s.heading(3, f"{long_date(today)} — Kick-off"),
        s.paragraph(s.strong("Attendees: ")),
        s.paragraph(s.strong("Agenda: ")),
        s.bullet_list(["Where the title is (see the status panel above)", "Dates and risks", "Next steps"]),
        s.paragraph(s.strong("Notes: ")),
        s.paragraph(s.strong("Decisions: "), "record each in the Decision log."),
        s.paragraph(s.strong("Action items: "), "who does what by when."),
    ]


def _decisions(work_id: str, facts: dict, today: date) -> list:
    return [
        _ours("title-status", work_id, "decisions"),
        s.heading(2, "Decisions"),
        _prompt(
            "One row per decision; each new row is sent to Consonance once, and the table below it says what "
            "happened. Start the Decision cell with Approve (or “Approve to <stage>” to move the title on), "
            "Request changes, Hold or Note; any other wording is sent as a note. Mention the person in "
            "Decided by (type @) and insert the date (type /date). "
            "A line such as “Decision: hold — waiting for the author” works too."
        ),
        s.table(["Decision", "Detail", "Decided by", "Date"], [["", "", "", ""]]),
    ]


def _region(name: str, facts: dict) -> s.Fragment | None:
    inner = facts.get(name)
    return s.trusted(region_storage(name, inner)) if inner is not None else None


_CHILD_BODIES = {
    roles.BRIEF: _brief,
    roles.SCHEDULE: _schedule,
    roles.CONTACTS: _contacts,
    roles.MEETINGS: _meetings,
    roles.DECISIONS: _decisions,
}


# ------------------------------------------------------------------ F6 launch hub
@dataclass(frozen=True)
class LaunchLine:
    work_id: str
    title: str
    stage: str
    publication_date: date | None
    formats_ready: int
    formats_total: int
    metadata_completion: float
    go: bool
    headline: str
    verdict: str = ""
    why: str = ""
    link: str | None = None


_VERDICT_LOZENGES = {  # verdict: (lozenge text, colour)
    "published": ("PUBLISHED", "Blue"),
    "go": ("GO", "Green"),
    "no_go": ("NO-GO", "Red"),
    "too_early": ("TOO EARLY", "Grey"),
}


def launch_hub_title(hub_name: str) -> str:
    return f"Launch hub — {hub_name}"


def launch_table_inner(hub_name: str, lines: list[LaunchLine]) -> s.Fragment:
    rows = []
    for line in lines:
        text, colour = _VERDICT_LOZENGES.get(line.verdict) or (("GO", "Green") if line.go else ("NO-GO", "Red"))
        rows.append(
            [
                s.element("a", line.title, href=line.link) if line.link else line.title,
                line.stage,
                long_date(line.publication_date) if line.publication_date else "Not set",
                f"{line.formats_ready} of {line.formats_total}",
                f"{line.metadata_completion:.0f}%",
                _lozenge(text, colour, f"go:{line.work_id}:{line.verdict or line.go}"),
                line.why or line.headline,
            ]
        )
    if not rows:
        return s.paragraph(f"No forthcoming titles in {hub_name}.")
    return s.trusted(
        s.document(
            s.heading(2, "Titles and production progress"),
            s.table(
                ["Title", "Stage", "Publication date", "Formats ready", "Metadata complete", "Go / no-go", "Why"], rows
            ),
            s.paragraph(
                s.emphasis(
                    "Refreshed from Consonance when a title's dates, stage or readiness change. "
                    "Write your own sections outside this table."
                )
            ),
        )
    )


def launch_hub_page(hub_name: str, table_inner: s.Fragment) -> str:
    return s.document(
        s.info_panel(
            s.paragraph(
                "Campaign plans for ",
                s.strong(hub_name),
                ". The table follows real production progress from Consonance.",
            ),
            title="Launch hub",
        ),
        s.trusted(region_storage(LAUNCH_TABLE_REGION, table_inner)),
        s.heading(2, "Campaign plan"),
        _prompt("Marketing: positioning, channels, budget."),
        s.heading(2, "Announcements"),
        _prompt("What goes out when; check go/no-go first."),
        s.heading(2, "Assets"),
        _prompt("Covers, proofs, copy, links."),
    )


# ------------------------------------------------------------------ F7 pipeline summary
MAX_LISTED = 200  # longer lists are cut with a count, so a 50,000-title summary stays a readable page


def summary_region_inner(summary: PipelineSummary, chart_filename: str) -> s.Fragment:
    period = summary.period
    stage_rows = [[group.stage, str(group.count)] for group in summary.stages]
    overdue_rows = [
        [item.title, item.what, short_date(item.due), str(item.days_overdue), item.owner or "Not recorded"]
        for item in summary.overdue[:MAX_LISTED]
    ]
    format_rows = [
        [row.label, str(row.total), str(row.ready), str(row.late), str(row.not_ready - row.late)]
        for row in summary.format_readiness
    ]
    risk_rows = [[risk.title, risk.severity, risk.reason] for risk in summary.risks[:MAX_LISTED]]
    titles = "1 title" if summary.total_titles == 1 else f"{summary.total_titles} titles"
    parts = [
        s.heading(2, "Generated summary"),
        s.paragraph(
            f"{titles} in the pipeline (not yet published), as of {long_date(summary.today)} "
            f"({short_date(period.start)} to {short_date(period.end)}). "
            f"Published backlist, counted apart: {summary.backlist}."
        ),
        s.heading(3, "Pipeline by stage"),
        s.paragraph(
            "Your Consonance does not report titles' workflow stages, so the pipeline cannot be shown by stage."
        )
        if "stage" in summary.not_reported
        else None,
        s.element(
            "ac:image", s.element("ri:attachment", ri_filename=chart_filename), ac_alt="Pipeline titles by stage"
        ),
        s.table(["Stage", "Titles"], stage_rows),
        s.heading(3, "Overdue"),
        s.paragraph(_overdue_sentence(summary)),
        s.table(["Title", "What", "Since", "Days overdue", "Owner"], overdue_rows) if overdue_rows else None,
        _more(len(summary.overdue)),
        s.heading(3, "Format readiness"),
        s.paragraph("Forthcoming formats, judged as on each title's launch-readiness panel."),
        s.table(["Format", "Forthcoming", "Ready", "Late", "Not due yet"], format_rows)
        if format_rows
        else s.paragraph("No forthcoming formats."),
        s.heading(3, "Release risks"),
        s.table(["Title", "Severity", "Reason"], risk_rows) if risk_rows else s.paragraph("No release risks."),
        _more(len(summary.risks)),
    ]
    return s.trusted(s.document(*parts))


# What the overdue count is made of: (fact, what is counted when Consonance reports it, its name when not).
_OVERDUE_SOURCES = (
    ("tasks", "open Consonance to-dos past their due date", "to-dos"),
    ("contracts", "slipped manuscript delivery dates", "contract delivery dates"),
)


def _overdue_sentence(summary: PipelineSummary) -> str:
    """What the overdue count covers, and what it cannot: facts this Consonance does not report."""
    counted = [what for key, what, _ in _OVERDUE_SOURCES if key not in summary.not_reported]
    missing = [name for key, _, name in _OVERDUE_SOURCES if key in summary.not_reported]
    if not counted:
        return "Your Consonance reports neither to-dos nor contract delivery dates, so nothing is counted as overdue."
    sentence = f"{len(summary.overdue)} overdue: {' and '.join(counted)}."
    if missing:
        sentence += f" Not counted: {' and '.join(missing)}, which your Consonance does not report."
    return sentence


def _more(count: int) -> s.Fragment | None:
    return s.paragraph(s.emphasis(f"… and {count - MAX_LISTED} more.")) if count > MAX_LISTED else None


def summary_page(period_title: str, region_inner: s.Fragment) -> str:
    return s.document(
        s.paragraph(
            s.emphasis(
                f"{period_title}. The generated part is refreshed from Consonance; "
                "Commentary and Action items are yours and are never overwritten."
            )
        ),
        s.trusted(region_storage(SUMMARY_REGION, region_inner)),
        s.heading(2, "Commentary"),
        _prompt("Leadership commentary on the period."),
        s.heading(2, "Action items"),
        _prompt("Who does what by when."),
    )
