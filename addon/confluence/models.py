"""Small, typed views of what Confluence returns, so callers never dig through raw JSON.

Ids are strings everywhere (v2 sends strings; v1 space ids arrive as numbers and are converted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Space:
    id: str
    key: str
    name: str
    homepage_id: str | None = None


@dataclass(frozen=True)
class Page:
    id: str
    title: str
    space_id: str | None
    parent_id: str | None
    version: int | None
    body: str | None  # storage format; None when not requested (children listings)
    status: str = "current"


@dataclass(frozen=True)
class User:
    """A person (or app) on the site as Confluence names them; the account id stays for links."""

    account_id: str
    display_name: str


@dataclass(frozen=True)
class ContentProperty:
    id: str
    key: str
    value: Any
    version: int


@dataclass(frozen=True)
class Label:
    id: str
    name: str
    prefix: str = "global"


@dataclass(frozen=True)
class InlineTask:
    """A task in a Confluence page (an `ac:task` checkbox item), as the tasks API returns it."""

    id: str
    local_id: str | None
    page_id: str | None
    space_id: str | None
    status: str  # "complete" | "incomplete"
    body: str | None = None  # storage format of the task body, when requested
    assigned_to: str | None = None
    due_at: str | None = None


@dataclass(frozen=True)
class SearchResult:
    content_id: str | None
    content_type: str | None
    title: str
    url: str
    space_key: str | None = None


@dataclass(frozen=True)
class Attachment:
    id: str
    title: str
    media_type: str | None = None
    download_path: str | None = None
    version: int | None = None
