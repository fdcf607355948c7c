"""The configuration form: what it shows, the lists it picks from, and saving it with clear messages.

Pages and spaces are chosen from Confluence's own lists, so every id saved is one Confluence gave us;
saving checks them again, tries a changed Consonance connection before keeping it, and answers
field by field with what to do.
"""

from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field
from zoneinfo import available_timezones

import sqlalchemy as sa
from marshmallow import ValidationError

from addon.admin import consonance_host
from addon.admin.activity import when_written
from addon.admin.connection import ConnectionResult, current_api_key, try_connection
from addon.confluence.client import ConfluenceClient, cql_quote
from addon.confluence.errors import ConfluenceError
from addon.consonance.host_policy import HostRefused
from addon.extensions import db
from addon.flows import capability_discovery, page_events, page_sets, stage_status
from addon.gateways import gateways
from addon.jobs.runner import submit
from addon.platform import tenants
from addon.platform.models import Tenant, utcnow
from addon.publishing.schedule import DEFAULT_STAGE_DEADLINES
from addon.settings.schema import CHILD_PAGES, SCHEMA, WEEKDAYS
from addon.settings.service import get_settings, update_settings
from addon.titles import models as roles
from addon.titles.models import TitlePage

log = logging.getLogger("addon.admin.configuration")

API_KEY_FIELD = "consonance_api_key"
PAGE_FIELDS = (
    "page_set_parent_id",
    "stage_guide_page_id",
    "standards_page_id",
    "lessons_index_page_id",
    "launch_hub_parent_id",
    "summary_parent_id",
)
LIST_FIELDS = ("page_set_children", "acquired_stages", "playbook_page_ids")
SETTING_FIELDS = tuple(name for name in SCHEMA.fields if name != "consonance_capabilities")  # the app writes that
PICK_LIMIT = 20
_PAGE_ID = re.compile(r"^\d{1,20}$")

# Marshmallow's generic messages, said the way an admin needs them.
FRIENDLY = {
    "Not a valid integer.": "Enter a whole number.",
    "Not a valid string.": "Enter text here.",
    "Not a valid list.": "Choose from the list.",
    "Missing data for required field.": "Fill this in.",
}
FIELD_HINTS = {
    "macro_freshness_seconds": "Enter the freshness window in seconds, between 30 and 86400 (a day), e.g. 300.",
    "poll_interval_seconds": "Enter the polling interval in seconds, between 60 and 86400, e.g. 300.",
    "summary_monthly_day": "Choose a day from 1 to 28 (every month has it).",
    "stage_deadline_weeks": "Enter whole weeks before publication, from 0 (no deadline) to 104, or leave it blank.",
    "page_set_children": "Tick the child pages to make from the list.",
}


@dataclass
class SaveResult:
    ok: bool
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    connection: ConnectionResult | None = None
    changed: list[str] = field(default_factory=list)


# --- picking from Confluence -------------------------------------------------------------------


def search_spaces(client: ConfluenceClient, text: str = "", limit: int = PICK_LIMIT) -> list[dict]:
    """Spaces whose key or name contains `text` (v2 `GET /spaces`, first 250), for the space picker."""
    payload = client.request("GET", "/wiki/api/v2/spaces", params={"limit": 250}).json()
    needle = (text or "").strip().lower()
    found = []
    for space in payload.get("results") or []:
        key, name = str(space.get("key", "")), str(space.get("name", ""))
        if not needle or needle in key.lower() or needle in name.lower():
            found.append({"key": key, "name": name or key, "id": str(space.get("id", ""))})
    return sorted(found, key=lambda s: s["name"].lower())[:limit]


def search_pages(client: ConfluenceClient, text: str = "", space_key: str = "", limit: int = PICK_LIMIT) -> list[dict]:
    """Pages whose title matches `text` (CQL, search-as-you-type), optionally within one space."""
    clauses = ["type = page"]
    if space_key:
        clauses.append(f"space = {cql_quote(space_key)}")
    if (text or "").strip():
        # A trailing `*` makes the last word a prefix, so the list narrows as the admin types.
        clauses.append(f"title ~ {cql_quote(text.strip() + '*')}")
    results = itertools.islice(client.search(" AND ".join(clauses), limit=limit), limit)
    return [{"id": r.content_id, "title": r.title, "space": r.space_key or ""} for r in results if r.content_id]


def page_titles(client: ConfluenceClient | None, ids) -> dict[str, str]:
    """Titles of the chosen pages, one CQL call; pages Confluence no longer shows are simply absent."""
    wanted = sorted({str(i) for i in ids if i and _PAGE_ID.match(str(i))})
    if client is None or not wanted:
        return {}
    cql = f"id in ({', '.join(wanted)})"
    return {
        r.content_id: r.title
        for r in itertools.islice(client.search(cql, limit=len(wanted)), len(wanted))
        if r.content_id
    }


