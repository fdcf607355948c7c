"""Consonance sandbox: a GraphQL stand-in for Consonance with a seeded catalogue and fault injection.

`SCHEMA_PATH` is the SDL the gateway validates its operations against.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema.graphql")
