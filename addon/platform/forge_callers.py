"""Who may call each Forge remote route: the one table binding a route to the manifest modules that call it.

A verified Forge Invocation Token proves that Forge made the call for our app on that site; it does not
prove the call came from the module a route was built for. Any page viewer can make their macro frame
call any path on our remote (`invokeRemote` takes a path), so a route that trusted the token alone would
let a viewer post an uninstall to the lifecycle route. Each route therefore names, below, the modules
allowed to call it and whether a user or the system calls, and `check` refuses everyone else.

The documented facts each rule rests on (reference/atlassian-platform.md, and Atlassian's Forge docs):
- A FIT names the calling module in the signed claim `app.module` (`{type, key}`), the key being the
  module's key in manifest.yml; `context.moduleKey` repeats it. ("FIT claims", atlassian-platform.md.)
- `principal` is the account id of the user the call is made for, and is absent for system calls.
  (atlassian-platform.md, "FIT claims".)
- Product events, lifecycle events and scheduled triggers are POSTed by Forge to the endpoint their
  manifest module names, not on behalf of a user session (Forge Remote essentials,
  developer.atlassian.com/platform/forge/remote/essentials/: "When using Forge remote with events or a
  scheduled trigger, the request is automatically routed to the endpoint configured in the manifest using
  the POST method"; Forge scopes, developer.atlassian.com/platform/forge/manifest-reference/scopes-forge/:
  "App event and lifecycle event modules are not associated with a logged-in user session, therefore they
  cannot have [read:app-user-token]").
- UI modules (macros, the admin page) call through `invokeRemote` from the user's browser, with the path
  the frame chooses (Forge Remote essentials: "you specify the method and path for the endpoint in the
  invokeRemote call"), so their calls carry the viewing user's `principal` (none for an anonymous viewer
  of a public page) and may name any route: only this table keeps a frame to its own.
- Site admins are whoever Confluence says administers the application (addon/admin/access.py); the admin
  routes check that themselves with the viewer's own token, after this table admits the admin module.

Module *types* are not relied on: their values are not in our reference, while keys are unique in a
manifest and are what the manifest binds to endpoints. tests/platform/test_forge_callers.py holds this
table to manifest.yml.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from addon.platform.errors import AuthError, Forbidden
from addon.platform.forge_tokens import ForgeInvocation

log = logging.getLogger("addon.platform.forge_callers")


class Who(Enum):
    SYSTEM = "system"  # no principal: Forge itself (triggers)
    USER = "user"  # a principal: a logged-in person in a UI module
    VIEWER = "viewer"  # a UI module, logged in or anonymous


@dataclass(frozen=True)
class Callers:
    modules: frozenset[str]  # manifest module keys (`app.module.key`) allowed to call
    who: Who
    site_admin: bool = False  # also a site admin: enforced by the route (addon/web/admin.py `_forge_admin`)
    module_from_path: str | None = None  # the module key must equal this path argument (one macro, one route)
    why: str = ""


# manifest.yml's module keys, by kind
LIFECYCLE_TRIGGERS = frozenset({"app-lifecycle"})
PAGE_EVENT_TRIGGERS = frozenset({"page-events"})
SCHEDULED_TRIGGERS = frozenset({"schedule-tick"})
MACRO_MODULES = frozenset({"title-status", "rights-link", "metadata-checklist", "launch-readiness"})
ADMIN_MODULES = frozenset({"consonance-admin"})
TRIGGER_MODULES = LIFECYCLE_TRIGGERS | PAGE_EVENT_TRIGGERS | SCHEDULED_TRIGGERS  # Forge calls these on its own

# route rule (as Flask spells it) -> who may call it; a Forge route missing here refuses every caller
ROUTE_CALLERS: dict[str, Callers] = {
    "/forge/lifecycle": Callers(
        LIFECYCLE_TRIGGERS, Who.SYSTEM, why="install/uninstall events come only from the lifecycle trigger"
    ),
    "/forge/scheduled": Callers(SCHEDULED_TRIGGERS, Who.SYSTEM, why="the tick comes only from the scheduled trigger"),
    "/forge/events/page": Callers(
        PAGE_EVENT_TRIGGERS, Who.SYSTEM, why="page events come only from the page-events trigger"
    ),
    "/forge/macro/<macro_key>": Callers(
        MACRO_MODULES, Who.VIEWER, module_from_path="macro_key", why="a macro frame loads its own panel"
    ),
    "/forge/actions/decision": Callers(MACRO_MODULES, Who.USER, why="decisions are sent from a macro by a person"),
    "/forge/titles/search": Callers(MACRO_MODULES, Who.USER, why="the macro's config view searches titles"),
    "/forge/admin": Callers(ADMIN_MODULES, Who.USER, site_admin=True, why="the admin page"),
    "/forge/admin/settings": Callers(ADMIN_MODULES, Who.USER, site_admin=True, why="the admin page saves"),
    "/forge/admin/test-connection": Callers(ADMIN_MODULES, Who.USER, site_admin=True, why="the admin page"),
    "/forge/admin/<any(spaces, pages):kind>": Callers(
        ADMIN_MODULES, Who.USER, site_admin=True, why="the admin page's pickers"
    ),
    "/forge/admin/outbox/<int:entry_id>/retry": Callers(
        ADMIN_MODULES, Who.USER, site_admin=True, why="the admin page's Retry"
    ),
    '/forge/admin/onboarding/<any("sync-now", count, "create-pages", progress):action>': Callers(
        ADMIN_MODULES, Who.USER, site_admin=True, why="the admin page's Sync now and page creation"
    ),
    "/forge/admin/summaries/<any(weekly, monthly):cadence>/regenerate": Callers(
        ADMIN_MODULES, Who.USER, site_admin=True, why="the admin page's Regenerate of a pipeline summary"
    ),
    "/api/audit/<int:entry_id>": Callers(ADMIN_MODULES, Who.USER, why="audit entries belong to the admin page"),
}


class WrongCaller(Forbidden):
    """A genuine token from a module (or kind of caller) the route is not for."""

    def __init__(self, reason: str, message: str, *, module_key: str | None):
        super().__init__(reason, message)
        self.module_key = module_key


def calling_module(invocation: ForgeInvocation) -> str | None:
    """The signed module key: `app.module.key` (context.moduleKey when a token lacks it)."""
    return invocation.module_key


def check(rule: str | None, invocation: ForgeInvocation, path_args: Mapping[str, object] | None = None) -> Callers:
    """The route's callers if this invocation is one of them; else WrongCaller (403)."""
    callers = ROUTE_CALLERS.get(rule or "")
    module_key = calling_module(invocation)
    if callers is None:
        raise WrongCaller("route_not_callable", "This address does not accept Forge calls.", module_key=module_key)
    if module_key not in callers.modules:
        raise WrongCaller(
            "wrong_module",
            f"This address is not for the {module_key or 'unnamed'} module; the app's own modules call it.",
            module_key=module_key,
        )
    if callers.module_from_path and (path_args or {}).get(callers.module_from_path) != module_key:
        raise WrongCaller("wrong_module", "A macro can load only its own panel.", module_key=module_key)
    if callers.who is Who.SYSTEM and invocation.principal:
        raise WrongCaller(
            "user_not_allowed",
            "Only Forge itself calls this address; a call made for a user is refused.",
            module_key=module_key,
        )
    if callers.who is Who.USER and not invocation.principal:
        # the right module, just nobody logged in: ask them to log in (401), nothing to audit
        raise AuthError("user_token_required", "Log in to Confluence to do this; then try again.")
    return callers