def space_label(client: ConfluenceClient | None, key: str | None) -> dict[str, str]:
    """The chosen space as the picker lists it ("Name (KEY)"); nothing when Confluence no longer has it."""
    if client is None or not key:
        return {}
    space = client.get_space_by_key(key)
    return {key: f"{space.name} ({space.key})"} if space else {}


# --- the form ---------------------------------------------------------------------------------


def chosen_page_ids(values: dict) -> list[str]:
    ids = [values.get(name) for name in PAGE_FIELDS]
    ids += list(values.get("playbook_page_ids") or [])
    ids += [m.get("page_id") for m in values.get("rights_mappings") or []]
    return [str(i) for i in ids if i]


def configuration_view(tenant: Tenant, client: ConfluenceClient | None, *, stages: list[str] | None = None) -> dict:
    """Everything the form shows; the API key itself never leaves the server, only whether one is set."""
    values = dict(get_settings(tenant).values)
    profile = capability_discovery.stored_profile(tenant)
    space_labels: dict[str, str] = {}
    try:
        titles = page_titles(client, chosen_page_ids(values))
        space_labels = space_label(client, values.get("page_set_space_key"))
        confluence_problem = None
    except ConfluenceError as exc:
        log.warning("could not read chosen page titles: %s", exc)
        titles, confluence_problem = {}, "Confluence did not list the chosen pages just now; their ids are shown."
    return {
        "settings": values,
        "api_key_set": bool(current_api_key(tenant)),
        "page_titles": titles,
        "space_labels": space_labels,
        "child_pages": CHILD_PAGES,
        "weekdays": WEEKDAYS,
        "timezones": sorted(available_timezones()),
        "stages": stages or [],
        "stage_deadlines": [
            {"stage": stage, "default": weeks, "value": (values.get("stage_deadline_weeks") or {}).get(stage, "")}
            for stage, weeks in DEFAULT_STAGE_DEADLINES
        ],
        "capabilities": capability_discovery.capability_rows(profile),
        "capabilities_checked": when_written(profile.checked_at) if profile else None,
        "confluence_problem": confluence_problem,
        "site_url": tenant.site_url,
    }


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in re.split(r"[,\n]", value) if part.strip()]
    if isinstance(value, (list, tuple)):
        return [v.strip() if isinstance(v, str) else v for v in value if v not in (None, "")]
    return value  # let the schema say what is wrong


def normalise_form(form: dict) -> tuple[dict, str]:
    """The settings changes in the form (known fields only) and the new API key, if one was typed."""
    changes = {}
    for name in SETTING_FIELDS:
        if name in form:
            value = form[name]
            changes[name] = (
                _as_list(value) if name in LIST_FIELDS else (value.strip() if isinstance(value, str) else value)
            )
    if "rights_mappings" in changes and isinstance(changes["rights_mappings"], list):
        changes["rights_mappings"] = [
            m
            for m in changes["rights_mappings"]
            if not (isinstance(m, dict) and not any(str(v).strip() for v in m.values()))
        ]
    deadlines = _stage_deadlines(form)
    if deadlines is not None:
        changes["stage_deadline_weeks"] = deadlines
    api_key = form.get(API_KEY_FIELD)
    return changes, api_key.strip() if isinstance(api_key, str) else ""


DEADLINE_PREFIX = "stage_deadline_weeks."


def _stage_deadlines(form: dict) -> dict | None:
    """The form's one box per stage ("stage_deadline_weeks.Proofs": "16") as {stage: weeks}; a blank box
    keeps the documented default. None when the form has no such boxes. A word stays as typed, so the
    schema can say what is wrong with it."""
    boxes = {
        k[len(DEADLINE_PREFIX) :]: v for k, v in form.items() if isinstance(k, str) and k.startswith(DEADLINE_PREFIX)
    }
    if not boxes:
        return None
    deadlines = {}
    for stage, value in boxes.items():
        text = str(value).strip() if value is not None else ""
        if text:  # ASCII digits only ("²" is a digit to str.isdigit), and few of them: the schema bounds the rest
            deadlines[stage] = int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text
    return deadlines


def flatten_errors(messages, prefix: str = "") -> dict[str, str]:
    """Marshmallow's nested messages as `field` / `field.0.page_id` -> one sentence saying what to do."""
    flat: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            flat.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, (list, tuple)):
        texts = [m for m in messages if isinstance(m, str)]
        nested = [m for m in messages if not isinstance(m, str)]
        if texts:
            raw = texts[0]
            generic = raw in FRIENDLY or raw.startswith("Must be one of")
            text = FRIENDLY.get(raw, "Choose from the list." if generic else raw)
            flat[prefix] = FIELD_HINTS.get(prefix.split(".")[0], text) if generic else text
        for item in nested:
            flat.update(flatten_errors(item, prefix))
    return flat


