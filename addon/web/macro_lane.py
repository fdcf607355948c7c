"""The macro lane: macro views answered before Flask.

Most requests an installed app gets are editors opening pages. Those spend much of their time in Flask's
request machinery rather than in our code, so this WSGI middleware answers them directly, with the same
checks and the same answer: Connect iframes (`GET /connect/macro/<key>`) are verified by
`auth.verify_connect_request` and answered by `macros.answers.cached_connect_page` (a view this process has
built) or else `connect_page` (a first view), with the route's headers; Forge resolver calls
(`POST /forge/macro/<key>`) by `auth.verify_forge_request` and `cached_forge_payload` or `forge_payload`.
Anything else (no or bad token, Refresh, a body it does not read, an error) goes to the full pipeline
untouched, which answers it, refuses it or logs it as before: the lane only ever answers what the route
would, and a first view checks its token once, not once here and again in the route.

Whichever path answers, a first view's write to the shared cache waits until the server has taken the answer
(`macros.cache.writes_after_answer`, run by `AnsweredThen`): the editor does not wait for it. Views take turns at
the interpreter (`addon/turns.py`), so under a burst none waits behind a stream of later ones; a first view gives its
turn back before it asks Consonance.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from urllib.parse import parse_qsl

from flask import current_app

from addon import logs, metrics, turns
from addon.admin import access
from addon.macros import answers
from addon.macros.cache import writes_after_answer
from addon.macros.views import MACRO_KEYS
from addon.platform import forge_callers, invalidation
from addon.platform.auth import raw_path_of, token_from_header, verify_connect_request, verify_forge_request
from addon.platform.errors import AuthError
from addon.turns import Turns
from addon.web.request_input import json_depth_exceeds
from addon.web.response_headers import common_headers

log = logging.getLogger("addon.web.macro_lane")

CONNECT_PREFIX, FORGE_PREFIX = "/connect/macro/", "/forge/macro/"
# the routes' rules and endpoints, so a view is timed and logged alike whichever path answers it
CONNECT_ROUTE, FORGE_ROUTE = CONNECT_PREFIX + "<macro_key>", FORGE_PREFIX + "<macro_key>"
MAX_FORGE_BODY = 64 * 1024  # resolver calls carry a small JSON body; anything larger goes to the route
ARGUMENTS = ("title", "pageId", "jwt")


def query_arguments(query_string: str, names: tuple[str, ...] = ARGUMENTS) -> dict[str, str]:
    """The first value of each of `names`, decoded exactly as `request.args` decodes them."""
    pairs: Iterable[tuple[str, str]]
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
        self.interpreter_turns = Turns()

    def __call__(self, environ, start_response):
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO") or ""
        if method == "GET" and path.startswith(CONNECT_PREFIX) and path[len(CONNECT_PREFIX) :] in MACRO_KEYS:
            lane = (CONNECT_ROUTE, "connect.macro", self._connect_page, path[len(CONNECT_PREFIX) :])
        elif method == "POST" and path.startswith(FORGE_PREFIX) and path[len(FORGE_PREFIX) :] in MACRO_KEYS:
            lane = (FORGE_ROUTE, "forge_remote.macro", self._forge_payload, path[len(FORGE_PREFIX) :])
        else:
            return self.wsgi_app(environ, start_response)
        with writes_after_answer() as write_cache:  # a first view's cache write waits for its answer to go
            try:
                answer = self._answer_in_turn(environ, lane)
                if answer is None:
                    metrics.count_lane("deferred")
                    write_cache()  # the route looks again: it must find what was fetched here, and no lock held
                    body = self.wsgi_app(environ, start_response)
                else:
                    start_response("200 OK", answer[0])
                    body = [answer[1]]
            except BaseException:
                write_cache()  # no answer is coming: nothing is left held
                raise
        return AnsweredThen(body, write_cache) if write_cache else body

    def _answer_in_turn(self, environ, lane: tuple) -> tuple[list, bytes] | None:
        """`_answer`, holding one of the process's turns (addon/turns.py) unless the view gives it back earlier to
        ask Consonance (`turns.give_back_held`). Only while the process trusts its own copies (its bus is
        listening, or there is no Redis): otherwise views read through to Redis, and a Redis that does not answer
        would hold every turn through its timeouts."""
        bus = invalidation.bus(self.app)
        if bus is not None and not bus.healthy:
            return self._answer(environ, *lane)
        with turns.holding(self.interpreter_turns):
            return self._answer(environ, *lane)

    def _answer(self, environ, route: str, endpoint: str, build, macro_key: str) -> tuple[list, bytes] | None:
        """(headers, body) of the memoised answer, or None to let the route answer."""
        started = time.perf_counter()
        request_id = environ.get("HTTP_X_B3_TRACEID") or logs.new_request_id()
        logs.begin(request_id=request_id, route=endpoint)
        try:
            with self.app.app_context():
                found = build(environ, macro_key)
            if found is not None:  # timed here, while the log context still names the view (a slow one is logged)
                metrics.count_lane(found[3])
                metrics.observe_request(route, environ["REQUEST_METHOD"], 200, time.perf_counter() - started)
        except (AuthError, UnicodeError):
            return None  # the route refuses it, with its message and log line
        except Exception:
            log.warning("macro lane deferred %s after an error", macro_key, exc_info=True)
            return None
        finally:
            logs.clear()
        if found is None:
            return None
        content_type, text, extra_headers, _ = found
        body = text.encode("utf-8")
        headers = [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *extra_headers,
            *common_headers(request_id),
        ]
        return headers, body

    @staticmethod
    def _connect_page(environ, macro_key: str):
        query_string = (environ.get("QUERY_STRING") or "").encode("latin-1").decode()  # as werkzeug: strict UTF-8
        args = query_arguments(query_string)
        token = token_from_header(environ.get("HTTP_AUTHORIZATION") or "", "JWT") or args.get("jwt")
        verified, tenant = verify_connect_request(
            token,
            method="GET",
            path=raw_path_of(environ),
            attach=False,
            query_string=query_string,
            allow_context_qsh=True,
        )
        logs.bind(tenant=tenant.log_name)
        request = answers.connect_request(
            tenant,
            macro_key,
            args,
            account_id=verified.account_id,
            admin_check=access.admin_check(tenant, user_token=None, account_id=verified.account_id),
        )
        page, outcome = answers.cached_connect_page(request, verified.account_id, args), "served"
        if page is None:  # a first view: built here, as the route builds it, without checking the token again
            turns.give_back_held()  # it waits on Consonance: others take their turns meanwhile
            script_root = (environ.get("SCRIPT_NAME") or "").encode("latin-1").decode().rstrip("/")  # as werkzeug's
            page, outcome = answers.connect_page(request, verified.account_id, args, script_root), "built"
        return "text/html; charset=utf-8", page, answers.frame_headers(tenant.site_url), outcome

    @staticmethod
    def _forge_payload(environ, macro_key: str):
        body = buffered_body(
            environ, min(MAX_FORGE_BODY, current_app.config.get("MAX_CONTENT_LENGTH") or MAX_FORGE_BODY)
        )
        if body is None or json_depth_exceeds(body, current_app.config["JSON_MAX_DEPTH"]):
            return None  # a large, unsized or too deeply nested body: the route's to answer or refuse
        if answers.refresh_requested(_json_or_none(body)):
            return None  # Refresh: the route's work
        token = token_from_header(environ.get("HTTP_AUTHORIZATION") or "", "Bearer")
        invocation, tenant = verify_forge_request(
            token, system_token=environ.get("HTTP_X_FORGE_OAUTH_SYSTEM"), attach=False
        )
        forge_callers.check(FORGE_ROUTE, invocation, {"macro_key": macro_key})  # a wrong caller: the route refuses
        logs.bind(tenant=tenant.log_name)
        user_token = environ.get("HTTP_X_FORGE_OAUTH_USER")
        request = answers.forge_request(
            tenant,
            invocation,
            macro_key,
            admin_check=access.admin_check(tenant, user_token=user_token, account_id=invocation.principal),
        )
        payload, outcome = answers.cached_forge_payload(request, invocation, user_token), "served"
        if payload is None:  # a first view: built here, as the route builds it, without checking the token again
            turns.give_back_held()  # it waits on Consonance: others take their turns meanwhile
            payload, outcome = answers.forge_payload(request, invocation, user_token), "built"
        return "application/json", payload, (), outcome


def buffered_body(environ, limit: int = MAX_FORGE_BODY) -> bytes | None:
    """The request body, read once and put back for the route; None (nothing read) when it has no
    declared length or is larger than `limit` (a resolver call's size, never above the app's body limit)."""
    length = environ.get("CONTENT_LENGTH") or ""
    if not length.isdigit() or int(length) > limit:
        return None
    body = environ["wsgi.input"].read(int(length)) if int(length) else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _json_or_none(body: bytes):
    try:
        return json.loads(body) if body else None
    except (ValueError, RecursionError):
        return None


class AnsweredThen:
    """An answer's body that, once the server has taken all of it (iterated to its end, or closed it), does
    what the view left for after its answer. Servers write each part before asking for the next, so the
    viewer has the answer by then; one that stops early still closes the body, and that runs it too."""

    def __init__(self, body: Iterable[bytes], then: Callable[[], None]):
        self._body = body
        self._parts: Iterator[bytes] = iter(body)
        self._then: Callable[[], None] | None = then

    def __iter__(self) -> AnsweredThen:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._parts)
        except StopIteration:
            self._finish()
            raise

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()

    def _finish(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()
