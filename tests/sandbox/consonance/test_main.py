"""`python -m sandbox.consonance` runs standalone, prints its URL and answers GraphQL there, keeping a
client's connection open between requests as a hosted API does."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

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
        address = urlsplit(url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        body = json.dumps({"query": "{ worksCount }"})
        headers = {"Authorization": "Bearer k1", "Content-Type": "application/json"}
        for _ in range(3):
            connection.request("POST", address.path, body=body, headers=headers)
            answer = connection.getresponse()
            assert json.loads(answer.read()) == {"data": {"worksCount": 20}}
            assert not answer.will_close  # the next request goes on the same connection
        first_socket = connection.sock
        connection.request("POST", address.path, body=body, headers=headers)
        connection.getresponse().read()
        assert connection.sock is first_socket
        connection.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
