"""Format words, labels and status meanings shared by rules, readiness and playbooks."""

from __future__ import annotations

from addon.publishing.domain import FormatKind, PublishingStatus
from addon.publishing.formats import format_label, is_cancelled, is_published, kinds_for_word, live_formats, scope_of
from tests.publishing.factories import make_format


def test_format_words():
    assert kinds_for_word("Print") == {FormatKind.HARDBACK, FormatKind.PAPERBACK}
    assert kinds_for_word(" e-book ") == {FormatKind.EBOOK}
    assert kinds_for_word("Audiobooks") == {FormatKind.AUDIOBOOK}
    assert kinds_for_word("all") == set(FormatKind)
    assert kinds_for_word("Hardbak") is None


def test_scope_and_labels():
    assert scope_of(FormatKind.PAPERBACK) == "print" and scope_of(FormatKind.OTHER) is None
    assert format_label(make_format()) == "Hardback 9781402894626"
    assert format_label(make_format(FormatKind.EBOOK, isbn13=None)) == "Ebook (no ISBN)"


def test_status_meanings():
    active, forthcoming, cancelled = (make_format(publishing_status=PublishingStatus(c)) for c in ("04", "02", "01"))
    assert is_published(active) and not is_published(forthcoming) and not is_published(make_format(status=None))
    assert is_cancelled(cancelled) and live_formats([active, cancelled]) == (active,)
