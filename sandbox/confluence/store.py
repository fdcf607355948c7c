"""The emulator's in-memory, thread-safe state: one site with its spaces, pages (versioned),
content properties, labels, inline tasks, attachments, and the app's installations.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from . import storage

SYSTEM_ACCOUNT = "557058:emulator-admin"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


class StoreError(Exception):
    """A refusal with the HTTP status and the message Confluence would give."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Space:
    id: str
    key: str
    name: str
    created_at: str
    author_id: str
    type: str = "global"
    status: str = "current"
    homepage_id: str | None = None
    description: str = ""


@dataclass
class PageVersion:
    number: int
    title: str
    body: str
    message: str
    created_at: str
    author_id: str
    minor_edit: bool = False


@dataclass
class Property:
    id: str
    key: str
    value: object
    version: int
    created_at: str
    author_id: str


@dataclass
class Attachment:
    id: str
    page_id: str
    title: str
    media_type: str
    data: bytes
    comment: str
    version: int
    created_at: str


@dataclass
class Task:
    id: str
    page_id: str
    space_id: str
    local_id: str
    status: str
    body: str
    created_at: str
    updated_at: str
    created_by: str
    completed_at: str | None = None
    completed_by: str | None = None


@dataclass
class Page:
    id: str
    space_id: str
    parent_id: str | None
    status: str
    created_at: str
    author_id: str
    position: int
    versions: list[PageVersion] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    properties: dict[str, Property] = field(default_factory=dict)
    edit_restricted_to: set[str] | None = None  # an "update" restriction: only these users may edit
    view_restricted_to: set[str] | None = None  # a "read" restriction: only these users may open it at all

    @property
    def current(self) -> PageVersion:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return self.current.title


@dataclass
class ForgeInstallation:
    id: str
    cloud_id: str
    site_url: str
    api_base_url: str
    app_url: str
    environment_id: str
    system_token: str


@dataclass
class ConnectInstallation:
    key: str
    client_key: str
    shared_secret: str
    app_base_url: str
    descriptor: dict


