"""Checks emulator traffic against Atlassian's OpenAPI documents (v2 for /wiki/api/v2, the v1
document for /wiki/rest/api), via openapi-core, on every request a test session sends.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.response.exceptions import DataValidationError, MissingData

SPECS = Path(__file__).resolve().parents[2] / "specs"  # tests/specs: Atlassian's documents, vendored


@functools.lru_cache(maxsize=2)
def _document(name: str) -> dict:
    document = json.loads((SPECS / name).read_text())
    _relax_ambiguous_body_unions(document)
    return document


def _relax_ambiguous_body_unions(node) -> None:
    """Atlassian's v2 document offers `oneOf: [PageBodyWrite, PageNestedBodyWrite]` for page
    bodies, but every body matches both (neither forbids extra keys), so `oneOf` rejects every
    valid request. Read it as the `anyOf` it was meant to be; nothing else is changed."""
    if isinstance(node, dict):
        options = node.get("oneOf")
        if options and all(isinstance(o, dict) and o.get("$ref", "").endswith(("BodyWrite",)) for o in options):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _relax_ambiguous_body_unions(value)
    elif isinstance(node, list):
        for value in node:
            _relax_ambiguous_body_unions(value)


class Contract:
    def __init__(self, base_url: str):
        v2 = copy.copy(_document("confluence-cloud-openapi-v2.json"))
        v2["servers"] = [{"url": base_url + "/wiki/api/v2"}]
        v1 = copy.copy(_document("confluence-cloud-openapi-v1-2021.json"))
        v1["servers"] = [{"url": base_url}]
        config = Config(spec_validator_cls=None)
        self.v2 = OpenAPI.from_dict(v2, config=config)
        self.v1 = OpenAPI.from_dict(v1, config=config)
        self.checked: list[tuple[str, str, int]] = []

    def document_for(self, path: str):
        if "/wiki/api/v2/" in path:
            return self.v2
        if "/wiki/rest/api/" in path:
            return self.v1
        return None

    def check(self, response: requests.Response, *, validate_request: bool = True) -> None:
        """Raise if the response (and the request that caused it) breaks the document.

        Statuses the document does not describe (401, 409, 429, 5xx mostly) are allowed
        when the body is Confluence's JSON error shape.
        """
        document = self.document_for(response.request.path_url)
        if document is None:
            return
        request = RequestsOpenAPIRequest(response.request)
        if validate_request and response.status_code < 400:
            document.validate_request(request)
        try:
            document.validate_response(request, RequestsOpenAPIResponse(response))
        except MissingData:
            # `content: {}` on a 204: the document promises no body, and none came
            assert response.status_code == 204 and not response.content
        except DataValidationError as exc:
            # an error status the document lists without a body schema: Confluence still sends JSON
            if not (isinstance(exc.__cause__, MediaTypeNotFound) and response.status_code >= 400):
                raise
            body = response.json()
            assert "errors" in body or "message" in body, body
        except ResponseNotFound:
            assert response.status_code >= 400, f"undocumented success status {response.status_code}"
            body = response.json()
            assert "errors" in body or "message" in body, body
        self.checked.append((response.request.method, response.request.path_url, response.status_code))


class CheckedSession(requests.Session):
    """A requests session that validates every exchange with the emulator's REST API."""

    def __init__(self, contract: Contract, auth_header: str | None = None):
        super().__init__()
        self.contract = contract
        if auth_header:
            self.headers["Authorization"] = auth_header

    def request(self, method, url, **kwargs):
        response = super().request(method, url, **kwargs)
        for hop in [*response.history, response]:
            self.contract.check(hop)
        return response
