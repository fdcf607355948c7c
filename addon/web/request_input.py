"""Hostile input is a 4xx with a clear message, on every route, by one mechanism each:

- bodies: one size limit for every route (`MAX_CONTENT_LENGTH`, Flask's own check: 413);
- JSON: the app's JSON provider refuses nesting deeper than `JSON_MAX_DEPTH` before parsing (400), so
  every `request.get_json` is safe, `silent=True` or not (a deep document would otherwise raise
  RecursionError, which `silent` does not catch: a 500);
- ids in paths: the `int` converter is bounded to the database's integer range, so a 23-digit id is a
  404 rather than an OverflowError at the database;
- HTTP errors answer JSON (`{"error", "message"}`) to everything but a browser asking for a page.
"""

from __future__ import annotations

import re

from flask import Flask, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

DB_INTEGER_MAX = 2**31 - 1  # PostgreSQL `integer`, the type of every id column (migrations/)
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(rb"[\[\]{}]")


class TooDeep(BadRequest):
    description = "The JSON is nested too deeply."


def json_depth_exceeds(data: bytes | str, limit: int) -> bool:
    """True when the document's arrays and objects nest deeper than `limit` (strings do not count)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False  # cannot nest deeper than it has openers: the common case costs two C-level counts
    depth = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b'""', raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents nested deeper than the app's `JSON_MAX_DEPTH`."""

    def loads(self, s, **kwargs):
        if json_depth_exceeds(s, self._app.config["JSON_MAX_DEPTH"]):
            raise TooDeep()
        try:
            return super().loads(s, **kwargs)
        except RecursionError:  # belt and braces: never a 500 for a document's shape
            raise TooDeep() from None


class DatabaseIntConverter(IntegerConverter):
    """`<int:id>` that matches only ids the database can hold (0 .. 2**31-1); anything longer is a 404."""

    def __init__(self, map, fixed_digits=0, min=0, max=DB_INTEGER_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class NotAnObject(BadRequest):
    description = "Send a JSON object."


def json_object() -> dict:
    """The request's JSON body as an object: {} when there is none, 400 when it is JSON of another shape."""
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise NotAnObject()
    return body


MESSAGES = {
    400: "The request could not be read.",
    404: "There is nothing at this address.",
    405: "This address does not take that method.",
    413: "The request is too large.",
    415: "Send JSON.",
}


def _error_code(exc: HTTPException) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")


def init_app(app: Flask) -> None:
    app.config.setdefault("JSON_MAX_DEPTH", 32)
    app.json = BoundedJSONProvider(app)
    app.url_map.converters["int"] = DatabaseIntConverter

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        wants_page = request.method == "GET" and request.accept_mimetypes.accept_html and not request.is_json
        if wants_page or exc.code is None or exc.code < 400:
            return exc
        message: str | None
        if isinstance(exc, (TooDeep, NotAnObject)):
            message = exc.description
        else:
            message = MESSAGES.get(exc.code) or exc.description
        if exc.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            message = f"The request is too large (the limit is {limit} bytes)." if limit else MESSAGES[413]
        response = jsonify(error=_error_code(exc), message=message)
        response.status_code = exc.code
        return response
