"""ISBN-13 arithmetic for generated and edited products (the sandbox keeps its own: it never imports addon/)."""

from __future__ import annotations


def check_digit13(first12: str) -> str:
    total = sum(map(int, first12[0::2])) + 3 * sum(map(int, first12[1::2]))
    return str((10 - total % 10) % 10)


def is_valid_isbn13(digits: str) -> bool:
    return (
        len(digits) == 13
        and digits.isdigit()
        and digits[:3] in ("978", "979")
        and check_digit13(digits[:12]) == digits[12]
    )


def normalise_isbn(raw: str | None) -> str | None:
    """Digits only ("978-1-..." -> "9781..."); None when nothing digit-like remains (e.g. "No ISBN")."""
    if raw and raw.isdigit():
        return raw
    digits = "".join(ch for ch in (raw or "") if ch.isdigit())
    return digits or None


def isbn10_from_13(digits: str) -> str | None:
    """ISBN-10 exists only for 978- ISBNs."""
    if not digits.startswith("978") or len(digits) != 13:
        return None
    core = digits[3:12]
    total = sum(int(d) * (10 - i) for i, d in enumerate(core))
    check = (11 - total % 11) % 11
    return core + ("X" if check == 10 else str(check))


def hyphenate(digits: str, registrant_length: int = 4) -> str:
    """Hyphenate as 978-1-RRRR-PPPP-C (English-language group 1); registrant length is approximate."""
    group = digits[3]
    registrant = digits[4 : 4 + registrant_length]
    publication = digits[4 + registrant_length : 12]
    return f"{digits[:3]}-{group}-{registrant}-{publication}-{digits[12]}"
