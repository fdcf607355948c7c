"""What the emulator learns about the app from the app's own files: the Forge manifest
(macro keys, resolver endpoint routes, triggers) and the Connect descriptor.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

log = logging.getLogger("sandbox.confluence.descriptors")

DEFAULT_MACRO_ROUTE = "/forge/macro/{key}"
DEFAULT_EVENTS_ROUTE = "/forge/events/page"
DEFAULT_LIFECYCLE_ROUTE = "/forge/lifecycle"
PAGE_EVENTS = ("avi:confluence:created:page", "avi:confluence:updated:page")
LIFECYCLE_EVENTS = ("avi:forge:installed:app", "avi:forge:uninstalled:app")


@dataclass
class ForgeApp:
    """Routes (paths relative to the app URL) for the modules the emulator invokes."""

    macro_routes: dict[str, str] = field(default_factory=dict)
    trigger_routes: dict[str, tuple[str, str]] = field(default_factory=dict)  # event -> (module key, path)
    resource_path: str = "static/customui"
    from_manifest: bool = False

    def macro_route(self, key: str) -> str | None:
        if self.macro_routes:
            return self.macro_routes.get(key)
        return DEFAULT_MACRO_ROUTE.format(key=key)

    def is_app_macro(self, key: str, builtin: set[str]) -> bool:
        return key in self.macro_routes if self.macro_routes else key not in builtin

    def trigger(self, event: str) -> tuple[str, str]:
        if event in self.trigger_routes:
            return self.trigger_routes[event]
        default = DEFAULT_EVENTS_ROUTE if event in PAGE_EVENTS else DEFAULT_LIFECYCLE_ROUTE
        return ("page-events" if event in PAGE_EVENTS else "lifecycle", default)


def load_manifest_text(source: str | None, app_url: str | None, timeout: float = 5) -> str | None:
    """Read manifest.yml from a path or URL; else try `{app}/manifest.yml`; None if unavailable."""
    candidates = [source] if source else []
    if app_url:
        candidates.append(app_url.rstrip("/") + "/manifest.yml")
    for candidate in candidates:
        try:
            if candidate.startswith(("http://", "https://")):
                response = requests.get(candidate, timeout=timeout)
                if response.ok:
                    return response.text
            elif Path(candidate).is_file():
                return Path(candidate).read_text()
        except requests.RequestException as exc:
            log.info("manifest not readable at %s: %s", candidate, exc)
    return None


def parse_manifest(text: str | None) -> ForgeApp:
    if not text:
        return ForgeApp()
    manifest = yaml.safe_load(text) or {}
    modules = manifest.get("modules") or {}
    endpoints = {e.get("key"): e for e in modules.get("endpoint") or []}
    app = ForgeApp(from_manifest=True)

    def route_of(endpoint_key: str | None) -> str | None:
        endpoint = endpoints.get(endpoint_key) or {}
        return (endpoint.get("route") or {}).get("path")

    for macro in modules.get("macro") or []:
        resolver = macro.get("resolver") or {}
        app.macro_routes[macro["key"]] = route_of(resolver.get("endpoint")) or DEFAULT_MACRO_ROUTE.format(key=macro["key"])
    for trigger in modules.get("trigger") or []:
        path = route_of(trigger.get("endpoint"))
        for event in trigger.get("events") or []:
            if path:
                app.trigger_routes[event] = (trigger.get("key"), path)
    resources = manifest.get("resources") or []
    if resources:
        app.resource_path = resources[0].get("path", app.resource_path)
    return app


def fetch_connect_descriptor(app_url: str, timeout: float = 10) -> dict:
    response = requests.get(app_url.rstrip("/") + "/atlassian-connect.json", timeout=timeout)
    response.raise_for_status()
    return response.json()


def connect_macros(descriptor: dict) -> dict[str, dict]:
    modules = descriptor.get("modules") or {}
    macros = list(modules.get("dynamicContentMacros") or []) + list(modules.get("staticContentMacros") or [])
    return {m["key"]: m for m in macros if "key" in m}


def connect_webhooks(descriptor: dict) -> dict[str, str]:
    modules = descriptor.get("modules") or {}
    return {w["event"]: w["url"] for w in modules.get("webhooks") or [] if "event" in w and "url" in w}
