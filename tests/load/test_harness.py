"""The harness reads the process commands from the Procfile at run time and describes the machine."""

from load.harness import ROOT, machine, procfile_commands


def test_procfile_lines_are_read_by_name(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: gunicorn --bind 0.0.0.0:${PORT} app:app\nworker: rq worker --url ${REDIS_URL} q\n")
    assert procfile_commands(procfile) == {
        "web": "gunicorn --bind 0.0.0.0:${PORT} app:app",
        "worker": "rq worker --url ${REDIS_URL} q",
    }


def test_the_real_procfile_has_every_process_the_suites_start():
    assert {"web", "worker", "scheduler", "release"} <= set(procfile_commands(ROOT / "Procfile"))


def test_machine_reports_cores_memory_and_cpu():
    info = machine()
    assert info["nproc"] >= 1 and info["memory_gib"] > 0 and info["cpu"]
