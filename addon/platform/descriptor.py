"""The Connect descriptor: the template at the repo root, filled with this deployment's values."""

from __future__ import annotations

import copy
import functools
import json
import os
from typing import Any

DESCRIPTOR_PATH = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "atlassian-connect.json")


@functools.lru_cache(maxsize=1)
def _template() -> dict[str, Any]:
    with open(DESCRIPTOR_PATH, encoding="utf-8") as handle:
        template: dict[str, Any] = json.load(handle)
    return template


def render_descriptor(*, base_url: str, app_key: str, app_name: str) -> dict[str, Any]:
    descriptor = copy.deepcopy(_template())
    descriptor["baseUrl"] = base_url.rstrip("/")
    descriptor["key"] = app_key
    descriptor["name"] = app_name
    return descriptor