class Store:
    """All state behind one lock; listeners hear about page changes after they commit."""

    def __init__(self, cloud_id: str | None = None, site_name: str = "Emulated Confluence"):
        self.lock = threading.RLock()
        self.cloud_id = cloud_id or str(uuid.uuid4())
        self.site_name = site_name
        self.site_url = ""
        self._ids = itertools.count(10001)
        self.spaces: dict[str, Space] = {}
        self.pages: dict[str, Page] = {}
        self.tasks: dict[str, Task] = {}
        self.attachments: dict[str, Attachment] = {}
        self.forge: ForgeInstallation | None = None
        self.connect: ConnectInstallation | None = None
        self.oauth_tokens: dict[str, dict] = {}
        self.page_listeners: list = []

    def next_id(self) -> str:
        with self.lock:
            return str(next(self._ids))

    # spaces -----------------------------------------------------------------------------
    def create_space(self, key: str, name: str, description: str = "", author_id: str = SYSTEM_ACCOUNT) -> Space:
        with self.lock:
            if not key or not key.isalnum():
                raise StoreError(400, "Space key must be alphanumeric.")
            if self.space_by_key(key):
                raise StoreError(400, f"A space with key {key} already exists")
            space = Space(self.next_id(), key, name, now_iso(), author_id, description=description)
            self.spaces[space.id] = space
        home = self.create_page(space.id, f"{name} Home", "", parent_id=None, author_id=author_id)
        with self.lock:
            space.homepage_id = home.id
        return space

    def space_by_key(self, key: str) -> Space | None:
        with self.lock:
            return next((s for s in self.spaces.values() if s.key == key), None)

    def space(self, space_id: str) -> Space:
        with self.lock:
            if space_id not in self.spaces:
                raise StoreError(404, f"No space with id {space_id}")
            return self.spaces[space_id]

    # pages ------------------------------------------------------------------------------
    def page(self, page_id: str, include_trashed: bool = False) -> Page:
        with self.lock:
            page = self.pages.get(str(page_id))
            if page is None or (page.status == "deleted") or (page.status == "trashed" and not include_trashed):
                raise StoreError(404, f"No content found with id: ContentId{{id={page_id}}}")
            return page

    def create_page(
        self,
        space_id: str,
        title: str,
        body: str,
        parent_id: str | None = None,
        status: str = "current",
        author_id: str = SYSTEM_ACCOUNT,
        use_homepage: bool = True,
    ) -> Page:
        with self.lock:
            space = self.space(space_id)
            if status == "current" and not title:
                raise StoreError(400, "Title is required for a published page")
            if status == "current" and self._title_taken(space_id, title):
                raise StoreError(
                    400,
                    "A page with this title already exists: A page already exists with the same TITLE in this space",
                )
            if parent_id:
                parent = self.page(parent_id)
                if parent.space_id != space_id:
                    raise StoreError(400, "Parent page is in another space")
            elif use_homepage and space.homepage_id:
                parent_id = space.homepage_id
            siblings = [p for p in self.pages.values() if p.parent_id == parent_id and p.space_id == space_id]
            page = Page(self.next_id(), space_id, parent_id, status, now_iso(), author_id, len(siblings))
            body = storage.ensure_task_ids(body or "")
            page.versions.append(PageVersion(1, title, body, "", page.created_at, author_id))
            self.pages[page.id] = page
            self._sync_tasks(page, author_id)
        self._notify("created", page, author_id)
        return page

    def _title_taken(self, space_id: str, title: str, except_id: str | None = None) -> bool:
        return any(
            p.space_id == space_id and p.status == "current" and p.title == title and p.id != except_id
            for p in self.pages.values()
        )

    def update_page(
        self,
        page_id: str,
        *,
        title: str,
        body: str,
        version: int,
        status: str = "current",
        parent_id: str | None = None,
        message: str = "",
        author_id: str = SYSTEM_ACCOUNT,
        notify: bool = True,
    ) -> Page:
        with self.lock:
            page = self.page(page_id, include_trashed=True)
            current = page.current.number
            if version != current + 1:
                raise StoreError(409, f"Version must be incremented on update. Current version is: {current}")
            if self._title_taken(page.space_id, title, except_id=page.id):
                raise StoreError(
                    400,
                    "A page with this title already exists: A page already exists with the same TITLE in this space",
                )
            if parent_id and parent_id != page.parent_id:
                self.page(parent_id)
                page.parent_id = parent_id
            body = storage.ensure_task_ids(body or "", {t.local_id for t in self._tasks_of(page.id)})
            page.status = status
            page.versions.append(PageVersion(version, title, body, message, now_iso(), author_id))
            self._sync_tasks(page, author_id)
        if notify:
            self._notify("updated", page, author_id)
        return page

    def delete_page(self, page_id: str, purge: bool = False) -> None:
        with self.lock:
            page = self.page(page_id, include_trashed=purge)
            if purge:
                page.status = "deleted"
            else:
                page.status = "trashed"
            for task in self._tasks_of(page.id):
                del self.tasks[task.id]

    def children(self, page_id: str) -> list[Page]:
        with self.lock:
            self.page(page_id)
            return sorted(
                (p for p in self.pages.values() if p.parent_id == page_id and p.status == "current"),
                key=lambda p: (p.position, int(p.id)),
            )

    def list_pages(
        self,
        space_ids: list[str] | None = None,
        title: str | None = None,
        status: list[str] | None = None,
        ids: list[str] | None = None,
    ) -> list[Page]:
        statuses = status or ["current", "archived"]
        with self.lock:
            found = [
                p
                for p in self.pages.values()
                if p.status in statuses
                and (not space_ids or p.space_id in space_ids)
                and (title is None or p.title == title)
                and (not ids or p.id in ids)
            ]
            return sorted(found, key=lambda p: int(p.id))

    def ancestors(self, page: Page) -> list[Page]:
        chain, seen = [], set()
        with self.lock:
            parent_id = page.parent_id
            while parent_id and parent_id not in seen and parent_id in self.pages:
                seen.add(parent_id)
                parent = self.pages[parent_id]
                chain.append(parent)
                parent_id = parent.parent_id
        return list(reversed(chain))

    # content properties -----------------------------------------------------------------
    def create_property(self, page_id: str, key: str, value, author_id: str = SYSTEM_ACCOUNT) -> Property:
        with self.lock:
            page = self.page(page_id)
            if not key:
                raise StoreError(400, "Property key is required")
            if key in page.properties:
                raise StoreError(409, f"Cannot add a property with key '{key}', it already exists")
            prop = Property(self.next_id(), key, value, 1, now_iso(), author_id)
            page.properties[key] = prop
            return prop

    def property_by_id(self, page_id: str, property_id: str) -> Property:
        with self.lock:
            page = self.page(page_id)
            prop = next((p for p in page.properties.values() if p.id == str(property_id)), None)
            if prop is None:
                raise StoreError(404, f"No content property found with id {property_id}")
            return prop

    def update_property(
        self, page_id: str, property_id: str, key: str, value, version: int, author_id: str = SYSTEM_ACCOUNT
    ) -> Property:
        with self.lock:
            prop = self.property_by_id(page_id, property_id)
            if version != prop.version + 1:
                raise StoreError(409, f"Version must be incremented on update. Current version is: {prop.version}")
            page = self.page(page_id)
            if key and key != prop.key:
                page.properties.pop(prop.key)
                prop.key = key
                page.properties[key] = prop
            prop.value, prop.version, prop.created_at, prop.author_id = value, version, now_iso(), author_id
            return prop

    def delete_property(self, page_id: str, property_id: str) -> None:
        with self.lock:
            prop = self.property_by_id(page_id, property_id)
            self.page(page_id).properties.pop(prop.key)

    # labels -----------------------------------------------------------------------------
    def add_labels(self, page_id: str, names: list[str]) -> list[str]:
        with self.lock:
            page = self.page(page_id)
            for name in names:
                name = name.strip().lower()
                if not name or " " in name:
                    raise StoreError(400, f"Invalid label name: '{name}'")
                if name not in page.labels:
                    page.labels.append(name)
            return list(page.labels)

    def remove_label(self, page_id: str, name: str) -> None:
        with self.lock:
            page = self.page(page_id)
            if name not in page.labels:
                raise StoreError(404, f"Label {name} is not on content {page_id}")
            page.labels.remove(name)

    # tasks ------------------------------------------------------------------------------
    def _tasks_of(self, page_id: str) -> list[Task]:
        return [t for t in self.tasks.values() if t.page_id == page_id]

    def _sync_tasks(self, page: Page, author_id: str) -> None:
        """Make the task table match the tasks in the page's current body (global ids kept)."""
        existing = {t.local_id: t for t in self._tasks_of(page.id)}
        seen = set()
        stamp = now_iso()
        for parsed in storage.tasks_in(page.current.body):
            seen.add(parsed.local_id)
            task = existing.get(parsed.local_id)
            if task is None:
                task = Task(
                    self.next_id(),
                    page.id,
                    page.space_id,
                    parsed.local_id,
                    parsed.status,
                    parsed.body,
                    stamp,
                    stamp,
                    author_id,
                )
                self.tasks[task.id] = task
            elif task.status != parsed.status or task.body != parsed.body:
                task.body, task.updated_at = parsed.body, stamp
            if task.status != parsed.status:
                task.status = parsed.status
                task.completed_at = stamp if parsed.status == "complete" else None
                task.completed_by = author_id if parsed.status == "complete" else None
            if parsed.status == "complete" and task.completed_at is None:
                task.completed_at, task.completed_by = stamp, author_id
        for local_id, task in existing.items():
            if local_id not in seen:
                del self.tasks[task.id]

    def task(self, task_id: str) -> Task:
        with self.lock:
            task = self.tasks.get(str(task_id))
            if task is None:
                raise StoreError(404, f"No task found with id {task_id}")
            return task

    def set_task_status(self, task_id: str, status: str, author_id: str = SYSTEM_ACCOUNT) -> Task:
        """Tick or untick a task: the page body changes with it, as a new page version."""
        if status not in ("complete", "incomplete"):
            raise StoreError(400, "status must be complete or incomplete")
        with self.lock:
            task = self.task(task_id)
            page = self.page(task.page_id)
            if task.status != status:
                body = storage.set_task_status(page.current.body, task.local_id, status)
                self.update_page(
                    page.id,
                    title=page.title,
                    body=body,
                    version=page.current.number + 1,
                    status=page.status,
                    message="Task status changed",
                    author_id=author_id,
                    notify=False,
                )
            task = self.tasks[task.id]
        self._notify("updated", page, author_id)
        return task

    # attachments ------------------------------------------------------------------------
    def put_attachment(
        self, page_id: str, filename: str, media_type: str, data: bytes, comment: str = "", replace: bool = True
    ) -> Attachment:
        with self.lock:
            self.page(page_id)
            existing = next(
                (a for a in self.attachments.values() if a.page_id == page_id and a.title == filename), None
            )
            if existing and not replace:
                raise StoreError(
                    400, f"Cannot add a new attachment with same file name as an existing attachment: {filename}"
                )
            if existing:
                existing.data, existing.media_type, existing.comment = data, media_type, comment
                existing.version += 1
                existing.created_at = now_iso()
                return existing
            attachment = Attachment(f"att{self.next_id()}", page_id, filename, media_type, data, comment, 1, now_iso())
            self.attachments[attachment.id] = attachment
            return attachment

    def attachments_of(self, page_id: str) -> list[Attachment]:
        with self.lock:
            return [a for a in self.attachments.values() if a.page_id == page_id]

    # events -----------------------------------------------------------------------------
    def _notify(self, change: str, page: Page, author_id: str) -> None:
        for listener in list(self.page_listeners):
            listener(change, page, author_id)
