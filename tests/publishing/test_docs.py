"""docs/publishing-rules.md stays true: its example table compiles cleanly and its default table is the code's."""

from __future__ import annotations

import re
from pathlib import Path

from addon.publishing.rules import RULE_KINDS
from addon.publishing.standards import DEFAULT_RULE_SET, compile_standards

DOC = Path(__file__).resolve().parents[2] / "docs" / "publishing-rules.md"


def table_after(heading: str) -> list[tuple[str, ...]]:
    """The first markdown table after a heading, as rows of cells (backticks removed, separator row dropped)."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().endswith(heading))
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            cells = tuple(
                c.strip().replace("`", "").replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))
            )
            if not all(set(c) <= {"-", ":"} for c in cells):
                rows.append(cells)
        elif rows:
            break
    return rows


def test_example_table_compiles_without_problems():
    rule_set = compile_standards(table_after("### Example table"))
    assert rule_set.problems == ()
    assert len(rule_set.rules) == 10  # the ISBN row holds two rules


def test_documented_default_table_is_the_default_rule_set():
    documented = compile_standards(table_after("## 2. The default rule set"))
    assert documented.problems == ()
    assert [r.describe() for r in documented.rules] == [r.describe() for r in DEFAULT_RULE_SET.rules]


def test_rule_syntax_lists_each_kind_of_rule_with_what_it_reads_and_its_example():
    header, *rows = table_after("### Rule syntax")
    assert header == ("Rule", "Write it as", "Reads", "Passes when")
    assert [(row[0], row[2]) for row in rows] == [(kind.title, kind.reads) for kind in RULE_KINDS.values()]
    for row, kind in zip(rows, RULE_KINDS.values(), strict=True):
        assert kind.example[1] in row[1], (
            f"{kind.title}: the example “{kind.example[1]}” is not among the ways to write it"
        )
