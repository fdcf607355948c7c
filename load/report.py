"""Printing a suite's figures and checks, and appending them to bench/RESULTS.md with the machine."""

from __future__ import annotations

import datetime as dt
import platform

from load import invariants as inv
from load.harness import ROOT, machine

RESULTS = ROOT / "bench" / "RESULTS.md"


def render(title: str, figures: list[tuple[str, str]], checks: list[inv.Check]) -> str:
    verdict = "all invariants hold" if all(c.ok for c in checks) else "INVARIANTS FAILED"
    return f"\n{title}\n\n{inv.figures_table(figures)}\n\n{inv.table(checks)}\n\n{verdict}\n"


def record(title: str, command: str, figures: list[tuple[str, str]], checks: list[inv.Check]) -> None:
    info = machine()
    lines = [
        "",
        f"## {title} ({dt.date.today().isoformat()})",
        "",
        f"Command: `{command}`  ",
        f"Machine: `nproc` {info['nproc']}, {info['memory_gib']} GiB memory, {info['cpu']}; "
        f"Python {platform.python_version()}. All traffic on 127.0.0.1.",
        "",
        inv.figures_table(figures),
        "",
        inv.table(checks),
        "",
    ]
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines))
