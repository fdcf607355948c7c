"""The direct title reader gives exactly the schema's answer: the same Title for every work of the sandbox's
catalogue, and for works with a field made wrong, the same Title or the same refusal (marshmallow's
ValidationError naming the field), because whatever the reader does not expect it hands to the schema."""

from __future__ import annotations

import copy
import time

import pytest
from marshmallow import ValidationError

from addon.consonance.schemas import TITLE
from addon.consonance.title_reader import load_title
from tests.consonance.conftest import SANDBOX_SIZE


@pytest.fixture(scope="module")
def works(sandbox):
    from addon.consonance.gateway import ConsonanceGateway
    from addon.consonance.transport import ConsonanceConnection, TransportOptions

    gateway = ConsonanceGateway(
        ConsonanceConnection(sandbox.url, sandbox.api_key),
        TransportOptions(connect_timeout=1, read_timeout=5, max_attempts=3, max_total_seconds=10, backoff_base=0.05),
    )
    found = [gateway._run("TitleByWorkId", {"workId": str(n)})["work"] for n in range(1, SANDBOX_SIZE + 1)]
    gateway.close()
    return [w for w in found if w]


def _outcome(load, work):
    try:
        return load(work)
    except ValidationError as refusal:
        return ("refused", refusal.messages)
    except (AttributeError, TypeError) as error:  # what the schema's own hooks raise on some shapes
        return ("error", type(error).__name__)


def test_every_catalogue_work_reads_the_same(works):
    assert len(works) > 40
    for work in works:
        assert load_title(work) == TITLE.load(work), work["id"]


WRONG_VALUES = [None, 5, 1.5, True, "x", "", "2026-13-40", "20260305", "NaN", [], {}, ["GB", 3], [{}], {"code": 4}]
PATHS = [
    ("id",),
    ("title",),
    ("projectStage",),
    ("imprint",),
    ("seriesMemberships",),
    ("contributions",),
    ("contributions", 0, "sequenceNumber"),
    ("contributions", 0, "onixContributorRoleCode"),
    ("contributions", 0, "contributor"),
    ("supportingResources",),
    ("products",),
    ("products", 0, "id"),
    ("products", 0, "isbn"),
    ("products", 0, "publicationDate"),
    ("products", 0, "plannedPublicationDate"),
    ("products", 0, "onixPublishingStatus"),
    ("products", 0, "onixPublishingStatusCode"),
    ("products", 0, "prices"),
    ("products", 0, "prices", 0, "amount"),
    ("products", 0, "prices", 0, "currencyCode"),
    ("products", 0, "subjectCodes"),
    ("products", 0, "marketingTexts"),
    ("products", 0, "forSaleCountryCodes"),
    ("products", 0, "isForSaleWorldwide"),
    ("products", 0, "subtitle"),
    ("contracts",),
    ("contracts", 0, "id"),
    ("contracts", 0, "signedDate"),
    ("contracts", 0, "deliveryDates"),
    ("contracts", 0, "licensedRights"),
]


def _with(work: dict, path: tuple, value) -> dict | None:
    changed = copy.deepcopy(work)
    node = changed
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
        if node is None:
            return None
    node[path[-1]] = value
    return changed


@pytest.mark.parametrize("path", PATHS, ids=lambda p: ".".join(map(str, p)))
def test_a_wrong_value_gets_the_schemas_answer(works, path):
    rich = max(works, key=lambda w: len(str(w)))  # one with contracts, prices and subjects to break
    checked = 0
    for value in WRONG_VALUES:
        work = _with(rich, path, value)
        if work is None:
            continue
        assert _outcome(load_title, work) == _outcome(TITLE.load, work), (path, value)
        checked += 1
    assert checked


def test_a_missing_required_field_is_refused_with_the_schemas_message(works):
    work = copy.deepcopy(works[0])
    del work["id"]
    with pytest.raises(ValidationError) as refused:
        load_title(work)
    assert refused.value.messages == {"id": ["Missing data for required field."]}


def test_reading_costs_far_less_than_the_schema(works):
    def per_title(load) -> float:
        started = time.perf_counter()
        for _ in range(3):
            for work in works:
                load(work)
        return (time.perf_counter() - started) / (3 * len(works))

    assert per_title(load_title) < per_title(TITLE.load) / 3
