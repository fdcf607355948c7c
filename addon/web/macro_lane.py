"""The macro lane: Connect macro iframes this process has already rendered, answered before Flask.

Most requests an installed app gets are editors opening pages, and most of those are repeat views of a
title whose panel is memoised. Those spend most of their time in Flask's request machinery rather than
in our code, so this WSGI middleware answers them directly, with the same checks and the same page:
the token is verified by `auth.verify_connect_request` (the decorator's own check), the page comes from
`connect.macro_page(memoised_only=True)` and the headers are the route's. Anything else (no or bad token,
a title not yet viewed, stale data, a message view, an error) goes to the full pipeline untouched, which
answers it, refuses it or logs it as before: the lane only ever answers what the route would.
"""
from __future__ import annotations

import logging
import time
from urllib.parse import parse_qsl

from addon import logs, metrics
from addon.macros.views import MACRO_KEYS
from addon.platform.auth import raw_path_of, token_from_header, verify_connect_request
from addon.platform.errors import AuthError
from addon.web.connect import frame_headers, macro_page

log = logging.getLogger("addon.web.macro_lane")

PREFIX = "/connect/macro/"
ROUTE = "/connect/macro/<macro_key>"   # the route's rule, so both paths feed one latency series
ARGUMENTS = ("title", "pageId", "jwt")


def query_arguments(query_string: str, names=ARGUMENTS) -> dict[str, str]:
    """The first value of each of `names`, decoded exactly as `request.args` decodes them."""
    if "%" in query_string or "+" in query_string:
        pairs = parse_qsl(query_string, keep_blank_values=True, errors="werkzeug.url_quote")
    else:
        pairs = (pair.partition("=")[::2] for pair in query_string.split("&") if pair)
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in names and name not in found:
            found[name] = value
    return found


class MacroLane:
    """WSGI middleware in front of `app.wsgi_app` (installed by `create_app` when MACRO_LANE is on)."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET":
            path = environ.get("PATH_INFO") or ""
            if path.startswith(PREFIX) and path[len(PREFIX):] in MACRO_KEYS:
                answer = self._memoised_page(environ, path[len(PREFIX):])
                if answer is not None:
                    start_response("200 OK", answer[0])
                    return [answer[1]]
                metrics.count_lane("deferred")
        return self.wsgi_app(environ, start_response)

    def _memoised_page(self, environ, macro_key: str) -> tuple[list, bytes] | None:
        started = time.perf_counter()
        request_id = environ.get("HTTP_X_B3_TRACEID") or logs.new_request_id()
        logs.begin(request_id=request_id, route="connect.macro")
        try:
            query_string = (environ.get("QUERY_STRING") or "").encode("latin-1").decode()  # as werkzeug: strict UTF-8
            args = query_arguments(query_string)
            token = token_from_header(environ.get("HTTP_AUTHORIZATION") or "", "JWT") or args.get("jwt")
            with self.app.app_context():
                verified, tenant = verify_connect_request(
                    token, method="GET", path=raw_path_of(environ), allow_context_qsh=True, attach=False,
                    query_string=query_string)
                logs.bind(tenant=tenant.log_name)
                page = macro_page(tenant, verified.account_id, macro_key, args, memoised_only=True)
                site_url = tenant.site_url
        except (AuthError, UnicodeError):
            return None   # the route refuses it, with its message and log line
        except Exception:
            log.warning("macro lane deferred %s after an error", macro_key, exc_info=True)
            return None
        finally:
            logs.clear()
        if page is None:
            return None
        body = page.encode("utf-8")
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))),
                   *frame_headers(site_url), ("X-Request-Id", request_id), ("X-Content-Type-Options", "nosniff")]
        metrics.count_lane("served")
        metrics.observe_request(ROUTE, "GET", 200, time.perf_counter() - started)
        return headers, body
