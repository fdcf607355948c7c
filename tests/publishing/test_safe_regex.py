"""Editor-written patterns: safe ones compile, catastrophic shapes are refused, long input is bounded."""

from __future__ import annotations

import pytest

from addon.publishing.safe_regex import MAX_INPUT, UnsafePattern, compile_safe, search_bounded


@pytest.mark.parametrize(
    "pattern", [r"^[A-Z]{3}\d{6}$", r"^.+, .+$", r"^(FIC|JUV)\d{6}$", r"(foo|bar)+", r"(?:ab){2,}", r"^\S"]
)
def test_ordinary_patterns_compile(pattern):
    assert compile_safe(pattern).pattern == pattern


@pytest.mark.parametrize(
    "pattern, words",
    [
        ("(a+)+$", "nested repeats"),
        ("((ab)*)+", "nested repeats"),
        ("(a{1,3})+", "nested repeats"),
        (r"(\w+)\s\1", "backreferences"),
        ("a*b*c*", "open-ended repeats"),
        ("(a|aa)*c", "alternatives"),
        ("[", "not a valid"),
        ("", "empty"),
        ("x" * 301, "longer than"),
    ],
)
def test_dangerous_or_broken_patterns_are_refused(pattern, words):
    with pytest.raises(UnsafePattern, match=words):
        compile_safe(pattern)


def test_search_is_bounded_by_input_length():
    compiled = compile_safe("x$")
    assert search_bounded(compiled, "a" * (MAX_INPUT - 1) + "x") is True
    assert search_bounded(compiled, "a" * MAX_INPUT + "x") is None
    assert search_bounded(compiled, "y") is False
