"""The first-view timeline: what the marks record inside a server, and how they are read back."""

import json
import os
import sys
import types

from bench.view_timeline import Recorder, cpu_medians, first_views, report, step_medians, turnarounds


def _marks(thread: int, start: int, steps: list[tuple[str, int]]) -> list:
    """A recorded view: its thread, then (mark, ns) at `start` + each offset (µs)."""
    return [("thread", thread), *((name, start + offset * 1000) for name, offset in steps)]


FIRST_VIEW = [
    ("lane >", 0),
    ("Forge token check >", 10),
    ("Forge token check <", 60),
    ("Redis send <", 200),
    ("Redis answer read >", 210),
    ("Redis answer read <", 400),
    ("Redis answer read >", 405),  # the pipeline's second answer: already there
    ("Redis answer read <", 406),
    ("Consonance answer read >", 500),
    ("Consonance answer read <", 8500),
    ("lane <", 9500),
    ("write after the answer >", 9520),
    ("cpu write after the answer >", 0),
    ("cpu write after the answer <", 300),
    ("write after the answer <", 10400),
]


def test_the_lane_starts_a_view_and_each_step_marks_its_entry_and_exit():
    recorder = Recorder(directory=None)
    lane = recorder.timed(lambda: recorder.timed(lambda: "answer", "Redis lookup")(), "lane", starts_view=True)
    recorder.timed(lambda: None, "render")()  # outside any view: nothing to add it to

    assert lane() == "answer"
    assert lane() == "answer"

    assert len(recorder.views) == 2
    names = [name for name, _ in recorder.views[0][1:]]
    assert names == ["lane >", "cpu lane >", "Redis lookup >", "Redis lookup <", "cpu lane <", "lane <"]
    times = [at for name, at in recorder.views[0][1:] if not name.startswith("cpu")]
    assert times == sorted(times)


def test_install_wraps_the_named_functions_in_place(monkeypatch):
    module = types.ModuleType("fake_lane")
    module.answer = lambda: 42
    monkeypatch.setitem(sys.modules, "fake_lane", module)
    recorder = Recorder(directory=None)

    recorder.install([("fake_lane", None, "answer", "lane")])

    assert module.answer() == 42
    assert [name for name, _ in recorder.views[0][1:]][0] == "lane >"


def test_a_recorder_appends_its_finished_views_to_a_file_named_by_its_process(tmp_path):
    recorder = Recorder(directory=str(tmp_path), write_every=2, in_flight=1)
    lane = recorder.timed(lambda: None, "lane", starts_view=True)

    lane()
    assert not list(tmp_path.iterdir())
    lane()  # its start writes the view before it, held back itself: it has only begun
    lane()
    lane()

    lines = (tmp_path / f"{os.getpid()}.jsonl").read_text().splitlines()
    written = [json.loads(line) for line in lines]
    assert len(written) == 3
    assert all([name for name, _ in view[1:]] == ["lane >", "cpu lane >", "cpu lane <", "lane <"] for view in written)
    assert len(recorder.views) == 1  # what was written is not kept


def test_only_views_that_asked_consonance_and_wrote_are_first_views():
    cached = _marks(1, 0, [("lane >", 0), ("Connect token check >", 5), ("lane <", 100)])
    first = _marks(1, 10_000_000, FIRST_VIEW)

    views = first_views([cached, first])

    assert len(views) == 1
    assert views[0]["transport"] == "forge"
    assert "Redis answer read > #2" not in views[0]  # a pipeline's later answers are not steps
    assert "Redis answer read < #2" not in views[0]
    assert views[0]["Redis answer read <"] == 10_000_000 + 400_000


def test_step_medians_are_in_time_order_from_the_views_entry():
    views = first_views([_marks(1, 0, FIRST_VIEW), _marks(2, 50_000_000, FIRST_VIEW)])

    steps = step_medians(views)

    assert steps[0] == ("lane >", 0.0, 2)
    assert ("Consonance answer read <", 8500.0, 2) in steps
    assert [median for _, median, _ in steps] == sorted(median for _, median, _ in steps)
    assert cpu_medians(views) == {"write after the answer": 300.0}


def test_turnarounds_follow_one_process_from_each_answer_to_the_next_view():
    earlier = _marks(1, 0, FIRST_VIEW)
    later = _marks(2, 9_900_000, FIRST_VIEW)  # enters 400 µs after the earlier view's answer

    found = turnarounds([first_views([later, earlier])])

    assert found["previous answer handed over → this view's entry (µs)"] == 400.0
    assert found["previous view's write begins, from this view's entry (µs)"] == -380.0
    assert found["previous view's write ends, from this view's entry (µs)"] == 500.0
    assert found["views on the same thread as the view before (share)"] == 0.0


def test_the_report_gives_a_table_per_transport(tmp_path):
    views = [_marks(1, 0, FIRST_VIEW), _marks(1, 20_000_000, FIRST_VIEW)]
    (tmp_path / "101.jsonl").write_text("".join(json.dumps(view) + "\n" for view in views))

    lines = report(tmp_path)

    assert "forge: 2 first views" in lines
    assert "| Consonance answer read < | 8,500 | 2 |" in lines
    assert "| previous answer handed over → this view's entry (µs) | 10,500 |" in lines
    assert not any(line.startswith("connect:") for line in lines)
