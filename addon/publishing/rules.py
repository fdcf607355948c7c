"""The metadata rule engine: rules, versioned rule sets, and a title's checklist against them (F5).

Standards are written by people in Confluence; this turns each one into a check with a plain-words
result (pass / fail / not applicable, the offending value, how to fix it) for every format it covers.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache

from .domain import Format, FormatKind, Title, parse_isbn
from .fields import BISAC_CODE, DATE, FORMAT, FieldSpec, field_spec, known_field_names, resolve_field
from .formats import format_label, kinds_for_word, live_formats
from .safe_regex import UnsafePattern, compile_safe, search_bounded

__all__ = [
    "Check",
    "ChecklistResult",
    "Outcome",
    "Rule",
    "RuleError",
    "RuleKind",
    "RuleSet",
    "Severity",
    "evaluate",
    "make_rule",
    "resolve_field",
    "field_spec",
    "known_field_names",
]


class RuleKind(str, enum.Enum):
    REQUIRED = "required"
    PATTERN = "pattern"
    ONE_OF = "one_of"
    MAX_LENGTH = "max_length"
    MIN_LENGTH = "min_length"
    DATE_ORDER = "date_order"
    NAME_FORM = "contributor_name_form"
    SERIES_NAMING = "series_naming"
    RETAILER_REQUIREMENT = "retailer_requirement"
    VALID_ISBN = "valid_isbn"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Outcome(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class RuleError(ValueError):
    """A rule that cannot be built; the message says what is wrong in words an editor understands."""


DATE_RELATIONS = {"after": "after", "before": "before", "on_or_after": "on or after", "on_or_before": "on or before"}
NAME_FORMS = {"inverted": "Surname, Forenames", "natural": "Forenames Surname"}
_INNER_KINDS = {
    RuleKind.REQUIRED,
    RuleKind.PATTERN,
    RuleKind.ONE_OF,
    RuleKind.MAX_LENGTH,
    RuleKind.MIN_LENGTH,
    RuleKind.VALID_ISBN,
}


@dataclass(frozen=True)
class Rule:
    """One machine-checked standard. `params` are (name, value) pairs so a Rule is hashable and stable."""

    id: str
    field: str
    kind: RuleKind
    params: tuple[tuple[str, object], ...] = ()
    formats: tuple[str, ...] = ()  # format words ("print", "ebook", ...); empty: every format
    retailers: tuple[str, ...] = ()  # empty: whichever retailer
    severity: Severity = Severity.ERROR
    message: str = ""

    def param(self, name: str, default=None):
        return next((value for key, value in self.params if key == name), default)

    @cached_property
    def spec(self) -> FieldSpec:
        spec = field_spec(self.field)
        assert spec is not None, self.field  # make_rule guarantees it
        return spec

    @cached_property
    def format_kinds(self) -> frozenset[FormatKind]:
        kinds: set[FormatKind] = set()
        for word in self.formats:
            kinds |= kinds_for_word(word) or set()
        return frozenset(kinds) if self.formats else frozenset(FormatKind)

    def describe(self) -> str:
        """The rule in words, e.g. "Description: at most 4000 characters (Amazon)"."""
        suffix = (
            f" ({', '.join(self.retailers)})"
            if self.retailers and self.kind is not RuleKind.RETAILER_REQUIREMENT
            else ""
        )
        return f"{self.spec.label}: {_describe_kind(self.kind, self.params)}{suffix}"

    def as_plain(self) -> dict:
        return {
            "id": self.id,
            "field": self.field,
            "kind": self.kind.value,
            "params": _plain(self.params),
            "formats": list(self.formats),
            "retailers": list(self.retailers),
            "severity": self.severity.value,
            "message": self.message,
        }


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def make_rule(
    field_name: str,
    kind: RuleKind | str,
    params: dict | None = None,
    *,
    formats: Iterable[str] = (),
    retailers: Iterable[str] = (),
    severity: Severity | str = Severity.ERROR,
    message: str = "",
) -> Rule:
    """Build a validated Rule; raise RuleError saying what is wrong. The id is a hash of the content."""
    spec = field_spec(field_name) or resolve_field(field_name)
    if spec is None:
        raise RuleError(f"unknown field “{field_name}”; known fields include {', '.join(known_field_names())}")
    if not spec.available:
        raise RuleError(f"“{spec.label}” is not in the Consonance record this app reads yet, so it cannot be checked")
    try:
        kind = RuleKind(kind)
        severity = Severity(severity)
    except ValueError as exc:
        raise RuleError(str(exc)) from None
    formats = tuple(w.strip().lower() for w in formats if w and w.strip())
    for word in formats:
        if kinds_for_word(word) is None:
            raise RuleError(f"“{word}” is not a format; use print, hardback, paperback, ebook, audio or all")
    checked = _validate_params(spec, kind, dict(params or {}))
    retailers = tuple(sorted({r.strip() for r in retailers if r and r.strip()}, key=str.lower))
    if kind is RuleKind.RETAILER_REQUIREMENT and checked["retailer"] not in retailers:
        retailers = tuple(sorted({*retailers, checked["retailer"]}, key=str.lower))
    frozen = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in checked.items()))
    body = {
        "field": spec.key,
        "kind": kind.value,
        "params": _plain(frozen),
        "formats": sorted(formats),
        "retailers": list(retailers),
        "severity": severity.value,
        "message": message.strip(),
    }
    rule_id = "r-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    return Rule(rule_id, spec.key, kind, frozen, tuple(sorted(formats)), retailers, severity, message.strip())


def _positive_int(value, what: str) -> int:
    try:
        number = int(str(value).strip().replace(",", ""))
    except (TypeError, ValueError):
        raise RuleError(f"{what} must be a whole number, not “{value}”") from None
    if number < 0 or number > 10_000_000:
        raise RuleError(f"{what} must be between 0 and 10,000,000")
    return number


def _validate_params(spec: FieldSpec, kind: RuleKind, params: dict) -> dict:
    """Check a kind's parameters and return them cleaned; raise RuleError when they make no sense."""
    if kind in (RuleKind.REQUIRED, RuleKind.VALID_ISBN):
        if kind is RuleKind.VALID_ISBN and spec.key != "isbn":
            raise RuleError("“valid ISBN” only applies to the ISBN field")
        return {}
    if kind is RuleKind.PATTERN:
        pattern = str(params.get("pattern") or "")
        try:
            compile_safe(pattern)
        except UnsafePattern as exc:
            raise RuleError(str(exc)) from None
        return {"pattern": pattern}
    if kind is RuleKind.ONE_OF:
        values = params.get("values") or ()
        values = [v.strip() for v in ([values] if isinstance(values, str) else values) if str(v).strip()]
        if not values:
            raise RuleError("“one of” needs a list of allowed values")
        if spec.is_bisac:
            values = [v.upper() for v in values]
            bad = [v for v in values if not BISAC_CODE.match(v)]
            if bad:
                raise RuleError(f"not BISAC codes (three letters and six digits, like FIC009000): {', '.join(bad[:5])}")
        return {"values": sorted(set(values), key=lambda v: (v.lower(), v))}
    if kind in (RuleKind.MAX_LENGTH, RuleKind.MIN_LENGTH):
        return {"limit": _positive_int(params.get("limit"), "the length")}
    if kind is RuleKind.DATE_ORDER:
        relation = str(params.get("relation") or "").strip().lower().replace(" ", "_")
        if relation not in DATE_RELATIONS:
            raise RuleError("a date order needs after, before, on or after, or on or before")
        other = field_spec(str(params.get("other") or "")) or resolve_field(str(params.get("other") or ""))
        if spec.value_type != DATE:
            raise RuleError(f"“{spec.label}” is not a date, so it cannot be before or after another date")
        if other is None or other.value_type != DATE:
            raise RuleError(
                f"“{params.get('other')}” is not a date field; try contract delivery date or publication date"
            )
        if other.key == spec.key:
            raise RuleError("a date cannot be compared with itself")
        return {"relation": relation, "other": other.key}
    if kind is RuleKind.NAME_FORM:
        form = str(params.get("form") or "inverted").strip()
        words = re.sub(r"\b(?:forenames?|first names?|given names?)\b", "forenames", form.lower())
        words = re.sub(r"\b(?:surname|last name|family name)\b", "surname", words)
        words = " ".join(words.replace(",", ", ").split())
        key = {
            "surname, forenames": "inverted",
            "inverted": "inverted",
            "forenames surname": "natural",
            "natural": "natural",
        }.get(words)
        if key is None:
            raise RuleError("name form must be “Surname, Forenames” or “Forenames Surname”")
        return {"form": key}
    if kind is RuleKind.SERIES_NAMING:
        template, pattern = params.get("template"), params.get("pattern")
        if bool(template) == bool(pattern):
            raise RuleError("a series convention needs either a template like “<Series> #<n>” or a pattern")
        try:
            compile_safe(str(pattern) if pattern else series_template_regex(str(template)))
        except UnsafePattern as exc:
            raise RuleError(str(exc)) from None
        return {"template": str(template)} if template else {"pattern": str(pattern)}
    if kind is RuleKind.RETAILER_REQUIREMENT:
        retailer = str(params.get("retailer") or "").strip()
        if not retailer:
            raise RuleError("a retailer requirement needs the retailer's name")
        try:
            inner = RuleKind(params.get("requirement"))
        except ValueError:
            raise RuleError("a retailer requirement needs a rule such as required or max length 4000") from None
        if inner not in _INNER_KINDS:
            raise RuleError(f"a retailer requirement cannot be a {inner.value.replace('_', ' ')} rule")
        inner_params = {k: v for k, v in params.items() if k not in ("retailer", "requirement")}
        return {"retailer": retailer, "requirement": inner.value, **_validate_params(spec, inner, inner_params)}
    raise RuleError(f"unsupported rule kind {kind}")  # pragma: no cover


