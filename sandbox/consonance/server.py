"""The Consonance sandbox as a Flask app: `POST /graphql` with Bearer-key auth, plus `/_sandbox/` controls.

Faults are applied after authentication and before execution; every request to /graphql is logged
with its operation name and variables. GraphQL runs under the catalogue lock, so requests and edits
never interleave (hangs and latency sleep outside it).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import date

from flask import Flask, current_app, g, jsonify, request
from graphql import GraphQLError, OperationDefinitionNode, execute, parse, specified_rules, validate
from graphql.validation import NoSchemaIntrospectionCustomRule
from werkzeug.exceptions import HTTPException

from . import profiles
from .catalogue import build_catalogue
from .faults import FaultBook, RequestLog
from .golden import build_golden
from .resolvers import executable_schema, field_resolver

log = logging.getLogger("sandbox.consonance.server")

DEFAULT_API_KEY = "sandbox-api-key"
DEFAULTS = {
    "SEED": 42,
    "SIZE": 500,
    "ANCHOR": None,
    "API_KEYS": [DEFAULT_API_KEY],
    "REQUEST_LOG_SIZE": 500,
    "PROFILE": "full",  # which server this pretends to be (profiles.py)
}
CATALOGUES = ("seeded", "golden")  # generated (SEED, SIZE) or the hand-written golden one (docs/golden-catalogue.md)
EXTENSION = "consonance_sandbox"


class Sandbox:
    """Everything one sandbox server holds: the catalogue (replaced on reset), faults, the request log."""

    def __init__(self, config: dict):
        self.api_keys = set(_as_list(config["API_KEYS"]))
        self.profile = profiles.check(config["PROFILE"])
        anchor = config["ANCHOR"]
        self.anchor = date.fromisoformat(anchor) if isinstance(anchor, str) else anchor
        self.faults = FaultBook()
        self.requests = RequestLog(config["REQUEST_LOG_SIZE"])
        self.kind = str(config.get("CATALOGUE") or os.environ.get("CONSONANCE_CATALOGUE") or "seeded").lower()
        if self.kind not in CATALOGUES:
            raise ValueError(f"CATALOGUE must be one of {', '.join(CATALOGUES)}, not {self.kind!r}")
        self.catalogue = self._build(int(config["SEED"]), int(config["SIZE"]))

    def _build(self, seed: int, size: int):
        if self.kind == "golden":
            return build_golden(self.anchor)
        return build_catalogue(seed, size, self.anchor)

    def reset(self, seed: int, size: int) -> None:
        catalogue = self._build(seed, size)
        with self.catalogue.lock:
            self.catalogue = catalogue
        self.faults.clear()
        self.requests.clear()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    app.extensions[EXTENSION] = Sandbox(app.config)
    app.add_url_rule("/graphql", "graphql", graphql_view, methods=["POST"])
    from .control import control

    app.register_blueprint(control)
    app.register_error_handler(HTTPException, _http_error)
    return app


def _http_error(error: HTTPException):
    """Errors from Flask itself (404, 405, 500) answer JSON like everything else here."""
    return jsonify(
        errors=[{"message": error.description, "extensions": {"code": error.name.upper().replace(" ", "_")}}]
    ), error.code


def sandbox() -> Sandbox:
    return current_app.extensions[EXTENSION]


def graphql_view():
    box, started = sandbox(), time.time()
    body = request.get_json(silent=True)
    operation = variables = None
    if isinstance(body, dict):
        operation, variables = body.get("operationName"), body.get("variables")
    response = current_app.make_response(_answer(box, body))
    operation = operation or g.get("operation_name")
    refused = bool(response.is_json and (response.get_json(silent=True) or {}).get("refused"))
    if refused:  # the marker is for the log only: the client sees a plain GraphQL error answer
        response.set_data(current_app.json.dumps({"errors": response.get_json()["errors"]}))
    box.requests.record(request.path, operation, variables, response.status_code, started, refused=refused)
    return response


def _answer(box: Sandbox, body):
    if not _authorised(box):
        log.info("rejected request without a valid API key")
        response = jsonify(
            errors=[{"message": "Invalid or missing API key", "extensions": {"code": "UNAUTHENTICATED"}}]
        )
        response.headers["WWW-Authenticate"] = "Bearer"
        return response, 401
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _status(400, "Body must be JSON with a 'query' string", "BAD_REQUEST")
    if not isinstance(body.get("variables"), (dict, type(None))):
        return _status(400, "'variables' must be a JSON object", "BAD_REQUEST")
    try:
        document = parse(body["query"])
    except GraphQLError as error:
        return jsonify(errors=[error.formatted])
    operation = body.get("operationName") or _first_operation_name(document)
    g.operation_name = operation
    verdict = box.faults.decide(request.path, operation)
    box.faults.wait(verdict.delay)
    if verdict.hang:
        box.faults.wait(verdict.hang)
        return _status(504, "Upstream timed out", "TIMEOUT")
    if verdict.status == 429:
        response = _status(429, "Rate limit exceeded; retry later", "RATE_LIMITED")
        response[0].headers["Retry-After"] = str(verdict.retry_after)
        return response
    if verdict.status:
        return _status(verdict.status, "Internal server error", "INTERNAL_SERVER_ERROR")
    return jsonify(_execute(box, document, body.get("variables"), body.get("operationName")))


def _execute(box: Sandbox, document, variables, operation_name) -> dict:
    schema = executable_schema(box.profile)
    rules = list(specified_rules)
    if not profiles.introspection_allowed(box.profile):
        rules.append(NoSchemaIntrospectionCustomRule)
    errors = validate(schema, document, rules)
    if errors:  # refused as a whole: nothing ran (the request log marks it)
        return {"errors": [error.formatted for error in errors], "refused": True}
    catalogue = box.catalogue
    with catalogue.lock:
        result = execute(
            schema,
            document,
            variable_values=variables,
            operation_name=operation_name,
            context_value={"catalogue": catalogue},
            field_resolver=field_resolver,
        )
    payload = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
        for error in result.errors:
            if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
                log.error("resolver failed", exc_info=error.original_error)
    return payload


def _authorised(box: Sandbox) -> bool:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and key.strip() in box.api_keys


def _first_operation_name(document) -> str | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            return definition.name.value if definition.name else None
    return None


def _status(status: int, message: str, code: str):
    return jsonify(errors=[{"message": message, "extensions": {"code": code}}]), status


def _as_list(value) -> list[str]:
    if isinstance(value, str):
        return [key.strip() for key in value.split(",") if key.strip()]
    return list(value)
