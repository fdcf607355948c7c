"""What the v1 and v2 REST blueprints share: the caller's authentication (Forge bearer tokens
the emulator issued, or Connect JWTs with a real qsh), cursor pagination and error bodies.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

from flask import current_app, g, jsonify, request

from . import tokens
from .emulator import USER_TOKEN_SECONDS
from .store import StoreError


def emulator():
    return current_app.extensions["confluence_emulator"]


def v2_error(status: int, message: str, code: str | None = None):
    codes = {
        400: "INVALID_REQUEST_PARAMETER",
        401: "UNAUTHORIZED",
        403: "FORBIDDEN",
        404: "NOT_FOUND",
        409: "CONFLICT",
        413: "REQUEST_ENTITY_TOO_LARGE",
    }
    body = {
        "errors": [{"status": status, "code": code or codes.get(status, "ERROR"), "title": message, "detail": None}]
    }
    return jsonify(body), status


def v1_error(status: int, message: str):
    body = {
        "statusCode": status,
        "message": message,
        "data": {"authorized": status not in (401, 403), "valid": status != 400, "errors": [], "successful": False},
    }
    return jsonify(body), status


def authenticate():
    """Identify the caller or answer 401, the way Confluence does for apps."""
    emu = emulator()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        grant = emu.store.oauth_tokens.get(header[7:].strip())
        expired = grant and grant["kind"] == "user" and time.time() - grant["issued"] > USER_TOKEN_SECONDS
        if grant and emu.store.forge and not expired:
            g.auth = {"kind": f"forge-{grant['kind']}", "principal": grant.get("principal")}
            return None
        return "Unauthorized; invalid or expired bearer token"
    token = header[4:].strip() if header.startswith("JWT ") else request.args.get("jwt")
    if token:

        def secret_for(claims):
            inst = emu.store.connect
            audience = claims.get("aud")
            audience = audience if isinstance(audience, list) else [audience]
            if inst and claims.get("iss") == inst.key and inst.client_key in audience:
                return inst, inst.shared_secret
            return None

        try:
            _, claims = tokens.verify_connect_request(
                token,
                secret_for=secret_for,
                method=request.method,
                path=request.path,
                query=request.query_string.decode(),
                base_path="/wiki",
            )
        except tokens.ConnectTokenError as exc:
            return f"Unauthorized; {exc}"
        g.auth = {"kind": "connect", "principal": claims.get("sub")}
        return None
    if not emu.config["AUTH_REQUIRED"]:
        g.auth = {"kind": "anonymous", "principal": None}
        return None
    return "Unauthorized; scope does not match"


def author_id() -> str:
    auth = getattr(g, "auth", None) or {}
    return auth.get("principal") or emulator().config["DEFAULT_ACCOUNT_ID"]


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return max(0, int(json.loads(base64.urlsafe_b64decode(padded))["o"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(400, "Invalid cursor") from exc


def page_limit(default: int = 25, maximum: int = 250) -> int:
    raw = request.args.get("limit")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise StoreError(400, "limit must be an integer") from exc
    if value < 1 or value > maximum:
        raise StoreError(400, f"limit must be between 1 and {maximum}")
    return value


def cursor_page(items: list, render, default_limit: int = 25, maximum: int = 250):
    """A v2 MultiEntityResult with `_links.next` and a `Link: <...>; rel="next"` header."""
    limit = page_limit(default_limit, maximum)
    offset = decode_cursor(request.args.get("cursor"))
    chunk = items[offset : offset + limit]
    body = {"results": [render(item) for item in chunk], "_links": {"base": emulator().wiki_url}}
    headers = {}
    if offset + limit < len(items):
        params = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
        params.append(("cursor", encode_cursor(offset + limit)))
        next_url = f"{request.path}?{urlencode(params)}"
        body["_links"]["next"] = next_url
        headers["Link"] = f'<{next_url}>; rel="next", <{emulator().wiki_url}>; rel="base"'
    response = jsonify(body)
    response.headers.update(headers)
    return response


def json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, (dict, list)):
        raise StoreError(400, "The request body must be JSON")
    return data


def id_list(name: str) -> list[str]:
    values = []
    for raw in request.args.getlist(name):
        values.extend(v.strip() for v in raw.split(",") if v.strip())
    return values
