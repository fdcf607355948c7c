"""The one gateway to a tenant's Consonance: named reads and writes in domain terms.

Flows and macros call these methods with work ids and get `addon.publishing.domain` objects back;
the GraphQL documents, paging scheme and payload shapes stay behind this class.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import requests
from marshmallow import ValidationError

from addon.consonance import schemas
from addon.consonance.errors import (
    NOT_CONSONANCE,
    ConsonanceAuthError,
    ConsonanceError,
    ConsonanceNotFound,
    failure_kind,
)
from addon.consonance.operations import load_operation
from addon.consonance.transport import (
    ConsonanceConnection,
    GraphQLTransport,
    TransportOptions,
    TransportStats,
    raise_for_payload_errors,
)
from addon.logs import log_context
from addon.publishing.domain import (
    Note,
    RightsPosition,
    Stage,
    Task,
    Title,
    TitleFingerprint,
    WebLink,
    normalise_isbn,
)

log = logging.getLogger("addon.consonance")

MAX_PAGE_SIZE = 500  # assumption: the largest `perPage` the API accepts (sandbox-defined)
SEARCH_LIMIT_MAX = 50


@dataclass(frozen=True)
class ConnectionCheck:
    name: str
    ok: bool
    detail: str
    failure: str | None = None  # errors.failure_kind of a failed step: what an admin may be told


@dataclass(frozen=True)
class ConnectionReport:
    """What worked and what failed when trying a tenant's Consonance settings (for the admin page)."""

    host: str
    checks: tuple[ConnectionCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


class ConsonanceGateway:
    """Reads titles, rights and fingerprints from one Consonance, and writes notes, stages, tasks and links."""

    def __init__(
        self,
        connection: ConsonanceConnection,
        options: TransportOptions | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        transport: GraphQLTransport | None = None,
        session: requests.Session | None = None,
    ):
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.connection = connection
        self.page_size = page_size
        self.transport = transport or GraphQLTransport(connection, options, session=session)

    @property
    def stats(self) -> TransportStats:
        return self.transport.stats

    def close(self) -> None:
        self.transport.close()

    def _run(self, name: str, variables: dict | None = None) -> dict:
        operation = load_operation(name)
        with log_context(consonance_operation=name):
            return self.transport.execute(operation.document, variables or {}, operation_name=name)

    # --- reads ------------------------------------------------------------------------------

    def title(self, work_id: str) -> Title | None:
        """One work with its formats, contributors and contracts; None if Consonance has no such work."""
        work = self._run("TitleByWorkId", {"workId": str(work_id)})["work"]
        return schemas.TITLE.load(work) if work else None

    def title_by_isbn(self, isbn: str) -> Title | None:
        """The work one of whose formats has this ISBN (any hyphenation); None if invalid or unknown."""
        isbn13 = normalise_isbn(isbn)
        if not isbn13:
            return None
        product = self._run("TitleByIsbn", {"isbn13": isbn13})["product"]
        return schemas.TITLE.load(product["work"]) if product and product.get("work") else None

    def search_titles(self, text: str, limit: int = 10) -> list[Title]:
        """Titles whose title contains `text` (or the one with that ISBN), light enough for search-as-you-type.

        The Titles carry formats with kind, ISBN and dates only; call `title()` for the rest.
        """
        text = (text or "").strip()
        if not text:
            return []
        if normalise_isbn(text):
            found = self.title_by_isbn(text)
            return [found] if found else []
        limit = max(1, min(limit, SEARCH_LIMIT_MAX))
        return list(schemas.TITLES.load(self._run("SearchTitles", {"text": text, "limit": limit})["works"]))

    def iter_fingerprints(self) -> Iterator[TitleFingerprint]:
        """The whole catalogue's change fingerprints, one page in memory at a time, in work-id order."""
        for work in self._iter_works("CatalogueFingerprints"):
            yield schemas.fingerprint(work)

    def iter_titles(self) -> Iterator[Title]:
        """Every title with its formats and contributors (no contracts), one page in memory at a time."""
        for work in self._iter_works("CatalogueTitles"):
            yield schemas.TITLE.load(work)

    def _iter_works(self, operation: str) -> Iterator[dict]:
        """Page through `works`: page 1 also asks for the count, then exactly ceil(count / page size) pages.

        assumption: pages are ordered by id and a page shorter than the page size is the last one.
        """
        page, pages = 1, 1
        while page <= pages:
            data = self._run(operation, {"page": page, "perPage": self.page_size, "withCount": page == 1})
            works = data["works"]
            if page == 1:
                pages = max(1, math.ceil(data["worksCount"] / self.page_size))
                log.info("reading %d works in %d page(s) of %d", data["worksCount"], pages, self.page_size)
            yield from works
            if len(works) < self.page_size:
                break
            page += 1

    def rights_for(self, work_id: str) -> RightsPosition:
        """Where a title may be sold and which rights are licensed, from its products and contracts."""
        work = self._run("TitleRights", {"workId": str(work_id)})["work"]
        if not work:
            raise ConsonanceNotFound(f"Consonance has no work {work_id}", operation="TitleRights")
        formats = schemas.FORMATS.load(work.get("products") or [])
        contracts = schemas.CONTRACTS.load(work.get("contracts") or [])
        return RightsPosition.derive(formats, contracts)

    def project_stages(self) -> list[Stage]:
        """Consonance's stages in workflow order, each with its position."""
        stages = schemas.STAGES.load(self._run("ProjectStages")["projectStages"])
        return sorted(stages, key=lambda s: (s.position is None, s.position or 0))

    def list_tasks(self, work_id: str) -> list[Task]:
        work = self._work(self._run("WorkTasks", {"workId": str(work_id)}), work_id, "WorkTasks")
        return [self._with_work(t, work_id) for t in schemas.TASKS.load(work.get("tasks") or [])]

    def list_notes(self, work_id: str) -> list[Note]:
        work = self._work(self._run("WorkNotes", {"workId": str(work_id)}), work_id, "WorkNotes")
        return [schemas.NOTE.load(n) for n in work.get("notes") or []]

    def web_links(self, work_id: str) -> list[WebLink]:
        work = self._work(self._run("WorkWebLinks", {"workId": str(work_id)}), work_id, "WorkWebLinks")
        return list(schemas.WEB_LINKS.load(work.get("webLinks") or []))

    def test_connection(self) -> ConnectionReport:
        """Try the settings step by step and say which step worked; never raises for Consonance failures."""
        checks: list[ConnectionCheck] = []
        steps = (
            ("Reach Consonance and authenticate", lambda: f"{self._run('CatalogueSize')['worksCount']} works"),
            ("Read project stages", lambda: ", ".join(s.name for s in self.project_stages()) or "no stages"),
            ("Read a title with its formats", self._check_title_read),
        )
        for name, step in steps:
            try:
                checks.append(ConnectionCheck(name, True, step()))
            except ConsonanceAuthError as exc:
                checks.append(ConnectionCheck(name, False, str(exc), failure_kind(exc)))
                break  # nothing further can work with a refused key
            except ConsonanceError as exc:
                checks.append(ConnectionCheck(name, False, str(exc), failure_kind(exc)))
            except (
                KeyError,
                TypeError,
                ValueError,
                AttributeError,
                ValidationError,
            ) as exc:  # an answer not shaped like Consonance's
                checks.append(ConnectionCheck(name, False, f"unexpected answer ({type(exc).__name__})", NOT_CONSONANCE))
        return ConnectionReport(host=self.connection.host, checks=tuple(checks))

    def _check_title_read(self) -> str:
        works = self._run("CatalogueTitles", {"page": 1, "perPage": 1, "withCount": False})["works"]
        if not works:
            return "catalogue is empty"
        title = schemas.TITLE.load(works[0])
        return f"work {title.work_id} with {len(title.formats)} format(s)"

    # --- writes -----------------------------------------------------------------------------

    def add_note(self, work_id: str, text: str, idempotency_key: str) -> Note:
        """Add a note to a work; the same key on the same work returns the first note instead of a copy."""
        payload = self._run("AddWorkNote", {"workId": str(work_id), "text": text, "externalRef": idempotency_key})
        payload = payload["createWorkNote"]
        raise_for_payload_errors("createWorkNote", payload)
        note = schemas.NOTE.load(payload["note"])
        return Note(note.id, note.text, note.created_at, str(work_id), note.external_ref)

    def change_stage(self, work_id: str, stage: str | Stage) -> Stage:
        """Move a work to a project stage (by name); returns the stage Consonance now holds."""
        name = stage.name if isinstance(stage, Stage) else stage
        payload = self._run("ChangeWorkStage", {"workId": str(work_id), "stage": name})["changeWorkProjectStage"]
        raise_for_payload_errors("changeWorkProjectStage", payload)
        return Stage(payload["work"]["projectStage"])

    def create_task(self, work_id: str, title: str, due_date: date | None, external_ref: str) -> Task:
        """Create a to-do on a work, or return the existing one with the same external ref (idempotent)."""
        variables = {
            "workId": str(work_id),
            "title": title,
            "dueDate": due_date.isoformat() if due_date else None,
            "externalRef": external_ref,
        }
        payload = self._run("CreateWorkTask", variables)["createWorkTask"]
        raise_for_payload_errors("createWorkTask", payload)
        return self._with_work(schemas.TASK.load(payload["task"]), work_id)

    def complete_task(self, task_id: str) -> Task:
        """Mark a to-do complete (completing a completed task is a no-op)."""
        payload = self._run("CompleteWorkTask", {"taskId": str(task_id)})["completeWorkTask"]
        raise_for_payload_errors("completeWorkTask", payload)
        return schemas.TASK.load(payload["task"])

    def reopen_task(self, task_id: str) -> Task:
        """Mark a to-do open again (reopening an open task is a no-op)."""
        payload = self._run("ReopenWorkTask", {"taskId": str(task_id)})["reopenWorkTask"]
        raise_for_payload_errors("reopenWorkTask", payload)
        return schemas.TASK.load(payload["task"])

    def upsert_web_link(self, work_id: str, url: str, role: str | None = None, note: str | None = None) -> WebLink:
        """Ensure the work has a link to `url` with this role and note: update it if present, else add it.

        Links are matched by URL; an identical link already present costs one read and no write.
        """
        existing = next((link for link in self.web_links(work_id) if link.url == url), None)
        if existing and existing.role == role and existing.note == note:
            return existing
        entry = {"link": url, "role": role, "note": note}
        if existing:
            entry["id"] = existing.id
        payload = self._run("UpdateWorkWebLinks", {"workId": str(work_id), "webLinks": [entry]})["updateWork"]
        raise_for_payload_errors("updateWork", payload)
        links = schemas.WEB_LINKS.load((payload.get("work") or {}).get("webLinks") or [])
        saved = next((link for link in links if link.url == url), None)
        if saved is None:
            raise ConsonanceError(f"Consonance accepted the link for work {work_id} but does not list it")
        return saved

    # --- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _work(data: dict, work_id: str, operation: str) -> dict:
        if not data.get("work"):
            raise ConsonanceNotFound(f"Consonance has no work {work_id}", operation=operation)
        return data["work"]

    @staticmethod
    def _with_work(task: Task, work_id: str) -> Task:
        return Task(task.id, task.title, task.status, task.due_date, task.external_ref, str(work_id))
