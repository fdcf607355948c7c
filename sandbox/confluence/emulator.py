"""The emulator's core: state, keys and configuration, plus everything it does *to* the app
(installs, invocation tokens, remote calls, page events). Views stay thin on top of this.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from urllib.parse import urlsplit

import requests

from . import app_descriptors, tokens
from .events import DeliverySettings, EventDispatcher
from .faults import FaultBook, RequestLog
from .store import ConnectInstallation, ForgeInstallation, Page, Store, StoreError
from .users import UserDirectory

log = logging.getLogger("sandbox.confluence.emulator")

USER_TOKEN_SECONDS = 15 * 60

DEFAULT_CONFIG = {
    "FORGE_APP_ID": "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000",
    "FORGE_MANIFEST": None,  # path or URL of the app's manifest.yml (else {app}/manifest.yml)
    "PUBLIC_URL": "",  # the emulator's own URL; set by the runner when the port is known
    "MAX_BODY_BYTES": 5 * 1024 * 1024,
    "AUTH_REQUIRED": True,
    "EVENT_MAX_RETRIES": 4,
    "EVENT_RETRY_BASE_SECONDS": 2.0,
    "EVENT_TIMEOUT_SECONDS": 5.0,
    "APP_CALL_TIMEOUT_SECONDS": 25.0,
    # Seconds between firings of each scheduled trigger; None: the manifest's interval, as Forge does.
    # A shorter one is for demos and tests only (real Forge's shortest is fiveMinute).
    "SCHEDULED_TRIGGER_SECONDS": None,
    "DEFAULT_ACCOUNT_ID": "557058:00000000-0000-4000-8000-00000000cafe",
    "ADMIN_ACCOUNT_IDS": None,  # site admins; None = just the default user
}


class Emulator:
    def __init__(self, config: dict | None = None):
        self.config = {**DEFAULT_CONFIG, **(config or {})}
        self.store = Store()
        # keys may be handed in (tests share one pair per run: RSA generation is the slow part)
        self.fit_key = self.config.get("FIT_SIGNING_KEY") or tokens.SigningKey()
        self.install_key = self.config.get("INSTALL_SIGNING_KEY") or tokens.SigningKey()
        self.faults = FaultBook()
        self.requests = RequestLog()
        self.events = EventDispatcher(
            DeliverySettings(
                max_retries=int(self.config["EVENT_MAX_RETRIES"]),
                retry_base_seconds=float(self.config["EVENT_RETRY_BASE_SECONDS"]),
                timeout_seconds=float(self.config["EVENT_TIMEOUT_SECONDS"]),
            )
        )
        self.forge_app = app_descriptors.ForgeApp()
        self.frames: dict[str, dict] = {}
        self.users = UserDirectory(self.config["DEFAULT_ACCOUNT_ID"], self.config["ADMIN_ACCOUNT_IDS"])
        self.store.page_listeners.append(self._on_page_change)
        self.trigger_log: list[dict] = []  # every scheduled trigger firing: module, url, status or error
        self._triggers_stop: threading.Event | None = None
        self.set_public_url(self.config["PUBLIC_URL"])

    def set_public_url(self, url: str) -> None:
        self.config["PUBLIC_URL"] = url.rstrip("/")
        self.store.site_url = self.config["PUBLIC_URL"]

    @property
    def url(self) -> str:
        return self.config["PUBLIC_URL"]

    @property
    def wiki_url(self) -> str:
        return self.url + "/wiki"

    # Forge ------------------------------------------------------------------------------
    def install_forge(self, app_url: str) -> dict:
        """Create a Forge installation for the app at `app_url` and send it the installed event."""
        app_url = app_url.rstrip("/")
        self.forge_app = app_descriptors.parse_manifest(
            app_descriptors.load_manifest_text(self.config["FORGE_MANIFEST"], app_url)
        )
        installation = ForgeInstallation(
            id=f"ari:cloud:ecosystem::installation/{uuid.uuid4()}",
            cloud_id=self.store.cloud_id,
            site_url=self.url,
            api_base_url=self.url,
            app_url=app_url,
            environment_id=str(uuid.uuid4()),
            system_token=tokens.opaque_token("forge-system"),
        )
        with self.store.lock:
            self.store.forge = installation
            self.store.oauth_tokens[installation.system_token] = {"kind": "system", "principal": None}
        delivered = self._send_forge_lifecycle("avi:forge:installed:app")
        self.start_scheduled_triggers()
        log.info("forge install %s for %s", installation.id, app_url)
        return {**self.forge_installation_json(), "lifecycle": delivered}

    # Forge scheduled triggers -------------------------------------------------------------
    def start_scheduled_triggers(self) -> None:
        """Fire each of the installed app's scheduled triggers at its interval until the app is uninstalled
        or `stop_scheduled_triggers`: the first shortly after install (Forge: ~5 minutes after deploy)."""
        self.stop_scheduled_triggers()
        stop = self._triggers_stop = threading.Event()
        for trigger in self.forge_app.scheduled_triggers:
            every = float(self.config["SCHEDULED_TRIGGER_SECONDS"] or trigger.interval_seconds)
            threading.Thread(
                target=self._trigger_loop, args=(trigger, every, stop), name=f"forge-trigger-{trigger.key}", daemon=True
            ).start()

    def stop_scheduled_triggers(self) -> None:
        if self._triggers_stop is not None:
            self._triggers_stop.set()
            self._triggers_stop = None

    def _trigger_loop(self, trigger, every: float, stop: threading.Event) -> None:
        while not stop.wait(every):
            if self.store.forge is None:
                return
            self.fire_scheduled_trigger(trigger.key)

    def fire_scheduled_trigger(self, key: str) -> dict:
        """One invocation of the scheduled trigger `key`: a system call (no principal, no user token) carrying
        a FIT for that module, retried like other triggers (5 s timeout, up to 4 retries)."""
        inst = self.store.forge
        trigger = next((t for t in self.forge_app.scheduled_triggers if t.key == key), None)
        if inst is None or trigger is None:
            raise StoreError(404, f"No scheduled trigger {key!r} is installed")
        retries = int(self.config["EVENT_MAX_RETRIES"])
        result: dict = {}
        for attempt in range(retries + 1):
            # assumption: the FIT's app.module.type for a scheduled trigger is "core:scheduledTrigger"
            fit = self.mint_fit(trigger.key, module_type="core:scheduledTrigger", extension=None)
            body = {
                "context": {"cloudId": inst.cloud_id, "moduleKey": trigger.key},
                "contextToken": tokens.opaque_token("forge-context"),
            }
            url = inst.app_url + trigger.route
            try:
                response = requests.post(
                    url,
                    json=body,
                    headers=self.forge_headers(fit, None),
                    timeout=float(self.config["EVENT_TIMEOUT_SECONDS"]),
                    allow_redirects=False,
                )
                result = {"module": trigger.key, "url": url, "status": response.status_code, "attempt": attempt + 1}
                if 200 <= response.status_code < 300:
                    break
            except requests.RequestException as exc:
                result = {"module": trigger.key, "url": url, "error": str(exc), "attempt": attempt + 1}
            if attempt < retries:
                time.sleep(float(self.config["EVENT_RETRY_BASE_SECONDS"]) * (2**attempt))
        self.trigger_log.append({**result, "at": time.time()})
        del self.trigger_log[:-200]
        log.info("scheduled trigger %s: %s", key, result.get("status", result.get("error")))
        return result

    def forge_installation_json(self) -> dict | None:
        inst = self.store.forge
        if not inst:
            return None
        return {
            "installationId": inst.id,
            "cloudId": inst.cloud_id,
            "apiBaseUrl": inst.api_base_url,
            "siteUrl": inst.site_url,
            "appUrl": inst.app_url,
            "appId": self.config["FORGE_APP_ID"],
            "environmentId": inst.environment_id,
            "macros": sorted(self.forge_app.macro_routes),
            "manifestRead": self.forge_app.from_manifest,
        }

    def uninstall_forge(self) -> dict:
        if not self.store.forge:
            raise StoreError(404, "The app is not installed with Forge")
        delivered = self._send_forge_lifecycle("avi:forge:uninstalled:app")
        self.stop_scheduled_triggers()
        with self.store.lock:
            self.store.oauth_tokens = {t: v for t, v in self.store.oauth_tokens.items() if v["kind"] == "connect"}
            self.store.forge = None
        return {"lifecycle": delivered}

    def user_token(self, principal: str) -> str:
        """An `x-forge-oauth-user` token; user tokens live USER_TOKEN_SECONDS, like Forge's short-lived ones."""
        token = tokens.opaque_token("forge-user")
        now = time.time()
        with self.store.lock:
            expired = [
                t
                for t, grant in self.store.oauth_tokens.items()
                if grant["kind"] == "user" and now - grant["issued"] > USER_TOKEN_SECONDS
            ]
            for old in expired:
                del self.store.oauth_tokens[old]
            self.store.oauth_tokens[token] = {"kind": "user", "principal": principal, "issued": now}
        return token

    def mint_fit(
        self,
        module_key: str = "title-status",
        *,
        module_type: str = "xen:macro",
        principal: str | None = None,
        content_id: str | None = None,
        space_key: str | None = None,
        local_id: str | None = None,
        is_editing: bool = False,
        config: dict | None = None,
        extension: dict | None = None,
        lifetime: int = tokens.FIT_LIFETIME_SECONDS,
    ) -> str:
        inst = self.store.forge
        if inst is None:
            raise StoreError(409, "Install the app with Forge first")
        if extension is None and module_type == "xen:macro":
            extension = self.macro_extension(content_id, space_key, is_editing, config)
        return tokens.forge_invocation_token(
            self.fit_key,
            app_id=self.config["FORGE_APP_ID"],
            installation=inst,
            module_key=module_key,
            module_type=module_type,
            extension=extension,
            local_id=local_id,
            principal=principal,
            lifetime=lifetime,
        )

    def macro_extension(self, content_id, space_key, is_editing=False, config=None) -> dict:
        extension = {"type": "macro", "isEditing": bool(is_editing)}
        if content_id:
            extension["content"] = {"id": str(content_id), "type": "page"}
        if space_key:
            space = self.store.space_by_key(space_key)
            extension["space"] = {"key": space_key, "id": space.id if space else None}
        if config is not None:
            extension["config"] = config
        return extension

    def forge_headers(self, fit: str, principal: str | None) -> dict:
        inst = self.store.forge
        headers = {
            "Authorization": f"Bearer {fit}",
            "x-forge-oauth-system": inst.system_token,
            "x-b3-traceid": uuid.uuid4().hex[:16],
            "x-b3-spanid": uuid.uuid4().hex[:16],
        }
        if principal:
            headers["x-forge-oauth-user"] = self.user_token(principal)
        return headers

    def _send_forge_lifecycle(self, event: str) -> dict:
        inst = self.store.forge
        module_key, path = self.forge_app.trigger(event)
        fit = self.mint_fit(module_key, module_type="core:trigger", extension=None)
        body = {
            "eventType": event,
            "context": {"cloudId": inst.cloud_id, "moduleKey": module_key},
            "app": {"id": self.config["FORGE_APP_ID"], "installationId": inst.id},
            "environment": {"id": inst.environment_id},
        }
        try:
            response = requests.post(
                inst.app_url + path, json=body, headers=self.forge_headers(fit, None), timeout=5, allow_redirects=False
            )
            return {"url": inst.app_url + path, "status": response.status_code}
        except requests.RequestException as exc:
            return {"url": inst.app_url + path, "error": str(exc)}

    def invoke_forge_remote(self, frame: dict, request: dict) -> dict:
        """Answer a Custom UI bridge `invoke`: call the app's remote with a fresh FIT, server-side."""
        inst = self.store.forge
        if inst is None:
            return {"success": False, "error": {"status": 503, "body": {"message": "app not installed"}, "headers": {}}}
        key, module_type = frame_module(frame)
        if module_type == "xen:macro":
            fit = self.mint_fit(
                key,
                principal=frame.get("accountId"),
                content_id=frame.get("pageId"),
                space_key=frame.get("spaceKey"),
                local_id=frame.get("localId"),
                config=frame.get("config"),
            )
            route = self.forge_app.macro_route(key) or app_descriptors.DEFAULT_MACRO_ROUTE.format(key=key)
        else:  # an admin page: no content, just the module and the viewing user
            fit = self.mint_fit(
                key,
                module_type=module_type,
                principal=frame.get("accountId"),
                local_id=frame.get("localId"),
                extension={"type": module_type},
            )
            route = frame.get("route")
        headers = self.forge_headers(fit, frame.get("accountId"))
        if request.get("invokeType", "").startswith("ui-remote"):
            path = request.get("path") or route
            method = (request.get("method") or "POST").upper()
            body = request.get("body")
            headers.update({k: v for k, v in (request.get("headers") or {}).items() if k.lower() != "authorization"})
        else:  # resolver-style invoke(functionKey, payload)
            if not route:
                return {
                    "success": False,
                    "error": {"status": 404, "headers": {}, "body": {"message": f"module {key} has no resolver"}},
                }
            path, method = route, "POST"
            body = {
                "call": {"functionKey": request.get("functionKey"), "payload": request.get("payload") or {}},
                "context": self.forge_context(frame),
            }
        try:
            response = requests.request(
                method,
                inst.app_url + path,
                json=body,
                headers=headers,
                timeout=float(self.config["APP_CALL_TIMEOUT_SECONDS"]),
            )
        except requests.RequestException as exc:
            return {"success": False, "error": {"status": 502, "body": {"message": str(exc)}, "headers": {}}}
        try:
            answer = response.json()
        except ValueError:
            answer = {"text": response.text}
        payload = {
            "status": response.status_code,
            "body": answer,
            "headers": {k: [v] for k, v in response.headers.items()},
        }
        return {"success": response.ok, "payload": payload} if response.ok else {"success": False, "error": payload}

    def forge_context(self, frame: dict) -> dict:
        """What `view.getContext()` answers inside a Custom UI module (macro or admin page)."""
        inst = self.store.forge
        key, module_type = frame_module(frame)
        editing = frame.get("kind") == "macro-config"  # a macro's config view opens while the page is edited
        extension = (
            self.macro_extension(frame.get("pageId"), frame.get("spaceKey"), editing, frame.get("config"))
            if module_type == "xen:macro"
            else {"type": module_type}
        )
        return {
            "accountId": frame.get("accountId"),
            "cloudId": self.store.cloud_id,
            "localId": frame.get("localId"),
            "moduleKey": key,
            "siteUrl": self.url,
            "environmentType": "DEVELOPMENT",
            "environmentId": inst.environment_id if inst else None,
            "locale": "en-US",
            "timezone": "UTC",
            "extension": extension,
        }

    # Connect ----------------------------------------------------------------------------
    def install_connect(self, app_url: str) -> dict:
        """Read the descriptor, call `installed` with a signed-install JWT; keep the secret on 2xx."""
        descriptor = app_descriptors.fetch_connect_descriptor(app_url)
        base_url = (descriptor.get("baseUrl") or app_url).rstrip("/")
        client_key = f"emulator-{self.store.cloud_id}"
        secret = tokens.shared_secret()
        payload = {
            "key": descriptor.get("key"),
            "clientKey": client_key,
            "accountId": "557058:app-" + client_key[-12:],
            "sharedSecret": secret,
            "serverVersion": "6452",
            "pluginsVersion": "1001.0.0-SNAPSHOT",
            "baseUrl": self.wiki_url,
            "displayUrl": self.wiki_url,
            "productType": "confluence",
            "description": self.store.site_name,
            "serviceEntitlementNumber": "SEN-EMULATOR",
            "oauthClientId": "emulator-oauth-client",
            "eventType": "installed",
        }
        status = self._send_signed_lifecycle(descriptor, base_url, "installed", payload, client_key)
        if not 200 <= status < 300:
            raise StoreError(502, f"The app refused the install: HTTP {status}")
        with self.store.lock:
            self.store.connect = ConnectInstallation(descriptor.get("key"), client_key, secret, base_url, descriptor)
        enabled = self._send_shared_secret_lifecycle("enabled", {**payload, "eventType": "enabled"})
        log.info("connect install of %s as %s", descriptor.get("key"), client_key)
        return {
            "clientKey": client_key,
            "key": descriptor.get("key"),
            "baseUrl": base_url,
            "status": status,
            "enabledStatus": enabled,
        }

    def uninstall_connect(self) -> dict:
        inst = self.store.connect
        if inst is None:
            raise StoreError(404, "The app is not installed with Connect")
        payload = {
            "key": inst.key,
            "clientKey": inst.client_key,
            "baseUrl": self.wiki_url,
            "productType": "confluence",
            "eventType": "uninstalled",
        }
        self._send_shared_secret_lifecycle("disabled", {**payload, "eventType": "disabled"})
        status = self._send_signed_lifecycle(
            inst.descriptor, inst.app_base_url, "uninstalled", payload, inst.client_key
        )
        with self.store.lock:
            self.store.connect = None
        return {"status": status}

    def _send_signed_lifecycle(self, descriptor: dict, base_url: str, kind: str, payload: dict, client_key: str) -> int:
        path = (descriptor.get("lifecycle") or {}).get(kind)
        if not path:
            return 204
        url = base_url + path if path.startswith("/") else path
        parts = urlsplit(url)
        token = tokens.signed_install_token(
            self.install_key,
            method="POST",
            url_path=parts.path,
            query=parts.query,
            app_base_path=urlsplit(base_url).path,
            app_base_url=base_url,
            client_key=client_key,
        )
        try:
            response = requests.post(url, json=payload, headers={"Authorization": f"JWT {token}"}, timeout=10)
        except requests.RequestException as exc:
            raise StoreError(502, f"The app did not answer the {kind} callback: {exc}") from exc
        return response.status_code

    def _send_shared_secret_lifecycle(self, kind: str, payload: dict) -> int | None:
        """`enabled`/`disabled` carry an HS256 JWT signed with the shared secret (best effort)."""
        inst = self.store.connect
        path = (inst.descriptor.get("lifecycle") or {}).get(kind)
        if not path:
            return None
        url = inst.app_base_url + path if path.startswith("/") else path
        parts = urlsplit(url)
        token = tokens.connect_request_token(
            shared_secret=inst.shared_secret,
            client_key=inst.client_key,
            method="POST",
            url_path=parts.path,
            query=parts.query,
            app_base_path=urlsplit(inst.app_base_url).path,
        )
        try:
            return requests.post(url, json=payload, headers={"Authorization": f"JWT {token}"}, timeout=10).status_code
        except requests.RequestException as exc:
            log.info("%s callback failed: %s", kind, exc)
            return None

    def connect_context_token(self, frame: dict) -> str:
        inst = self.store.connect
        if frame.get("kind") == "admin":  # a configure page: about the user, not about any content
            context = {"confluence": {}}
        else:
            context = {
                "confluence": {
                    "editor": {"mode": "view"},
                    "macro": {"hash": frame.get("macroId"), "id": frame.get("macroId"), "outputType": "display"},
                    "content": {"id": frame.get("pageId"), "version": str(frame.get("pageVersion")), "type": "page"},
                    "space": {"key": frame.get("spaceKey"), "id": frame.get("spaceId")},
                }
            }
        return tokens.connect_context_token(
            shared_secret=inst.shared_secret,
            client_key=inst.client_key,
            account_id=frame.get("accountId"),
            context=context,
        )

    # page events ------------------------------------------------------------------------
    def _on_page_change(self, change: str, page: Page, author_id: str) -> None:
        snapshot = self.page_event_snapshot(page)
        if self.store.forge:
            self.events.submit(f"forge:{change}", lambda: self._forge_event_request(change, snapshot, author_id))
        if self.store.connect:
            event = f"page_{change}"
            path = app_descriptors.connect_webhooks(self.store.connect.descriptor).get(event)
            if path:
                self.events.submit(
                    f"connect:{event}", lambda: self._connect_webhook_request(event, path, snapshot, author_id)
                )

    def page_event_snapshot(self, page: Page) -> dict:
        with self.store.lock:
            space = self.store.spaces[page.space_id]
            return {
                "id": page.id,
                "title": page.title,
                "spaceKey": space.key,
                "spaceId": space.id,
                "version": page.current.number,
                "status": page.status,
                "parentId": page.parent_id,
                "createdAt": page.created_at,
                "modifiedAt": page.current.created_at,
                "creatorAccountId": page.author_id,
                "lastModifierAccountId": page.current.author_id,
            }

    def _forge_event_request(self, change: str, page: dict, author_id: str):
        inst = self.store.forge
        if inst is None:
            raise RuntimeError("Forge installation removed before delivery")
        event = f"avi:confluence:{change}:page"
        module_key, path = self.forge_app.trigger(event)
        fit = self.mint_fit(module_key, module_type="core:trigger", extension=None)
        body = {
            "eventType": event,
            "atlassianId": author_id,
            "suppressNotifications": False,
            "page": {
                "id": page["id"],
                "title": page["title"],
                "spaceKey": page["spaceKey"],
                "version": page["version"],
            },
            "content": {
                "id": page["id"],
                "type": "page",
                "status": page["status"],
                "title": page["title"],
                "space": {"key": page["spaceKey"], "id": page["spaceId"]},
                "version": {"number": page["version"]},
            },
            "context": {"cloudId": inst.cloud_id, "moduleKey": module_key},
        }
        return inst.app_url + path, self.forge_headers(fit, None), body

    def _connect_webhook_request(self, event: str, path: str, page: dict, author_id: str):
        inst = self.store.connect
        if inst is None:
            raise RuntimeError("Connect installation removed before delivery")
        url = inst.app_base_url + path if path.startswith("/") else path
        parts = urlsplit(url)
        token = tokens.connect_request_token(
            shared_secret=inst.shared_secret,
            client_key=inst.client_key,
            method="POST",
            url_path=parts.path,
            query=parts.query,
            app_base_path=urlsplit(inst.app_base_url).path,
        )
        body = {
            "timestamp": int(time.time() * 1000),
            "userAccountId": author_id,
            "accountType": "customer",
            "page": {
                "id": int(page["id"]),
                "title": page["title"],
                "spaceKey": page["spaceKey"],
                "version": page["version"],
                "contentType": "page",
                "creatorAccountId": page["creatorAccountId"],
                "lastModifierAccountId": page["lastModifierAccountId"],
                "self": f"{self.wiki_url}/spaces/{page['spaceKey']}/pages/{page['id']}",
            },
        }
        return url, {"Authorization": f"JWT {token}"}, body


def frame_module(frame: dict) -> tuple[str, str]:
    """(module key, module type) of a hosted frame; macro frames predate the generic keys."""
    return frame.get("moduleKey") or frame["macroKey"], frame.get("moduleType", "xen:macro")
