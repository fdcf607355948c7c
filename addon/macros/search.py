"""Search-as-you-type for a macro's title setting: titles by words of their title, or by ISBN.

Results are shared briefly through the macro cache so a burst of keystrokes from many editors asks
Consonance once per distinct query.
"""

from __future__ import annotations

import re

from addon.macros.service import interactive_gateway, macro_cache
from addon.platform.models import Tenant
from addon.publishing.domain import Title

SEARCH_FRESHNESS_SECONDS = 60
MIN_QUERY = 2
MAX_QUERY = 100
LIMIT = 8


def normalise_query(text: str | None) -> str:
    """The typed text, trimmed and folded; anything but a string (a hostile body) is no text at all."""
    return re.sub(r"\s+", " ", (text if isinstance(text, str) else "").strip().lower())[:MAX_QUERY]


def _choice(title: Title) -> dict:
    isbns = [f.isbn13 for f in title.formats if f.isbn13]
    label = title.title + (f": {title.subtitle}" if title.subtitle else "")
    return {
        "workId": title.work_id,
        "title": title.title,
        "subtitle": title.subtitle,
        "isbn": isbns[0] if isbns else None,
        "contributors": [c.name for c in title.contributors][:3],
        "label": f"{label} ({isbns[0]})" if isbns else label,
        "value": title.work_id,
    }


def search_titles(tenant: Tenant, text: str | None) -> list[dict]:
    """Up to LIMIT choices for the typed text; [] for text too short to search. Raises NotConfigured and
    Consonance errors (the caller shows them in the picker)."""
    query = normalise_query(text)
    if len(query) < MIN_QUERY:
        return []
    lookup = macro_cache().fetch(
        f"t{tenant.id}:search:{query}",
        lambda: tuple(interactive_gateway(tenant).search_titles(query, limit=LIMIT)),
        SEARCH_FRESHNESS_SECONDS,
    )
    return [_choice(title) for title in lookup.value]