_PLACEHOLDER = re.compile(r"<([^<>]{1,40})>")


def series_template_regex(template: str) -> str:
    """“<Series> #<n>” → a full-match regex: <n>/<number> is digits, any other <...> is some text."""
    if not template.strip():
        raise UnsafePattern("the series template is empty")
    parts, last = [], 0
    for match in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        name = match.group(1).strip().lower()
        parts.append(r"\d+" if name in ("n", "number", "no", "#", "nn", "book number") else r"\S.*?")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return "^" + "".join(parts).replace(r"\ ", " ") + "$"


def _describe_kind(kind: RuleKind, params: tuple) -> str:
    p = dict(params)
    if kind is RuleKind.REQUIRED:
        return "required"
    if kind is RuleKind.VALID_ISBN:
        return "a valid ISBN-13"
    if kind is RuleKind.PATTERN:
        return f"matches {p['pattern']}"
    if kind is RuleKind.ONE_OF:
        values = p["values"]
        return "one of " + ", ".join(values[:8]) + (f" (and {len(values) - 8} more)" if len(values) > 8 else "")
    if kind is RuleKind.MAX_LENGTH:
        return f"at most {p['limit']} characters"
    if kind is RuleKind.MIN_LENGTH:
        return f"at least {p['limit']} characters"
    if kind is RuleKind.DATE_ORDER:
        other = field_spec(p["other"])
        return f"{DATE_RELATIONS[p['relation']]} the {_noun(other.label) if other else p['other']}"
    if kind is RuleKind.NAME_FORM:
        return f"written “{NAME_FORMS[p['form']]}”"
    if kind is RuleKind.SERIES_NAMING:
        return f"named like “{p['template']}”" if "template" in p else f"named to match {p['pattern']}"
    inner = RuleKind(p["requirement"])
    rest = tuple((k, v) for k, v in params if k not in ("retailer", "requirement"))
    return f"{p['retailer']} needs it {_describe_kind(inner, rest)}"


