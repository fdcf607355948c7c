"""The metadata rule engine: rules, versioned rule sets, and a title's checklist against them (F5).

Standards are written by people in Confluence; this turns each one into a check with a plain-words
result (pass / fail / not applicable, the offending value, how to fix it) for every format it covers.

Each kind of rule is one entry of `RULE_KINDS` (a `RuleKindSpec`): how its parameters are checked,
how a value is judged, how the rule and its fix are put into words, and what it reads. The code
around the table knows no kind by name, so adding a kind is a `RuleKind` member and its entry (and
its phrase in `standards._parse_clause`, the standards-table reader).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache

from .domain import Format, FormatKind, Title, parse_isbn
from .fields import BISAC_CODE, DATE, FORMAT, FieldSpec, field_spec, known_field_names, resolve_field
from .formats import format_label, kinds_for_word, live_formats
from .safe_regex import UnsafePattern, compile_safe, search_bounded

__all__ = [
    "RULE_KINDS",
    "Check",
    "ChecklistResult",
    "Outcome",
    "Rule",
    "RuleError",
    "RuleKind",
    "RuleKindSpec",
    "RuleParams",
    "RuleSet",
    "Severity",
    "evaluate",
    "make_rule",
    "resolve_field",
    "field_spec",
    "known_field_names",
]


class RuleKind(str, enum.Enum):
    """The stored name of each kind of rule; what a kind does is its entry in RULE_KINDS."""

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


class RuleParams:
    """A made rule's parameters, read by type; make_rule checked them, so a missing or mistyped one is a bug."""

    def __init__(self, pairs: Iterable[tuple[str, object]]) -> None:
        self._values = dict(pairs)

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __iter__(self) -> Iterator[tuple[str, object]]:
        return iter(self._values.items())

    def text(self, name: str) -> str:
        value = self._values[name]
        if not isinstance(value, str):
            raise TypeError(f"rule parameter {name} is {value!r}, not text")
        return value

    def number(self, name: str) -> int:
        value = self._values[name]
        if not isinstance(value, int):
            raise TypeError(f"rule parameter {name} is {value!r}, not a number")
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._values[name]
        if not isinstance(value, (tuple, list)) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"rule parameter {name} is {value!r}, not a list of texts")
        return tuple(value)

    def without(self, *names: str) -> RuleParams:
        return RuleParams((k, v) for k, v in self._values.items() if k not in names)


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

    def param(self, name: str, default: object = None) -> object:
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
        kind = RULE_KINDS[self.kind]
        suffix = f" ({', '.join(self.retailers)})" if self.retailers and not kind.names_its_retailer else ""
        return f"{self.spec.label}: {kind.describe(self.spec, RuleParams(self.params))}{suffix}"

    def as_plain(self) -> dict[str, object]:
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


def _plain(value: object) -> object:
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def make_rule(
    field_name: str,
    kind: RuleKind | str,
    params: Mapping[str, object] | None = None,
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
        rule_kind = RuleKind(kind)
        rule_severity = Severity(severity)
    except ValueError as exc:
        raise RuleError(str(exc)) from None
    format_words = tuple(w.strip().lower() for w in formats if w and w.strip())
    for word in format_words:
        if kinds_for_word(word) is None:
            raise RuleError(f"“{word}” is not a format; use print, hardback, paperback, ebook, audio or all")
    checked = RULE_KINDS[rule_kind].validate(spec, dict(params or {}))
    names = {r.strip() for r in retailers if r and r.strip()}
    own_retailer = checked.get("retailer")  # a rule that names its retailer applies to that retailer
    if isinstance(own_retailer, str):
        names.add(own_retailer)
    retailer_names = tuple(sorted(names, key=str.lower))
    frozen = tuple(sorted(((k, tuple(v) if isinstance(v, list) else v) for k, v in checked.items()), key=_name))
    body = {
        "field": spec.key,
        "kind": rule_kind.value,
        "params": _plain(frozen),
        "formats": sorted(format_words),
        "retailers": list(retailer_names),
        "severity": rule_severity.value,
        "message": message.strip(),
    }
    rule_id = "r-" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:12]
    return Rule(
        rule_id,
        spec.key,
        rule_kind,
        frozen,
        tuple(sorted(format_words)),
        retailer_names,
        rule_severity,
        message.strip(),
    )


