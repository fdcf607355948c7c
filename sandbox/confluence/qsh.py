"""Connect query-string hash, written independently of the app's so each checks the other.

Canonical request: `METHOD&path&query` (path relative to a base path, `&` as `%26`; query
without `jwt`, keys sorted, RFC 3986 encoding, repeated values sorted and joined by `,`).
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote

CONTEXT_QSH = "context-qsh"


def _encode(text: str) -> str:
    return quote(text, safe="~")


def canonical_request(method: str, path: str, query: str | list[tuple[str, str]] = "", base_path: str = "") -> str:
    """The string whose SHA-256 is the qsh; `path` is taken relative to `base_path`."""
    base = base_path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :]
    path = path.replace("&", "%26")
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    pairs = parse_qsl(query, keep_blank_values=True) if isinstance(query, str) else list(query)
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        if key == "jwt":
            continue
        grouped.setdefault(_encode(key), []).append(_encode(value))
    canonical_query = "&".join(f"{key}={','.join(sorted(values))}" for key, values in sorted(grouped.items()))
    return f"{method.upper()}&{path}&{canonical_query}"


def query_string_hash(method: str, path: str, query: str | list[tuple[str, str]] = "", base_path: str = "") -> str:
    return hashlib.sha256(canonical_request(method, path, query, base_path).encode()).hexdigest()
