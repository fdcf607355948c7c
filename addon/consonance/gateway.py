"""The one gateway to a tenant's Consonance: named reads and writes in domain terms.

Flows and macros call these methods with work ids and get `addon.publishing.domain` objects back;
the GraphQL documents, paging scheme and payload shapes stay behind this class.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

from marshmallow import ValidationError

from addon.consonance import schemas
from addon.consonance.budget import RequestBudget
from addon.consonance.capabilities import CapabilityProfile, discover
from addon.consonance.errors import (
    NOT_CONSONANCE,
    ConsonanceAuthError,
    ConsonanceError,
    ConsonanceNotFound,
    ConsonanceQueryError,
    FeatureUnavailable,
    failure_kind,
)
from addon.consonance.operations import load_operation
from addon.consonance.title_reader import load_title
from addon.consonance.transport import (
    ConsonanceConnection,
    GraphQLTransport,
    TransportOptions,
    TransportStats,
    raise_for_payload_errors,
)
from addon.consonance.wire import KeptConnections
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
RECHECK_SECONDS = 600.0  # a refused document makes the gateway ask the server what it offers, this often at most


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
    capabilities: CapabilityProfile | None = None  # what the server offers, when it could be asked

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def refused_as_invalid(exc: ConsonanceQueryError) -> bool:
    """The server refused the whole document (validation errors carry no `path`; execution errors do)."""
    errors = [e for e in (exc.errors or []) if isinstance(e, dict)]
    return bool(errors) and not any(e.get("path") for e in errors)


class ConsonanceGateway:
    """Reads titles, rights and fingerprints from one Consonance, and writes notes, stages, tasks and links."""

    def __init__(
        self,
        connection: ConsonanceConnection,
        options: TransportOptions | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
        transport: GraphQLTransport | None = None,
        connections: KeptConnections | None = None,
        profile: CapabilityProfile | None = None,
        budget: RequestBudget | None = None,
    ):
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self.connection = connection
        self.page_size = page_size
        self.transport = transport or GraphQLTransport(connection, options, connections=connections, budget=budget)
        # What this Consonance offers; until it is first checked, what the app was written for.
        self.profile = profile or CapabilityProfile.assumed()

    @property
    def stats(self) -> TransportStats:
        return self.transport.stats

    def close(self) -> None:
        self.transport.close()

    def _run(self, name: str, variables: dict | None = None) -> dict:
        """Send operation `name` as built for this server: its spelling here, only the parts it has."""
        operation = load_operation(self.profile.operation(name), self.profile.has)
        try:
            return self._send(operation, variables)
        except ConsonanceQueryError as exc:
            if not refused_as_invalid(exc) or not self._may_recheck():
                raise
            # The server refused the document as a whole: first contact before any check, or a server that
            # changed since. Find out what it offers now, and send the operation built for that, never the
            # refused one again.
            log.warning("Consonance refused %s as invalid for its schema; checking what it offers", operation.name)
            self.discover()
            if not self.profile.sends(self.profile.operation(name)):
                raise FeatureUnavailable(name, f"your Consonance does not accept {name}") from exc
            rebuilt = load_operation(self.profile.operation(name), self.profile.has)
            if rebuilt.document == operation.document:
                raise
            return self._send(rebuilt, variables)

    def _send(self, operation, variables: dict | None) -> dict:
        declared = operation.variables
        sent = {k: v for k, v in (variables or {}).items() if k in declared}
        with log_context(consonance_operation=operation.name):
            return self.transport.execute(operation.document, sent, operation_name=operation.name)

    def supports(self, feature: str) -> bool:
        return self.profile.supports(feature)

    def require(self, feature: str) -> None:
        """Refuse, without sending anything, a write this server does not accept."""
        status = self.profile.feature(feature)
        if not status.available:
            raise FeatureUnavailable(feature, status.reason)

    def _title(self, work: dict) -> Title:
        title = load_title(work)  # the schema's answer; the schema itself only for what it alone can judge
        unknown = self.profile.unknown_facts()
        return replace(title, unknown=tuple(sorted(unknown))) if unknown else title

    # --- reads ------------------------------------------------------------------------------

    def title(self, work_id: str) -> Title | None:
        """One work with its formats, contributors and contracts; None if Consonance has no such work."""
        work = self._run("TitleByWorkId", {"workId": str(work_id)})["work"]
        return self._title(work) if work else None

    def titles(self, work_ids) -> dict[str, Title]:
        """Many works as `title()` reads them, by work id, in one request per page of ids (a launch hub's list);
        ids Consonance does not have are absent. A server that cannot search works by a list of ids gets
        one `title()` request per work."""
        wanted = list(dict.fromkeys(str(w) for w in work_ids))
        if not self.profile.sends("TitlesByWorkIds"):
            return {work_id: title for work_id in wanted if (title := self.title(work_id)) is not None}
        titles = (self._title(work) for work in self._works_by_ids("TitlesByWorkIds", wanted))
        return {title.work_id: title for title in titles}

    def rights_and_links(self, work_ids) -> dict[str, tuple[RightsPosition, list[WebLink]]]:
        """`rights_for()` and `web_links()` of many works, in one request per page of ids (rights guidance links
        for every managed title); ids Consonance does not have are absent."""
        self.require("web_links")
        wanted = list(dict.fromkeys(str(w) for w in work_ids))
        if not self.profile.sends("RightsByWorkIds"):
            found = {}
            for work_id in wanted:
                try:
                    found[work_id] = (self.rights_for(work_id), self.web_links(work_id))
                except ConsonanceNotFound:
                    continue
            return found
        return {
            str(work["id"]): (self._rights(work), list(schemas.WEB_LINKS.load(work.get("webLinks") or [])))
            for work in self._works_by_ids("RightsByWorkIds", wanted)
        }

    def _works_by_ids(self, operation: str, wanted: list[str]) -> Iterator[dict]:
        """The works with these ids, one request per page of ids; only works asked for."""
        for start in range(0, len(wanted), self.page_size):
            batch = wanted[start : start + self.page_size]
            size, asked = len(batch), set(batch)
            variables = {"workIds": batch, "page": 1, "perPage": size, "limit": size, "offset": 0, "first": size}
            for work in self._run(operation, variables)["works"]:
                if str(work.get("id")) in asked:
                    yield work

    def title_by_isbn(self, isbn: str) -> Title | None:
        """The work one of whose formats has this ISBN (any hyphenation); None if invalid or unknown."""
        isbn13 = normalise_isbn(isbn)
        if not isbn13:
            return None
        product = self._run("TitleByIsbn", {"isbn13": isbn13})["product"]
        return self._title(product["work"]) if product and product.get("work") else None

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
        works = self._run("SearchTitles", {"text": text, "limit": limit})["works"]
        return [self._title(work) for work in works[:limit]]  # a server without list limits sends every match

    def iter_fingerprints(self) -> Iterator[TitleFingerprint]:
        """The whole catalogue's change fingerprints, one page in memory at a time, in work-id order."""
        for work in self._iter_works("CatalogueFingerprints"):
            yield schemas.fingerprint(work)

    def iter_titles(self) -> Iterator[Title]:
        """Every title with its formats and contributors (no contracts), one page in memory at a time."""
        for work in self._iter_works("CatalogueTitles"):
            yield self._title(work)

    def iter_pipeline(self) -> Iterator[tuple[Title, list[Task]]]:
        """Every title with its contracts and its open to-dos, one page in memory at a time (summaries)."""
        for work in self._iter_works("CataloguePipeline"):
            title = schemas.TITLE.load(work)
            tasks = [self._with_work(t, title.work_id) for t in schemas.TASKS.load(work.get("tasks") or [])]
            yield title, tasks

    def _iter_works(self, operation: str) -> Iterator[dict]:
        """Every work, read the way this server lists them (see `CapabilityProfile.pagination`)."""
        style = self.profile.pagination
        if style == "none":  # the documented `works` takes no paging: one answer holds the whole list
            yield from self._run(operation, {"withCount": False})["works"]
        elif style == "cursor":
            yield from self._iter_by_cursor(operation)
        elif style == "offset":
            yield from self._iter_by_offset(operation)
        elif style == "page_without_count":
            yield from self._iter_by_offset(operation, pages=True)
        else:
            yield from self._iter_pages(operation)

    def _iter_by_cursor(self, operation: str) -> Iterator[dict]:
        """assumption: `after` is the last id read, works come in id order, a short page is the last."""
        after = None
        while True:
            works = self._run(operation, {"first": self.page_size, "after": after, "withCount": False})["works"]
            yield from works
            if len(works) < self.page_size or not works:
                return
            after = str(works[-1]["id"])

    def _iter_by_offset(self, operation: str, *, pages: bool = False) -> Iterator[dict]:
        """assumption: a page shorter than the page size is the last one."""
        index = 0
        while True:
            if pages:
                variables = {"page": index + 1, "perPage": self.page_size, "withCount": False}
            else:
                variables = {"limit": self.page_size, "offset": index * self.page_size, "withCount": False}
            works = self._run(operation, variables)["works"]
            yield from works
            if len(works) < self.page_size:
                return
            index += 1

    def _iter_pages(self, operation: str) -> Iterator[dict]:
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
        return self._rights(work)

    @staticmethod
    def _rights(work: dict) -> RightsPosition:
        formats = schemas.FORMATS.load(work.get("products") or [])
        contracts = schemas.CONTRACTS.load(work.get("contracts") or [])  # absent where the server has none
        return RightsPosition.derive(formats, contracts)

    def project_stages(self) -> list[Stage]:
        """Consonance's stages in workflow order, each with its position; empty where it does not list them."""
        if not self.supports("stage_list"):
            return []
        stages = schemas.STAGES.load(self._run("ProjectStages")["projectStages"])
        return sorted(stages, key=lambda s: (s.position is None, s.position or 0))

    def list_tasks(self, work_id: str) -> list[Task]:
        self.require("tasks")
        work = self._work(self._run("WorkTasks", {"workId": str(work_id)}), work_id, "WorkTasks")
        return [self._with_work(t, work_id) for t in schemas.TASKS.load(work.get("tasks") or [])]

    def list_notes(self, work_id: str) -> list[Note]:
        self.require("notes")
        work = self._work(self._run("WorkNotes", {"workId": str(work_id)}), work_id, "WorkNotes")
        return [schemas.NOTE.load(n) for n in work.get("notes") or []]

    def web_links(self, work_id: str) -> list[WebLink]:
        self.require("web_links")
        work = self._work(self._run("WorkWebLinks", {"workId": str(work_id)}), work_id, "WorkWebLinks")
        return list(schemas.WEB_LINKS.load(work.get("webLinks") or []))

    def discover(self) -> CapabilityProfile:
        """Ask this Consonance what it offers, and build every later operation for that (see capabilities)."""
        self._checked_at = time.monotonic()
        self.profile = discover(self.transport, self.connection.host)
        return self.profile

    def _may_recheck(self) -> bool:
        """At most one check per RECHECK_SECONDS when documents are refused (a check costs up to three requests)."""
        last = getattr(self, "_checked_at", None)
        return last is None or time.monotonic() - last >= RECHECK_SECONDS

    def test_connection(self) -> ConnectionReport:
        """Try the settings step by step and say which step worked; never raises for Consonance failures.

        The first step finds out what the server offers, so the later ones ask only for what it has.
        """
        checks: list[ConnectionCheck] = []
        discovered: list[CapabilityProfile] = []

        def reach() -> str:
            discovered.append(self.discover())
            how = "its schema" if self.profile.source == "introspection" else "probes (it refuses introspection)"
            off = sum(1 for f in self.profile.features() if not f.available)
            detail = f"read what it offers from {how}" + (f"; {off} feature(s) off" if off else "")
            if "Query.worksCount" in self.profile.present:
                detail = f"{self._run('CatalogueSize')['worksCount']} works; {detail}"
            return detail

        def stages() -> str:
            if not self.supports("stage_list"):
                return "not available from your Consonance: the app uses its usual stage order"
            return ", ".join(s.name for s in self.project_stages()) or "no stages"

        steps = (
            ("Reach Consonance and authenticate", reach),
            ("Read project stages", stages),
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
        profile = discovered[0] if discovered else None
        return ConnectionReport(host=self.connection.host, checks=tuple(checks), capabilities=profile)

    def _check_title_read(self) -> str:
        style = self.profile.pagination
        if style == "none":
            return "skipped: your Consonance lists works without pagination, so titles are read when shown"
        first = {"page": 1, "perPage": 1, "limit": 1, "offset": 0, "first": 1, "after": None, "withCount": False}
        works = self._run("CatalogueTitles", first)["works"]
        if not works:
            return "catalogue is empty"
        title = self._title(works[0])
        return f"work {title.work_id} with {len(title.formats)} format(s)"

    # --- writes -----------------------------------------------------------------------------

    def add_note(self, work_id: str, text: str, idempotency_key: str) -> Note:
        """Add a note to a work; the same key on the same work returns the first note instead of a copy."""
        self.require("notes")
        payload = self._run("AddWorkNote", {"workId": str(work_id), "text": text, "externalRef": idempotency_key})
        payload = payload["createWorkNote"]
        raise_for_payload_errors("createWorkNote", payload)
        note = schemas.NOTE.load(payload["note"])
        return Note(note.id, note.text, note.created_at, str(work_id), note.external_ref)

    def change_stage(self, work_id: str, stage: str | Stage) -> Stage:
        """Move a work to a project stage (by name); returns the stage Consonance now holds."""
        self.require("stage_changes")
        name = stage.name if isinstance(stage, Stage) else stage
        payload = self._run("ChangeWorkStage", {"workId": str(work_id), "stage": name})["changeWorkProjectStage"]
        raise_for_payload_errors("changeWorkProjectStage", payload)
        return Stage(payload["work"]["projectStage"])

    def create_task(self, work_id: str, title: str, due_date: date | None, external_ref: str) -> Task:
        """Create a to-do on a work, or return the existing one with the same external ref (idempotent)."""
        self.require("tasks")
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
        self.require("tasks")
        payload = self._run("CompleteWorkTask", {"taskId": str(task_id)})["completeWorkTask"]
        raise_for_payload_errors("completeWorkTask", payload)
        return schemas.TASK.load(payload["task"])

    def reopen_task(self, task_id: str) -> Task:
        """Mark a to-do open again (reopening an open task is a no-op)."""
        self.require("tasks")
        payload = self._run("ReopenWorkTask", {"taskId": str(task_id)})["reopenWorkTask"]
        raise_for_payload_errors("reopenWorkTask", payload)
        return schemas.TASK.load(payload["task"])

    def upsert_web_link(self, work_id: str, url: str, role: str | None = None, note: str | None = None) -> WebLink:
        """Ensure the work has a link to `url` with this role and note: update it if present, else add it.

        Links are matched by URL; an identical link already present costs one read and no write.
        """
        self.require("web_links")
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
        return dataclasses.replace(task, work_id=str(work_id))
