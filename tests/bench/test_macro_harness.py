"""The benchmark's CPU accounting: it finds every process serving a port (the one holding the listening
socket and the workers it started) and reads how much CPU they used, so "server CPU per view" counts a
pre-forking server's workers and not only its idle parent; and it merges a row's interleaved slices into one
latency distribution, each slice weighted by its views."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from bench import macro_harness as rig

# A parent that listens, and a child that burns CPU for a while (as a node cluster's worker serves
# connections its primary accepted): the child holds no listening socket of its own.
PARENT = """
import os, socket, sys, time
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
child = os.fork()
if child == 0:
    server.close()
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        pass
    time.sleep(60)
    os._exit(0)
print(server.getsockname()[1], child, flush=True)
time.sleep(60)
"""


def test_the_processes_serving_a_port_include_workers_without_the_socket():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = None
    try:
        port, child = (int(n) for n in parent.stdout.readline().split())
        serving = rig.listening_processes(f"http://127.0.0.1:{port}")
        assert serving == sorted({parent.pid, child})
        assert rig.listening_processes(f"http://127.0.0.1:{rig.free_port()}") == []  # nothing listens there

        before = rig.cpu_seconds(serving)
        time.sleep(1.0)
        used = rig.cpu_seconds(serving) - before
        assert 0.5 < used < 1.5  # the child's busy second, counted once
        assert rig.cpu_seconds([2**22 + 7]) == 0  # a process that is not there counts nothing
    finally:
        if child is not None:
            os.kill(child, signal.SIGKILL)
        parent.kill()
        parent.wait()
        parent.stdout.close()


def test_merged_percentiles_of_like_runs_are_theirs():
    run = [(50.0, 10.0), (99.0, 40.0), (99.9, 90.0)]
    assert rig.merged_percentile([(100, run), (300, run)], 50.0) == 10.0
    assert rig.merged_percentile([(100, run), (300, run)], 99.0) == 40.0


def test_merged_percentiles_weigh_each_run_by_its_views():
    fast = [(float(p), 1.0 + p / 100) for p in range(1, 100)]  # 1.01 ms .. 1.99 ms
    slow = [(float(p), 10.0 + p / 10) for p in range(1, 100)]  # 10.1 ms .. 19.9 ms
    # 900 fast views and 100 slow ones: the median is a fast view, the 99th percentile a slow one
    assert 1.4 < rig.merged_percentile([(900, fast), (100, slow)], 50.0) < 1.6
    assert 18.0 < rig.merged_percentile([(900, fast), (100, slow)], 99.0) < 20.0
    # the same runs with the weights the other way round
    assert 10.0 < rig.merged_percentile([(100, fast), (900, slow)], 50.0) < 16.0
    assert rig.merged_percentile([(0, slow), (10, fast)], 99.0) == 1.99  # a run with no views counts for nothing
