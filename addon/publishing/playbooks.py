"""Production playbook gates (F3), pure: which gates apply to which of a title's formats at its stage.

Each (title, gate) pair gets a stable `external_ref`, so creating its Consonance task is idempotent:
re-running after a playbook edit, a stage move or a crash finds the task already made instead of a twin.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .domain import Format, Stage, Title
from .formats import ALL, AUDIO, DIGITAL, PRINT, SCOPE_KINDS, format_label, live_formats
from .stages import has_reached

GATE_REF_PREFIX = "c4c-gate"
SCOPES = (PRINT, DIGITAL, AUDIO, ALL)
_MAX_REF = 200


@dataclass(frozen=True)
class PlaybookItem:
    """One checklist item from a playbook page; `stage`, when set, is the stage from which a gate applies."""

    scope: str
    text: str
    is_gate: bool = False
    gate_key: str | None = None
    stage: str | None = None

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ValueError(f"playbook scope must be one of {', '.join(SCOPES)}, not {self.scope!r}")

    @property
    def key(self) -> str:
        """The gate's key: the one the editor gave, else derived from section and text."""
        if self.gate_key and self.gate_key.strip():
            return _slug(self.gate_key)
        return f"{self.scope}-{_slug(self.text)}"


@dataclass(frozen=True)
class GateAssignment:
    """A gate that applies to a title: one Consonance task, covering the listed formats."""

    work_id: str
    gate_key: str
    text: str
    scopes: tuple[str, ...]
    product_ids: tuple[str, ...]
    format_labels: tuple[str, ...]
    external_ref: str

    @property
    def task_title(self) -> str:
        """The task's title in Consonance, e.g. "Approve print-ready PDF (Hardback, Paperback)"."""
        if not self.format_labels or ALL in self.scopes:
            return self.text
        kinds = ", ".join(dict.fromkeys(label.split(" ")[0] for label in self.format_labels))
        return f"{self.text} ({kinds})"


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > 48 or not slug:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        slug = f"{slug[:39].rstrip('-')}-{digest}".lstrip("-")
    return slug


def gate_external_ref(work_id: str, gate_key: str, namespace: str | None = None) -> str:
    """The idempotency key of the task for (title, gate): "c4c-gate:<namespace:>work:gate"."""
    parts = [GATE_REF_PREFIX, *([namespace] if namespace else []), work_id, gate_key]
    ref = ":".join(parts)
    if len(ref) > _MAX_REF:
        ref = f"{GATE_REF_PREFIX}:{work_id}:h{hashlib.sha256(ref.encode('utf-8')).hexdigest()[:24]}"
    return ref


def is_gate_ref(external_ref: str | None) -> bool:
    return external_ref is not None and external_ref.startswith(GATE_REF_PREFIX + ":")


@dataclass
class _MergedGate:
    """One gate key's playbook items merged: the first one's text, every scope, the formats covered."""

    text: str
    scopes: list[str] = field(default_factory=list)
    formats: dict[str, Format] = field(default_factory=dict)


def gates_for(
    title: Title,
    playbook_items: Iterable[PlaybookItem],
    stage: Stage | str | None = None,
    *,
    namespace: str | None = None,
) -> tuple[GateAssignment, ...]:
    """The gates that apply to a title at `stage` (default: its own), one per gate key, in playbook order.

    A print gate applies when the title has a print format, and so on; an "all" gate always applies.
    A gate with a stage applies once the title has reached that stage.
    """
    stage = stage if stage is not None else title.stage
    formats = live_formats(title.formats)
    merged: dict[str, _MergedGate] = {}
    for item in playbook_items:
        if not item.is_gate:
            continue
        if item.stage and not has_reached(stage, item.stage):
            continue
        covered = [f for f in formats if f.kind in SCOPE_KINDS[item.scope]]
        if item.scope != ALL and not covered:
            continue
        entry = merged.setdefault(item.key, _MergedGate(item.text))
        entry.scopes.append(item.scope)
        for fmt in covered:
            entry.formats.setdefault(fmt.product_id, fmt)
    return tuple(
        GateAssignment(
            work_id=title.work_id,
            gate_key=key,
            text=entry.text,
            scopes=tuple(dict.fromkeys(entry.scopes)),
            product_ids=tuple(entry.formats),
            format_labels=tuple(format_label(f) for f in entry.formats.values()),
            external_ref=gate_external_ref(title.work_id, key, namespace),
        )
        for key, entry in merged.items()
    )


_SCOPE_WORDS = {
    PRINT: {"print", "hardback", "hardbacks", "paperback", "paperbacks", "physical", "printed"},
    DIGITAL: {"digital", "ebook", "e-book", "ebooks", "e-books", "epub", "electronic"},
    AUDIO: {"audio", "audiobook", "audiobooks"},
    ALL: {"all", "general", "every", "common"},
}


def scope_for_heading(heading: str) -> str | None:
    """The playbook scope a section heading names ("Print", "Ebook requirements", "All formats"), or None."""
    for word in re.findall(r"[a-z]+(?:-[a-z]+)?", heading.lower()):
        for scope in (ALL, PRINT, DIGITAL, AUDIO):
            if word in _SCOPE_WORDS[scope]:
                return scope
    return None
