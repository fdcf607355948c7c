"""`make bench`: run every benchmark module in bench/ (a module with a `__main__` block), one after another,
each in its own process with its default arguments; each appends its own section to bench/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent


def benchmark_modules() -> list[str]:
    return sorted(
        path.stem
        for path in BENCH.glob("*.py")
        if path.stem != "run_all" and 'if __name__ == "__main__":' in path.read_text(encoding="utf-8")
    )


def main() -> int:
    failed = []
    for name in benchmark_modules():
        print(f"== bench.{name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=BENCH.parent).returncode != 0:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
