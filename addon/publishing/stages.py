"""Workflow stages: their order, which count as "acquired", and the default next-step text per stage.

Consonance's own stage list wins when the gateway has it; these defaults keep summaries ordered and
title pages useful before an admin has written a stage guide.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from .domain import STAGE_ORDER, Stage

DEFAULT_STAGE_NAMES: tuple[str, ...] = tuple(name[:1].upper() + name[1:] for name in STAGE_ORDER)

# None means "any new work counts as acquired" (issue 6: the default); tenants may name stages instead.
DEFAULT_ACQUIRED_STAGES: frozenset[str] | None = None

DEFAULT_NEXT_STEPS: dict[str, str] = {
    "acquisition": "Agree terms with the agent and send the offer for contract.",
    "contracted": "Send the signed contract to rights and set the manuscript delivery date.",
    "writing": "Check in with the author about progress against the delivery date.",
    "manuscript delivered": "Read the manuscript and write the editorial letter.",
    "editorial": "Agree structural edits with the author and hand over for copy-editing.",
    "copy-editing": "Return the copy-edited text to the author for queries.",
    "typesetting": "Check the first pages for design and send proofs out.",
    "proofs": "Collect proof corrections from author and proofreader.",
    "production": "Approve final files, cover and metadata; confirm the print order.",
    "published": "Write the retrospective and record lessons learned.",
}


@lru_cache(maxsize=1024)
def _key(name: str) -> str:
    return " ".join(name.strip().lower().split())


@lru_cache(maxsize=64)
def _positions(order: tuple[str, ...]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, name in enumerate(order):
        positions.setdefault(_key(name), index)
    return positions


def stage_rank(stage: Stage | str | None, order: Sequence[str] | None = None) -> int | None:
    """Where a stage sits from acquisition (0) to published; None if it is not in the order."""
    if stage is None:
        return None
    if isinstance(stage, Stage) and order is None and stage.position is not None:
        return stage.position
    name = stage.name if isinstance(stage, Stage) else stage
    return _positions(tuple(order or STAGE_ORDER)).get(_key(name))


def next_stage_name(stage: Stage | None, order: tuple[str, ...] = DEFAULT_STAGE_NAMES) -> str | None:
    """The stage an "approve stage" decision moves a title to; None at the end or for an unknown stage."""
    rank = stage_rank(stage.name if stage else None, order)
    if rank is None or rank + 1 >= len(order):
        return None
    return order[rank + 1]


def sort_stage_names(names: Iterable[str], order: Sequence[str] | None = None) -> list[str]:
    """Stage names in workflow order; stages not in the order follow, alphabetically."""
    unique = list(dict.fromkeys(names))
    known = {n: stage_rank(n, order) for n in unique}
    return sorted(unique, key=lambda n: (known[n] is None, known[n] if known[n] is not None else 0, _key(n)))


def is_acquired(stage: Stage | str | None, acquired_stages: Iterable[str] | None = DEFAULT_ACQUIRED_STAGES) -> bool:
    """Whether a new work in this stage should get its page set (F1)."""
    if acquired_stages is None:
        return True
    if stage is None:
        return False
    name = stage.name if isinstance(stage, Stage) else stage
    return _key(name) in {_key(s) for s in acquired_stages}


def has_reached(stage: Stage | str | None, target: str, order: Sequence[str] | None = None) -> bool:
    """True when `stage` is at or beyond `target` in the workflow order (False if either is unknown)."""
    here = stage_rank(stage.name if isinstance(stage, Stage) else stage, order)
    there = stage_rank(target, order)
    return here is not None and there is not None and here >= there


def next_step_for(stage: Stage | str | None, guide: Mapping[str, str] | None = None) -> str | None:
    """The next-step instruction for a stage: the admin's stage guide first, then the default."""
    if stage is None:
        return None
    name = _key(stage.name if isinstance(stage, Stage) else stage)
    if guide:
        for key, text in guide.items():
            if _key(key) == name and text and text.strip():
                return text.strip()
    return DEFAULT_NEXT_STEPS.get(name)
