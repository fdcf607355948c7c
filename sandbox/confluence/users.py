"""The site's people, as far as the app can tell: who someone is and whether they administer the site.

Confluence answers `GET /rest/api/user...?expand=operations` with a `User` whose operations include
`administer`/`application` for site admins; the app's settings pages rely on exactly that. Any account id
the viewer is opened as counts as a known (non-admin) user, so macro tests can view as anyone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

ADMIN_OPERATIONS = (
    {"operation": "administer", "targetType": "application"},
    {"operation": "use", "targetType": "application"},
    {"operation": "create_space", "targetType": "application"},
)
USER_OPERATIONS = ({"operation": "use", "targetType": "application"},)
EDITOR_ACCOUNT_ID = "557058:00000000-0000-4000-8000-0000000ed170"
VIEWER_ACCOUNT_ID = "557058:00000000-0000-4000-8000-0000000v1e3"
CONTENT_OPERATIONS = ("read", "update", "delete")


@dataclass
class User:
    account_id: str
    display_name: str
    nickname: str = ""  # a short name the viewer's `?as=` also accepts ("admin", "editor")
    account_type: str = "atlassian"


class UserDirectory:
    """Known users and the set of site admins; thread-safe, changed through the control API."""

    def __init__(self, admin_id: str, admin_ids=None, editor_id: str = EDITOR_ACCOUNT_ID):
        self._lock = threading.Lock()
        self.default_id = admin_id
        self.users: dict[str, User] = {}
        self.admins: set[str] = set(admin_ids) if admin_ids is not None else {admin_id}
        # People whose space permission is "view" only: they read every page and edit none.
        self.readers: set[str] = {VIEWER_ACCOUNT_ID}
        self.add(admin_id, "Ada Admin", nickname="admin")
        self.add(editor_id, "Eddie Editor", nickname="editor")
        self.add(VIEWER_ACCOUNT_ID, "Vic Viewer", nickname="viewer")

    def add(
        self,
        account_id: str,
        display_name: str | None = None,
        *,
        nickname: str = "",
        admin: bool | None = None,
        account_type: str = "atlassian",
        can_edit: bool | None = None,
    ) -> User:
        with self._lock:
            known = self.users.get(account_id)
            user = User(
                account_id,
                display_name or (known.display_name if known else _fallback_name(account_id)),
                nickname or (known.nickname if known else ""),
                account_type,
            )
            self.users[account_id] = user
            if admin is True:
                self.admins.add(account_id)
            elif admin is False:
                self.admins.discard(account_id)
            if can_edit is True:
                self.readers.discard(account_id)
            elif can_edit is False:
                self.readers.add(account_id)
            return user

    def resolve(self, name_or_id: str | None) -> str:
        """An account id for `?as=`: a nickname, an account id, or (empty) the default user."""
        if not name_or_id:
            return self.default_id
        with self._lock:
            for user in self.users.values():
                if user.nickname and user.nickname == name_or_id:
                    return user.account_id
        return name_or_id

    def get(self, account_id: str) -> User:
        with self._lock:
            return self.users.get(account_id) or User(account_id, _fallback_name(account_id))

    def is_admin(self, account_id: str | None) -> bool:
        with self._lock:
            return bool(account_id) and account_id in self.admins

    def may(
        self,
        account_id: str | None,
        operation: str,
        edit_restricted_to: set[str] | None = None,
        view_restricted_to: set[str] | None = None,
    ) -> bool:
        """Site, space and page restrictions together, as the content permission check answers them: everyone
        known reads, unless the page has a view restriction without them; editing needs edit permission in the
        space and, on a page with an edit restriction, a place on it. Anonymous users are not allowed to use
        the emulated site."""
        if not account_id or account_id == "anonymous":
            return False
        if view_restricted_to is not None and account_id not in view_restricted_to:
            return False
        if operation == "read":
            return True
        with self._lock:
            if account_id in self.readers:
                return False
        return edit_restricted_to is None or account_id in edit_restricted_to

    def listing(self) -> list[dict]:
        with self._lock:
            return [
                {
                    "accountId": u.account_id,
                    "displayName": u.display_name,
                    "nickname": u.nickname,
                    "admin": u.account_id in self.admins,
                    "canEdit": u.account_id not in self.readers,
                }
                for u in self.users.values()
            ]

    def user_json(self, account_id: str, *, base_url: str, expand: set[str]) -> dict:
        """A v1 `User` (only what the spec requires plus what apps read)."""
        user = self.get(account_id)
        body = {
            "type": "known",
            "accountId": user.account_id,
            "accountType": user.account_type,
            "email": "",
            "publicName": user.display_name,
            "displayName": user.display_name,
            "timeZone": "UTC",
            "profilePicture": {
                "path": "/wiki/images/icons/profilepics/default.svg",
                "width": 48,
                "height": 48,
                "isDefault": True,
            },
            "isExternalCollaborator": False,
            "_expandable": {"personalSpace": ""},
            "_links": {
                "self": f"{base_url}/rest/api/user?accountId={user.account_id}",
                "base": base_url,
                "context": "/wiki",
            },
        }
        if "operations" in expand:
            operations = ADMIN_OPERATIONS if self.is_admin(account_id) else USER_OPERATIONS
            body["operations"] = [dict(o) for o in operations]
        else:
            body["_expandable"]["operations"] = ""
        return body


def _fallback_name(account_id: str) -> str:
    return f"User {account_id.rsplit(':', 1)[-1][-6:]}"
