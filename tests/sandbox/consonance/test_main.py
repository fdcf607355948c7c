"""`python -m sandbox.consonance` runs standalone, prints its URL and answers GraphQL there."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]


def test_standalone_process_prints_its_url_and_serves():
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.consonance", "--port", "0", "--seed", "3", "--size", "20", "--api-key", "k1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        url = re.search(r"(http://\S+/graphql)", line).group(1)
        response = requests.post(
            url, json={"query": "{ worksCount }"}, headers={"Authorization": "Bearer k1"}, timeout=10
        )
        assert response.json() == {"data": {"worksCount": 20}}
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
