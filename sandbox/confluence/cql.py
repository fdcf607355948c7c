"""A small CQL subset: `field = value` / `field in (...)` / `!=` / `~` clauses joined by AND.

Fields: type, space (key), title, label, id, parent, ancestor, content.property[key].path.
`~` is "contains", case-insensitive; a trailing `*` (as search-as-you-type pickers send) is accepted.
Anything else is refused with the message Confluence gives for a query it cannot parse.
"""

from __future__ import annotations

import re
import shlex

from .store import Page, Store, StoreError

_CLAUSE = re.compile(
    r"\s*(?P<field>[A-Za-z_.]+(?:\[[^\]]+\](?:\.[A-Za-z0-9_.]+)?)?)\s*"
    r"(?P<op>!=|=|~|\bin\b|\bnot in\b)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|\([^)]*\)|[^\s()]+)\s*',
    re.I,
)
_PROPERTY = re.compile(r"content\.property\[(?P<key>[^\]]+)\](?:\.(?P<path>[A-Za-z0-9_.]+))?$", re.I)


def _unquote(raw: str) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", raw[1:-1])
    return raw


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("("):
        lexer = shlex.shlex(raw[1:-1], posix=True)
        lexer.whitespace += ","
        lexer.whitespace_split = True
        return list(lexer)
    return [_unquote(raw)]


def parse(cql: str) -> list[tuple[str, str, list[str]]]:
    clauses = []
    parts = re.split(r"\s+AND\s+", cql.strip(), flags=re.I) if cql.strip() else []
    for part in parts:
        match = _CLAUSE.fullmatch(part)
        if not match:
            raise StoreError(400, f"Could not parse cql : {cql}")
        clauses.append(
            (
                match["field"].lower() if "[" not in match["field"] else match["field"],
                match["op"].lower(),
                _values(match["value"]),
            )
        )
    return clauses


def _property_value(page: Page, key: str, path: str | None):
    prop = page.properties.get(key)
    if prop is None:
        return None
    value = prop.value
    for step in path.split(".") if path else []:
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def _matches(store: Store, page: Page, field: str, op: str, values: list[str]) -> bool:
    property_match = _PROPERTY.match(field)
    if property_match:
        actual = _property_value(page, property_match["key"], property_match["path"])
        candidates = [] if actual is None else [str(actual).lower() if isinstance(actual, bool) else str(actual)]
    elif field == "type":
        candidates = ["page"]
    elif field == "space":
        candidates = [store.spaces[page.space_id].key]
    elif field == "title":
        candidates = [page.title]
    elif field == "label":
        candidates = list(page.labels)
    elif field == "id":
        candidates = [page.id]
    elif field == "parent":
        candidates = [page.parent_id or ""]
    elif field == "ancestor":
        candidates = [a.id for a in store.ancestors(page)]
    else:
        raise StoreError(400, f"Could not parse cql : unsupported field '{field}' in this emulator")
    if op == "~":  # contains; a trailing `*` (search-as-you-type prefix) asks for no more than that
        needles = [v.rstrip("*").strip().lower() for v in values]
        return any(n in c.lower() for n in needles for c in candidates)
    hit = any(c in values for c in candidates)
    return not hit if op in ("!=", "not in") else hit


def search(store: Store, cql: str) -> list[Page]:
    clauses = parse(cql)
    with store.lock:
        pages = [p for p in store.pages.values() if p.status == "current"]
        found = [p for p in pages if all(_matches(store, p, f, op, v) for f, op, v in clauses)]
    return sorted(found, key=lambda p: int(p.id))