@dataclass(frozen=True)
class RowProblem:
    """A standards-table row the compiler could not turn into a rule, and why (shown back on the page)."""

    row_number: int
    cells: tuple[str, ...]
    what_is_wrong: str


@dataclass(frozen=True)
class RuleSet:
    """Compiled rules plus the rows that failed; `version` is a hash of the rules, stable across processes."""

    version: str
    rules: tuple[Rule, ...]
    problems: tuple[RowProblem, ...] = ()

    @classmethod
    def of(cls, rules: Iterable[Rule], problems: Iterable[RowProblem] = ()) -> RuleSet:
        rules = tuple(rules)
        payload = json.dumps([r.as_plain() for r in rules], sort_keys=True, ensure_ascii=False)
        version = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]
        return cls(version, rules, tuple(problems))


# --- evaluation ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One rule applied to one format (or to the title, for title-level fields)."""

    rule: Rule
    outcome: Outcome
    product_id: str | None = None
    format_label: str | None = None
    value: str | None = None  # the offending value, as text (truncated for display)
    problem: str | None = None  # what is wrong, or why the rule does not apply
    fix: str = ""  # how to put it right (failures only)

    @property
    def counts_towards_completion(self) -> bool:
        return self.outcome is not Outcome.NOT_APPLICABLE and self.rule.severity is not Severity.INFO


