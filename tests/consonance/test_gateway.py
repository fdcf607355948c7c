"""Every gateway read and write, over real HTTP against the in-process Consonance sandbox."""

from __future__ import annotations

import math
from datetime import date

import pytest

from addon.consonance.errors import ConsonanceAuthError, ConsonanceNotFound, ConsonanceValidationError
from addon.consonance.gateway import ConsonanceGateway
from addon.consonance.transport import ConsonanceConnection
from addon.publishing.domain import FormatKind, TitleFingerprint, normalise_isbn
from tests.consonance.conftest import SANDBOX_SIZE, operation_count


def a_work(sandbox, predicate=lambda w: True):
    return next(w for w in sandbox.state.works.values() if predicate(w))


def with_valid_isbn(work) -> bool:
    return any(normalise_isbn(p.isbn13 or "") for p in work.products)


# --- reads ----------------------------------------------------------------------------------------


def test_title_by_work_id_matches_the_record(gateway, fresh_sandbox):
    work = a_work(fresh_sandbox, lambda w: w.contracts and len(w.products) >= 2)
    title = gateway.title(str(work.id))
    assert title.work_id == str(work.id) and title.title == work.full_title
    assert title.stage.name == work.stage and title.imprint == work.imprint and title.season == work.season
    assert sorted(f.product_id for f in title.formats) == sorted(str(p.id) for p in work.products)
    assert {f.kind for f in title.formats} <= set(FormatKind)
    assert all(isinstance(f.publication_date, (date, type(None))) for f in title.formats)
    assert [c.id for c in title.contracts] == [str(c.id) for c in work.contracts]
    assert operation_count(fresh_sandbox, "TitleByWorkId") == 1


def test_unknown_work_is_none(gateway):
    assert gateway.title("999999") is None


def test_title_by_isbn_accepts_any_hyphenation(gateway, fresh_sandbox):
    work = a_work(fresh_sandbox, with_valid_isbn)
    isbn = next(normalise_isbn(p.isbn13) for p in work.products if normalise_isbn(p.isbn13 or ""))
    hyphenated = f"{isbn[:3]}-{isbn[3]}-{isbn[4:8]}-{isbn[8:12]}-{isbn[12]}"
    title = gateway.title_by_isbn(hyphenated)
    assert title.work_id == str(work.id)
    assert title.format_by_isbn(isbn) is not None


def test_title_by_isbn_without_a_match(gateway, fresh_sandbox):
    assert gateway.title_by_isbn("9790000000001") is None  # valid check digit, no such product
    assert gateway.title_by_isbn("No ISBN") is None
    assert operation_count(fresh_sandbox, "TitleByIsbn") == 1  # "No ISBN" never reaches Consonance


def test_search_titles_finds_by_text_within_the_limit(gateway, fresh_sandbox):
    work = a_work(fresh_sandbox)
    word = work.full_title.split()[-1]
    results = gateway.search_titles(word.lower(), limit=5)
    assert 1 <= len(results) <= 5
    assert all(word.lower() in t.title.lower() for t in results)
    expected = sorted(w.id for w in fresh_sandbox.state.works.values() if word.lower() in w.full_title.lower())[:5]
    assert [int(t.work_id) for t in results] == expected
    assert gateway.search_titles("   ") == []


def test_search_titles_by_isbn(gateway, fresh_sandbox):
    work = a_work(fresh_sandbox, with_valid_isbn)
    isbn = next(normalise_isbn(p.isbn13) for p in work.products if normalise_isbn(p.isbn13 or ""))
    assert [t.work_id for t in gateway.search_titles(isbn)] == [str(work.id)]