def _name(pair: tuple[str, object]) -> str:
    return pair[0]


# --- the kinds of rule -----------------------------------------------------------------------------------

Judgement = tuple[Outcome, object, str | None]  # (outcome, the offending value, what is wrong or why n/a)


@dataclass(frozen=True)
class Reading:
    """What a judge looks at: a rule's parameters, its field, and that field's values on a title or format."""

    params: RuleParams
    spec: FieldSpec
    values: tuple[object, ...]
    title: Title
    fmt: Format | None


@dataclass(frozen=True)
class RuleKindSpec:
    """One kind of rule, whole: what it reads, how it is built, judged and put into words.

    `validate` turns the parameters a standards row or caller gave into clean ones (raising RuleError
    with words for the editor); `judge` gives the outcome for a field's values, and is only called
    without values when `judges_missing_values`; `describe` is the rule after "<Field label>: ";
    `fix` is the default "how to fix" when the standards row gives no message.
    """

    kind: RuleKind
    title: str  # as docs/publishing-rules.md names it
    params: tuple[str, ...]  # the parameters it reads (a retailer requirement: also its inner rule's)
    reads: str  # which metadata it reads, in the words of docs/publishing-rules.md
    example: tuple[str, str]  # (field, rule) as written in a standards table
    validate: Callable[[FieldSpec, Mapping[str, object]], dict[str, object]]
    judge: Callable[[Reading], Judgement]
    describe: Callable[[FieldSpec, RuleParams], str]
    fix: Callable[[Rule, RuleParams], str]
    judges_missing_values: bool = False  # False: no value to check is "not applicable"
    can_be_retailer_requirement: bool = True
    names_its_retailer: bool = False  # True: describe() says the retailer, so it is not repeated after it


