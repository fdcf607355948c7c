"""Loads the GraphQL operations kept as `.graphql` files beside this module, with the fragments they use.

One named operation per file; files under `fragments/` hold shared selections. A file whose first
lines carry `# assumption:` relies on API that Consonance does not document (see the sandbox docs).
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


@dataclass(frozen=True)
class Operation:
    name: str
    kind: str  # query or mutation
    document: str  # the operation plus every fragment it spreads, ready to send
    assumptions: tuple[str, ...]  # the `# assumption:` lines, empty if fully documented API


def operation_names() -> list[str]:
    return sorted(p.stem for p in OPERATIONS_DIR.glob("*.graphql"))


def fragment_names() -> list[str]:
    return sorted(p.stem for p in FRAGMENTS_DIR.glob("*.graphql"))


@functools.cache
def load_operation(name: str) -> Operation:
    """The operation in `<name>.graphql`; its name inside the file must match the file name."""
    text = (OPERATIONS_DIR / f"{name}.graphql").read_text(encoding="utf-8")
    match = _DEFINITION.search(text)
    if not match or match.group(2) != name:
        raise ValueError(f"{name}.graphql must define an operation named {name}")
    fragments = _fragments_used(text)
    document = "\n".join([text] + [_fragment_text(f) for f in fragments])
    assumptions = tuple(
        line.split(":", 1)[1].strip() for line in text.splitlines() if line.lstrip().startswith("# assumption:")
    )
    assumptions += tuple(a for f in fragments for a in _fragment_assumptions(f))
    return Operation(name=name, kind=match.group(1), document=document, assumptions=assumptions)


@functools.cache
def _fragment_text(name: str) -> str:
    return (FRAGMENTS_DIR / f"{name}.graphql").read_text(encoding="utf-8")


def _fragment_assumptions(name: str) -> tuple[str, ...]:
    return tuple(
        line.split(":", 1)[1].strip()
        for line in _fragment_text(name).splitlines()
        if line.lstrip().startswith("# assumption:")
    )


def _fragments_used(text: str) -> list[str]:
    """Every fragment spread in `text`, transitively, each once, in first-use order."""
    seen: list[str] = []
    pending = [m for m in _SPREAD.findall(text) if m != "on"]
    while pending:
        name = pending.pop(0)
        if name in seen:
            continue
        seen.append(name)
        pending.extend(m for m in _SPREAD.findall(_fragment_text(name)) if m != "on")
    return seen
