"""Playbook gates: which gates apply to which formats at a stage, with stable external refs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from addon.publishing.domain import FormatKind, PublishingStatus
from addon.publishing.playbooks import PlaybookItem, gate_external_ref, gates_for, is_gate_ref, scope_for_heading
from tests.publishing.factories import make_format, make_title

PLAYBOOK = (
    PlaybookItem("all", "Metadata signed off by editorial", is_gate=True, gate_key="metadata-signoff"),
    PlaybookItem("print", "Print-ready PDF approved", is_gate=True, gate_key="print-pdf", stage="Typesetting"),
    PlaybookItem("print", "Spine width checked"),  # an ordinary checklist item, not a gate
    PlaybookItem("digital", "EPUB passes EPUBCheck", is_gate=True),
    PlaybookItem("audio", "Audio masters approved", is_gate=True, gate_key="audio-masters"),
)


def test_gates_apply_to_matching_formats_only():
    title = make_title(stage="Production")  # hardback + ebook
    gates = {g.gate_key: g for g in gates_for(title, PLAYBOOK)}
    assert list(gates) == ["metadata-signoff", "print-pdf", "digital-epub-passes-epubcheck"]
    assert gates["print-pdf"].product_ids == ("p-hardback",)
    assert gates["print-pdf"].task_title == "Print-ready PDF approved (Hardback)"
    assert gates["metadata-signoff"].task_title == "Metadata signed off by editorial"
    assert gates["digital-epub-passes-epubcheck"].product_ids == ("p-ebook",)


def test_stage_gates_wait_for_the_stage():
    title = make_title(stage="Editorial")
    assert "print-pdf" not in {g.gate_key for g in gates_for(title, PLAYBOOK)}
    assert "print-pdf" in {g.gate_key for g in gates_for(title, PLAYBOOK, "Typesetting")}
    assert "print-pdf" not in {g.gate_key for g in gates_for(replace(title, stage=None), PLAYBOOK)}


def test_gaining_a_format_adds_its_gate_and_keeps_the_others_refs():
    title = make_title(stage="Production")
    before = {g.gate_key: g.external_ref for g in gates_for(title, PLAYBOOK)}
    with_audio = replace(title, formats=title.formats + (make_format(FormatKind.AUDIOBOOK),))
    after = {g.gate_key: g.external_ref for g in gates_for(with_audio, PLAYBOOK)}
    assert set(after) - set(before) == {"audio-masters"}
    assert all(after[key] == ref for key, ref in before.items())


def test_external_refs_are_stable_and_distinct_per_title_and_gate():
    title = make_title(stage="Production")
    first = [g.external_ref for g in gates_for(title, PLAYBOOK)]
    assert first == [g.external_ref for g in gates_for(title, PLAYBOOK)]
    assert first[0] == "c4c-gate:w-101:metadata-signoff"
    other = [g.external_ref for g in gates_for(replace(title, work_id="w-202"), PLAYBOOK)]
    assert not set(first) & set(other)
    assert gate_external_ref("w1", "k", namespace="playbook-9") == "c4c-gate:playbook-9:w1:k"
    long_ref = gate_external_ref("w1", "k" * 300)
    assert len(long_ref) <= 200 and long_ref == gate_external_ref("w1", "k" * 300) and is_gate_ref(long_ref)
    assert not is_gate_ref("decision:123") and not is_gate_ref(None)


def test_same_gate_key_in_two_sections_is_one_task_covering_both():
    items = (
        PlaybookItem("print", "Final files approved", is_gate=True, gate_key="final-files"),
        PlaybookItem("digital", "Final files approved", is_gate=True, gate_key="final-files"),
    )
    gates = gates_for(make_title(stage="Production"), items)
    assert len(gates) == 1 and gates[0].product_ids == ("p-hardback", "p-ebook")
    assert gates[0].task_title == "Final files approved (Hardback, Ebook)"


def test_cancelled_formats_get_no_gates_and_derived_keys_are_slugs():
    title = make_title(formats=(make_format(FormatKind.EBOOK, publishing_status=PublishingStatus("01")),))
    assert [g.gate_key for g in gates_for(title, PLAYBOOK)] == ["metadata-signoff"]
    item = PlaybookItem("audio", "Ça va? " * 20, is_gate=True)
    assert item.key.startswith("audio-a-va-") and len(item.key) <= 56


def test_bad_scope_is_refused():
    with pytest.raises(ValueError):
        PlaybookItem("vinyl", "Press it")


@pytest.mark.parametrize(
    "heading, scope",
    [
        ("Print", "print"),
        ("Hardback & paperback checks", "print"),
        ("E-book requirements", "digital"),
        ("Audio", "audio"),
        ("All formats", "all"),
        ("General", "all"),
        ("Introduction", None),
    ],
)
def test_scope_for_heading(heading, scope):
    assert scope_for_heading(heading) == scope
