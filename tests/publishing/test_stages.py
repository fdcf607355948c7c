"""Stage order, "acquired" stages and next-step text."""

from __future__ import annotations

from addon.publishing.domain import Stage
from addon.publishing.stages import (
    DEFAULT_STAGE_NAMES,
    has_reached,
    is_acquired,
    next_step_for,
    sort_stage_names,
    stage_rank,
)


def test_default_order_runs_from_acquisition_to_published():
    assert DEFAULT_STAGE_NAMES[0] == "Acquisition" and DEFAULT_STAGE_NAMES[-1] == "Published"
    assert stage_rank("proofs") < stage_rank("Published")
    assert stage_rank(Stage("Odd")) is None and stage_rank(None) is None
    assert stage_rank(Stage("Odd", position=4)) == 4


def test_sorting_with_default_and_custom_orders():
    assert sort_stage_names(["Published", "Zeta", "Writing", "Alpha", "Writing"]) == [
        "Writing",
        "Published",
        "Alpha",
        "Zeta",
    ]
    assert sort_stage_names(["b", "a"], order=["b", "a"]) == ["b", "a"]


def test_acquired_default_is_any_new_work_and_can_be_narrowed():
    assert is_acquired(None) and is_acquired("Writing")
    assert is_acquired(Stage("Contracted"), ["contracted", "Writing"])
    assert not is_acquired("Acquisition", ["Contracted"]) and not is_acquired(None, ["Contracted"])


def test_has_reached():
    assert has_reached(Stage("Proofs"), "Typesetting") and has_reached("Typesetting", "typesetting")
    assert not has_reached("Editorial", "Typesetting") and not has_reached("Odd", "Typesetting")


def test_next_step_prefers_the_admins_guide():
    assert next_step_for("Proofs").startswith("Collect proof corrections")
    assert next_step_for(Stage("proofs"), {"Proofs": "Send proofs to Jo."}) == "Send proofs to Jo."
    assert next_step_for("Proofs", {"Proofs": "  "}).startswith("Collect")
    assert next_step_for("Odd") is None and next_step_for(None) is None
