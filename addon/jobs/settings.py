"""Tunables of background work, read from the app's config (`addon/config.py` documents them)."""

from __future__ import annotations

from flask import Flask

from addon.config import SETTINGS

_SETTINGS = {s.name: s for s in SETTINGS}


def setting(app: Flask, name: str):
    """The configured value, cast; a test config may set it with its natural type or as text."""
    entry = _SETTINGS[name]
    value = app.config.get(name, entry.default)
    if value is None or value == "":
        value = entry.default
    return entry.cast(value) if value not in (None, "") else value


def flag(app: Flask, name: str) -> bool:
    return str(setting(app, name)).strip().lower() not in ("0", "false", "no", "off", "")