@pytest.mark.parametrize("page_size", [25, 20, 500])
def test_fingerprints_cover_the_catalogue_in_ceil_n_over_page_size_requests(fresh_sandbox, page_size):
    gateway = ConsonanceGateway(ConsonanceConnection(fresh_sandbox.url, fresh_sandbox.api_key), page_size=page_size)
    fingerprints = list(gateway.iter_fingerprints())
    works = len(fresh_sandbox.state.works)
    assert [int(f.work_id) for f in fingerprints] == sorted(fresh_sandbox.state.works)
    assert operation_count(fresh_sandbox, "CatalogueFingerprints") == math.ceil(works / page_size)
    assert gateway.stats.requests == math.ceil(works / page_size)
    assert len({f.digest for f in fingerprints}) == works


def test_fingerprints_are_streamed_page_by_page(fresh_sandbox):
    gateway = ConsonanceGateway(ConsonanceConnection(fresh_sandbox.url, fresh_sandbox.api_key), page_size=20)
    stream = gateway.iter_fingerprints()
    next(stream)
    assert operation_count(fresh_sandbox, "CatalogueFingerprints") == 1  # only the first page has been read
    stream.close()


def test_light_fingerprint_equals_the_full_titles_fingerprint(gateway, fresh_sandbox):
    fingerprints = {f.work_id: f for f in gateway.iter_fingerprints()}
    for work_id in ("1", "2", str(SANDBOX_SIZE // 2), str(SANDBOX_SIZE)):
        assert TitleFingerprint.of(gateway.title(work_id)) == fingerprints[work_id]


def test_fingerprint_changes_when_consonance_changes(gateway, fresh_sandbox):
    work = a_work(fresh_sandbox, lambda w: any(p.publication_date for p in w.products))
    before = {f.work_id: f.digest for f in gateway.iter_fingerprints()}
    fresh_sandbox.control.slip_publication(work.id, 14)
    after = {f.work_id: f.digest for f in gateway.iter_fingerprints()}
    assert [k for k in before if before[k] != after[k]] == [str(work.id)]


def test_iter_titles_reads_every_format(gateway, fresh_sandbox):
    titles = list(gateway.iter_titles())
    assert len(titles) == len(fresh_sandbox.state.works)
    assert sum(len(t.formats) for t in titles) == sum(len(w.products) for w in fresh_sandbox.state.works.values())


def test_rights_for_combines_formats_and_contracts(gateway, fresh_sandbox):
    work = a_work(fresh_sandbox, lambda w: w.contracts and any(c.rights for c in w.contracts))
    rights = gateway.rights_for(str(work.id))
    assert rights == gateway.title(str(work.id)).rights_position
    assert set(rights.licensed_right_types) == {r[0] for c in work.contracts for r in c.rights}
    with pytest.raises(ConsonanceNotFound):
        gateway.rights_for("999999")


def test_project_stages_in_order(gateway):
    stages = gateway.project_stages()
    assert stages[0].name == "Acquisition" and stages[-1].name == "Published"
    assert [s.rank for s in stages] == sorted(s.rank for s in stages)


def test_test_connection_reports_each_step(gateway, fresh_sandbox):
    report = gateway.test_connection()
    assert report.ok and len(report.checks) == 3
    assert report.checks[0].detail.startswith(f"{len(fresh_sandbox.state.works)} works; read what it offers")
    assert report.capabilities.source == "introspection" and report.capabilities.pagination == "page"
    assert not [f.key for f in report.capabilities.features() if not f.available]
    bad = ConsonanceGateway(ConsonanceConnection(fresh_sandbox.url, "wrong-key")).test_connection()
    assert not bad.ok and len(bad.checks) == 1 and "refused the API key" in bad.checks[0].detail


def test_wrong_key_is_an_auth_error(fresh_sandbox):
    with pytest.raises(ConsonanceAuthError):
        ConsonanceGateway(ConsonanceConnection(fresh_sandbox.url, "wrong-key")).title("1")


# --- writes ---------------------------------------------------------------------------------------


def test_add_note_is_idempotent_by_key(gateway, fresh_sandbox):
    first = gateway.add_note("3", "Approved at acquisitions meeting", "decision-77")
    again = gateway.add_note("3", "Approved at acquisitions meeting", "decision-77")
    assert first.id == again.id and first.text == "Approved at acquisitions meeting"
    assert [n.external_ref for n in fresh_sandbox.state.works[3].notes].count("decision-77") == 1
    assert first.id in [n.id for n in gateway.list_notes("3")]


def test_blank_note_names_the_field(gateway):
    with pytest.raises(ConsonanceValidationError) as caught:
        gateway.add_note("3", "   ", "blank-1")
    assert caught.value.fields == ["noteText"]


def test_change_stage(gateway, fresh_sandbox):
    assert gateway.change_stage("4", "Proofs").name == "Proofs"
    assert fresh_sandbox.state.works[4].stage == "Proofs"
    assert gateway.title("4").stage.name == "Proofs"


def test_change_to_unknown_stage_names_the_field(gateway, fresh_sandbox):
    before = fresh_sandbox.state.works[4].stage
    with pytest.raises(ConsonanceValidationError) as caught:
        gateway.change_stage("4", "Somewhere")
    assert caught.value.fields == ["projectStage"] and "projectStage" in str(caught.value)
    assert fresh_sandbox.state.works[4].stage == before


def test_create_list_complete_and_reopen_task(gateway, fresh_sandbox):
    task = gateway.create_task("5", "Print QC approved", date(2027, 1, 15), "gate:print-qc:5")
    same = gateway.create_task("5", "Print QC approved", date(2027, 1, 15), "gate:print-qc:5")
    assert task.id == same.id and task.status == "OPEN" and task.due_date == date(2027, 1, 15)
    listed = [t for t in gateway.list_tasks("5") if t.external_ref == "gate:print-qc:5"]
    assert [t.id for t in listed] == [task.id]
    done = gateway.complete_task(task.id)
    assert done.is_done and fresh_sandbox.state.tasks[int(task.id)].status == "COMPLETE"
    assert gateway.complete_task(task.id).is_done  # completing twice is harmless
    reopened = gateway.reopen_task(task.id)
    assert not reopened.is_done and fresh_sandbox.state.tasks[int(task.id)].status == "OPEN"
    assert not gateway.reopen_task(task.id).is_done  # reopening an open task is harmless


def test_blank_task_title_names_the_field(gateway):
    with pytest.raises(ConsonanceValidationError) as caught:
        gateway.create_task("5", "", None, "gate:blank")
    assert caught.value.fields == ["title"]


def test_upsert_web_link_creates_then_updates_in_place(gateway, fresh_sandbox):
    url = "https://example.atlassian.net/wiki/spaces/RIGHTS/pages/123"
    created = gateway.upsert_web_link("6", url, "Rights guidance", "Territory rules")
    assert created.id and created.url == url and created.role == "Rights guidance"
    writes = operation_count(fresh_sandbox, "UpdateWorkWebLinks")
    unchanged = gateway.upsert_web_link("6", url, "Rights guidance", "Territory rules")
    assert unchanged == created and operation_count(fresh_sandbox, "UpdateWorkWebLinks") == writes
    updated = gateway.upsert_web_link("6", url, "Rights guidance", "Territory rules v2")
    assert updated.id == created.id and updated.note == "Territory rules v2"
    assert [link.note for link in gateway.web_links("6") if link.url == url] == ["Territory rules v2"]


def test_bad_web_link_names_the_field(gateway):
    with pytest.raises(ConsonanceValidationError) as caught:
        gateway.upsert_web_link("6", "not-a-url", "Rights guidance")
    assert caught.value.fields == ["webLinks[0].link"]


def test_writes_to_an_unknown_work_name_the_field(gateway):
    with pytest.raises(ConsonanceValidationError) as caught:
        gateway.add_note("999999", "hello", "k-unknown")
    assert caught.value.fields == ["workId"] and "not found" in str(caught.value)
