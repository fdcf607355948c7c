"""What the emulator learns about the app from the app's own files: the Forge manifest
(macro keys, resolver endpoint routes, triggers, admin pages, the resource each module uses) and the
Connect descriptor.
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
DEFAULT_RESOURCE_PATH = "static/customui"
ADMIN_MODULE_TYPE = "confluence:globalSettings"


@dataclass(frozen=True)
class AdminPage:
    """A Forge `confluence:globalSettings` module: its title, resource path and resolver route."""

    key: str
    title: str
    resource_path: str
    route: str | None


# Forge's scheduledTrigger intervals (manifest reference: fiveMinute, hour, day, week).
TRIGGER_INTERVALS = {"fiveMinute": 300, "hour": 3600, "day": 86400, "week": 604800}


@dataclass(frozen=True)
class ScheduledTrigger:
    """A `scheduledTrigger` module: its key, the remote route its endpoint names, and its interval."""

    key: str
    route: str
    interval_seconds: int


@dataclass
class ForgeApp:
    """Routes (paths relative to the app URL) for the modules the emulator invokes."""

    macro_routes: dict[str, str] = field(default_factory=dict)
    trigger_routes: dict[str, tuple[str, str]] = field(default_factory=dict)  # event -> (module key, path)
    resources: dict[str, str] = field(default_factory=dict)  # resource key -> path
    macro_resources: dict[str, str] = field(default_factory=dict)  # macro key -> resource key
    admin_pages: dict[str, AdminPage] = field(default_factory=dict)
    scheduled_triggers: list[ScheduledTrigger] = field(default_factory=list)
    macro_configs: dict[str, str] = field(default_factory=dict)  # macro key -> config resource key
    macro_config_titles: dict[str, str] = field(default_factory=dict)  # macro key -> config dialog title
    from_manifest: bool = False

    @property
    def resource_path(self) -> str:
        """The first resource (what a manifest-less app serves its Custom UI from)."""
        return next(iter(self.resources.values()), DEFAULT_RESOURCE_PATH)

    def macro_resource_path(self, key: str) -> str:
        """The path of the resource the macro's manifest entry names."""
        return self.resources.get(self.macro_resources.get(key, ""), self.resource_path)

    def macro_config_resource_path(self, key: str) -> str | None:
        """The path of the Custom UI resource the macro's `config: {resource}` names; None without one."""
        resource = self.macro_configs.get(key)
        return self.resources.get(resource) if resource else None

    def macro_route(self, key: str) -> str | None:
        if self.macro_routes:
            return self.macro_routes.get(key)
        return DEFAULT_MACRO_ROUTE.format(key=key)

    def is_app_macro(self, key: str, builtin: set[str]) -> bool:
        return key in self.macro_routes if self.macro_routes else key not in builtin

    def trigger(self, event: str) -> tuple[str, str]:
        if event in self.trigger_routes:
            return self.trigger_routes[event]
        if event in LIFECYCLE_EVENTS:
            # assumption: an uninstall reaches the trigger module that takes the app's other lifecycle events
            for other in LIFECYCLE_EVENTS:
                if other in self.trigger_routes:
                    return self.trigger_routes[other]
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
        app.macro_routes[macro["key"]] = route_of(resolver.get("endpoint")) or DEFAULT_MACRO_ROUTE.format(
            key=macro["key"]
        )
    app.resources = {
        r["key"]: r.get("path", DEFAULT_RESOURCE_PATH)
        for r in manifest.get("resources") or []
        if isinstance(r, dict) and r.get("key")
    }
    for macro in modules.get("macro") or []:
        if macro.get("resource"):
            app.macro_resources[macro["key"]] = macro["resource"]
        config = macro.get("config")
        if isinstance(config, dict) and config.get("resource"):
            app.macro_configs[macro["key"]] = config["resource"]
            app.macro_config_titles[macro["key"]] = config.get("title") or f"Configure {macro['key']}"
    for page in modules.get(ADMIN_MODULE_TYPE) or []:
        resource = app.resources.get(page.get("resource", ""), app.resource_path)
        route = route_of((page.get("resolver") or {}).get("endpoint"))
        app.admin_pages[page["key"]] = AdminPage(page["key"], page.get("title") or page["key"], resource, route)
    for trigger in modules.get("trigger") or []:
        path = route_of(trigger.get("endpoint"))
        for event in trigger.get("events") or []:
            if path:
                app.trigger_routes[event] = (trigger.get("key"), path)
    for trigger in modules.get("scheduledTrigger") or []:
        path = route_of(trigger.get("endpoint"))
        interval = TRIGGER_INTERVALS.get(trigger.get("interval"))
        if path and interval and trigger.get("key"):
            app.scheduled_triggers.append(ScheduledTrigger(trigger["key"], path, interval))
    return app


def fetch_connect_descriptor(app_url: str, timeout: float = 10) -> dict:
    response = requests.get(app_url.rstrip("/") + "/atlassian-connect.json", timeout=timeout)
    response.raise_for_status()
    return response.json()


def connect_macros(descriptor: dict) -> dict[str, dict]:
    modules = descriptor.get("modules") or {}
    macros = list(modules.get("dynamicContentMacros") or []) + list(modules.get("staticContentMacros") or [])
    return {m["key"]: m for m in macros if "key" in m}


def connect_macro_editor(descriptor: dict, macro_key: str) -> dict | None:
    """The macro's `editor` (url, editTitle, insertTitle, width, height), if the descriptor gives one."""
    editor = (connect_macros(descriptor).get(macro_key) or {}).get("editor")
    return editor if isinstance(editor, dict) and editor.get("url") else None


def connect_admin_pages(descriptor: dict) -> dict[str, dict]:
    """The descriptor's `configurePage` (one module or a list) and `adminPages`, by key."""
    modules = descriptor.get("modules") or {}
    pages = []
    for name in ("configurePage", "adminPages"):
        entry = modules.get(name)
        pages.extend(entry if isinstance(entry, list) else [entry] if isinstance(entry, dict) else [])
    return {p["key"]: p for p in pages if "key" in p and "url" in p}


def connect_webhooks(descriptor: dict) -> dict[str, str]:
    modules = descriptor.get("modules") or {}
    return {w["event"]: w["url"] for w in modules.get("webhooks") or [] if "event" in w and "url" in w}
