"""Compile a metadata standards table (as editors write it in Confluence) into a versioned RuleSet (F5).

The syntax is forgiving because people, not programmers, write these tables. A row that cannot be
understood becomes a RowProblem naming the row and what is wrong, and never stops other rows compiling.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from .fields import resolve_field
from .formats import kinds_for_word
from .rules import RowProblem, Rule, RuleError, RuleKind, RuleSet, Severity, make_rule

log = logging.getLogger("addon.publishing.standards")

__all__ = ["DEFAULT_RULE_SET", "DEFAULT_STANDARDS_TABLE", "KNOWN_RETAILERS", "RowProblem", "compile_standards"]

MAX_CELL = 20_000  # longer cells are reported, not parsed (a 5 MB page must not become a 5 MB rule)

_COLUMNS = {
    "field": ("field", "metadata field", "field name", "element", "data field", "metadata"),
    "rule": ("rule", "rules", "requirement", "requirements", "check", "standard", "constraint", "validation"),
    "applies": ("applies to", "applies", "scope", "format", "formats", "applies to format"),
    "retailer": ("retailer", "retailers", "channel", "channels"),
    "severity": ("severity", "level", "priority", "importance", "type"),
    "message": ("message", "how to fix", "guidance", "fix", "help", "help text", "message to editor", "what to do"),
}

KNOWN_RETAILERS = {
    "amazon": "Amazon",
    "kindle": "Amazon",
    "amazon kdp": "Amazon",
    "kdp": "Amazon",
    "apple": "Apple Books",
    "apple books": "Apple Books",
    "ibooks": "Apple Books",
    "kobo": "Kobo",
    "rakuten kobo": "Kobo",
    "google": "Google Play Books",
    "google play": "Google Play Books",
    "google play books": "Google Play Books",
    "barnes & noble": "Barnes & Noble",
    "barnes and noble": "Barnes & Noble",
    "b&n": "Barnes & Noble",
    "nook": "Barnes & Noble",
    "audible": "Audible",
    "waterstones": "Waterstones",
    "bookshop.org": "Bookshop.org",
    "gardners": "Gardners",
    "ingram": "Ingram",
    "spotify": "Spotify",
    "storytel": "Storytel",
    "overdrive": "OverDrive",
    "foyles": "Foyles",
    "blackwell's": "Blackwell's",
}

_SEVERITIES = {
    "": Severity.ERROR,
    "error": Severity.ERROR,
    "errors": Severity.ERROR,
    "must": Severity.ERROR,
    "required": Severity.ERROR,
    "blocker": Severity.ERROR,
    "critical": Severity.ERROR,
    "high": Severity.ERROR,
    "mandatory": Severity.ERROR,
    "fail": Severity.ERROR,
    "warning": Severity.WARNING,
    "warn": Severity.WARNING,
    "warnings": Severity.WARNING,
    "should": Severity.WARNING,
    "medium": Severity.WARNING,
    "recommended": Severity.WARNING,
    "info": Severity.INFO,
    "information": Severity.INFO,
    "note": Severity.INFO,
    "advice": Severity.INFO,
    "could": Severity.INFO,
    "low": Severity.INFO,
    "optional": Severity.INFO,
    "nice to have": Severity.INFO,
}

_REQUIRED = re.compile(
    r"^(required|mandatory|compulsory|present|set|not empty|not blank|be empty not|have a value|be present|be set|"
    r"be given|not be empty|not be blank|always|yes)$"
)
_VALID_ISBN = re.compile(
    r"^(valid|valid isbn|valid isbn-?13|isbn|check digit|valid check digit|be a valid isbn(-?13)?|"
    r"a valid isbn(-?13)?)$"
)
_PATTERN = re.compile(
    r"^(?:pattern|regex|regexp|regular expression|matches|match|format)\s*[:=]?\s*(?P<p>.+)$", re.IGNORECASE | re.DOTALL
)
_ONE_OF = re.compile(
    r"^(?:be )?(?:one of|any of|in|allowed|allowed values|from list|from|list|values)\s*[:=]?\s*"
    r"(?P<values>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_MAX = re.compile(
    r"^(?:max|maximum|at most|no more than|not more than|up to|<=|≤|limit|limited to)\s*(?P<n>\d[\d,]*)$"
    r"|^(?P<n2>\d[\d,]*)\s*(?:max|maximum|or fewer|or less|at most)$"
)
_MIN = re.compile(
    r"^(?:min|minimum|at least|no fewer than|no less than|not less than|>=|≥)\s*(?P<n>\d[\d,]*)$"
    r"|^(?P<n2>\d[\d,]*)\s*(?:min|minimum|or more)$"
)
_DATE_ORDER = re.compile(
    r"^(?P<rel>on or after|on or before|after|before|later than|earlier than|not before|"
    r"not after|following|no earlier than|no later than)\s*[:=]?\s*(?:the\s+)?(?P<other>.+)$"
)
_DATE_RELATIONS = {
    "on or after": "on_or_after",
    "on or before": "on_or_before",
    "after": "after",
    "before": "before",
    "later than": "after",
    "earlier than": "before",
    "not before": "on_or_after",
    "not after": "on_or_before",
    "following": "after",
    "no earlier than": "on_or_after",
    "no later than": "on_or_before",
}
_NAME_FORM = re.compile(
    r"^(?:name form|name format|name order|names?|form|written as|write as)\s*[:=]?\s*(?P<form>.+)$"
)
_SERIES = re.compile(
    r"^(?P<word>series(?: naming| name| names| convention| pattern| format| style)?|naming convention|"
    r"convention)\s*[:=]?\s*(?P<rest>.+)$",
    re.IGNORECASE | re.DOTALL,
)
_RETAILER = re.compile(r"^(?:retailer|for)\s+(?P<name>[^:]{1,60}?)\s*:\s*(?P<rest>.+)$", re.IGNORECASE | re.DOTALL)
_LEADING_MODAL = re.compile(r"^(?:it\s+)?(?:must|should|shall|needs to|has to)\s+(?:be\s+)?", re.IGNORECASE)


class _Columns:
    """Which column holds what, found from the header's words."""

    def __init__(self, header: Sequence[str]):
        self.index: dict[str, int] = {}
        for position, cell in enumerate(header):
            name = _header_key(cell)
            # "Rules / requirements", "Field or element": any of the words the header offers
            said = [name] + [part.strip() for part in re.split(r"/|&|,|\bor\b|\band\b", name) if part.strip()]
            for role, names in _COLUMNS.items():
                if role not in self.index and any(word in names for word in said):
                    self.index[role] = position
                    break

    @property
    def usable(self) -> bool:
        return "field" in self.index and "rule" in self.index

    def cell(self, row: Sequence[str], role: str) -> str:
        position = self.index.get(role)
        if position is None or position >= len(row):
            return ""
        return str(row[position] or "").strip()


