"""Job functions the runner tests queue by dotted name."""

from __future__ import annotations

import threading

from addon.logs import current_context

gate = threading.Event()
ran: list[str] = []


def remember(label: str) -> dict:
    ran.append(label)
    return {"seen": 1, "job_id": current_context().get("job_id"), "tenant": current_context().get("tenant")}


def wait_for_gate(label: str) -> dict:
    gate.wait(timeout=10)
    ran.append(label)
    return {"outcome": "partial", "done": 1}


def explode() -> dict:
    raise RuntimeError("Consonance said no (token=abc123)")
