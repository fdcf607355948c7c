"""Outbox handlers and scheduled work used by the jobs tests (loaded through JOB_MODULES).

The fakes are idempotent the way real handlers must be: an effect is keyed, and a repeat
delivery of the same key finds it done instead of doing it again.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta

from addon.gateways import NotConfigured, gateways
from addon.jobs.outbox import PermanentError, outbox_handler
from addon.jobs.schedule import scheduled


class FakeConsonance:
    """Stands in for the Consonance gateway: notes keyed by an idempotency key."""

    def __init__(self):
        self.notes: dict[str, str] = {}
        self.calls = 0
        self.failures_left = 0

    def add_note(self, work_id: str, text: str, key: str) -> dict:
        self.calls += 1
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("Consonance unavailable (Authorization: Bearer sk-live-123)")
        self.notes.setdefault(key, f"{work_id}: {text}")
        return {"note_key": key}


class FakeGateways:
    """The app's gateways for these tests (registered with `register_gateways`): every tenant's Consonance
    is one fake; Confluence is not connected."""

    def __init__(self, consonance: FakeConsonance):
        self.fake_consonance = consonance

    def consonance(self, tenant):
        return self.fake_consonance

    def confluence(self, tenant, user_token=None):
        raise NotConfigured("the jobs tests connect no Confluence")


@outbox_handler("test.add_note")
def add_note(tenant, payload):
    return gateways().consonance(tenant).add_note(payload["work_id"], payload["text"], key=payload["key"])


@outbox_handler("test.permanent")
def always_gone(tenant, payload):
    raise PermanentError(f"work {payload['work_id']} was deleted in Consonance")


@outbox_handler("test.file_effect")
def file_effect(tenant, payload):
    """Cross-process fake: record the effect once (by key), then optionally block until released."""
    folder = payload["dir"]
    with open(os.path.join(folder, "attempts.log"), "a") as attempts:
        attempts.write(f"{os.getpid()}\n")
    effects_path = os.path.join(folder, "effects.log")
    done = open(effects_path).read().split() if os.path.exists(effects_path) else []
    if payload["key"] not in done:
        with open(effects_path, "a") as effects:
            effects.write(payload["key"] + "\n")
    if payload.get("block"):
        with open(os.path.join(folder, "started.tmp"), "w") as started:
            started.write(str(os.getpid()))
        os.replace(os.path.join(folder, "started.tmp"), os.path.join(folder, "started"))
        deadline = time.monotonic() + 30
        while not os.path.exists(os.path.join(folder, "release")) and time.monotonic() < deadline:
            time.sleep(0.05)
    return {"effect": payload["key"]}


@scheduled("test.poll", every=timedelta(minutes=5))
def poll(tenant):
    return {"polled": tenant.id}
