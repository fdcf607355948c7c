"""`make bench`: run every benchmark module in bench/ (a module with a `__main__` block), one after another,
each in its own process; each appends its own section to bench/RESULTS.md.

The at-scale benchmarks run smaller by default so `make bench` stays about as long as it was (`LIGHT` below);
`python -m bench.run_all --full` (or `make bench FULL=1`) runs every module at its own defaults, the sizes
the issue asks for (1,000 tenants of 5,000 titles; five views per transport and state).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
# module -> arguments of its light run (what `make bench` runs unless --full)
LIGHT = {
    "scheduler_tick": ["--tenants", "200", "--titles", "1000"],
    "browser_views": ["--samples", "2"],
}


def benchmark_modules() -> list[str]:
    return sorted(
        path.stem
        for path in BENCH.glob("*.py")
        if path.stem != "run_all" and 'if __name__ == "__main__":' in path.read_text(encoding="utf-8")
    )


def command(name: str, full: bool) -> list[str]:
    return [sys.executable, "-m", f"bench.{name}", *([] if full else LIGHT.get(name, []))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="every benchmark at its own (issue-sized) defaults")
    args = parser.parse_args(argv)
    failed = []
    for name in benchmark_modules():
        print(f"== bench.{name}", flush=True)
        if subprocess.run(command(name, args.full), cwd=BENCH.parent).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
