"""Reading the pages editors write, for the flows that send what they say to Consonance: Decision log entries, playbook checklists
with gates, the standards table, retrospective lessons, and the app's launch checklist.

Pure functions over storage format (no I/O). Hostile pages give a `PageFormatError` with a clear
message (too big, malformed, nested too deep) or a correct reading; the app's own regions are cut
out before reading, so nothing the app wrote is ever read back as something a person wrote.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from lxml import etree

from addon.confluence.owned_regions import OwnedRegionError, list_regions
from addon.confluence.storage_parse import StorageParseError, find_tables, find_tasks, parse, q, span, text_of
from addon.decisions.models import APPROVE_STAGE, HOLD, NOTE, REQUEST_CHANGES
from addon.publishing.playbooks import PlaybookItem, scope_for_heading
from addon.publishing.stages import DEFAULT_STAGE_NAMES

log = logging.getLogger("addon.flows.page_layout")

MAX_STORAGE_CHARS = 6_000_000  # Confluence refuses bodies over 5 MB; a little slack for entities
MAX_DEPTH = 200  # deeper than any page a person makes; keeps every walk bounded
MAX_ITEM_CHARS = 5000
HEADINGS = {f"h{n}": n for n in range(1, 7)}


class PageFormatError(ValueError):
    """The page cannot be read at all; the message says why in an editor's words."""


# ------------------------------------------------------------------ reading a page safely
def read_page(storage: str | None) -> etree._Element:
    """The page's parsed content without the app's owned regions; PageFormatError if unreadable."""
    if storage is None:
        raise PageFormatError("the page has no body")
    if len(storage) > MAX_STORAGE_CHARS:
        raise PageFormatError(
            f"the page is {len(storage):,} characters long; the app reads pages up to {MAX_STORAGE_CHARS:,} characters"
        )
    try:
        root = parse(without_owned_regions(storage))
    except StorageParseError as exc:
        raise PageFormatError(str(exc)) from None
    _check_depth(root)
    return root


def without_owned_regions(storage: str) -> str:
    """The storage with every region the app owns cut out (as written by a person only)."""
    try:
        regions = list_regions(storage)
    except StorageParseError as exc:
        raise PageFormatError(str(exc)) from None
    except OwnedRegionError as exc:  # a person broke a marker: read everything rather than nothing
        log.warning("owned region markers are broken (%s); reading the whole page", exc)
        return storage
    for region in reversed(regions):
        storage = storage[: region.start] + storage[region.end :]
    return storage


def _check_depth(root: etree._Element) -> None:
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            raise PageFormatError(
                f"the page nests elements more than {MAX_DEPTH} levels deep "
                "(macros inside macros); the app does not read pages that deep"
            )


