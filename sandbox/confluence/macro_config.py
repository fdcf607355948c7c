"""Saving a macro's configuration into its page, as Confluence does when a macro's config panel
(Forge `view.submit`) or Connect macro editor (`AP.confluence.saveMacro`) saves: the macro's
`ac:parameter`s change in the storage body and the page gets a new version (and its update event).
"""

from __future__ import annotations

import logging

from . import storage
from .store import Store, StoreError

log = logging.getLogger("sandbox.confluence.macro_config")
MAX_PARAMETER_CHARS = 500


def clean_parameters(raw) -> dict[str, str]:
    """Parameters as Confluence keeps them: names to strings; refuse anything else with a 400."""
    if not isinstance(raw, dict) or not raw:
        raise StoreError(400, "parameters must be an object of macro parameter names to values")
    cleaned = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not name.replace("-", "").replace("_", "").isalnum():
            raise StoreError(400, f"bad parameter name: {name!r}")
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise StoreError(400, f"parameter {name} must be a string")
        text = "" if value is None else str(value)
        if len(text) > MAX_PARAMETER_CHARS:
            raise StoreError(400, f"parameter {name} is too long")
        cleaned[name] = text
    return cleaned


def configure_macro(store: Store, page_id: str, macro_id: str, parameters, author_id: str) -> dict:
    """Write `parameters` into the page's macro `macro_id` as a new page version (none when nothing
    changed). 404 for an unknown page or macro, 400 for bad parameters."""
    parameters = clean_parameters(parameters)
    with store.lock:  # read-modify-write under the store's lock: no other edit lands in between
        page = store.page(page_id)
        current = page.current
        try:
            body = storage.set_macro_parameters(current.body, macro_id, parameters)
        except KeyError:
            raise StoreError(404, f"No macro with id {macro_id} on page {page_id}") from None
        if body != current.body:
            store.update_page(
                page.id,
                title=current.title,
                body=body,
                version=current.number + 1,
                status=page.status,
                message="Macro settings changed",
                author_id=author_id,
            )
    log.info("macro %s on page %s configured: %s", macro_id, page_id, sorted(parameters))
    return {
        "pageId": page.id,
        "macroId": macro_id,
        "version": page.current.number,
        "parameters": next((m.parameters for m in storage.macros_in(page.current.body) if m.macro_id == macro_id), {}),
    }