def _header_key(cell: object) -> str:
    text = re.sub(r"\([^)]*\)", " ", str(cell or "")).replace("*", " ").replace(":", " ")
    return " ".join(text.lower().split())


def compile_standards(table: Sequence[Sequence[str]]) -> RuleSet:
    """Turn a standards table (header row first, then rows of cell strings) into a RuleSet.

    Row numbers count the header as row 1, as a reader counts rows on the page. Blank rows are skipped.
    """
    rows = [tuple("" if c is None else str(c) for c in row) for row in table]
    first = next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)
    if first is None:
        return RuleSet.of((), ())
    # a title row across the table ("Metadata standards — 2026") may stand above the header
    header_at = next((i for i, row in enumerate(rows) if _Columns(row).usable), first)
    columns = _Columns(rows[header_at])
    if not columns.usable:
        problem = RowProblem(
            header_at + 1,
            rows[header_at],
            "the first row must name the columns, with at least a Field column and a Rule column",
        )
        return RuleSet.of((), (problem,))
    rules: list[Rule] = []
    problems: list[RowProblem] = []
    first_row_of: dict[str, int] = {}
    for offset, row in enumerate(rows[header_at + 1 :], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        for outcome in _compile_row(row, columns):
            if isinstance(outcome, str):
                problems.append(RowProblem(offset, row, outcome))
            elif outcome.id in first_row_of:
                problems.append(RowProblem(offset, row, f"repeats the rule in row {first_row_of[outcome.id]}"))
            else:
                first_row_of[outcome.id] = offset
                rules.append(outcome)
    if problems:
        log.info("standards table compiled with problems", extra={"rules": len(rules), "problems": len(problems)})
    return RuleSet.of(rules, problems)


def _compile_row(row: Sequence[str], columns: _Columns) -> list[Rule | str]:
    """The rules in one row, or the words saying why each part could not be read."""
    if any(len(c) > MAX_CELL for c in row):
        return [f"a cell is longer than {MAX_CELL:,} characters; shorten it"]
    field_name = columns.cell(row, "field")
    if not field_name:
        return ["the Field cell is empty; name the metadata field, e.g. ISBN or Description"]
    spec = resolve_field(field_name)
    if spec is None:
        return [
            f"“{_short(field_name)}” is not a field this app knows; try ISBN, BISAC main subject, Contributor name, "
            "Description, Price (GBP), Publication date, Series or Subtitle"
        ]
    if not spec.available:
        return [f"“{spec.label}” is not in the Consonance record this app reads yet, so it cannot be checked"]
    rule_text = columns.cell(row, "rule")
    if not rule_text:
        return ["the Rule cell is empty; write a rule such as required or max length 4000"]
    try:
        formats, retailers = _applies_to(columns.cell(row, "applies"), columns.cell(row, "retailer"))
        severity = _severity(columns.cell(row, "severity"))
    except RuleError as exc:
        return [str(exc)]
    message = " ".join(columns.cell(row, "message").split())
    results: list[Rule | str] = []
    for clause in _clauses(rule_text):
        try:
            kind, params = _parse_clause(clause, spec.is_bisac)
            results.append(
                make_rule(
                    spec.key, kind, params, formats=formats, retailers=retailers, severity=severity, message=message
                )
            )
        except RuleError as exc:
            results.append(f"rule “{_short(clause)}”: {exc}")
    return results or ["the Rule cell has no rule in it"]


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clauses(rule_text: str) -> list[str]:
    """Several rules in one cell are separated by ";" or new lines; a pattern keeps its cell to itself."""
    text = rule_text.strip()
    if _PATTERN.match(text) or _SERIES.match(text) or _ONE_OF.match(_LEADING_MODAL.sub("", text)):
        return [text]
    return [" ".join(part.split()) for part in re.split(r"[;\n]+", text) if part.strip()]


def _applies_to(applies: str, retailer_cell: str) -> tuple[list[str], list[str]]:
    formats: list[str] = []
    retailers: list[str] = []
    for word in (w.strip() for w in re.split(r"[,;/\n]+|\s+and\s+|\s+&\s+(?![Nn]oble)", applies)):
        if not word or word.lower() in ("all", "any", "every", "-", "–", "n/a"):
            continue
        explicit = re.match(r"^retailers?\s*:?\s*(.+)$", word, re.IGNORECASE)
        if explicit:
            retailers.append(_retailer_name(explicit.group(1)))
        elif kinds_for_word(word) is not None:
            formats.append(word.lower())
        elif word.lower() in KNOWN_RETAILERS:
            retailers.append(KNOWN_RETAILERS[word.lower()])
        else:
            raise RuleError(
                f"Applies to: “{_short(word)}” is neither a format (print, hardback, paperback, ebook, "
                "audio, all) nor a known retailer; write “retailer: Name” for any other retailer"
            )
    for word in (w.strip() for w in re.split(r"[,;\n]+", retailer_cell)):
        if word and word.lower() not in ("all", "any", "-", "n/a"):
            retailers.append(_retailer_name(word))
    return formats, retailers


def _retailer_name(name: str) -> str:
    name = " ".join(name.split())
    return KNOWN_RETAILERS.get(name.lower(), name)


def _severity(cell: str) -> Severity:
    key = " ".join(cell.lower().strip(" .!").split())
    if key not in _SEVERITIES:
        raise RuleError(f"Severity “{_short(cell)}” is not one of error, warning or info")
    return _SEVERITIES[key]


def _unwrap(text: str) -> str:
    """Drop the /slashes/, `backticks` or quotes people put around patterns."""
    text = text.strip()
    for left, right in (("/", "/"), ("`", "`"), ('"', '"'), ("'", "'"), ("“", "”")):
        if len(text) >= 2 and text.startswith(left) and text.endswith(right):
            return text[len(left) : -len(right)]
    return text


def _number(match: re.Match[str]) -> int:
    return int((match.group("n") or match.group("n2")).replace(",", ""))


def _parse_clause(clause: str, is_bisac: bool) -> tuple[RuleKind, dict[str, object]]:
    """One rule phrase → (kind, params); raise RuleError with a hint when it is not understood."""
    clause = _LEADING_MODAL.sub("", clause.strip()).strip().rstrip(".")
    retailer = _RETAILER.match(clause)
    if not retailer:
        head, sep, rest = clause.partition(":")
        if sep and head.strip().lower() in KNOWN_RETAILERS:
            retailer = re.match(r"^(?P<name>[^:]+):(?P<rest>.+)$", clause, re.DOTALL)
    if retailer:
        inner_kind, inner = _parse_clause(retailer.group("rest"), is_bisac)
        if inner_kind is RuleKind.RETAILER_REQUIREMENT:
            raise RuleError("a retailer requirement cannot contain another retailer")
        return RuleKind.RETAILER_REQUIREMENT, {
            "retailer": _retailer_name(retailer.group("name")),
            "requirement": inner_kind.value,
            **inner,
        }
    pattern = _PATTERN.match(clause)
    if pattern:
        return RuleKind.PATTERN, {"pattern": _unwrap(pattern.group("p"))}
    series = _SERIES.match(clause)
    if series:
        rest = series.group("rest").strip()
        if (
            "pattern" in series.group("word").lower()
            or (rest.startswith("/") and rest.endswith("/"))
            or rest.lower().startswith(("regex", "pattern"))
        ):
            return RuleKind.SERIES_NAMING, {
                "pattern": _unwrap(re.sub(r"^(?:regex|pattern)\s*:?\s*", "", rest, flags=re.IGNORECASE))
            }
        if "<" not in rest or ">" not in rest:
            raise RuleError(
                "write the convention with placeholders, like <Series> #<n>, or a pattern between /slashes/"
            )
        return RuleKind.SERIES_NAMING, {"template": _unwrap(rest)}
    text = " ".join(clause.lower().split())
    if _REQUIRED.match(text):
        return RuleKind.REQUIRED, {}
    if _VALID_ISBN.match(text):
        return RuleKind.VALID_ISBN, {}
    one_of = _ONE_OF.match(clause)
    if one_of:
        separators = r"[,;|\n]+|\s+" if is_bisac else r"[,;|\n]+"
        values = [_unwrap(v) for v in re.split(separators, one_of.group("values")) if v.strip()]
        return RuleKind.ONE_OF, {"values": values}
    lengths = re.sub(r"\b(characters?|chars?|letters|length|long|of|in)\b|[:=]", " ", text)
    lengths = " ".join(lengths.split())
    for regex, kind in ((_MAX, RuleKind.MAX_LENGTH), (_MIN, RuleKind.MIN_LENGTH)):
        found = regex.match(lengths)
        if found:
            return kind, {"limit": _number(found)}
    order = _DATE_ORDER.match(text)
    if order:
        return RuleKind.DATE_ORDER, {"relation": _DATE_RELATIONS[order.group("rel")], "other": order.group("other")}
    name_form = _NAME_FORM.match(text)
    if name_form or text in ("surname, forenames", "forenames surname", "surname, forename"):
        return RuleKind.NAME_FORM, {"form": name_form.group("form") if name_form else text}
    raise RuleError(
        "not a rule this app understands; use required, pattern: …, one of: …, max length N, "
        "min length N, after: <date field>, name form: Surname, Forenames, series: <Series> #<n>, "
        "or retailer Name: <rule>"
    )


# The three-letter sections of the BISAC subject headings (BISG); a main subject outside them is not BISAC.
BISAC_SECTIONS = "|".join(
    (
        "ANT ARC ART BIB BIO BOD BUS CGN CKB COM CRA DES DRA EDU "
        "FAM FIC FOR GAM GAR HEA HIS HOM HUM JNF JUV LAN LAW LCO "
        "LIT MAT MED MUS NAT NON OCC PER PET PHI PHO POE POL PSY "
        "REF REL SCI SEL SOC SPO STU TEC TRA TRU TRV YAF YAN"
    ).split()
)
BISAC_SECTION_PATTERN = rf"pattern: ^({BISAC_SECTIONS})\d{{6}}$"

DEFAULT_STANDARDS_TABLE: tuple[tuple[str, ...], ...] = (
    ("Field", "Rule", "Applies to", "Severity", "Message"),
    ("ISBN", "required", "all", "error", "Give every format its ISBN-13 in Consonance."),
    (
        "ISBN",
        "valid ISBN",
        "all",
        "error",
        "Correct the ISBN: 13 digits starting 978 or 979 with the right check digit.",
    ),
    ("BISAC main subject", "required", "all", "error", "Choose a main BISAC subject for every format."),
    (
        "BISAC main subject",
        BISAC_SECTION_PATTERN,
        "all",
        "error",
        "Use a BISAC code: a BISAC section's three letters and six digits, such as FIC009000.",
    ),
    (
        "Contributor name",
        "name form: Surname, Forenames",
        "all",
        "error",
        "Keep each name as people read it (“Amelia Okafor”) and only the surname (“Okafor”) in Key names.",
    ),
    (
        "Description",
        "required",
        "all",
        "error",
        "Write a description in Consonance; retailers show it on every product page.",
    ),
    (
        "Description",
        "retailer Amazon: max length 4000",
        "all",
        "error",
        "Shorten the description to 4,000 characters or fewer; Amazon cuts off anything longer.",
    ),
    ("Price (GBP)", "required", "all", "error", "Add a GBP price."),
    ("Price (USD)", "required", "all", "error", "Add a USD price."),
    ("Publication date", "required", "all", "error", "Set a publication date (planned or actual)."),
)

DEFAULT_RULE_SET: RuleSet = compile_standards(DEFAULT_STANDARDS_TABLE)