def normalise(text: str) -> str:
    """Text as compared for identity: NFC, whitespace collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def identities(texts: list[str], prefix: str = "") -> list[str]:
    """A stable id per text (hash of its normalised form), numbered when the same text repeats."""
    seen: dict[str, int] = {}
    out = []
    for text in texts:
        digest = hashlib.sha256((prefix + normalise(text).casefold()).encode("utf-8")).hexdigest()[:16]
        seen[digest] = seen.get(digest, 0) + 1
        out.append(digest if seen[digest] == 1 else f"{digest}.{seen[digest]}")
    return out


def _own_text(element: etree._Element) -> str:
    """What a reader sees in a block, without nested lists (each list item is read on its own)."""
    return normalise(text_of(element, skip=("ul", "ol", "ac:task-list")))


def _blocks(root: etree._Element, tags: tuple[str, ...]):
    """Outermost elements with these tags whose text is not empty, in document order."""
    wanted = {q(t) for t in tags}
    yield from root.iter(*wanted)


# ------------------------------------------------------------------ Decision log
DECISION_WORDS = {
    "approve": APPROVE_STAGE,
    "approved": APPROVE_STAGE,
    "approval": APPROVE_STAGE,
    "request changes": REQUEST_CHANGES,
    "requested changes": REQUEST_CHANGES,
    "changes requested": REQUEST_CHANGES,
    "hold": HOLD,
    "on hold": HOLD,
    "note": NOTE,
}
_DECISION_LINE = re.compile(r"^\s*decision\s*[:：]\s*(?P<rest>.*)$", re.I | re.S)
_DECISION_BODY = re.compile(
    r"^(?P<verb>approved?|approval|request(?:ed)?\s+changes|changes\s+requested|on\s+hold|hold|note)\b"
    r"(?:\s+(?:to|→|->)\s+(?P<stage>[^—–:]+?))?"
    r"\s*(?:(?:[—–:]|\s-\s|$)\s*(?P<text>.*))?$",
    re.I | re.S,
)


@dataclass(frozen=True)
class DecisionRow:
    decision_type: str
    text: str
    identity: str
    line: str
    to_stage: str | None = None
    decided_by: str | None = None  # the account id of a person mentioned in a table's Decided by cell
    decided_by_name: str | None = None  # a name typed there instead of a mention
    decided_on: date | None = None


@dataclass(frozen=True)
class DecisionProblem:
    line: str
    what_is_wrong: str


@dataclass(frozen=True)
class _Candidate:
    line: str  # as the page shows it (the row's cells joined, or the "Decision:" line)
    body: str  # the decision part: "approve to Typesetting — copy-edit signed off", or a table's Decision cell
    detail: str = ""
    from_table: bool = False
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_on: date | None = None
    problem: str | None = None


DECISION_COLUMNS = {
    "decision": ("decision", "decisions", "what was decided"),
    "detail": ("detail", "details", "notes", "why", "reason", "context"),
    "decided_by": ("decided by", "by", "who", "owner"),
    "date": ("date", "when", "decided on", "decided"),
}
LINE_HELP = "start with approve, request changes, hold or note, e.g. “Decision: approve — cover signed off”"
DATE_HELP = "write the date as 2026-11-03 or 3 November 2026 (or insert a date with /date)"
_DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d/%m/%Y")


def read_date(text: str) -> date | None:
    """A date as people type it in a table cell; None when it is not one."""
    cleaned = normalise(text).replace(",", ", ").replace("  ", " ").strip()
    cleaned = re.sub(r"^(\d{1,2})(st|nd|rd|th)\b", r"\1", cleaned, flags=re.I)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


_DATE_IN_TEXT = re.compile(
    r"\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+[A-Za-z]{3,9}\.?,?\s+\d{4}\b"
    r"|\b[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b"
    r"|\b\d{1,2}/\d{1,2}/\d{4}\b",
    re.I,
)


def find_date(text: str) -> date | None:
    """The first date typed anywhere in a line ("12 February 2027: launch party at Foyles", "Launch party
    on Feb 12, 2027"), in the forms `read_date` reads; None when the line has none."""
    for match in _DATE_IN_TEXT.finditer(text or ""):
        candidate = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", match.group(), flags=re.I).replace(".", "")
        day = read_date(candidate)
        if day:
            return day
    return None


def _column_roles(header: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = normalise(cell).casefold().rstrip(":")
        for role, names in DECISION_COLUMNS.items():
            if role not in roles and name in names:
                roles[role] = index
    return roles


def _cells(row: etree._Element) -> list[etree._Element]:
    return [cell for cell in row if cell.tag in ("td", "th")]


def _mentioned(cell: etree._Element) -> str | None:
    for user in cell.iter(q("ri:user")):
        account_id = user.get(q("ri:account-id"))
        if account_id:
            return account_id[:128]
    return None


def _cell_date(cell: etree._Element) -> tuple[date | None, str]:
    for node in cell.iter("time"):
        stamp = (node.get("datetime") or "").strip()
        try:
            return date.fromisoformat(stamp[:10]), stamp
        except ValueError:
            return None, stamp
    typed = _own_text(cell)
    return (read_date(typed) if typed else None), typed


def _cell_getter(roles: dict[str, int], cells: list):
    def cell(role: str):
        index = roles.get(role)
        return cells[index] if index is not None and index < len(cells) else None

    return cell


def _table_candidates(root: etree._Element, taken: set) -> list[_Candidate]:
    """Rows of tables whose header names a Decision column (with Detail, Decided by, Date where present)."""
    found: list[_Candidate] = []
    for table in root.iter("table"):
        rows = [row for row in table.iter("tr") if next(row.iterancestors("table")) is table]
        if not rows:
            continue
        roles = _column_roles([_own_text(cell) for cell in _cells(rows[0])])
        if "decision" not in roles:
            continue
        taken.update(table.iter("td", "th", "p", "li"))
        for row in rows[1:]:
            cells = _cells(row)
            if len(cells) == 1 and len(roles) > 1 and span(cells[0], "colspan") > 1:
                continue  # one cell across the table: a heading between rows ("Autumn list meeting"), not a decision

            cell = _cell_getter(roles, cells)
            texts = [_own_text(c) for c in cells]
            if not any(texts) and not any(_mentioned(c) for c in cells):
                continue
            if not any(normalise(text_of(c, skip=("ac:placeholder",))) for c in cells):
                continue  # a template's row of placeholders ("/date", "@mention"): nobody has written in it yet
            decision = _own_text(cell("decision")) if cell("decision") is not None else ""
            written_as_line = _DECISION_LINE.match(decision)
            decision = written_as_line.group("rest").strip() if written_as_line else decision
            detail = _own_text(cell("detail")) if cell("detail") is not None else ""
            by_cell = cell("decided_by")
            decided_by = _mentioned(by_cell) if by_cell is not None else None
            by_name = _own_text(by_cell) if by_cell is not None and decided_by is None else None
            day, typed_day = _cell_date(cell("date")) if cell("date") is not None else (None, "")
            line = " | ".join(t for t in texts if t)[:MAX_ITEM_CHARS] or "(a row with only a person in it)"
            problem = None
            if not decision:
                problem = "the Decision cell is empty: write what was decided, e.g. “Approve” or “Hold”"
            elif typed_day and day is None:
                problem = f"“{typed_day[:40]}” is not a date: {DATE_HELP}"
            found.append(
                _Candidate(
                    line,
                    decision[:MAX_ITEM_CHARS],
                    detail[:MAX_ITEM_CHARS],
                    True,
                    decided_by,
                    by_name or None,
                    day,
                    problem,
                )
            )
    return found


def parse_decision_log(storage: str) -> tuple[list[DecisionRow], list[DecisionProblem]]:
    """Decisions in page order, in either form people write them:

    - a table whose header has a Decision column (Detail, Decided by and Date columns are read when present);
      the Decision cell starts with approve (optionally "to <stage>"), request changes, hold or note, or is
      any other text, recorded as a note;
    - a line starting "Decision:" (a paragraph, list item or task), e.g. "Decision: approve — cover signed off".
    """
    entries = decision_entries(storage)
    rows = [item for item in entries if isinstance(item, DecisionRow)]
    problems = [item for item in entries if isinstance(item, DecisionProblem)]
    return rows, problems


def decision_entries(storage: str) -> list[DecisionRow | DecisionProblem]:
    """Every decision and every line that could not be read as one, in page order."""
    root = read_page(storage)
    taken: set = set()
    candidates = _table_candidates(root, taken)
    for element in _blocks(root, ("p", "li", "ac:task-body", "td", "th", "ac:adf-content")):
        if element in taken or any(a in taken for a in element.iterancestors()):
            continue
        if element.tag == q("ac:adf-content") and element.getparent().get("type") != "decision-item":
            continue  # a panel's content: its paragraphs are read one by one; a decision item is one line
        text = _own_text(element)
        if _DECISION_LINE.match(text):
            taken.add(element)
            line = text[:MAX_ITEM_CHARS]
            kept = _DECISION_LINE.match(line)  # still a decision line once cut to length
            candidates.append(_Candidate(line, kept.group("rest").strip() if kept else ""))
    out: list = []
    keyed = []
    for candidate in candidates:
        if candidate.problem:
            out.append(DecisionProblem(candidate.line, candidate.problem))
            continue
        matched = _DECISION_BODY.match(candidate.body)
        if matched:
            verb = " ".join(matched.group("verb").lower().split())
            kind = DECISION_WORDS[verb]
            stage = normalise(matched.group("stage") or "") or None
            said = normalise(matched.group("text") or "")
        elif candidate.from_table:
            kind, stage, said = NOTE, None, candidate.body
        else:
            out.append(DecisionProblem(candidate.line, LINE_HELP))
            continue
        text = " — ".join(part for part in (said, candidate.detail) if part)
        out.append(None)
        keyed.append((len(out) - 1, candidate, kind, stage, text))
    ids = identities(
        [
            f"{kind}|{stage or ''}|{text}"
            + (f"|{c.decided_by or c.decided_by_name or ''}|{c.decided_on or ''}" if c.from_table else "")
            for _, c, kind, stage, text in keyed
        ],
        prefix="decision|",
    )
    for (index, c, kind, stage, text), identity in zip(keyed, ids, strict=True):
        out[index] = DecisionRow(
            kind,
            text,
            identity,
            c.line,
            stage if kind == APPROVE_STAGE else None,
            c.decided_by,
            c.decided_by_name,
            c.decided_on,
        )
    # tables come first in `candidates`; people read the page top to bottom, so keep document order per form
    return out


# ------------------------------------------------------------------ playbooks
GATE_WORD = "GATE"
_TASK_ITEM = re.compile(r"^\s*(?:qc|quality check|file[- ]naming|file names?)\s*[:：]", re.I)
_GATE_PREFIX = re.compile(r"^\s*gate\s*[:：]?\s*", re.I)
_FROM_STAGE = re.compile(r"\s*[(\[]\s*from\s+(?P<stage>[^)\]]{1,100}?)\s*[)\]]\s*$", re.I)


@dataclass(frozen=True)
class PlaybookProblem:
    text: str
    what_is_wrong: str


def parse_playbook(storage: str) -> tuple[list[PlaybookItem], list[PlaybookProblem]]:
    """Task-list items under format headings; an item is a gate when it starts "GATE:" or carries a GATE lozenge."""
    root = read_page(storage)
    items: list[PlaybookItem] = []
    problems: list[PlaybookProblem] = []
    scope, scope_level = None, 0
    heading_tags = {q(h): n for h, n in HEADINGS.items()}
    task_tag = q("ac:task")
    for element in root.iter(*heading_tags, task_tag):
        if element.tag in heading_tags:
            level = heading_tags[element.tag]
            found = scope_for_heading(normalise(text_of(element)))
            if found:
                scope, scope_level = found, level
            elif level <= scope_level:
                scope, scope_level = None, 0
            continue
        body = element.find(q("ac:task-body"))
        if body is None:
            continue
        text = normalise(text_of(body, skip=("ac:task-list",)))[:MAX_ITEM_CHARS]
        lozenge = any(_is_gate_lozenge(m) for m in body.iter(q("ac:structured-macro")) if not _in_nested_list(m, body))
        is_gate = lozenge or bool(re.match(r"^\s*gate\s*[:：]", text, re.I))
        is_gate = is_gate or bool(_TASK_ITEM.match(text))  # per-format QC and file-naming items become tasks too
        if is_gate:
            text = _GATE_PREFIX.sub("", text, count=1)
        stage = None
        matched = _FROM_STAGE.search(text)
        if is_gate and matched:
            stage = normalise(matched.group("stage"))
            text = text[: matched.start()].strip()
        if not text:
            continue
        if scope is None:
            if is_gate:
                problems.append(
                    PlaybookProblem(
                        text,
                        "this gate is not under a Print, Digital, Audio or "
                        "All formats heading, so the app cannot tell which titles it is for",
                    )
                )
            continue
        items.append(PlaybookItem(scope=scope, text=text, is_gate=is_gate, stage=stage))
    return items, problems


def _in_nested_list(node: etree._Element, body: etree._Element) -> bool:
    """True when `node` belongs to a sub-task of the task whose body is `body`."""
    for ancestor in node.iterancestors():
        if ancestor is body:
            return False
        if ancestor.tag == q("ac:task-list"):
            return True
    return False


def _is_gate_lozenge(macro: etree._Element) -> bool:
    if macro.get(q("ac:name")) != "status":
        return False
    title = macro.find(f"{q('ac:parameter')}[@{q('ac:name')}='title']")
    return title is not None and normalise(title.xpath("string()")).upper() == GATE_WORD


# ------------------------------------------------------------------ standards table
_FIELD_HEADER = re.compile(r"\b(field|element|metadata)\b", re.I)
_RULE_HEADER = re.compile(r"\b(rule|rules|requirement|requirements|check|standard|constraint|validation)\b", re.I)


def standards_table(storage: str) -> list[list[str]] | None:
    """The first table whose header names a Field and a Rule column, as rows of cell texts (a title row across
    the table may stand above the header)."""
    for table in find_tables(read_page(storage)):
        written = [row for row in table if any(c.strip() for c in row)]
        # the header is the first row written in, or the one under a title row across the table
        if any(
            any(_FIELD_HEADER.search(c) for c in row) and any(_RULE_HEADER.search(c) for c in row)
            for row in written[:2]
        ):
            return [
                ["\n".join(normalise(line) for line in c.split("\n") if line.strip()) for c in row] for row in table
            ]
    return None


# ------------------------------------------------------------------ retrospectives
_LESSONS_HEADING = re.compile(r"\blessons?\b", re.I)
_STAGE_PREFIX = re.compile(r"^(?P<stage>[^:：/]{1,40})[:：]\s+(?P<text>\S.*)$", re.S)
GENERAL = "General"


@dataclass(frozen=True)
class LessonItem:
    text: str
    stage: str
    identity: str


# What a lesson may be filed under: the workflow's stages and the teams that run them. "Note: …" or
# "Amazon: …" is a lesson in General, written as it is.
LESSON_AREAS = frozenset(
    [name.casefold() for name in DEFAULT_STAGE_NAMES]
    + ["design", "marketing", "publicity", "sales", "rights", "contracts", "finance", "audio", "digital"]
    + ["print", "printing", "metadata", "distribution", "editorial", "production", "launch"]
)


def _lesson_area(text: str) -> str | None:
    """`text` as the stage or team a lesson is filed under ("Production"), or None when it names neither."""
    name = normalise(text).rstrip(":：")
    return name if name.casefold() in LESSON_AREAS else None


def parse_lessons(storage: str) -> list[LessonItem]:
    """Items under a heading containing "Lessons" (bullets, numbered items, tasks, nested ones too) until the
    next heading of the same or a higher level. "Production: …", or a sub-heading "Production" above the
    items, files a lesson under that stage or team; anything else is General. A lesson's identity is its text
    as written, so filing it differently never sends it again."""
    root = read_page(storage)
    heading_tags = {q(h): n for h, n in HEADINGS.items()}
    found: list[tuple[str, str | None]] = []  # (text, the sub-heading's area above it)
    for heading in root.iter(*heading_tags):
        if not _LESSONS_HEADING.search(text_of(heading)):
            continue
        level = heading_tags[heading.tag]
        area: str | None = None
        for sibling in heading.itersiblings():
            if sibling.tag in heading_tags:
                if heading_tags[sibling.tag] <= level:
                    break
                area = _lesson_area(text_of(sibling))
                continue
            found.extend((text, area) for text in _lesson_texts(sibling))
    found = [(t[:MAX_ITEM_CHARS], area) for t, area in found if t]
    texts = [text for text, _ in found]
    lessons = []
    for (text, area), identity in zip(found, identities(texts, prefix="lesson|"), strict=True):
        matched = _STAGE_PREFIX.match(text)
        named = _lesson_area(matched.group("stage")) if matched else None
        if matched and named:
            lessons.append(LessonItem(normalise(matched.group("text")), named, identity))
        else:
            lessons.append(LessonItem(text, area or GENERAL, identity))
    return lessons


def _lesson_texts(block: etree._Element) -> list[str]:
    """Each list item / task in a block, nested ones too, each without its nested lists (paragraphs are prose, not lessons)."""
    found = []
    for element in block.iter("li", q("ac:task-body")):
        text = _own_text(element)  # without its nested lists: each nested item is read as its own lesson
        if text:
            found.append(text)
    return found


# ------------------------------------------------------------------ the app's launch checklist
def checklist_ticks(region_storage: str) -> dict[str, bool]:
    """Task id → ticked, for the tasks in the launch-checklist region."""
    try:
        return {t.task_id: t.complete for t in find_tasks(region_storage) if t.task_id}
    except StorageParseError as exc:
        raise PageFormatError(str(exc)) from None
