"""Words people use for formats (print, digital, audio), labels for them, and what a status code means.

Rules, readiness and playbooks all scope things "to print" or "to audio"; this is the one place
that turns those words into format kinds, so every feature agrees on what "print" covers.
"""

from __future__ import annotations

from collections.abc import Iterable

from .domain import Format, FormatKind

PRINT = "print"
DIGITAL = "digital"
AUDIO = "audio"
ALL = "all"

SCOPE_KINDS: dict[str, frozenset[FormatKind]] = {
    PRINT: frozenset({FormatKind.HARDBACK, FormatKind.PAPERBACK}),
    DIGITAL: frozenset({FormatKind.EBOOK}),
    AUDIO: frozenset({FormatKind.AUDIOBOOK}),
    ALL: frozenset(FormatKind),
}

# Every word (lower case) an editor might write for a format or a family of formats.
_FORMAT_WORDS: dict[str, frozenset[FormatKind]] = {
    "all": SCOPE_KINDS[ALL],
    "all formats": SCOPE_KINDS[ALL],
    "any": SCOPE_KINDS[ALL],
    "every format": SCOPE_KINDS[ALL],
    "print": SCOPE_KINDS[PRINT],
    "printed": SCOPE_KINDS[PRINT],
    "physical": SCOPE_KINDS[PRINT],
    "print books": SCOPE_KINDS[PRINT],
    "book": SCOPE_KINDS[PRINT],
    "books": SCOPE_KINDS[PRINT],
    "hardback": frozenset({FormatKind.HARDBACK}),
    "hardbacks": frozenset({FormatKind.HARDBACK}),
    "hardcover": frozenset({FormatKind.HARDBACK}),
    "hb": frozenset({FormatKind.HARDBACK}),
    "paperback": frozenset({FormatKind.PAPERBACK}),
    "paperbacks": frozenset({FormatKind.PAPERBACK}),
    "softback": frozenset({FormatKind.PAPERBACK}),
    "softcover": frozenset({FormatKind.PAPERBACK}),
    "pb": frozenset({FormatKind.PAPERBACK}),
    "trade paperback": frozenset({FormatKind.PAPERBACK}),
    "digital": SCOPE_KINDS[DIGITAL],
    "ebook": SCOPE_KINDS[DIGITAL],
    "ebooks": SCOPE_KINDS[DIGITAL],
    "e-book": SCOPE_KINDS[DIGITAL],
    "e-books": SCOPE_KINDS[DIGITAL],
    "epub": SCOPE_KINDS[DIGITAL],
    "electronic": SCOPE_KINDS[DIGITAL],
    "audio": SCOPE_KINDS[AUDIO],
    "audiobook": SCOPE_KINDS[AUDIO],
    "audiobooks": SCOPE_KINDS[AUDIO],
    "audio book": SCOPE_KINDS[AUDIO],
    "audio download": SCOPE_KINDS[AUDIO],
    "other": frozenset({FormatKind.OTHER}),
}

_KIND_LABELS = {
    FormatKind.HARDBACK: "Hardback",
    FormatKind.PAPERBACK: "Paperback",
    FormatKind.EBOOK: "Ebook",
    FormatKind.AUDIOBOOK: "Audiobook",
    FormatKind.OTHER: "Other format",
}

# ONIX publishing status codes (list 64) meaning the product has been published (on sale or after).
PUBLISHED_STATUS_CODES = frozenset({"04", "06", "07", "08", "10", "11", "12", "13", "15", "16", "17"})
ON_SALE_CODES = frozenset({"04"})  # Active: on sale now
CANCELLED_STATUS_CODES = frozenset({"01", "03", "05"})  # cancelled, postponed indefinitely, no longer ours


def kinds_for_word(word: str) -> frozenset[FormatKind] | None:
    """The format kinds a word like "Print", "e-book" or "Audiobooks" means, or None if it is not a format word."""
    key = " ".join(word.strip().lower().replace("_", " ").split())
    return _FORMAT_WORDS.get(key)


def scope_of(kind: FormatKind) -> str | None:
    """The playbook section (print, digital, audio) a format kind belongs to; None for other formats."""
    for scope in (PRINT, DIGITAL, AUDIO):
        if kind in SCOPE_KINDS[scope]:
            return scope
    return None


def kind_label(kind: FormatKind) -> str:
    return _KIND_LABELS.get(kind, str(kind.value).title())


def format_label(fmt: Format) -> str:
    """How a format is named to people: "Hardback 9781402894626", or "Ebook (no ISBN)"."""
    name = kind_label(fmt.kind)
    return f"{name} {fmt.isbn13}" if fmt.isbn13 else f"{name} (no ISBN)"


def status_code(fmt: Format) -> str | None:
    return (fmt.publishing_status.code if fmt.publishing_status else None) or None


def is_published(fmt: Format) -> bool:
    """True when the product's ONIX publishing status says it has been published."""
    return status_code(fmt) in PUBLISHED_STATUS_CODES


def is_cancelled(fmt: Format) -> bool:
    """Cancelled or indefinitely postponed products are left out of readiness and risk."""
    return status_code(fmt) in CANCELLED_STATUS_CODES


def live_formats(formats: Iterable[Format]) -> tuple[Format, ...]:
    """The formats that are still going to be (or have been) published."""
    return tuple(f for f in formats if not is_cancelled(f))