@dataclass(frozen=True)
class ChecklistResult:
    work_id: str
    rule_set_version: str
    checks: tuple[Check, ...] = field(default=())

    @cached_property
    def passed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.outcome is Outcome.PASS)

    @cached_property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.outcome is Outcome.FAIL)

    @cached_property
    def not_applicable(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.outcome is Outcome.NOT_APPLICABLE)

    @property
    def completion(self) -> float:
        """Percentage of applicable error and warning checks that pass (info rules are advice only)."""
        return _completion(self.checks)

    def for_format(self, product_id: str) -> tuple[Check, ...]:
        """The checks that bear on one format: its own plus the title-level ones."""
        return tuple(c for c in self.checks if c.product_id in (None, product_id))

    def completion_for(self, product_id: str) -> float:
        return _completion(self.for_format(product_id))

    def failures(self, severity: Severity | None = None, product_id: str | None = None) -> tuple[Check, ...]:
        checks = (
            self.failed
            if product_id is None
            else tuple(c for c in self.for_format(product_id) if c.outcome is Outcome.FAIL)
        )
        return tuple(c for c in checks if severity is None or c.rule.severity is severity)


def _completion(checks: Iterable[Check]) -> float:
    counted = [c for c in checks if c.counts_towards_completion]
    if not counted:
        return 100.0
    return round(100.0 * sum(c.outcome is Outcome.PASS for c in counted) / len(counted), 1)


def evaluate(title: Title, rule_set: RuleSet, retailers: Iterable[str] | None = None) -> ChecklistResult:
    """Check a title against every rule, for every format each rule covers.

    `retailers`, when given, are the retailers this title is sent to: rules for other retailers
    are then not applicable. Cancelled formats are not checked.
    """
    sold_at = None if retailers is None else {r.strip().lower() for r in retailers}
    formats = live_formats(title.formats)
    labels = [format_label(f) for f in formats]
    checks: list[Check] = []
    for rule in rule_set.rules:
        checks.extend(_checks_for(rule, title, formats, labels, sold_at))
    return ChecklistResult(title.work_id, rule_set.version, tuple(checks))


