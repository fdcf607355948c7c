"""Loads the GraphQL operations kept as `.graphql` files beside this module, with the fragments they use.

One named operation per file; files under `fragments/` hold shared selections. A file whose first
lines carry `# assumption:` relies on API that Consonance does not document (see the sandbox docs).

Operations are built for the server in front of us: a line ending in `# needs: Work.imprint` (a
schema coordinate, or a derived capability such as `paging:page`) is kept only when the tenant's
capability profile has it, and `# unless: X` only when it has not. A dropped line that opens a
block (`{` or `(`) drops the whole block, and variables left unused are dropped from the header,
so the document sent never names a field, argument or value the server lacks.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

OPERATIONS_DIR = Path(__file__).parent
FRAGMENTS_DIR = OPERATIONS_DIR / "fragments"

_SPREAD = re.compile(r"\.\.\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_DEFINITION = re.compile(r"^\s*(query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_CONDITION = re.compile(r"#\s*(needs|unless):\s*([^#]+?)\s*$")
_HEADER = re.compile(r"^(\s*(?:query|mutation|subscription)\s+[A-Za-z_][A-Za-z0-9_]*)\s*\(([^)]*)\)", re.MULTILINE)
_EMPTY_ARGUMENTS = re.compile(r"\(\s*\)")
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\s*:")


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # query or mutation
    document: str  # the operation plus every fragment it spreads, ready to send
    assumptions: tuple[str, ...]  # the `# assumption:` lines, empty if fully documented API
    needs: frozenset[str] = frozenset()  # every capability a `# needs:` / `# unless:` line names

    @property
    def variables(self) -> frozenset[str]:
        """The variables the document declares (after optional parts were dropped)."""
        header = _HEADER.search(self.document)
        return frozenset(_VARIABLE.findall(header.group(2))) if header else frozenset()


def operation_names() -> list[str]:
    return sorted(p.stem for p in OPERATIONS_DIR.glob("*.graphql"))


def fragment_names() -> list[str]:
    return sorted(p.stem for p in FRAGMENTS_DIR.glob("*.graphql"))


def assumed_capabilities(names: frozenset[str]) -> frozenset[str]:
    """What the app was first written for (the sandbox's full schema): every capability in `names`, paging by page."""
    return frozenset(n for n in names if not n.startswith("paging:")) | {"paging:page"}


@functools.lru_cache(maxsize=512)
def load_operation(name: str, has: frozenset[str] | None = None) -> Operation:
    """The operation in `<name>.graphql`, built for a server with capabilities `has`
    (None: the sandbox's full schema, see `assumed_capabilities`). Its name inside the file must match the file name.
    """
    text = (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")
    if has is None:
        everything = "\n".join([text] + [_fragment_text(f) for f in _fragments_used(text, None)])
        has = assumed_capabilities(needed_capabilities(everything))
    match = _DEFINITION.search(text)
    if not match or match.group(2) != name:
        raise ValueError(f"{name}.graphql must define an operation named {name}")
    selected = _select(text, has)
    fragments = _fragments_used(selected, has)
    raw = "\n".join([text] + [_fragment_text(f) for f in _fragments_used(text, None)])
    document = "\n".join([selected] + [_select(_fragment_text(f), has) for f in fragments])
    assumptions = tuple(
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.lstrip().startswith("# assumption:")
    )
    assumptions += tuple(a for f in _fragments_used(text, None) for a in _fragment_assumptions(f))
    return Operation(
        name=name,
        kind=match.group(1),
        document=_drop_unused_variables(document),
        assumptions=assumptions,
        needs=needed_capabilities(raw),
    )


def needed_capabilities(text: str) -> frozenset[str]:
    """Every capability named by a `# needs:` or `# unless:` condition in `text`."""
    found: set[str] = set()
    for line in text.splitlines():
        condition = _CONDITION.search(line)
        if condition:
            found.update(part.strip() for part in condition.group(2).split(",") if part.strip())
    return frozenset(found)


def _keeps(line: str, has: frozenset[str] | None) -> bool:
    condition = _CONDITION.search(line)
    if condition is None or line.lstrip().startswith("# assumption"):
        return True
    names = [part.strip() for part in condition.group(2).split(",") if part.strip()]
    if has is None:  # while finding fragments for the full picture: keep every line
        return True
    present = all(n in has for n in names)
    return present if condition.group(1) == "needs" else not present


def _select(text: str, has: frozenset[str] | None) -> str:
    """Drop every conditional line the capabilities rule out, with the block it opens."""
    kept, skipping_depth = [], 0
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        opens = code.count("{") + code.count("(") - code.count("}") - code.count(")")
        if skipping_depth:
            skipping_depth += opens
            continue
        if not _keeps(line, has):
            skipping_depth = max(opens, 0)
            continue
        kept.append(_CONDITION.sub("", line).rstrip() if _CONDITION.search(line) else line)
    return _EMPTY_ARGUMENTS.sub("", "\n".join(kept))


def _drop_unused_variables(document: str) -> str:
    """Variables whose every use was dropped with an optional part leave the header too (GraphQL refuses them)."""
    header = _HEADER.search(document)
    if not header:
        return document
    body = document[header.end() :]
    definitions = [d.strip() for d in re.split(r",(?![^\[]*\])", header.group(2)) if d.strip()]
    used = [d for d in definitions if _variable_used(d, body)]
    head = header.group(1) + (f"({', '.join(used)})" if used else "")
    return document[: header.start()] + head + body


def _variable_used(definition: str, body: str) -> bool:
    """Whether the operation's body uses the variable `definition` declares ("$isbn: String!"); a
    definition we cannot read is kept, since dropping a used variable breaks the operation."""
    variable = _VARIABLE.match(definition)
    if variable is None:
        return True
    return re.search(r"\$" + variable.group(1) + r"\b", body) is not None


@functools.cache
def _fragment_text(name: str) -> str:
    return (FRAGMENTS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


def _fragment_assumptions(name: str) -> tuple[str, ...]:
    return tuple(
        line.split(":", 1)[1].strip()
        for line in _fragment_text(name).splitlines()
        if line.lstrip().startswith("# assumption:")
    )


def _fragments_used(text: str, has: frozenset[str] | None) -> list[str]:
    """Every fragment spread in `text` (as built for `has`), transitively, each once, in first-use order.

    A fragment spread only inside a dropped part is left out: GraphQL refuses unused fragments.
    """
    seen: list[str] = []
    pending = [m for m in _SPREAD.findall(text) if m != "on"]
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.append(name)
        pending.extend(m for m in _SPREAD.findall(_select(_fragment_text(name), has)) if m != "on")
    return seen
