"""People's display names: asked of Confluence once per tenant and account, never shown as the id."""

from __future__ import annotations

from addon.confluence.errors import ConfluenceUnavailable
from addon.confluence.models import User
from addon.confluence.people import NAME_TTL_SECONDS, UNKNOWN_PERSON, DisplayNames


class _Directory:
    """Stands in for the client's `get_user` (the HTTP call is covered by the emulator tests)."""

    def __init__(self, names: dict, fail: bool = False):
        self.names, self.fail, self.asked = names, fail, []

    def get_user(self, account_id: str):
        self.asked.append(account_id)
        if self.fail:
            raise ConfluenceUnavailable(503, "down")
        return User(account_id, self.names[account_id]) if account_id in self.names else None


def test_names_are_asked_once_per_tenant_and_kept_for_an_hour():
    now = [0.0]
    names = DisplayNames(clock=lambda: now[0])
    site = _Directory({"557058:a": "Priya Patel"})
    assert names.name(1, site, "557058:a") == "Priya Patel"
    assert names.name(1, site, "557058:a") == "Priya Patel"
    assert site.asked == ["557058:a"]
    other_site = _Directory({"557058:a": "Someone Else"})
    assert names.name(2, other_site, "557058:a") == "Someone Else"  # tenants never share names
    now[0] += NAME_TTL_SECONDS + 1
    names.name(1, site, "557058:a")
    assert site.asked == ["557058:a", "557058:a"]


def test_an_unknown_person_or_a_silent_site_never_shows_the_account_id():
    names = DisplayNames()
    assert names.name(1, _Directory({}), "557058:gone") == UNKNOWN_PERSON
    assert names.name(2, _Directory({}, fail=True), "557058:x") == UNKNOWN_PERSON
    assert names.name(1, None, None) == UNKNOWN_PERSON