def _checks_for(
    rule: Rule, title: Title, formats: tuple[Format, ...], labels: list[str], sold_at: set[str] | None
) -> list[Check]:
    kinds = rule.format_kinds
    retailer_out = sold_at is not None and rule.retailers and not ({r.lower() for r in rule.retailers} & sold_at)
    if rule.spec.level != FORMAT:
        in_scope = [f for f in formats if f.kind in kinds]
        if retailer_out:
            return [Check(rule, Outcome.NOT_APPLICABLE, problem="this title is not sent to that retailer")]
        if rule.formats and not in_scope:
            return [Check(rule, Outcome.NOT_APPLICABLE, problem="the title has no format this rule covers")]
        return [_check(rule, title, None)]
    if not formats:
        return [Check(rule, Outcome.NOT_APPLICABLE, problem="the title has no formats yet")]
    result = []
    for fmt, label in zip(formats, labels, strict=True):
        if fmt.kind not in kinds:
            result.append(
                Check(
                    rule, Outcome.NOT_APPLICABLE, fmt.product_id, label, problem="this rule does not cover this format"
                )
            )
        elif retailer_out:
            result.append(
                Check(
                    rule,
                    Outcome.NOT_APPLICABLE,
                    fmt.product_id,
                    label,
                    problem="this title is not sent to that retailer",
                )
            )
        else:
            result.append(_check(rule, title, fmt, label))
    return result


def _check(rule: Rule, title: Title, fmt: Format | None, label: str | None = None) -> Check:
    values = rule.spec.read(title, fmt)
    kind, params = rule.kind, dict(rule.params)
    if kind is RuleKind.RETAILER_REQUIREMENT:
        kind = RuleKind(params["requirement"])
    outcome, value, problem = _judge(kind, params, rule.spec, values, title, fmt)
    fix = (rule.message or _default_fix(rule, kind, params)) if outcome is Outcome.FAIL else ""
    return Check(rule, outcome, fmt.product_id if fmt else None, label, _shown(value), problem, fix)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    """Patterns were vetted when the rule was made; this only avoids re-vetting them per title."""
    return compile_safe(pattern)


def _shown(value) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    return text if len(text) <= 200 else text[:197] + "…"


