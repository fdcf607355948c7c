"""The golden catalogue is selectable three ways and rebuilt on reset; an unknown kind is refused."""

from __future__ import annotations

import pytest

from sandbox.consonance.golden import GOLDEN
from sandbox.consonance.server import create_app
from sandbox.consonance.testing import running_sandbox


def _works(app) -> list[str]:
    return [w.full_title for w in app.extensions["consonance_sandbox"].catalogue.works.values()]


def test_selected_by_config_or_environment(monkeypatch):
    assert _works(create_app({"CATALOGUE": "golden"})) == [spec.title for spec in GOLDEN]
    monkeypatch.setenv("CONSONANCE_CATALOGUE", "golden")
    assert len(_works(create_app({}))) == len(GOLDEN) == 25
    monkeypatch.setenv("CONSONANCE_CATALOGUE", "seeded")
    assert len(_works(create_app({"SIZE": 12}))) == 12
    with pytest.raises(ValueError, match="golden"):
        create_app({"CATALOGUE": "gilded"})


def test_a_reset_rebuilds_the_golden_catalogue():
    with running_sandbox(CATALOGUE="golden") as running:
        running.control.move_to_stage(5, "Published")
        running.control.reset(1, 10)
        assert running.state.works[5].stage == "Production" and len(running.state.works) == 25
