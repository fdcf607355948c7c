"""Fixtures: a shared read-only sandbox per module and a fresh one for tests that change state."""

from __future__ import annotations

import pytest
import requests

from sandbox.consonance.testing import running_sandbox

ANCHOR = "2026-11-01"


class GraphQLClient:
    """Posts GraphQL to a running sandbox with its key; `data()` asserts there were no GraphQL errors."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {sandbox.api_key}"

    def post(self, query: str, variables: dict | None = None, **kwargs) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.post(
            self.sandbox.graphql_url, json={"query": query, "variables": variables or {}}, **kwargs
        )

    def data(self, query: str, variables: dict | None = None) -> dict:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture(scope="module")
def shared_sandbox():
    with running_sandbox(SEED=7, SIZE=300, ANCHOR=ANCHOR) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def reader(shared_sandbox):
    return GraphQLClient(shared_sandbox)


@pytest.fixture
def fresh_sandbox():
    with running_sandbox(SEED=11, SIZE=40, ANCHOR=ANCHOR) as sandbox:
        yield sandbox


@pytest.fixture
def gql(fresh_sandbox):
    return GraphQLClient(fresh_sandbox)
