"""Validate the client's requests and the responses we rely on against Atlassian's OpenAPI documents.

v2 calls (`/wiki/api/v2/...`) go to the v2 document, whose server is `https://{site}/wiki/api/v2`;
v1 calls (`/wiki/rest/api/...`) to the 2021 v1 document, whose paths carry `/wiki/rest/api` in full.
Whatever prefix the client's site URL has (Forge's `/ex/confluence/{cloudId}`) is cut off first.
Spec self-validation is off: both published documents have enum/default slips openapi-core rejects.
Security requirements are dropped: the documents describe OAuth/basic, not Forge bearer or Connect JWT.
One defect is patched: a `oneOf` whose alternatives are object schemas with nothing required (v2's
`PageBodyWrite` | `PageNestedBodyWrite` page body) matches every object twice, so *no* body could ever
pass; such a `oneOf` is read as `anyOf`. Everything else is checked as published.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from urllib.parse import urlsplit

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPECS_DIR = Path(__file__).resolve().parents[1] / "specs"  # tests/specs: Atlassian's documents, vendored
V2_SPEC = SPECS_DIR / "confluence-cloud-openapi-v2.json"
V1_SPEC = SPECS_DIR / "confluence-cloud-openapi-v1-2021.json"
VALIDATION_HOST = "https://site.example"


@functools.cache
def _openapi(which: str) -> OpenAPI:
    path, server = (V2_SPEC, VALIDATION_HOST + "/wiki/api/v2") if which == "v2" else (V1_SPEC, VALIDATION_HOST)
    document = json.loads(path.read_text())
    document["servers"] = [{"url": server}]
    document.pop("security", None)
    _relax_ambiguous_one_of(document, document["components"]["schemas"])
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def _never_exclusive(alternative: dict, schemas: dict) -> bool:
    target = alternative
    if "$ref" in alternative:
        target = schemas.get(alternative["$ref"].rsplit("/", 1)[-1], {})
    return target.get("type") == "object" and not target.get("required") and "additionalProperties" not in target


def _relax_ambiguous_one_of(node, schemas: dict) -> None:
    if isinstance(node, dict):
        alternatives = node.get("oneOf")
        if (
            isinstance(alternatives, list)
            and len(alternatives) > 1
            and all(isinstance(a, dict) and _never_exclusive(a, schemas) for a in alternatives)
        ):
            node["anyOf"] = node.pop("oneOf")
        for value in node.values():
            _relax_ambiguous_one_of(value, schemas)
    elif isinstance(node, list):
        for value in node:
            _relax_ambiguous_one_of(value, schemas)


def _api_path(url: str) -> tuple[str, str]:
    """('v1'|'v2', url rewritten onto the validation host from `/wiki/...` on)."""
    parts = urlsplit(url)
    index = parts.path.find("/wiki/")
    if index < 0:
        raise AssertionError(f"not a Confluence REST URL: {url}")
    path = parts.path[index:]
    which = "v2" if path.startswith("/wiki/api/v2/") else "v1"
    return which, VALIDATION_HOST + path + (f"?{parts.query}" if parts.query else "")


class _Rehosted(RequestsOpenAPIRequest):
    def __init__(self, prepared: requests.PreparedRequest, url: str):
        copy = prepared.copy()
        copy.url = url
        super().__init__(copy)


def validate_request(prepared: requests.PreparedRequest) -> str:
    """Raise if the request breaks the matching document; return which document was used."""
    which, url = _api_path(prepared.url)
    _openapi(which).validate_request(_Rehosted(prepared, url))
    return which


def validate_response(prepared: requests.PreparedRequest, response: requests.Response) -> str:
    which, url = _api_path(prepared.url)
    _openapi(which).validate_response(_Rehosted(prepared, url), RequestsOpenAPIResponse(response))
    return which


def validate_calls(calls, *, responses_too: bool = True) -> list[str]:
    """Check every call recorded by the `responses` library; documented statuses only for responses."""
    used = []
    for call in calls:
        used.append(validate_request(call.request))
        response = call.response
        if (
            responses_too
            and isinstance(response, requests.Response)
            and response.status_code < 400
            and response.content
        ):  # 204s have no body to check
            validate_response(call.request, response)
    return used
