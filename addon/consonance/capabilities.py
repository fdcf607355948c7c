"""What one customer's Consonance offers, found out by asking it, and which features that allows.

Consonance documents little of its GraphQL API (tests/sandbox/consonance/documented_names.toml lists what); the
app was written against a stand-in that defines the rest. Before trusting any of it on a real
server, `discover` reads the server's schema by introspection, or, where introspection is refused,
sends one query and one mutation that are certain to be refused (they name a field no server has)
and reads which of the other lines the validation errors point at. Nothing a probe asks for is
ever executed. The result is a `CapabilityProfile`: the schema coordinates the server has (for
example `Work.imprint`, `Query.works(perPage)`), the list pagination style they allow, and for
each feature whether it is on, and the field or operation that decides it, in words.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from addon.consonance.errors import ConsonanceAuthError, ConsonanceError, ConsonanceQueryError, ConsonanceUnavailable

log = logging.getLogger("addon.consonance.capabilities")

INTROSPECTION = """query CapabilityIntrospection {
  __schema {
    queryType { name }
    mutationType { name }
    types {
      name
      fields(includeDeprecated: true) { name args { name } }
      inputFields { name }
      enumValues(includeDeprecated: true) { name }
    }
  }
}"""

# One line per schema coordinate: a validation error located on a line means the server lacks it (and
# whatever is nested under it). The first field exists on no server, so the whole document is refused
# and nothing in it runs.
SENTINEL = "consonanceForConfluenceProbe"
QUERY_PROBE = f"""query CapabilityProbe {{
  {SENTINEL} # probe: sentinel
  worksCount # probe: Query.worksCount
  projectStages {{ # probe: Query.projectStages
    __typename
  }}
  product(productSearch: {{isbn13Eq: "0"}}) {{ # probe: Query.product
    id
  }}
  works( # probe: Query.works
    workSearch: {{idIn: ["0"]}} # probe: WorkSearch.idIn
    page: 1 # probe: Query.works(page)
    perPage: 1 # probe: Query.works(perPage)
    limit: 1 # probe: Query.works(limit)
    offset: 0 # probe: Query.works(offset)
    first: 1 # probe: Query.works(first)
    after: "0" # probe: Query.works(after)
  ) {{
    id
  }}
  work(workSearch: {{idEq: "0"}}) {{ # probe: Query.work
    projectStage # probe: Work.projectStage
    season # probe: Work.season
    marketingTier # probe: Work.marketingTier
    imprint # probe: Work.imprint
    seriesMemberships {{
      seriesName # probe: SeriesMembership.seriesName
      numberWithinSeries # probe: SeriesMembership.numberWithinSeries
    }}
    contributions {{
      sequenceNumber # probe: Contribution.sequenceNumber
    }}
    contracts {{ # probe: Work.contracts
      id
    }}
    notes {{ # probe: Work.notes
      __typename
    }}
    tasks {{ # probe: Work.tasks
      id
    }}
    todos {{ # probe: Work.todos
      id
    }}
    webLinks {{ # probe: Work.webLinks
      id
    }}
    products {{
      subjectCodes {{
        scheme # probe: SubjectCode.scheme
      }}
      marketingTexts(variantIn: [
        DESCRIPTION # probe: MarketingTextVariant.DESCRIPTION
      ]) {{
        externalText
      }}
    }}
  }}
  contract(contractSearch: {{idEq: "0"}}) {{
    licensedRights {{
      territoryCountryCodes # probe: LicensedRight.territoryCountryCodes
    }}
  }}
}}"""
MUTATION_PROBE = f"""mutation CapabilityProbe {{
  {SENTINEL} # probe: sentinel
  createWorkNote(input: {{ # probe: Mutation.createWorkNote
    workId: "0"
    noteText: ""
    externalRef: "" # probe: CreateWorkNoteInput.externalRef
  }}) {{
    __typename
  }}
  addWorkNote(input: {{ # probe: Mutation.addWorkNote
    workId: "0"
    content: ""
    externalRef: "" # probe: AddWorkNoteInput.externalRef
  }}) {{
    __typename
  }}
  changeWorkProjectStage(input: {{workId: "0", projectStage: ""}}) {{ # probe: Mutation.changeWorkProjectStage
    __typename
  }}
  createWorkTask(input: {{ # probe: Mutation.createWorkTask
    workId: "0"
    title: ""
    externalRef: "" # probe: CreateWorkTaskInput.externalRef
  }}) {{
    __typename
  }}
  completeWorkTask(input: {{id: "0"}}) {{ # probe: Mutation.completeWorkTask
    __typename
  }}
  reopenWorkTask(input: {{id: "0"}}) {{ # probe: Mutation.reopenWorkTask
    __typename
  }}
  createWorkTodo(input: {{ # probe: Mutation.createWorkTodo
    workId: "0"
    title: ""
    externalRef: "" # probe: CreateWorkTodoInput.externalRef
  }}) {{
    __typename
  }}
  completeWorkTodo(input: {{id: "0"}}) {{ # probe: Mutation.completeWorkTodo
    __typename
  }}
  reopenWorkTodo(input: {{id: "0"}}) {{ # probe: Mutation.reopenWorkTodo
    __typename
  }}
  updateWork(input: {{
    id: "0"
    webLinks: [{{ # probe: UpdateWorkInput.webLinks
      id: "0" # probe: WebLinkInput.id
      link: ""
    }}]
  }}) {{
    __typename
  }}
}}"""

_PROBE_MARK = re.compile(r"#\s*probe:\s*(\S+)\s*$")


def _probe_lines(document: str) -> dict[int, tuple[str, tuple[int, ...]]]:
    """Line number (1-based) -> (coordinate probed there, the lines of the blocks it is nested in).

    A server does not check what is nested under a field it lacks, so an error on any enclosing
    line means the coordinate is missing too.
    """
    lines: dict[int, tuple[str, tuple[int, ...]]] = {}
    openers: list[int] = []
    for number, line in enumerate(document.splitlines(), 1):
        code = line.split("#", 1)[0]
        mark = _PROBE_MARK.search(line)
        if mark:
            lines[number] = (mark.group(1), tuple(openers))
        opens = code.count("{") + code.count("(") + code.count("[")
        closes = code.count("}") + code.count(")") + code.count("]")
        for _ in range(max(opens - closes, 0)):
            openers.append(number)
        for _ in range(max(closes - opens, 0)):
            if openers:
                openers.pop()
    return lines


COORDINATES = tuple(
    coordinate
    for document in (QUERY_PROBE, MUTATION_PROBE)
    for coordinate, _above in _probe_lines(document).values()
    if coordinate != "sentinel"
)


# --- features -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dialect:
    """One way a server may spell a feature: the coordinates it needs, and the operations used for it."""

    needs: tuple[str, ...]
    operations: dict = field(default_factory=dict)  # our operation name -> the file to send instead


@dataclass(frozen=True)
class Feature:
    key: str
    label: str
    dialects: tuple[Dialect, ...]
    without: str  # what the app does when the server lacks it, in the admin's words
    kind: str = "read"  # read | write


# Words for each coordinate, as the capability table says them.
WORDS = {
    "Query.work": "the `work` query",
    "Query.worksCount": "the `worksCount` query",
    "Query.projectStages": "the `projectStages` query",
    "Work.projectStage": "the `projectStage` field on works",
    "Work.season": "the `season` field on works",
    "Work.marketingTier": "the `marketingTier` field on works",
    "Work.imprint": "the `imprint` field on works",
    "SeriesMembership.seriesName": "`seriesName` on series memberships",
    "SeriesMembership.numberWithinSeries": "`numberWithinSeries` on series memberships",
    "Contribution.sequenceNumber": "`sequenceNumber` on contributions",
    "Work.contracts": "the `contracts` field on works",
    "LicensedRight.territoryCountryCodes": "`territoryCountryCodes` on licensed rights",
    "SubjectCode.scheme": "`scheme` on subject codes",
    "MarketingTextVariant.DESCRIPTION": "the DESCRIPTION marketing text variant",
    "Work.notes": "the `notes` field on works",
    "Work.tasks": "the `tasks` field on works",
    "Work.todos": "the `todos` field on works",
    "Work.webLinks": "the `webLinks` field on works",
    "Mutation.createWorkNote": "the `createWorkNote` mutation",
    "CreateWorkNoteInput.externalRef": "`externalRef` on createWorkNote (so a retried note is not written twice)",
    "Mutation.addWorkNote": "the `addWorkNote` mutation",
    "AddWorkNoteInput.externalRef": "`externalRef` on addWorkNote",
    "Mutation.changeWorkProjectStage": "the `changeWorkProjectStage` mutation",
    "Mutation.createWorkTask": "the `createWorkTask` mutation",
    "Mutation.completeWorkTask": "the `completeWorkTask` mutation",
    "Mutation.reopenWorkTask": "the `reopenWorkTask` mutation",
    "CreateWorkTaskInput.externalRef": "`externalRef` on createWorkTask",
    "Mutation.createWorkTodo": "the `createWorkTodo` mutation",
    "Mutation.completeWorkTodo": "the `completeWorkTodo` mutation",
    "Mutation.reopenWorkTodo": "the `reopenWorkTodo` mutation",
    "CreateWorkTodoInput.externalRef": "`externalRef` on createWorkTodo",
    "UpdateWorkInput.webLinks": "`webLinks` in updateWork's input",
    "WebLinkInput.id": "`id` in web link input (to update a link rather than add a copy)",
}

FEATURES = (
    Feature(
        "notes",
        "Decisions sent to Consonance as notes",
        (
            Dialect(("Mutation.createWorkNote", "CreateWorkNoteInput.externalRef")),
            Dialect(
                ("Mutation.addWorkNote", "AddWorkNoteInput.externalRef"),
                {"AddWorkNote": "AddWorkNoteAsContent", "WorkNotes": "WorkNotesAsContent"},
            ),
        ),
        "decisions are kept in the Confluence decision log, marked as not sent",
        "write",
    ),
    Feature(
        "stage_changes",
        "Approvals move the title's stage in Consonance",
        (Dialect(("Work.projectStage", "Mutation.changeWorkProjectStage")),),
        "the approval is kept in the decision log; the stage is changed in Consonance by hand",
        "write",
    ),
    Feature(
        "tasks",
        "Approval gates become Consonance tasks",
        (
            Dialect(
                (
                    "Work.tasks",
                    "Mutation.createWorkTask",
                    "Mutation.completeWorkTask",
                    "Mutation.reopenWorkTask",
                    "CreateWorkTaskInput.externalRef",
                )
            ),
            Dialect(
                (
                    "Work.todos",
                    "Mutation.createWorkTodo",
                    "Mutation.completeWorkTodo",
                    "Mutation.reopenWorkTodo",
                    "CreateWorkTodoInput.externalRef",
                ),
                {
                    "WorkTasks": "WorkTodos",
                    "CreateWorkTask": "CreateWorkTodo",
                    "CompleteWorkTask": "CompleteWorkTodo",
                    "ReopenWorkTask": "ReopenWorkTodo",
                },
            ),
        ),
        "playbook gates stay checkboxes in Confluence; no task is made in Consonance",
        "write",
    ),
    Feature(
        "web_links",
        "Links from titles to rights guidance and lessons",
        (Dialect(("Work.webLinks", "UpdateWorkInput.webLinks", "WebLinkInput.id")),),
        "guidance and lessons are shown in Confluence only; no link is added in Consonance",
        "write",
    ),
    Feature(
        "stage",
        "Workflow stage of titles",
        (Dialect(("Work.projectStage",)),),
        'panels show "Stage: not available"; stage moves are not detected',
    ),
    Feature(
        "stage_list",
        "Consonance's list of stages",
        (Dialect(("Query.projectStages",)),),
        "the app uses its usual stage order, and admins type stage names",
    ),
    Feature(
        "contracts",
        "Rights and contracts",
        (Dialect(("Work.contracts",)),),
        "rights panels show sales rights from formats only; contracts and licensed rights are marked unavailable",
    ),
    Feature(
        "right_territories",
        "Territories of licensed rights",
        (Dialect(("Work.contracts", "LicensedRight.territoryCountryCodes")),),
        "licensed rights are listed without their territories",
    ),
    Feature("imprint", "Imprint", (Dialect(("Work.imprint",)),), 'panels show "Imprint: not available"'),
    Feature("season", "Season", (Dialect(("Work.season",)),), 'panels show "Season: not available"'),
    Feature(
        "marketing_tier",
        "Marketing tier",
        (Dialect(("Work.marketingTier",)),),
        'panels show "Marketing tier: not available"',
    ),
    Feature("series", "Series", (Dialect(("SeriesMembership.seriesName",)),), 'panels show "Series: not available"'),
    Feature(
        "contributor_order",
        "Contributor order",
        (Dialect(("Contribution.sequenceNumber",)),),
        "contributors are listed in the order Consonance returns them",
    ),
    Feature(
        "subject_schemes",
        "Subject code schemes (BISAC, BIC, Thema)",
        (Dialect(("SubjectCode.scheme",)),),
        "subject codes are read without their scheme; checks that need a scheme cannot pass",
    ),
    Feature(
        "long_descriptions",
        "Long descriptions",
        (Dialect(("MarketingTextVariant.DESCRIPTION",)),),
        "only short descriptions are read",
    ),
)
FEATURE_KEYS = tuple(f.key for f in FEATURES)

# Facts a title panel shows, and the feature that must be on for Consonance to tell them.
FACTS = (
    ("Stage", "stage"),
    ("Imprint", "imprint"),
    ("Season", "season"),
    ("Marketing tier", "marketing_tier"),
    ("Series", "series"),
    ("Contracts", "contracts"),
    ("Subject schemes", "subject_schemes"),
)

# Operations sent only where a feature (or, for `CatalogueSize`, a coordinate) is there; the rest are always
# sent, built with their optional parts for the server (`# needs:` lines).
OPERATION_GATES = {
    "AddWorkNote": "notes",
    "AddWorkNoteAsContent": "notes",
    "WorkNotes": "notes",
    "WorkNotesAsContent": "notes",
    "ChangeWorkStage": "stage_changes",
    "WorkTasks": "tasks",
    "CreateWorkTask": "tasks",
    "CompleteWorkTask": "tasks",
    "ReopenWorkTask": "tasks",
    "WorkTodos": "tasks",
    "CreateWorkTodo": "tasks",
    "CompleteWorkTodo": "tasks",
    "ReopenWorkTodo": "tasks",
    "WorkWebLinks": "web_links",
    "UpdateWorkWebLinks": "web_links",
    "ProjectStages": "stage_list",
    "CatalogueSize": "Query.worksCount",
    "TitlesByWorkIds": "WorkSearch.idIn",
    "RightsByWorkIds": "WorkSearch.idIn",
}

PAGINATION_WORDS = {
    "page": "in pages (`page` and `perPage`) and counts them (`worksCount`)",
    "page_without_count": "in pages (`page` and `perPage`), read until a short page",
    "cursor": "by a cursor (`first` and `after`, in id order)",
    "offset": "by `limit` and `offset`",
    "none": "without pagination (the whole list comes in one answer)",
}


@dataclass(frozen=True)
class FeatureStatus:
    key: str
    label: str
    available: bool
    decided_by: str  # the field or operation that decides it, in words
    without: str
    kind: str

    @property
    def reason(self) -> str:
        """Why it is off, as a button or the decision log says it."""
        return f"your Consonance does not accept {self.decided_by}" if self.kind == "write" else self.decided_by


@dataclass(frozen=True)
class CapabilityProfile:
    """The coordinates one Consonance has, how it was found out, and when."""

    present: frozenset[str]
    source: str = "assumed"  # introspection | probing | assumed (before the first check)
    checked_at: str | None = None
    host: str | None = None
    note: str | None = None  # e.g. why probing could not tell

    @classmethod
    def assumed(cls) -> CapabilityProfile:
        """What the app was written for (the sandbox's full schema): used until the first check."""
        alternatives = {
            "Work.todos",
            "Mutation.createWorkTodo",
            "Mutation.completeWorkTodo",
            "Mutation.reopenWorkTodo",
            "CreateWorkTodoInput.externalRef",
            "Mutation.addWorkNote",
            "AddWorkNoteInput.externalRef",
            "Query.works(limit)",
            "Query.works(offset)",
            "Query.works(first)",
            "Query.works(after)",
        }
        return cls(frozenset(COORDINATES) - alternatives)

    # --- derived --------------------------------------------------------------------------------

    @property
    def pagination(self) -> str:
        has = self.present
        if {"Query.works(page)", "Query.works(perPage)"} <= has:
            return "page" if "Query.worksCount" in has else "page_without_count"
        if {"Query.works(first)", "Query.works(after)"} <= has:
            return "cursor"
        if {"Query.works(limit)", "Query.works(offset)"} <= has:
            return "offset"
        return "none"

    # A profile never changes (a new one is made when a check finds something else), so what is derived from
    # it is worked out once: every Consonance request and every first view asks.

    @cached_property
    def has(self) -> frozenset[str]:
        """Coordinates plus derived capabilities (`paging:<style>`), as operation files name them."""
        style = self.pagination
        paging = "page" if style == "page_without_count" else style
        return self.present | {f"paging:{paging}"}

    @cached_property
    def _dialects(self) -> dict[str, Dialect | None]:
        """Each feature's first spelling this server has (None: it has none)."""
        return {f.key: next((d for d in f.dialects if set(d.needs) <= self.present), None) for f in FEATURES}

    def _dialect(self, feature: Feature) -> Dialect | None:
        return self._dialects[feature.key]

    @cached_property
    def _statuses(self) -> dict[str, FeatureStatus]:
        return {f.key: self._status(f) for f in FEATURES}

    def feature(self, key: str) -> FeatureStatus:
        return self._statuses[key]

    def _status(self, feature: Feature) -> FeatureStatus:
        key = feature.key
        dialect = self._dialect(feature)
        if dialect is not None:
            decided = _and(WORDS.get(n, n) for n in dialect.needs)
            return FeatureStatus(key, feature.label, True, decided, feature.without, feature.kind)
        first = feature.dialects[0]
        missing = [n for n in first.needs if n not in self.present] or list(first.needs)
        # Where a whole mutation is missing, its input's fields need no mention of their own.
        lacking_mutations = {n.split(".", 1)[1].lower() for n in missing if n.startswith("Mutation.")}
        missing = [n for n in missing if n.split(".")[0].lower().removesuffix("input") not in lacking_mutations]
        decided = _and(WORDS.get(n, n) for n in missing)
        return FeatureStatus(key, feature.label, False, decided, feature.without, feature.kind)

    def supports(self, key: str) -> bool:
        return self.feature(key).available

    def features(self) -> list[FeatureStatus]:
        return [self.feature(f.key) for f in FEATURES]

    def operation(self, name: str) -> str:
        """The operation file to send for `name` on this server (another spelling of the same feature)."""
        for feature in FEATURES:
            dialect = self._dialect(feature)
            if dialect and name in dialect.operations:
                return dialect.operations[name]
        return name

    def sends(self, operation: str) -> bool:
        """Whether the app ever sends this operation file to this server."""
        gate = OPERATION_GATES.get(operation)
        if gate is not None and not (gate in self.present if "." in gate else self.supports(gate)):
            return False
        alternatives = {alt: base for f in FEATURES for d in f.dialects for base, alt in d.operations.items()}
        base = alternatives.get(operation, operation)
        return self.operation(base) == operation

    def unknown_facts(self) -> frozenset[str]:
        return self._unknown_facts

    @cached_property
    def _unknown_facts(self) -> frozenset[str]:
        return frozenset(label for label, key in FACTS if not self.supports(key))

    def changes_from(self, before: CapabilityProfile | None) -> list[str]:
        """What turned on or off since `before`, in words (for the Activity page)."""
        if before is None:
            return []
        old = {s.key: s for s in before.features()}
        changes = []
        for status in self.features():
            was = old.get(status.key)
            if was is not None and was.available != status.available:
                state = "now available" if status.available else f"now off ({status.decided_by} is missing)"
                changes.append(f"{status.label}: {state}")
        if before.pagination != self.pagination:
            changes.append(
                f"Catalogue listing: now {PAGINATION_WORDS[self.pagination]} "
                f"(was {PAGINATION_WORDS[before.pagination]})"
            )
        return changes

    # --- storage --------------------------------------------------------------------------------

    def as_dict(self) -> dict:
        return {
            "present": sorted(self.present),
            "source": self.source,
            "checked_at": self.checked_at,
            "host": self.host,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> CapabilityProfile | None:
        if not data or not isinstance(data.get("present"), list):
            return None
        return cls(
            present=frozenset(str(p) for p in data["present"]),
            source=str(data.get("source") or "assumed"),
            checked_at=data.get("checked_at"),
            host=data.get("host"),
            note=data.get("note"),
        )


def _and(parts) -> str:
    """ "a", "a and b", "a, b and c"."""
    parts = list(parts)
    return ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] if parts else ""


def pagination_text(profile: CapabilityProfile) -> str:
    return PAGINATION_WORDS[profile.pagination]


# --- discovery ------------------------------------------------------------------------------------


class IntrospectionRefused(Exception):
    pass


# Without these (documented) roots the server is not a Consonance API at all, whatever else it has.
CORE = ("Query.work", "Query.works", "Query.product")


def discover(transport, host: str | None = None) -> CapabilityProfile:
    """Ask the server behind `transport` what it has: introspection, else probing by validation errors.

    Raises ConsonanceAuthError / ConsonanceUnavailable when the server cannot be asked at all.
    """
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    try:
        present = _from_introspection(transport)
        source, note = "introspection", None
    except IntrospectionRefused as exc:
        log.info("introspection refused (%s); probing", exc)
        present, note = _from_probes(transport)
        source = "probing"
    missing = [c for c in CORE if c not in present]
    if missing:
        raise ConsonanceQueryError(
            f"the server at {host} is not a Consonance API (it has no {', '.join(m.split('.')[1] for m in missing)})",
            operation="CapabilityProbe",
        )
    log.info("capabilities of %s: %d of %d found by %s", host, len(present), len(COORDINATES), source)
    return CapabilityProfile(frozenset(present), source=source, checked_at=now, host=host, note=note)


def _from_introspection(transport) -> set[str]:
    try:
        data = transport.execute(INTROSPECTION, {}, operation_name="CapabilityIntrospection")
    except (ConsonanceAuthError, ConsonanceUnavailable):
        raise
    except ConsonanceError as exc:
        raise IntrospectionRefused(str(exc)) from exc
    schema = (data or {}).get("__schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("types"), list):
        raise IntrospectionRefused("no schema in the answer")
    roots = {
        "Query": ((schema.get("queryType") or {}).get("name")) or "Query",
        "Mutation": ((schema.get("mutationType") or {}).get("name")) or "Mutation",
    }
    types = {t.get("name"): t for t in schema["types"] if isinstance(t, dict)}
    present = set()
    for coordinate in COORDINATES:
        if _in_schema(coordinate, types, roots):
            present.add(coordinate)
    return present


def _in_schema(coordinate: str, types: dict, roots: dict) -> bool:
    match = re.fullmatch(r"(\w+)\.(\w+)(?:\((\w+)\))?", coordinate)
    if not match:
        return False
    type_name, member, argument = match.groups()
    found = types.get(roots.get(type_name, type_name))
    if not found:
        return False
    for entry in found.get("fields") or ():
        if entry.get("name") == member:
            return argument is None or any(a.get("name") == argument for a in entry.get("args") or ())
    if argument is None:
        names = {e.get("name") for e in [*(found.get("inputFields") or ()), *(found.get("enumValues") or ())]}
        return member in names
    return False


def _from_probes(transport) -> tuple[set[str], str | None]:
    present, notes = set(), []
    for document, name in ((QUERY_PROBE, "query"), (MUTATION_PROBE, "mutation")):
        lines = _probe_lines(document)
        try:
            transport.execute(document, {}, operation_name="CapabilityProbe")
        except ConsonanceQueryError as exc:
            errors = exc.errors or []
        else:  # a server that ran a document naming a field it cannot have: trust nothing optional
            notes.append(f"the {name} probe was not refused, so nothing optional is assumed")
            continue
        refused_lines = {
            location.get("line")
            for error in errors
            if isinstance(error, dict)
            for location in (error.get("locations") or ())
            if isinstance(location, dict)
        }
        sentinel_line = next(n for n, (c, _above) in lines.items() if c == "sentinel")
        if 1 in refused_lines:
            continue  # the server refuses the operation as a whole (e.g. it takes no mutations)
        if sentinel_line not in refused_lines:
            # Errors that do not say where: nothing it covers can be confirmed (for the query probe, not even
            # that this is Consonance, which the caller then says).
            notes.append(f"the {name} probe's errors did not say where, so nothing optional it covers is assumed")
            continue
        for number, (coordinate, above) in sorted(lines.items()):
            if coordinate != "sentinel" and number not in refused_lines and not refused_lines & set(above):
                present.add(coordinate)
    return present, "; ".join(notes) or None
