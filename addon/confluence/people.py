"""People's names as Confluence shows them, for every place a person reads who did something.

Pages and panels show a display name, never an account id (the id stays in the link). Names are asked
of Confluence (`GET /wiki/rest/api/user?accountId=`) once per tenant and account per hour and kept in
this process; a site that does not answer gets a neutral wording, never the raw id.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from addon.confluence.errors import ConfluenceError

log = logging.getLogger("addon.confluence.people")

UNKNOWN_PERSON = "a Confluence user"
NAME_TTL_SECONDS = 3600.0
MISS_TTL_SECONDS = 300.0  # an unknown or unanswered id is asked again after five minutes
MAX_ENTRIES = 20_000


class DisplayNames:
    """Display names per (tenant, account id), with an expiry; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._names: dict[tuple[int, str], tuple[float, str | None]] = {}

    def _cached(self, key: tuple[int, str]) -> tuple[bool, str | None]:
        with self._lock:
            hit = self._names.get(key)
        if hit is None or hit[0] < self._clock():
            return False, None
        return True, hit[1]

    def _keep(self, key: tuple[int, str], name: str | None) -> None:
        ttl = NAME_TTL_SECONDS if name else MISS_TTL_SECONDS
        with self._lock:
            if len(self._names) >= MAX_ENTRIES:
                self._names.clear()
            self._names[key] = (self._clock() + ttl, name)

    def name(self, tenant_id: int, client, account_id: str | None) -> str:
        """The person's display name; UNKNOWN_PERSON when Confluence cannot say (never the id)."""
        if not account_id:
            return UNKNOWN_PERSON
        key = (tenant_id, str(account_id))
        found, name = self._cached(key)
        if not found:
            name = None
            try:
                user = client.get_user(str(account_id)) if client is not None else None
                name = user.display_name if user else None
            except ConfluenceError as exc:
                log.info("no display name for an account on tenant %s: %s", tenant_id, exc)
            self._keep(key, name)
        return name or UNKNOWN_PERSON

    def names(self, tenant_id: int, client, account_ids: Iterable[str | None]) -> dict[str, str]:
        return {str(a): self.name(tenant_id, client, a) for a in dict.fromkeys(account_ids) if a}

    def forget(self, tenant_id: int | None = None) -> None:
        with self._lock:
            if tenant_id is None:
                self._names.clear()
            else:
                for key in [k for k in self._names if k[0] == tenant_id]:
                    del self._names[key]


DISPLAY_NAMES = DisplayNames()
