"""The invariant checkers judge the sandboxes' records correctly: pass when all is well, fail and name
the culprit when a decision is doubled or lost, a page set is incomplete, a paragraph is gone, the
outbox still holds work, or a failure is missing from the activity page."""

from load import invariants as inv

ROLES = ["home", "brief", "log"]


def _set(work_id, home_id, parent_for_children=None):
    parent = parent_for_children or home_id
    return [
        {"id": home_id, "parent_id": "space-home", "work_id": work_id, "role": "home"},
        {"id": home_id + "b", "parent_id": parent, "work_id": work_id, "role": "brief"},
        {"id": home_id + "l", "parent_id": parent, "work_id": work_id, "role": "log"},
    ]


def test_decisions_pass_when_each_key_is_noted_once():
    check = inv.decisions_exactly_once({"k1": "5", "k2": "5", "k3": "9"}, {"5": ["k1", "k2", "other"], "9": ["k3"]})
    assert check.ok, check.detail


def test_decisions_fail_on_a_double_note_and_on_a_missing_one():
    doubled = inv.decisions_exactly_once({"k1": "5"}, {"5": ["k1", "k1"]})
    missing = inv.decisions_exactly_once({"k1": "5"}, {"5": [], "6": ["k1"]})
    assert not doubled.ok and "duplicated ['k1']" in doubled.detail
    assert not missing.ok and "missing ['k1']" in missing.detail


def test_page_sets_pass_when_complete_and_fail_on_duplicate_missing_or_misplaced():
    assert inv.page_sets_complete(["1", "2"], _set("1", "p1") + _set("2", "p2"), ROLES).ok
    duplicate = inv.page_sets_complete(
        ["1"], _set("1", "p1") + [{"id": "x", "parent_id": "p1", "work_id": "1", "role": "log"}], ROLES
    )
    missing = inv.page_sets_complete(["1", "2"], _set("1", "p1"), ROLES)
    misplaced = inv.page_sets_complete(["1"], _set("1", "p1", parent_for_children="elsewhere"), ROLES)
    assert not duplicate.ok and "duplicates ['log']" in duplicate.detail
    assert not missing.ok and "work 2" in missing.detail
    assert not misplaced.ok and "not under home ['brief', 'log']" in misplaced.detail


def test_markers_fail_when_a_paragraph_is_gone():
    markers = {"10": "<p>kept-1</p>", "11": "<p>kept-2</p>"}
    assert inv.markers_survive(markers, {"10": "<h1/><p>kept-1</p>", "11": "<p>kept-2</p><p>more</p>"}).ok
    lost = inv.markers_survive(markers, {"10": "<p>kept-1</p>", "11": "<p>rewritten</p>"})
    assert not lost.ok and "['11']" in lost.detail


def test_outbox_drained_counts_pending_and_in_flight_only():
    assert inv.outbox_drained({"pending": 0, "in_flight": 0, "failed": 2, "delivered": 40}, 3).ok
    assert not inv.outbox_drained({"pending": 1, "in_flight": 0}, 3).ok
    assert not inv.outbox_drained({"pending": 0, "in_flight": 1}, 3).ok


def test_nothing_hidden_needs_every_failure_on_the_activity_page():
    activity = {
        "failed_writes": [{"id": 4}],
        "job_runs": [{"kind": "Poll", "outcome": "failed"}, {"kind": "Poll", "outcome": "ok"}],
    }
    lost_poll = {"kind_label": "Poll", "shown_outcome": "failed"}
    assert inv.nothing_hidden([4], [lost_poll], activity).ok
    assert not inv.nothing_hidden([4, 5], [lost_poll], activity).ok
    assert not inv.nothing_hidden([4], [lost_poll, lost_poll], activity).ok


def test_table_marks_failures():
    text = inv.table([inv.Check("a", True, "fine"), inv.Check("b", False, "broken")])
    assert "| a | PASS | fine |" in text and "| b | FAIL | broken |" in text


def test_runs_in_flux_while_the_activity_page_is_read_are_not_judged_but_steady_ones_are():
    running = {"kind_label": "page event", "shown_outcome": "running"}
    failed = {"kind_label": "poll", "shown_outcome": "failed"}
    before = {1: running, 2: failed, 3: running}
    after = {2: failed, 3: running, 4: running}  # 1 finished meanwhile, 4 started meanwhile
    assert inv.steady_runs(before, after) == [failed, running]
    listed = {"failed_writes": [], "job_runs": [{"kind": "poll", "outcome": "failed"}]}
    check = inv.nothing_hidden([], inv.steady_runs(before, after), listed)
    assert not check.ok and "('page event', 'running')" in check.detail  # run 3 stayed running and is not listed
