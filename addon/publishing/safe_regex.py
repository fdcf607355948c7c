"""Regular expressions written by editors, accepted only when they cannot hang a worker.

Python's `re` has no timeout, so a pattern such as `(a+)+$` can run for hours on a long value.
We refuse the shapes that backtrack catastrophically (nested unbounded repeats, backreferences,
more than two unbounded repeats) and never match against more than MAX_INPUT characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

try:  # Python 3.11+ keeps the regex parser here; older versions call it sre_parse.
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from re import _constants as _sre  # type: ignore[attr-defined]

MAX_PATTERN_LENGTH = 300
MAX_INPUT = 5000
MAX_UNBOUNDED_REPEATS = 2
_LARGE_REPEAT = 100  # {m,n} with n above this counts as unbounded

_REPEATS = {_sre.MAX_REPEAT, _sre.MIN_REPEAT, getattr(_sre, "POSSESSIVE_REPEAT", _sre.MAX_REPEAT)}


# re's internal parse tree, (opcode, argument) pairs; the parser is private and untyped, so its parts are Any
_ParseTree = Iterable[tuple[Any, Any]]


class UnsafePattern(ValueError):
    """The pattern is invalid or could run too long; the message says why in plain words."""


def compile_safe(pattern: str) -> re.Pattern[str]:
    """Compile an editor's pattern, or raise UnsafePattern saying what to change."""
    if not pattern or not pattern.strip():
        raise UnsafePattern("the pattern is empty")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"the pattern is longer than {MAX_PATTERN_LENGTH} characters")
    try:
        parsed = _sre_parse.parse(pattern)
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as exc:
        raise UnsafePattern(f"the pattern is not a valid regular expression ({exc})") from None
    counter = [0]
    _walk(parsed, inside_unbounded=False, counter=counter)
    if counter[0] > MAX_UNBOUNDED_REPEATS:
        raise UnsafePattern(
            f"the pattern has {counter[0]} open-ended repeats (+, *, {{n,}}); use at most {MAX_UNBOUNDED_REPEATS}"
        )
    return compiled


def search_bounded(compiled: re.Pattern[str], value: str) -> bool | None:
    """re.search on values up to MAX_INPUT characters; None when the value is too long to check."""
    if len(value) > MAX_INPUT:
        return None
    return compiled.search(value) is not None


def _is_unbounded(max_count: int) -> bool:
    return max_count == _sre.MAXREPEAT or max_count > _LARGE_REPEAT


def _walk(items: _ParseTree, inside_unbounded: bool, counter: list[int]) -> None:
    for op, arg in items:
        if op in (_sre.GROUPREF, _sre.GROUPREF_EXISTS):
            raise UnsafePattern("backreferences (\\1, (?P=name)) are not allowed")
        if op in _REPEATS:
            _min, max_count, body = arg
            unbounded = _is_unbounded(max_count)
            if unbounded:
                counter[0] += 1
            if inside_unbounded and max_count > 1:
                raise UnsafePattern(
                    "a repeated group contains another repeat, as in (a+)+; write the pattern without nested repeats"
                )
            _walk(body, inside_unbounded or unbounded, counter)
        elif op == _sre.SUBPATTERN:
            _walk(arg[-1], inside_unbounded, counter)
        elif op == _sre.BRANCH:
            if inside_unbounded and not _branches_start_apart(arg[1]):
                raise UnsafePattern(
                    "alternatives inside a repeat, as in (a|ab)+, must each start with a different "
                    "letter; list the choices without repeating them"
                )
            for branch in arg[1]:
                _walk(branch, inside_unbounded, counter)
        elif op in (_sre.ASSERT, _sre.ASSERT_NOT):
            _walk(arg[1], inside_unbounded, counter)
        elif op == getattr(_sre, "ATOMIC_GROUP", None):
            _walk(arg, inside_unbounded, counter)


def _branches_start_apart(branches: Iterable[_ParseTree]) -> bool:
    """True when every alternative starts with its own literal character, so repeats cannot overlap."""
    firsts = []
    for branch in branches:
        items = list(branch)
        if not items or items[0][0] != _sre.LITERAL:
            return False
        firsts.append(items[0][1])
    return len(set(firsts)) == len(firsts)
