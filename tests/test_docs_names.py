"""The docs name only code that exists: every `addon.…` dotted name and `addon/….py` path in docs/ and
the README resolves, and the functions docs/background-work.md and docs/architecture.md name for the
jobs and flows are there. No doc links outside the repository."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest
from werkzeug.utils import import_string

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
CODE = re.compile(r"`([^`\n]+)`")


def _code_spans(path: Path) -> list[str]:
    return CODE.findall(path.read_text(encoding="utf-8"))


def _resolves(dotted: str) -> bool:
    """A module is found without running it (`addon.wsgi` builds an app and starts its clock when
    imported); a name inside a module is looked up in the imported module."""
    try:
        if importlib.util.find_spec(dotted) is not None:
            return True
    except ModuleNotFoundError:
        pass
    try:
        import_string(dotted)
        return True
    except (ImportError, AttributeError):
        return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_dotted_names_and_paths_exist(doc):
    text = doc.read_text(encoding="utf-8")  # prose, spans and code blocks alike
    missing = [dotted for dotted in re.findall(r"\baddon(?:\.[A-Za-z_]\w*)+", text) if not _resolves(dotted)]
    missing += [p for p in re.findall(r"\b(?:addon|sandbox|tests)/[\w/]+\.py\b", text) if not (ROOT / p).exists()]
    assert not missing, f"{doc.name} names code that does not exist: {sorted(set(missing))}"


JOBS_MODULES = ("outbox", "runner", "schedule", "events", "extension", "worker")
# Written like calls but not functions of ours: a hook a job module may define, a parameter, formulas.
NOT_OUR_FUNCTIONS = {"init_jobs", "min", "floor"}


@pytest.mark.parametrize("doc", ["background-work.md", "architecture.md"])
def test_functions_named_for_jobs_and_flows_exist(doc):
    """`outbox.drain`, `tick(now)`, `register_gateways(app, implementation)`, `page_events.handle_page_event`…"""
    modules = {name: importlib.import_module(f"addon.jobs.{name}") for name in JOBS_MODULES}
    modules["gateways"] = importlib.import_module("addon.gateways")
    modules["Gateways"] = modules["gateways"].Gateways  # the declared interface: its methods by name
    for flow in ("page_events", "change_detection", "owned_pages", "stage_status"):
        modules[flow] = importlib.import_module(f"addon.flows.{flow}")
    missing = []
    for span in _code_spans(ROOT / "docs" / doc):
        called = re.fullmatch(r"(?:(\w+)\.)?([a-z_]\w*)\(.*\)", span)
        qualified = None if span.endswith(".py") else re.fullmatch(r"(\w+)\.([a-z_]\w*)", span)
        match = called or qualified
        if not match:
            continue
        module, name = match.groups()
        if name in NOT_OUR_FUNCTIONS:
            continue
        if module is None:
            found = any(hasattr(m, name) for m in modules.values())
        elif module in modules:
            found = hasattr(modules[module], name)
        else:
            continue  # e.g. `outbox.deliver` is a job kind, `jobs.prune` a schedule: not a Python name
        if not found and not (module in ("outbox", "jobs") and name in ("deliver", "drain", "prune")):
            missing.append(span)
    assert not missing, f"{doc} names functions that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_doc_points_outside_the_repository(doc):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text and "/work/" not in text
