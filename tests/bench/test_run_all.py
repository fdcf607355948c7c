"""`make bench` finds the at-scale benchmarks and runs them light unless asked for full size; each light
run's arguments are ones its module accepts."""

import subprocess

import pytest

from bench import run_all


def test_the_new_benchmarks_are_part_of_make_bench():
    assert {"scheduler_tick", "browser_views", "flows_poll"} <= set(run_all.benchmark_modules())


def test_light_by_default_and_at_the_module_defaults_with_full():
    assert run_all.command("scheduler_tick", full=False)[-4:] == ["--tenants", "200", "--titles", "1000"]
    assert run_all.command("scheduler_tick", full=True)[-1] == "bench.scheduler_tick"
    assert run_all.command("flows_poll", full=False)[-1] == "bench.flows_poll"


@pytest.mark.parametrize("name", sorted(run_all.LIGHT))
def test_each_light_run_passes_arguments_its_module_accepts(name):
    answer = subprocess.run([*run_all.command(name, full=False), "--help"], capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    for flag in run_all.LIGHT[name][::2]:
        assert flag in answer.stdout