def _noun(label: str) -> str:
    """A field label for use mid-sentence: "Publication date" → "publication date", acronyms kept."""
    return " ".join(w if (w.isupper() or w.startswith("(")) else w.lower() for w in label.split())


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _has_letter(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _name_has_form(name: str, form: str) -> bool:
    """ "Surname, Forenames": one comma, letters either side; "Forenames Surname": no comma, two or more words."""
    if any(c.isdigit() for c in name):
        return False
    if form == "inverted":
        parts = name.split(",")
        return len(parts) == 2 and all(_has_letter(p) for p in parts)
    words = name.split()
    return "," not in name and len(words) >= 2 and _has_letter(words[0]) and _has_letter(words[-1])


def _judge(kind: RuleKind, params: dict, spec: FieldSpec, values: tuple, title: Title, fmt: Format | None):
    """(outcome, offending value, problem) for one set of values."""
    if kind is RuleKind.REQUIRED:
        return (Outcome.PASS, None, None) if values else (Outcome.FAIL, None, f"{spec.label} is missing")
    if not values:
        return Outcome.NOT_APPLICABLE, None, f"no {_noun(spec.label)} to check"
    if kind is RuleKind.VALID_ISBN:
        for value in values:
            isbn, problem = parse_isbn(str(value))
            if isbn is None:
                return Outcome.FAIL, value, problem
    elif kind is RuleKind.PATTERN:
        compiled = _compiled(params["pattern"])
        for value in values:
            found = search_bounded(compiled, _text(value))
            if found is None:
                return Outcome.FAIL, value, "the value is too long to check against a pattern"
            if not found:
                return Outcome.FAIL, value, f"does not match the pattern {params['pattern']}"
    elif kind is RuleKind.ONE_OF:
        allowed = {v.lower() for v in params["values"]}
        for value in values:
            text = _text(value).strip()
            if spec.is_bisac and not BISAC_CODE.match(text.upper()):
                return Outcome.FAIL, value, "not a well-formed BISAC code (three letters and six digits)"
            if text.lower() not in allowed:
                return Outcome.FAIL, value, "not one of the allowed values"
    elif kind in (RuleKind.MAX_LENGTH, RuleKind.MIN_LENGTH):
        limit = params["limit"]
        for value in values:
            length = len(_text(value))
            if kind is RuleKind.MAX_LENGTH and length > limit:
                return Outcome.FAIL, value, f"{length} characters, more than the limit of {limit}"
            if kind is RuleKind.MIN_LENGTH and length < limit:
                return Outcome.FAIL, value, f"{length} characters, fewer than the minimum of {limit}"
    elif kind is RuleKind.DATE_ORDER:
        other_spec = field_spec(params["other"])
        others = [v for v in other_spec.read(title, fmt) if isinstance(v, date)] if other_spec else []
        if not others:
            return (
                Outcome.NOT_APPLICABLE,
                None,
                f"no {_noun(other_spec.label) if other_spec else 'date'} to compare with",
            )
        other = others[0]
        relation = params["relation"]
        for value in values:
            ok = {
                "after": value > other,
                "before": value < other,
                "on_or_after": value >= other,
                "on_or_before": value <= other,
            }[relation]
            if not ok:
                return (
                    Outcome.FAIL,
                    value,
                    f"{value.isoformat()} is not {DATE_RELATIONS[relation]} the "
                    f"{_noun(other_spec.label)} ({other.isoformat()})",
                )
    elif kind is RuleKind.NAME_FORM:
        for value in values:
            if not _name_has_form(" ".join(str(value).split()), params["form"]):
                return Outcome.FAIL, value, f"not written “{NAME_FORMS[params['form']]}”"
    elif kind is RuleKind.SERIES_NAMING:
        compiled = _compiled(params["pattern"] if "pattern" in params else series_template_regex(params["template"]))
        for value in values:
            found = search_bounded(compiled, str(value))
            if not found:
                return Outcome.FAIL, value, "does not follow the series naming convention"
    return Outcome.PASS, None, None


def _default_fix(rule: Rule, kind: RuleKind, params: dict) -> str:
    label = rule.spec.label
    where = " in Consonance" + (f" for {', '.join(rule.retailers)}" if rule.retailers else "")
    if kind is RuleKind.REQUIRED:
        return f"Add the {_noun(label)}{where}."
    if kind is RuleKind.VALID_ISBN:
        return "Enter the 13-digit ISBN exactly as assigned (978 or 979, with the right check digit)."
    if kind is RuleKind.PATTERN:
        return f"Change the {_noun(label)} so it matches {params['pattern']}."
    if kind is RuleKind.ONE_OF:
        return f"Choose a {_noun(label)} from the allowed list ({', '.join(params['values'][:5])}" + (
            ", …)." if len(params["values"]) > 5 else ")."
        )
    if kind is RuleKind.MAX_LENGTH:
        return f"Shorten the {_noun(label)} to at most {params['limit']} characters{where}."
    if kind is RuleKind.MIN_LENGTH:
        return f"Lengthen the {_noun(label)} to at least {params['limit']} characters{where}."
    if kind is RuleKind.DATE_ORDER:
        other = field_spec(params["other"])
        return (
            f"Set the {_noun(label)} {DATE_RELATIONS[params['relation']]} the "
            f"{_noun(other.label) if other else params['other']}, or correct whichever date is wrong."
        )
    if kind is RuleKind.NAME_FORM:
        return f"Write contributor names as “{NAME_FORMS[params['form']]}”, e.g. “Okafor, Amelia Grace”."
    if kind is RuleKind.SERIES_NAMING:
        return (
            "Rename the series to follow the convention “" + params["template"] + "”."
            if "template" in params
            else f"Rename the series so it matches {params['pattern']}."
        )
    return f"Fix the {_noun(label)}{where}."  # pragma: no cover