def _local_errors(merged: dict, changes: dict, api_key: str, had_key: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in PAGE_FIELDS:
        value = merged.get(name)
        if value and not _PAGE_ID.match(str(value)):
            errors[name] = "Choose a page from the list (start typing its title)."
    for index, value in enumerate(merged.get("playbook_page_ids") or []):
        if not _PAGE_ID.match(str(value)):
            errors[f"playbook_page_ids.{index}"] = "Choose each playbook page from the list."
    if api_key and not merged.get("consonance_host"):
        errors["consonance_host"] = "Enter the address of your Consonance too, e.g. https://web.consonance.app"
    if merged.get("consonance_host") and not api_key and not had_key:
        errors[API_KEY_FIELD] = "Paste the API key from Consonance (Settings → API keys)."
    if len(api_key) > 500:
        errors[API_KEY_FIELD] = "That is longer than any Consonance API key: copy the key again and paste only the key."
    return errors


def _host_errors(tenant: Tenant, merged: dict, api_key: str, had_key: bool) -> dict[str, str]:
    """A new address needs the key typed again and must be one the key may go to (consonance.host_policy)."""
    host = merged.get("consonance_host") or ""
    if not isinstance(host, str) or not host or not (api_key or consonance_host.host_changed(tenant, host)):
        return {}  # not text: the schema has already said what is wrong with it
    try:
        gateways().consonance_policy.check(host)
    except HostRefused as exc:
        return {"consonance_host": exc.reason}
    if not api_key and had_key:
        return {API_KEY_FIELD: consonance_host.KEY_FOR_NEW_HOST}
    return {}


def _confluence_errors(client: ConfluenceClient | None, merged: dict, current: dict) -> dict[str, str]:
    """Chosen pages and space must exist and be visible; only changed picks are checked."""
    if client is None:
        return {}
    errors: dict[str, str] = {}
    changed_ids = [i for i in chosen_page_ids(merged) if i not in set(chosen_page_ids(current)) and _PAGE_ID.match(i)]
    try:
        if changed_ids:
            found = page_titles(client, changed_ids)
            missing = {i for i in changed_ids if i not in found}
            for name in PAGE_FIELDS:
                if str(merged.get(name) or "") in missing:
                    errors[name] = "That page no longer exists or the app cannot see it: choose another from the list."
            for index, value in enumerate(merged.get("playbook_page_ids") or []):
                if str(value) in missing:
                    errors[f"playbook_page_ids.{index}"] = (
                        "A playbook page no longer exists or is hidden from the app: remove it or choose another."
                    )
            for index, mapping in enumerate(merged.get("rights_mappings") or []):
                if str(mapping.get("page_id") or "") in missing:
                    errors[f"rights_mappings.{index}.page_id"] = (
                        "That guidance page no longer exists or is hidden from the app: choose another."
                    )
        key = merged.get("page_set_space_key")
        if key and key != current.get("page_set_space_key") and client.get_space_by_key(key) is None:
            errors["page_set_space_key"] = "That space no longer exists or the app cannot see it: choose another."
    except ConfluenceError as exc:
        log.warning("could not check the chosen pages with Confluence: %s", exc)
    return errors


def _name_guidance_pages(client: ConfluenceClient | None, changes: dict) -> None:
    """A rights mapping without a label is labelled with its page's title, so links read by name, not id."""
    mappings = changes.get("rights_mappings")
    if client is None or not isinstance(mappings, list):
        return
    unnamed = [
        str(m.get("page_id")) for m in mappings if isinstance(m, dict) and m.get("page_id") and not m.get("label")
    ]
    if not unnamed:
        return
    try:
        titles = page_titles(client, unnamed)
    except ConfluenceError as exc:
        log.info("guidance pages left unnamed: %s", exc)
        return
    for mapping in mappings:
        if isinstance(mapping, dict) and not mapping.get("label") and str(mapping.get("page_id")) in titles:
            mapping["label"] = titles[str(mapping["page_id"])][:200]


def save_configuration(
    tenant: Tenant, form: dict, actor: str | None, client: ConfluenceClient | None, *, connection_tester=try_connection
) -> SaveResult:
    """Validate everything, try a changed Consonance connection, then save settings and key together (one commit)."""
    if not isinstance(form, dict):
        return SaveResult(False, {"form": "Send the form as JSON."}, "Nothing was saved.")
    current = dict(get_settings(tenant).values)
    changes, api_key = normalise_form(form)
    had_key = bool(current_api_key(tenant))
    try:
        merged = SCHEMA.load({**current, **changes})
        errors = {}
    except ValidationError as exc:
        merged, errors = {**current, **changes}, flatten_errors(exc.messages)
    for name, message in _local_errors(merged, changes, api_key, had_key).items():
        errors.setdefault(name, message)
    for name, message in _host_errors(tenant, merged, api_key, had_key).items():
        errors.setdefault(name, message)
    if not errors:
        errors.update(_confluence_errors(client, merged, current))
    if errors:
        return SaveResult(False, errors, "Nothing was saved: put right the fields marked below.")
    connection = None
    host_changed = bool(merged.get("consonance_host")) and consonance_host.host_changed(
        tenant, merged["consonance_host"]
    )
    if merged.get("consonance_host") and (api_key or host_changed):
        connection = connection_tester(merged["consonance_host"], api_key)  # a changed host always has a typed key
        if not connection.ok:
            field_name = API_KEY_FIELD if connection.refused_key else "consonance_host"
            return SaveResult(
                False,
                {field_name: connection.headline},
                "Nothing was saved: the Consonance connection did not work.",
                connection,
            )
    if api_key:
        tenants.set_consonance_key(tenant, api_key, merged["consonance_host"])
        tenants.record(tenant, "consonance_key_replaced", actor=actor, host=merged.get("consonance_host"))
    elif had_key and merged.get("consonance_host") and tenants.consonance_key_host(tenant) is None:
        # A key kept from before keys were bound to their address: bind it to the address it is used with.
        tenants.set_secret(tenant, tenants.CONSONANCE_KEY_HOST, tenants.normalised_host(merged["consonance_host"]))
    _name_guidance_pages(client, changes)
    saved, schema_errors = update_settings(tenant, changes, actor)  # commits the key with the settings
    if saved is None:
        db.session.rollback()
        return SaveResult(False, flatten_errors(schema_errors), "Nothing was saved: put right the fields marked below.")
    if connection is not None and connection.capabilities is not None:
        capability_discovery.remember(tenant, connection.capabilities, actor)  # what the saved server offers
    changed = sorted(k for k in saved.values if saved.values.get(k) != current.get(k)) + (
        [API_KEY_FIELD] if api_key else []
    )
    log.info("configuration saved by %s: %s", actor, ", ".join(changed) or "(nothing changed)")
    message = "Saved." if changed else "Saved (nothing had changed)."
    if not pages_have_a_home(saved.values):
        message += " New titles get their pages once you choose a space for them."
    elif not pages_have_a_home(current):
        # Titles acquired while there was nowhere to put pages get them now, not at the nightly reconciliation.
        queued = page_sets.enqueue_for_managed_titles(tenant, f"pages-home-chosen:{utcnow().isoformat()}")
        db.session.commit()
        if queued:
            message += (
                " Pages for the title already acquired are being made."
                if queued == 1
                else f" Pages for the {queued} titles already acquired are being made."
            )
    if changed:
        read_configured_pages(tenant, saved.values, actor, occasion=utcnow().isoformat())
        if "stage_guide_page_id" in changed:
            restatus_title_homes(tenant, occasion=utcnow().isoformat())
        db.session.commit()
    return SaveResult(True, {}, message, connection, changed)


def read_configured_pages(tenant: Tenant, values: dict, actor: str | None, occasion: str) -> list[str]:
    """Each configured standards and playbook page is read once, as if just edited: a page written before
    it was chosen takes effect now, not at its next edit. Returns the page ids queued."""
    ids = sorted({str(i) for i in [values.get("standards_page_id"), *(values.get("playbook_page_ids") or [])] if i})
    for page_id in ids:
        submit(
            page_events.HANDLE_JOB,
            args=(tenant.id, page_id, None, actor),
            tenant_id=tenant.id,
            kind="page_event",
            dedupe_key=f"config-read:{tenant.id}:{page_id}:{occasion}",
        )
    if ids:
        log.info("configuration saved: reading %d configured pages", len(ids))
    return ids


def restatus_title_homes(tenant: Tenant, occasion: str) -> int:
    """A new stage guide: every title home's status region is written again from it (owed through the outbox)."""
    work_ids = db.session.execute(
        sa.select(TitlePage.work_id).where(TitlePage.tenant_id == tenant.id, TitlePage.role == roles.HOME)
    ).scalars()
    count = 0
    for work_id in work_ids:
        stage_status.enqueue_update(tenant, work_id, f"stage-guide:{occasion}:{work_id}")
        count += 1
    return count


def pages_have_a_home(values: dict) -> bool:
    """Title pages can be made: a space per title, or the one space chosen for them."""
    return values.get("page_set_mode") == "space_per_title" or bool(values.get("page_set_space_key"))
