"""Connect query-string hash: the canonical request `METHOD&path&query` and its SHA-256.

Rules (Atlassian's "Understanding JWT for Connect apps", matching its reference implementation):
method upper-cased; path relative to the base URL's path, `&` written `%26`, leading `/`,
no trailing `/`, empty path `/`; query without `jwt`, keys sorted, keys and values
RFC 3986-encoded (`!'()*` too), repeated values sorted and joined with `,`.

Why not PyPI's `atlassian-jwt`: its canonical request sorts keys by their encoded form and values
by code point, so a non-ASCII key or an astral-plane value gives a qsh Atlassian's reference (npm
`atlassian-jwt`, JavaScript's UTF-16 order) rejects; it has no base path; and its `encode_token`
makes iss = aud = clientKey, not our outgoing claims. tests/platform/test_qsh.py proves this module
against the npm reference on those cases and more.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, quote, urlsplit

CONTEXT_QSH = "context-qsh"


def _rfc3986(value: str) -> str:
    # quote() with safe="" leaves exactly the RFC 3986 unreserved set: ALPHA DIGIT - . _ ~
    return quote(value, safe="", encoding="utf-8", errors="surrogatepass")


def _js_sort_key(value: str) -> bytes:
    """The reference sorts with JavaScript's default order: UTF-16 code units."""
    return value.encode("utf-16-be", errors="surrogatepass")


def canonical_path(path: str, base_path: str = "") -> str:
    base_path = base_path.rstrip("/")
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        path = path[len(base_path) :]
    if not path:
        return "/"
    path = path.replace("&", "%26")
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    return path


def canonical_query(query_string: str) -> str:
    """Canonical form of a raw (still encoded) query string."""
    grouped: dict[str, list[str]] = {}
    for key, value in parse_qsl(query_string, keep_blank_values=True, encoding="utf-8", errors="surrogateescape"):
        if key == "jwt":
            continue
        grouped.setdefault(key, []).append(value)
    parts = []
    for key in sorted(grouped, key=_js_sort_key):
        values = sorted(grouped[key], key=_js_sort_key)
        parts.append(_rfc3986(key) + "=" + ",".join(_rfc3986(v) for v in values))
    return "&".join(parts)


def canonical_request(method: str, path: str, query_string: str = "", base_path: str = "") -> str:
    return f"{method.upper()}&{canonical_path(path, base_path)}&{canonical_query(query_string)}"


def query_string_hash(method: str, path: str, query_string: str = "", base_path: str = "") -> str:
    canonical = canonical_request(method, path, query_string, base_path)
    return hashlib.sha256(canonical.encode("utf-8", errors="surrogatepass")).hexdigest()


def hash_url(method: str, url: str, base_url: str = "") -> str:
    """qsh of a full or relative URL, relative to the path of `base_url`."""
    parts = urlsplit(url)
    return query_string_hash(method, parts.path, parts.query, urlsplit(base_url).path if base_url else "")
