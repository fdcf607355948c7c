"""Exceptions for everything that can go wrong talking to Consonance, in words a caller can act on.

Flows and macros catch these (never requests' or graphql's own) to decide: retry later, show
"as of" data, tell an admin the key is wrong, or show a user which field was refused.
"""

from __future__ import annotations


class ConsonanceError(Exception):
    """Base class: any failure reading from or writing to Consonance."""


class ConsonanceUnavailable(ConsonanceError):
    """Consonance could not be reached or kept failing (network, timeout, 5xx, 429) within the retry bound.

    Transient: the same call may work later.
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        elapsed: float = 0.0,
        status: int | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.attempts = attempts
        self.elapsed = elapsed
        self.status = status
        self.retry_after = retry_after


class ConsonanceAuthError(ConsonanceError):
    """The API key was refused (HTTP 401/403): a tenant configuration problem, not transient."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status


class ConsonanceQueryError(ConsonanceError):
    """Consonance answered with GraphQL errors (or an unexpected 4xx): the operation itself is wrong."""

    def __init__(self, message: str, *, operation: str | None = None, errors: list | None = None):
        super().__init__(message)
        self.operation = operation
        self.errors = errors or []


class ConsonanceNotFound(ConsonanceQueryError):
    """The work, product or task named in a call does not exist in Consonance."""


class ConsonanceValidationError(ConsonanceError):
    """A mutation's payload came back with `errors { field messages }`: Consonance refused the values."""

    def __init__(self, operation: str, field_errors: dict[str, list[str]]):
        self.operation = operation
        self.field_errors = field_errors
        detail = "; ".join(f"{field}: {', '.join(messages) or 'invalid'}" for field, messages in field_errors.items())
        super().__init__(f"Consonance refused {operation}: {detail}")

    @property
    def fields(self) -> list[str]:
        return list(self.field_errors)


class FeatureUnavailable(ConsonanceError):
    """This tenant's Consonance lacks what a feature needs; nothing was sent, and retrying cannot help."""

    def __init__(self, feature: str, reason: str):
        super().__init__(reason)
        self.feature = feature
        self.reason = reason
        self.not_sent_reason = reason  # the outbox settles such a write instead of retrying it


# What an admin is told about a host that failed, without repeating anything the host said.
KEY_REFUSED = "key_refused"
TIMED_OUT = "timed_out"
UNREACHABLE = "unreachable"
NOT_CONSONANCE = "not_consonance"


def failure_kind(exc: BaseException) -> str:
    """Classify a failed call: the key refused, timed out, unreachable, or an answer that is not Consonance's API."""
    if isinstance(exc, ConsonanceAuthError):
        return KEY_REFUSED
    if isinstance(exc, ConsonanceUnavailable):
        if exc.status is None:
            return TIMED_OUT if "timeout" in str(exc) else UNREACHABLE
        return UNREACHABLE if exc.status >= 500 or exc.status == 429 else NOT_CONSONANCE
    return NOT_CONSONANCE
