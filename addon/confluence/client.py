"""The one Confluence REST client: v2 where it exists, v1 for labels, CQL, attachments and macros.

It takes an auth strategy (auth.py) and a `requests.Session`, so it works the same under Forge
and Connect and in tests. It waits on 429 (`Retry-After`), backs off on 5xx, re-reads and
re-applies on version conflicts, all bounded, and turns every failure into a ConfluenceError.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

import requests

from addon import metrics
from addon.confluence.auth import ConfluenceAuth
from addon.confluence.errors import (
    ConfluenceBadResponse,
    ConfluenceConflict,
    ConfluenceError,
    ConfluenceNotFound,
    ConfluenceRateLimited,
    ConfluenceUnavailable,
    error_class_for,
    message_from_body,
)
from addon.confluence.models import (
    Attachment,
    ContentProperty,
    InlineTask,
    Label,
    Page,
    SearchResult,
    Space,
    User,
)
from addon.retries import backoff_delay

log = logging.getLogger("addon.confluence.client")

V2 = "/wiki/api/v2"
V1 = "/wiki/rest/api"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# A POST that failed with these was refused before Confluence acted on it, so repeating it
# cannot create a duplicate; other 5xx on a POST are raised for the caller to reconcile.
POST_RETRYABLE_5XX = frozenset({502, 503, 504})
V2_SPACE_CREATE_UNAVAILABLE = frozenset({404, 405, 501})


def cql_quote(value: str) -> str:
    """A CQL string literal: double quotes, with `"` and `\\` escaped."""
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _str_id(value: Any) -> str | None:
    return None if value is None else str(value)


def _page_from(data: dict) -> Page:
    body = (data.get("body") or {}).get("storage") or {}
    version = (data.get("version") or {}).get("number")
    return Page(
        id=str(data["id"]),
        title=data.get("title", ""),
        space_id=_str_id(data.get("spaceId")),
        parent_id=_str_id(data.get("parentId")),
        version=version,
        body=body.get("value") if "value" in body else None,
        status=data.get("status") or "current",
    )


def _space_from_v2(data: dict) -> Space:
    return Space(
        id=str(data["id"]), key=data["key"], name=data.get("name", ""), homepage_id=_str_id(data.get("homepageId"))
    )


def _space_from_v1(data: dict) -> Space:
    homepage = data.get("homepage") or {}
    return Space(
        id=str(data["id"]), key=data["key"], name=data.get("name", ""), homepage_id=_str_id(homepage.get("id"))
    )


def _property_from(data: dict) -> ContentProperty:
    return ContentProperty(
        id=str(data["id"]),
        key=data["key"],
        value=data.get("value"),
        version=int((data.get("version") or {}).get("number", 1)),
    )


def _task_from(data: dict) -> InlineTask:
    body = (data.get("body") or {}).get("storage") or {}
    return InlineTask(
        id=str(data["id"]),
        local_id=_str_id(data.get("localId")),
        page_id=_str_id(data.get("pageId")),
        space_id=_str_id(data.get("spaceId")),
        status=data.get("status", "incomplete"),
        body=body.get("value"),
        assigned_to=data.get("assignedTo"),
        due_at=data.get("dueAt"),
    )


def _attachment_from(data: dict) -> Attachment:
    links = data.get("_links") or {}
    extensions = data.get("extensions") or {}
    return Attachment(
        id=str(data["id"]),
        title=data.get("title", ""),
        media_type=extensions.get("mediaType"),
        download_path=links.get("download"),
        version=(data.get("version") or {}).get("number"),
    )


class ConfluenceClient:
    """Typed operations on one Confluence site. Thread-compatible if the session is."""

    def __init__(
        self,
        auth: ConfluenceAuth,
        session: requests.Session | None = None,
        *,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        max_rate_limit_waits: int = 3,
        max_retry_after: float = 60.0,
        max_server_error_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_total_wait: float = 90.0,
        max_conflict_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ):
        self.auth = auth
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_rate_limit_waits = max_rate_limit_waits
        self.max_retry_after = max_retry_after
        self.max_server_error_retries = max_server_error_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_total_wait = max_total_wait
        self.max_conflict_retries = max_conflict_retries
        self._sleep = sleep
        self._jitter = jitter

    # ------------------------------------------------------------------ transport
    def _url(self, path: str) -> str:
        return self.auth.site_url + path

    def _resolve_next(self, link: str) -> str:
        """A next-page link (absolute, `/wiki/...`, or v1's `/rest/...` relative to `/wiki`) as a URL."""
        parts = urlsplit(link)
        path = parts.path
        site_path = urlsplit(self.auth.site_url).path.rstrip("/")
        if site_path and path.startswith(site_path + "/"):
            path = path[len(site_path) :]
        if not path.startswith("/wiki/"):
            path = "/wiki" + (path if path.startswith("/") else "/" + path)
        return self._url(path) + (f"?{parts.query}" if parts.query else "")

    def _retry_after_seconds(self, response: requests.Response) -> float | None:
        raw = response.headers.get("Retry-After")
        if not raw:
            return None
        try:
            return max(0.0, float(raw))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if raw else None
            if parsed is None:
                return None
            return max(0.0, parsed.timestamp() - time.time())

    def _backoff(self, attempt: int) -> float:
        return backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_cap, rand=self._jitter)

    def _error(
        self,
        response: requests.Response,
        method: str,
        cls: type[ConfluenceError] | None = None,
        retry_after: float | None = None,
    ) -> ConfluenceError:
        try:
            payload = response.json()
        except ValueError:
            payload = None
        fallback = (response.text or "").strip()[:500] or response.reason or "no message"
        message = message_from_body(payload, fallback)
        cls = cls or error_class_for(response.status_code)
        return cls(
            response.status_code,
            message,
            method=method,
            url=response.request.url if response.request else None,
            body=(response.text or "")[:2000],
            retry_after=retry_after,
        )

    def request(
        self,
        method: str,
        url_or_path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        headers: dict | None = None,
    ) -> requests.Response:
        """Send one logical request, retrying 429 and 5xx within bounds; raise on any failure."""
        method = method.upper()
        url = url_or_path if url_or_path.startswith(("http://", "https://")) else self._url(url_or_path)
        rate_waits = server_retries = 0
        waited = 0.0
        while True:
            prepared = self.session.prepare_request(
                requests.Request(
                    method,
                    url,
                    params=params,
                    json=json,
                    files=files,
                    data=data,
                    headers={"Accept": "application/json", **(headers or {})},
                )
            )
            self.auth.apply(method, prepared.url, prepared.headers)  # fresh token every attempt
            try:
                response = self.session.send(prepared, timeout=self.timeout)
                metrics.count_confluence_call(method, response.status_code)
            except (requests.ConnectionError, requests.Timeout) as exc:
                metrics.count_confluence_call(method, None)
                if server_retries < self.max_server_error_retries and method in IDEMPOTENT_METHODS:
                    delay = self._backoff(server_retries)
                    if waited + delay <= self.max_total_wait:
                        server_retries += 1
                        waited += delay
                        log.warning("confluence unreachable, retrying", extra={"method": method, "url": url})
                        self._sleep(delay)
                        continue
                raise ConfluenceUnavailable(None, f"no answer from Confluence: {exc}", method=method, url=url) from exc
            status = response.status_code
            if status < 400:
                log.debug("confluence %s %s -> %s", method, prepared.url, status)
                return response
            if status == 429:
                retry_after = self._retry_after_seconds(response)
                delay = retry_after if retry_after is not None else self._backoff(rate_waits)
                if (
                    rate_waits < self.max_rate_limit_waits
                    and delay <= self.max_retry_after
                    and waited + delay <= self.max_total_wait
                ):
                    rate_waits += 1
                    waited += delay
                    log.warning("confluence rate limited; waiting %.1fs", delay)
                    self._sleep(delay)
                    continue
                raise self._error(response, method, ConfluenceRateLimited, retry_after=delay)
            if status >= 500:
                retryable = method in IDEMPOTENT_METHODS or status in POST_RETRYABLE_5XX
                delay = self._backoff(server_retries)
                if (
                    retryable
                    and server_retries < self.max_server_error_retries
                    and waited + delay <= self.max_total_wait
                ):
                    server_retries += 1
                    waited += delay
                    log.warning("confluence answered %s; backing off %.2fs", status, delay)
                    self._sleep(delay)
                    continue
            raise self._error(response, method)

    def _json(self, method: str, url_or_path: str, **kwargs) -> Any:
        response = self.request(method, url_or_path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ConfluenceBadResponse(
                response.status_code,
                "expected JSON from Confluence",
                method=method,
                url=response.url,
                body=response.text[:2000],
            ) from exc

    def _paginate(self, path: str, params: dict | None = None) -> Iterator[dict]:
        """Yield every result across cursor pages (`_links.next`, else the `Link` header)."""
        url, query = self._url(path), params
        while url:
            response = self.request("GET", url, params=query)
            try:
                payload = response.json()
            except ValueError as exc:
                raise ConfluenceBadResponse(
                    response.status_code,
                    "expected a JSON page of results",
                    method="GET",
                    url=response.url,
                    body=response.text[:2000],
                ) from exc
            yield from payload.get("results", [])
            next_link = (payload.get("_links") or {}).get("next") or (response.links.get("next") or {}).get("url")
            url, query = (self._resolve_next(next_link), None) if next_link else (None, None)

    # ------------------------------------------------------------------ users
    def get_user(self, account_id: str) -> User | None:
        """v1 `GET /user?accountId=`: the person's display name (None when the site does not know them)."""
        try:
            payload = self._json("GET", f"{V1}/user", params={"accountId": account_id})
        except ConfluenceNotFound:
            return None
        payload = payload if isinstance(payload, dict) else {}
        name = str(payload.get("displayName") or payload.get("publicName") or "").strip()
        return User(str(payload.get("accountId") or account_id), name) if name else None

    # ------------------------------------------------------------------ spaces
    def get_space_by_key(self, key: str) -> Space | None:
        payload = self._json("GET", f"{V2}/spaces", params={"keys": [key]})
        for item in payload.get("results", []):
            if item.get("key") == key:
                return _space_from_v2(item)
        return None

    def create_space(self, key: str, name: str, description: str | None = None) -> Space:
        """v2 `POST /spaces`; where a site lacks it (404/405/501), v1 `POST /wiki/rest/api/space`."""
        body: dict = {"key": key, "name": name}
        if description:
            body["description"] = {"value": description, "representation": "plain"}
        try:
            return _space_from_v2(self._json("POST", f"{V2}/spaces", json=body))
        except ConfluenceError as exc:
            if exc.status not in V2_SPACE_CREATE_UNAVAILABLE:
                raise
            log.info("v2 space create unavailable (%s); using v1", exc.status)
        v1_body: dict = {"key": key, "name": name}
        if description:
            v1_body["description"] = {"plain": {"value": description, "representation": "plain"}}
        return _space_from_v1(self._json("POST", f"{V1}/space", json=v1_body))

    # ------------------------------------------------------------------ pages
    def get_page(self, page_id: str) -> Page:
        return _page_from(self._json("GET", f"{V2}/pages/{page_id}", params={"body-format": "storage"}))

    def has_content_permission(self, content_id: str, account_id: str, operation: str = "update") -> bool:
        """Whether the user may `operation` (read, update, delete) the content: site, space and page
        restrictions together (v1 `POST /content/{id}/permission/check`). Checking for oneself needs only
        "Can use"; checking for someone else needs the Confluence Administrator permission."""
        body = {"subject": {"type": "user", "identifier": account_id}, "operation": operation}
        answer = self._json("POST", f"{V1}/content/{content_id}/permission/check", json=body)
        return bool(isinstance(answer, dict) and answer.get("hasPermission") is True)

    def create_page(
        self, space_id: str, title: str, body: str, parent_id: str | None = None, status: str = "current"
    ) -> Page:
        payload: dict = {
            "spaceId": str(space_id),
            "status": status,
            "title": title,
            "body": {"representation": "storage", "value": body},
        }
        if parent_id is not None:
            payload["parentId"] = str(parent_id)
        page = _page_from(self._json("POST", f"{V2}/pages", json=payload))
        log.info("created confluence page %s %r", page.id, title)
        return page

    def update_page(self, page: Page, body: str, *, title: str | None = None, message: str | None = None) -> Page:
        """PUT with version = page.version + 1; raises ConfluenceConflict if someone got there first."""
        version: dict = {"number": (page.version or 0) + 1}
        if message:
            version["message"] = message
        payload = {
            "id": page.id,
            "status": "current",
            "title": title or page.title,
            "body": {"representation": "storage", "value": body},
            "version": version,
        }
        data = self._json("PUT", f"{V2}/pages/{page.id}", json=payload)
        updated = _page_from(data)
        if updated.body is None:  # PUT answers may omit the body; we know what we wrote
            updated = Page(
                updated.id, updated.title, updated.space_id, updated.parent_id, updated.version, body, updated.status
            )
        return updated

    def update_page_with_retry(
        self, page_id: str, mutate: Callable[[Page], str | None], *, message: str | None = None
    ) -> Page:
        """Read, apply `mutate`, write; on 409 re-read and re-apply (bounded).

        `mutate` returns the new storage body, or None / the same body for "nothing to change",
        in which case nothing is written and no new version is made.
        """
        for attempt in range(self.max_conflict_retries + 1):
            page = self.get_page(page_id)
            new_body = mutate(page)
            if new_body is None or new_body == page.body:
                return page
            try:
                return self.update_page(page, new_body, message=message)
            except ConfluenceConflict as exc:
                if attempt == self.max_conflict_retries:
                    raise
                log.info("version conflict on page %s (attempt %d): %s; re-reading", page_id, attempt + 1, exc.message)
        raise AssertionError("unreachable")

    def iter_children(self, page_id: str, limit: int = 250) -> Iterator[Page]:
        for item in self._paginate(f"{V2}/pages/{page_id}/children", {"limit": limit}):
            yield Page(
                id=str(item["id"]),
                title=item.get("title", ""),
                space_id=_str_id(item.get("spaceId")),
                parent_id=str(page_id),
                version=None,
                body=None,
                status=item.get("status") or "current",
            )

    def find_page_by_title(self, space_id: str, title: str) -> Page | None:
        params = {"space-id": [space_id], "title": title, "body-format": "storage", "limit": 25}
        for item in self._paginate(f"{V2}/pages", params):
            if item.get("title") == title:
                return _page_from(item)
        return None

    # ------------------------------------------------------------------ content properties
    def get_page_property(self, page_id: str, key: str) -> ContentProperty | None:
        for item in self._paginate(f"{V2}/pages/{page_id}/properties", {"key": key}):
            if item.get("key") == key:
                return _property_from(item)
        return None

    def create_page_property(self, page_id: str, key: str, value: Any) -> ContentProperty:
        return _property_from(self._json("POST", f"{V2}/pages/{page_id}/properties", json={"key": key, "value": value}))

    def update_page_property(self, page_id: str, prop: ContentProperty, value: Any) -> ContentProperty:
        payload = {"key": prop.key, "value": value, "version": {"number": prop.version + 1}}
        return _property_from(self._json("PUT", f"{V2}/pages/{page_id}/properties/{prop.id}", json=payload))

    def set_page_property(self, page_id: str, key: str, value: Any) -> ContentProperty:
        """Create or update; unchanged values are not rewritten; conflicts re-read (bounded)."""
        for attempt in range(self.max_conflict_retries + 1):
            current = self.get_page_property(page_id, key)
            try:
                if current is None:
                    return self.create_page_property(page_id, key, value)
                if current.value == value:
                    return current
                return self.update_page_property(page_id, current, value)
            except ConfluenceConflict:
                if attempt == self.max_conflict_retries:
                    raise
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ labels (v1)
    def add_labels(self, content_id: str, names: Iterable[str], prefix: str = "global") -> list[Label]:
        body = [{"prefix": prefix, "name": name} for name in names]
        payload = self._json("POST", f"{V1}/content/{content_id}/label", json=body)
        return [
            Label(id=str(i["id"]), name=i["name"], prefix=i.get("prefix", prefix)) for i in payload.get("results", [])
        ]

    def get_labels(self, content_id: str, page_size: int = 200) -> list[Label]:
        labels: list[Label] = []
        start = 0
        while True:
            payload = self._json("GET", f"{V1}/content/{content_id}/label", params={"start": start, "limit": page_size})
            results = payload.get("results", [])
            labels += [Label(id=str(i["id"]), name=i["name"], prefix=i.get("prefix", "global")) for i in results]
            if len(results) < page_size or not results:
                return labels
            start += len(results)

    def remove_label(self, content_id: str, name: str) -> None:
        """v1 DELETE with `?name=` (works for names the path form cannot carry)."""
        self.request("DELETE", f"{V1}/content/{content_id}/label", params={"name": name})

    # ------------------------------------------------------------------ CQL search (v1)
    def search(self, cql: str, limit: int = 50) -> Iterator[SearchResult]:
        for item in self._paginate(f"{V1}/search", {"cql": cql, "limit": limit}):
            content = item.get("content") or {}
            space = content.get("space") or item.get("space") or {}
            yield SearchResult(
                content_id=_str_id(content.get("id")),
                content_type=content.get("type"),
                title=item.get("title") or content.get("title", ""),
                url=item.get("url", ""),
                space_key=space.get("key"),
            )

    # ------------------------------------------------------------------ inline tasks (v2)
    def iter_tasks(
        self,
        *,
        page_ids: Iterable[str] = (),
        space_ids: Iterable[str] = (),
        status: str | None = None,
        assigned_to: Iterable[str] = (),
        include_body: bool = True,
        limit: int = 250,
    ) -> Iterator[InlineTask]:
        params: dict = {"limit": limit}
        if page_ids:
            params["page-id"] = list(page_ids)
        if space_ids:
            params["space-id"] = list(space_ids)
        if assigned_to:
            params["assigned-to"] = list(assigned_to)
        if status:
            params["status"] = status
        if include_body:
            params["body-format"] = "storage"
        for item in self._paginate(f"{V2}/tasks", params):
            yield _task_from(item)

    def update_task(self, task: InlineTask | str, status: str) -> InlineTask:
        if status not in ("complete", "incomplete"):
            raise ValueError("task status is 'complete' or 'incomplete'")
        task_id = task.id if isinstance(task, InlineTask) else str(task)
        payload: dict = {"id": task_id, "status": status}
        if isinstance(task, InlineTask):
            payload.update(
                {
                    k: v
                    for k, v in (("localId", task.local_id), ("pageId", task.page_id), ("spaceId", task.space_id))
                    if v is not None
                }
            )
        return _task_from(self._json("PUT", f"{V2}/tasks/{task_id}", json=payload))

    # ------------------------------------------------------------------ attachments (v1)
    def upload_attachment(
        self,
        content_id: str,
        filename: str,
        data: bytes,
        content_type: str,
        *,
        comment: str | None = None,
        minor_edit: bool = True,
        replace: bool = True,
    ) -> Attachment:
        """PUT creates or replaces a file of that name (charts are re-rendered); POST only creates."""
        files: dict = {"file": (filename, data, content_type), "minorEdit": (None, "true" if minor_edit else "false")}
        if comment is not None:
            files["comment"] = (None, comment)
        payload = self._json(
            "PUT" if replace else "POST",
            f"{V1}/content/{content_id}/child/attachment",
            files=files,
            headers={"X-Atlassian-Token": "no-check"},
        )
        results = payload.get("results") or []
        if not results:
            raise ConfluenceBadResponse(200, "attachment upload answered without the attachment")
        return _attachment_from(results[0])

    # ------------------------------------------------------------------ macros (v1)
