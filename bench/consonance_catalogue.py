"""Benchmark: read whole catalogues through the Consonance gateway from the sandbox over HTTP.

For 1k, 10k and 50k works it reads every change fingerprint (and, for 1k and 10k, every full title
with its formats), printing requests, wall time and the client's peak traced memory, then appends a
dated table to bench/RESULTS.md. The sandbox runs as a separate process so its memory is not counted.

    .venv/bin/python -m bench.consonance_catalogue [--sizes 1000,10000,50000] [--no-record]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import math
import os
import socket
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import requests

from addon.consonance.gateway import MAX_PAGE_SIZE, ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection, TransportOptions

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
API_KEY = "sandbox-api-key"
FULL_TITLE_SIZES = {1000, 10000}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def sandbox_process(size: int, seed: int = 42):
    """Start `python -m sandbox.consonance` on a free port with a catalogue of `size` works."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "sandbox.consonance",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--size",
        str(size),
        "--seed",
        str(seed),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"sandbox exited: {process.stderr.read().decode()[-2000:]}")
            try:
                requests.post(url + "/graphql", json={"query": "{ __typename }"}, timeout=1)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError("sandbox did not start within 300s") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(url: str, reader: str) -> dict:
    """Drain one gateway generator, counting records, requests, wall time and peak traced memory."""
    gateway = ConsonanceGateway(ConsonanceConnection(url, API_KEY), TransportOptions(read_timeout=120))
    tracemalloc.start()
    started = time.perf_counter()
    count = 0
    formats = 0
    for item in getattr(gateway, reader)():
        count += 1
        formats += len(item.formats)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gateway.close()
    return {
        "records": count,
        "formats": formats,
        "requests": gateway.stats.requests,
        "retries": gateway.stats.retries,
        "pages_needed": math.ceil(count / MAX_PAGE_SIZE),
        "seconds": elapsed,
        "peak_mib": peak / 2**20,
        "mib_received": gateway.stats.bytes_received / 2**20,
    }


def run(sizes: list[int]) -> list[tuple[int, str, dict]]:
    rows = []
    for size in sizes:
        with sandbox_process(size) as url:
            readers = ["iter_fingerprints"] + (["iter_titles"] if size in FULL_TITLE_SIZES else [])
            for reader in readers:
                result = measure(url, reader)
                rows.append((size, reader, result))
                print(
                    f"{size:>6} works  {reader:<18} {result['requests']:>4} requests "
                    f"(pages needed {result['pages_needed']})  {result['seconds']:7.2f}s  "
                    f"peak {result['peak_mib']:6.1f} MiB  received {result['mib_received']:6.1f} MiB",
                    flush=True,
                )
    return rows


def record(rows: list[tuple[int, str, dict]], command: str) -> None:
    lines = [
        "",
        f"## Consonance catalogue read through the gateway ({dt.date.today().isoformat()})",
        "",
        f"Command: `{command}` (sandbox in its own process over loopback HTTP; page size {MAX_PAGE_SIZE}; "
        f"peak = client's tracemalloc peak; {os.cpu_count()} CPU cores).",
        "",
        "| works | read | records | formats | requests | pages needed | wall time (s) | peak memory (MiB) | received (MiB) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, reader, r in rows:
        lines.append(
            f"| {size:,} | {reader} | {r['records']:,} | {r['formats']:,} | {r['requests']} | "
            f"{r['pages_needed']} | {r['seconds']:.2f} | {r['peak_mib']:.1f} | {r['mib_received']:.1f} |"
        )
    if not RESULTS.exists():
        RESULTS.write_text("# Benchmark results\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to bench/RESULTS.md")
    args = parser.parse_args(argv)
    rows = run([int(s) for s in args.sizes.split(",")])
    if not args.no_record:
        record(rows, "python -m bench.consonance_catalogue " + " ".join(argv if argv is not None else sys.argv[1:]))


if __name__ == "__main__":
    main()
