"""The caller table agrees with manifest.yml: each trigger route is called by exactly the trigger modules the
manifest points at it, the UI routes by the manifest's macro and admin modules; and every Forge route the
app serves is in the table (a route missing from it refuses every caller)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from addon.platform import forge_callers
from addon.platform.forge_callers import ROUTE_CALLERS, Who

MANIFEST = yaml.safe_load((Path(__file__).resolve().parents[2] / "manifest.yml").read_text())
MODULES = MANIFEST["modules"]
ENDPOINT_PATHS = {e["key"]: e["route"]["path"] for e in MODULES["endpoint"]}


def modules_calling(path: str, kinds: tuple[str, ...]) -> set[str]:
    found = set()
    for kind in kinds:
        for module in MODULES.get(kind) or []:
            endpoint = module.get("endpoint") or (module.get("resolver") or {}).get("endpoint")
            if ENDPOINT_PATHS.get(endpoint) == path:
                found.add(module["key"])
    return found


@pytest.mark.parametrize("path", ["/forge/lifecycle", "/forge/events/page", "/forge/scheduled"])
def test_trigger_routes_take_exactly_their_manifest_trigger_modules_and_no_user(path):
    assert ROUTE_CALLERS[path].modules == modules_calling(path, ("trigger", "scheduledTrigger"))
    assert ROUTE_CALLERS[path].who is Who.SYSTEM


def test_macro_and_admin_modules_are_the_manifests():
    assert forge_callers.MACRO_MODULES == {m["key"] for m in MODULES["macro"]}
    assert forge_callers.ADMIN_MODULES == {m["key"] for m in MODULES["confluence:globalSettings"]}
    for macro in MODULES["macro"]:
        assert ENDPOINT_PATHS[macro["resolver"]["endpoint"]] == f"/forge/macro/{macro['key']}"
    admin_paths = {ENDPOINT_PATHS[m["resolver"]["endpoint"]] for m in MODULES["confluence:globalSettings"]}
    assert admin_paths == {"/forge/admin"}


def test_no_module_serves_two_kinds_of_route():
    """A trigger module never reaches a UI route and a UI module never reaches a trigger route."""
    triggers = forge_callers.LIFECYCLE_TRIGGERS | forge_callers.PAGE_EVENT_TRIGGERS | forge_callers.SCHEDULED_TRIGGERS
    for rule, callers in ROUTE_CALLERS.items():
        if callers.who is Who.SYSTEM:
            assert not callers.modules & (forge_callers.MACRO_MODULES | forge_callers.ADMIN_MODULES), rule
        else:
            assert not callers.modules & triggers, rule
        if callers.modules & forge_callers.ADMIN_MODULES and rule.startswith("/forge/admin"):
            assert callers.site_admin and callers.who is Who.USER, rule


def test_every_forge_route_the_app_serves_is_in_the_table(app):
    rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/forge/")}
    assert rules and rules <= set(ROUTE_CALLERS)
    assert set(ROUTE_CALLERS) - rules <= {"/api/audit/<int:entry_id>"}  # the one shared (Forge or Connect) route