def _no_params(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    return {}


def _where(rule: Rule) -> str:
    return " in Consonance" + (f" for {', '.join(rule.retailers)}" if rule.retailers else "")


# required


def _judge_required(reading: Reading) -> Judgement:
    if reading.values:
        return Outcome.PASS, None, None
    return Outcome.FAIL, None, f"{reading.spec.label} is missing"


def _fix_required(rule: Rule, params: RuleParams) -> str:
    return f"Add the {_noun(rule.spec.label)}{_where(rule)}."


# valid ISBN


def _validate_valid_isbn(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    if spec.key != "isbn":
        raise RuleError("“valid ISBN” only applies to the ISBN field")
    return {}


def _judge_valid_isbn(reading: Reading) -> Judgement:
    for value in reading.values:
        isbn, problem = parse_isbn(str(value))
        if isbn is None:
            return Outcome.FAIL, value, problem
    return Outcome.PASS, None, None


# pattern


def _validate_pattern(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    pattern = str(params.get("pattern") or "")
    try:
        compile_safe(pattern)
    except UnsafePattern as exc:
        raise RuleError(str(exc)) from None
    return {"pattern": pattern}


def _judge_pattern(reading: Reading) -> Judgement:
    pattern = reading.params.text("pattern")
    compiled = _compiled(pattern)
    for value in reading.values:
        found = search_bounded(compiled, _text(value))
        if found is None:
            return Outcome.FAIL, value, "the value is too long to check against a pattern"
        if not found:
            return Outcome.FAIL, value, f"does not match the pattern {pattern}"
    return Outcome.PASS, None, None


def _fix_pattern(rule: Rule, params: RuleParams) -> str:
    return f"Change the {_noun(rule.spec.label)} so it matches {params.text('pattern')}."


# one of


def _validate_one_of(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    given = params.get("values") or ()
    items: Iterable[object] = [given] if isinstance(given, str) else given if isinstance(given, Iterable) else ()
    values = [str(v).strip() for v in items if str(v).strip()]
    if not values:
        raise RuleError("“one of” needs a list of allowed values")
    if spec.is_bisac:
        values = [v.upper() for v in values]
        bad = [v for v in values if not BISAC_CODE.match(v)]
        if bad:
            raise RuleError(f"not BISAC codes (three letters and six digits, like FIC009000): {', '.join(bad[:5])}")
    return {"values": sorted(set(values), key=lambda v: (v.lower(), v))}


def _judge_one_of(reading: Reading) -> Judgement:
    allowed = {v.lower() for v in reading.params.texts("values")}
    for value in reading.values:
        text = _text(value).strip()
        if reading.spec.is_bisac and not BISAC_CODE.match(text.upper()):
            return Outcome.FAIL, value, "not a well-formed BISAC code (three letters and six digits)"
        if text.lower() not in allowed:
            return Outcome.FAIL, value, "not one of the allowed values"
    return Outcome.PASS, None, None


def _describe_one_of(spec: FieldSpec, params: RuleParams) -> str:
    values = params.texts("values")
    return "one of " + ", ".join(values[:8]) + (f" (and {len(values) - 8} more)" if len(values) > 8 else "")


def _fix_one_of(rule: Rule, params: RuleParams) -> str:
    values = params.texts("values")
    return f"Choose a {_noun(rule.spec.label)} from the allowed list ({', '.join(values[:5])}" + (
        ", …)." if len(values) > 5 else ")."
    )


# maximum and minimum length


def _validate_length(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    return {"limit": _positive_int(params.get("limit"), "the length")}


def _positive_int(value: object, what: str) -> int:
    try:
        number = int(str(value).strip().replace(",", ""))
    except (TypeError, ValueError):
        raise RuleError(f"{what} must be a whole number, not “{value}”") from None
    if number < 0 or number > 10_000_000:
        raise RuleError(f"{what} must be between 0 and 10,000,000")
    return number


def _judge_max_length(reading: Reading) -> Judgement:
    limit = reading.params.number("limit")
    for value in reading.values:
        length = len(_text(value))
        if length > limit:
            return Outcome.FAIL, value, f"{length} characters, more than the limit of {limit}"
    return Outcome.PASS, None, None


def _judge_min_length(reading: Reading) -> Judgement:
    limit = reading.params.number("limit")
    for value in reading.values:
        length = len(_text(value))
        if length < limit:
            return Outcome.FAIL, value, f"{length} characters, fewer than the minimum of {limit}"
    return Outcome.PASS, None, None


def _fix_max_length(rule: Rule, params: RuleParams) -> str:
    return f"Shorten the {_noun(rule.spec.label)} to at most {params.number('limit')} characters{_where(rule)}."


def _fix_min_length(rule: Rule, params: RuleParams) -> str:
    return f"Lengthen the {_noun(rule.spec.label)} to at least {params.number('limit')} characters{_where(rule)}."


# date order


def _validate_date_order(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    relation = str(params.get("relation") or "").strip().lower().replace(" ", "_")
    if relation not in DATE_RELATIONS:
        raise RuleError("a date order needs after, before, on or after, or on or before")
    other = field_spec(str(params.get("other") or "")) or resolve_field(str(params.get("other") or ""))
    if spec.value_type != DATE:
        raise RuleError(f"“{spec.label}” is not a date, so it cannot be before or after another date")
    if other is None or other.value_type != DATE:
        raise RuleError(f"“{params.get('other')}” is not a date field; try contract delivery date or publication date")
    if other.key == spec.key:
        raise RuleError("a date cannot be compared with itself")
    return {"relation": relation, "other": other.key}


def _judge_date_order(reading: Reading) -> Judgement:
    other_spec = field_spec(reading.params.text("other"))
    if other_spec is None:  # make_rule only keeps the key of a known date field
        return Outcome.NOT_APPLICABLE, None, "no date to compare with"
    others = [v for v in other_spec.read(reading.title, reading.fmt) if isinstance(v, date)]
    if not others:
        return Outcome.NOT_APPLICABLE, None, f"no {_noun(other_spec.label)} to compare with"
    other = others[0]
    relation = reading.params.text("relation")
    for value in reading.values:
        if not isinstance(value, date):  # the field is a date field (make_rule checks), so this does not happen
            continue
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
    return Outcome.PASS, None, None


def _other_date(params: RuleParams) -> str:
    other = field_spec(params.text("other"))
    return _noun(other.label) if other else params.text("other")


def _fix_date_order(rule: Rule, params: RuleParams) -> str:
    return (
        f"Set the {_noun(rule.spec.label)} {DATE_RELATIONS[params.text('relation')]} the "
        f"{_other_date(params)}, or correct whichever date is wrong."
    )


# contributor name form


def _validate_name_form(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
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


def _judge_name_form(reading: Reading) -> Judgement:
    if reading.spec.key == "contributor_name":
        return _judge_contributors(reading.title)
    form = reading.params.text("form")
    for value in reading.values:
        if not _name_has_form(" ".join(str(value).split()), form):
            return Outcome.FAIL, value, f"not written “{NAME_FORMS[form]}”"
    return Outcome.PASS, None, None


def _describe_name_form(spec: FieldSpec, params: RuleParams) -> str:
    form = NAME_FORMS[params.text("form")]
    if spec.key == "contributor_name":
        return f"key names are the surname, so it reads “{form}”"
    return f"written “{form}”"


def _fix_name_form(rule: Rule, params: RuleParams) -> str:
    form = NAME_FORMS[params.text("form")]
    if rule.spec.key == "contributor_name":
        return (
            "In Consonance, keep the name as people read it (“Amelia Grace Okafor”) and put only the surname"
            f" (“Okafor”) in Key names; the “{form}” form is then made from them."
        )
    return f"Write contributor names as “{form}”, e.g. “Okafor, Amelia Grace”."


# series naming


def _validate_series_naming(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    template, pattern = params.get("template"), params.get("pattern")
    if bool(template) == bool(pattern):
        raise RuleError("a series convention needs either a template like “<Series> #<n>” or a pattern")
    try:
        compile_safe(str(pattern) if pattern else series_template_regex(str(template)))
    except UnsafePattern as exc:
        raise RuleError(str(exc)) from None
    return {"template": str(template)} if template else {"pattern": str(pattern)}


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


def _series_regex(params: RuleParams) -> str:
    return params.text("pattern") if "pattern" in params else series_template_regex(params.text("template"))


def _judge_series_naming(reading: Reading) -> Judgement:
    compiled = _compiled(_series_regex(reading.params))
    for value in reading.values:
        if not search_bounded(compiled, str(value)):
            return Outcome.FAIL, value, "does not follow the series naming convention"
    return Outcome.PASS, None, None


def _describe_series_naming(spec: FieldSpec, params: RuleParams) -> str:
    if "template" in params:
        return f"named like “{params.text('template')}”"
    return f"named to match {params.text('pattern')}"


def _fix_series_naming(rule: Rule, params: RuleParams) -> str:
    if "template" in params:
        return "Rename the series to follow the convention “" + params.text("template") + "”."
    return f"Rename the series so it matches {params.text('pattern')}."


# retailer requirement: another kind's rule, for one retailer


def _validate_retailer_requirement(spec: FieldSpec, params: Mapping[str, object]) -> dict[str, object]:
    retailer = str(params.get("retailer") or "").strip()
    if not retailer:
        raise RuleError("a retailer requirement needs the retailer's name")
    try:
        inner = RuleKind(params.get("requirement"))
    except ValueError:
        raise RuleError("a retailer requirement needs a rule such as required or max length 4000") from None
    if not RULE_KINDS[inner].can_be_retailer_requirement:
        raise RuleError(f"a retailer requirement cannot be a {inner.value.replace('_', ' ')} rule")
    inner_params = {k: v for k, v in params.items() if k not in ("retailer", "requirement")}
    return {"retailer": retailer, "requirement": inner.value, **RULE_KINDS[inner].validate(spec, inner_params)}


def _requirement(params: RuleParams) -> RuleKindSpec:
    return RULE_KINDS[RuleKind(params.text("requirement"))]


def _judge_retailer_requirement(reading: Reading) -> Judgement:
    return _judge(_requirement(reading.params), reading)


def _describe_retailer_requirement(spec: FieldSpec, params: RuleParams) -> str:
    inner = _requirement(params).describe(spec, params.without("retailer", "requirement"))
    return f"{params.text('retailer')} needs it {inner}"


def _fix_retailer_requirement(rule: Rule, params: RuleParams) -> str:
    return _requirement(params).fix(rule, params)


RULE_KINDS: dict[RuleKind, RuleKindSpec] = {
    spec.kind: spec
    for spec in (
        RuleKindSpec(
            RuleKind.REQUIRED,
            "required",
            params=(),
            reads="the rule's field",
            example=("ISBN", "required"),
            validate=_no_params,
            judge=_judge_required,
            describe=lambda spec, params: "required",
            fix=_fix_required,
            judges_missing_values=True,
        ),
        RuleKindSpec(
            RuleKind.VALID_ISBN,
            "valid ISBN",
            params=(),
            reads="the ISBN field only",
            example=("ISBN", "valid ISBN"),
            validate=_validate_valid_isbn,
            judge=_judge_valid_isbn,
            describe=lambda spec, params: "a valid ISBN-13",
            fix=lambda rule, params: (
                "Enter the 13-digit ISBN exactly as assigned (978 or 979, with the right check digit)."
            ),
        ),
        RuleKindSpec(
            RuleKind.PATTERN,
            "pattern",
            params=("pattern",),
            reads="the rule's field, as text",
            example=("BISAC main subject", "pattern: ^[A-Z]{3}\\d{6}$"),
            validate=_validate_pattern,
            judge=_judge_pattern,
            describe=lambda spec, params: f"matches {params.text('pattern')}",
            fix=_fix_pattern,
        ),
        RuleKindSpec(
            RuleKind.ONE_OF,
            "one of",
            params=("values",),
            reads="the rule's field, as text",
            example=("BISAC main subject", "one of: FIC000000, FIC009000"),
            validate=_validate_one_of,
            judge=_judge_one_of,
            describe=_describe_one_of,
            fix=_fix_one_of,
        ),
        RuleKindSpec(
            RuleKind.MAX_LENGTH,
            "maximum length",
            params=("limit",),
            reads="the rule's field, as text",
            example=("Description", "max length 4000"),
            validate=_validate_length,
            judge=_judge_max_length,
            describe=lambda spec, params: f"at most {params.number('limit')} characters",
            fix=_fix_max_length,
        ),
        RuleKindSpec(
            RuleKind.MIN_LENGTH,
            "minimum length",
            params=("limit",),
            reads="the rule's field, as text",
            example=("Description", "min length 10"),
            validate=_validate_length,
            judge=_judge_min_length,
            describe=lambda spec, params: f"at least {params.number('limit')} characters",
            fix=_fix_min_length,
        ),
        RuleKindSpec(
            RuleKind.DATE_ORDER,
            "date order",
            params=("relation", "other"),
            reads="the rule's date field and the other date field it names",
            example=("Publication date", "after: contract delivery date"),
            validate=_validate_date_order,
            judge=_judge_date_order,
            describe=lambda spec, params: f"{DATE_RELATIONS[params.text('relation')]} the {_other_date(params)}",
            fix=_fix_date_order,
            can_be_retailer_requirement=False,
        ),
        RuleKindSpec(
            RuleKind.NAME_FORM,
            "contributor name form",
            params=("form",),
            reads="the rule's field; on Contributor name, each contributor's name and key names",
            example=("Contributor name", "name form: Surname, Forenames"),
            validate=_validate_name_form,
            judge=_judge_name_form,
            describe=_describe_name_form,
            fix=_fix_name_form,
            can_be_retailer_requirement=False,
        ),
        RuleKindSpec(
            RuleKind.SERIES_NAMING,
            "series naming",
            params=("template", "pattern"),
            reads="the rule's field (the series names)",
            example=("Series", "series: <Series> #<n>"),
            validate=_validate_series_naming,
            judge=_judge_series_naming,
            describe=_describe_series_naming,
            fix=_fix_series_naming,
            can_be_retailer_requirement=False,
        ),
        RuleKindSpec(
            RuleKind.RETAILER_REQUIREMENT,
            "retailer requirement",
            params=("retailer", "requirement"),
            reads="what its inner rule reads",
            example=("Description", "retailer Amazon: max length 4000"),
            validate=_validate_retailer_requirement,
            judge=_judge_retailer_requirement,
            describe=_describe_retailer_requirement,
            fix=_fix_retailer_requirement,
            judges_missing_values=True,  # its inner rule decides
            can_be_retailer_requirement=False,
            names_its_retailer=True,
        ),
    )
}


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
    kind, params = RULE_KINDS[rule.kind], RuleParams(rule.params)
    outcome, value, problem = _judge(kind, Reading(params, rule.spec, rule.spec.read(title, fmt), title, fmt))
    fix = (rule.message or kind.fix(rule, params)) if outcome is Outcome.FAIL else ""
    return Check(rule, outcome, fmt.product_id if fmt else None, label, _shown(value), problem, fix)


def _judge(kind: RuleKindSpec, reading: Reading) -> Judgement:
    """(outcome, offending value, problem) for one field's values; with none, only some kinds judge at all."""
    if not reading.values and not kind.judges_missing_values:
        return Outcome.NOT_APPLICABLE, None, f"no {_noun(reading.spec.label)} to check"
    return kind.judge(reading)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    """Patterns were vetted when the rule was made; this only avoids re-vetting them per title."""
    return compile_safe(pattern)


def _shown(value: object) -> str | None:
    if value is None:
        return None
    text = value.isoformat() if isinstance(value, date) else str(value)
    return text if len(text) <= 200 else text[:197] + "…"


def _noun(label: str) -> str:
    """A field label for use mid-sentence: "Publication date" → "publication date", acronyms kept."""
    return " ".join(w if (w.isupper() or w.startswith("(")) else w.lower() for w in label.split())


def _text(value: object) -> str:
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


def _judge_contributors(title: Title) -> Judgement:
    """Contributor names judged on Consonance's structured fields, the ONIX way: `name` is the display
    form and `keyNames` must be the surname within it; the "Surname, Forenames" form is derived from them."""
    for contributor in title.contributors:
        name = " ".join((contributor.name or "").split())
        key = " ".join((contributor.key_names or "").split())
        if not name:
            return Outcome.FAIL, None, "a contributor has no name"
        if not key:
            return Outcome.FAIL, name, "no key names (surname) recorded, so the name cannot be sorted or inverted"
        if contributor.inverted_name is None:
            return Outcome.FAIL, f"{name} (key names “{key}”)", "the key names are not the surname in the name"
        if key == name and " " in name and "," not in name:
            return (
                Outcome.FAIL,
                f"{name} (key names “{key}”)",
                "the key names hold the whole name, not just the surname",
            )
    return Outcome.PASS, None, None
