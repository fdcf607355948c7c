"""Every failed Confluence call becomes one of these, carrying the HTTP status and the
message Confluence itself gave, so logs and the admin page say what actually went wrong."""

from __future__ import annotations


class ConfluenceError(Exception):
    """A call to Confluence failed. `status` is the HTTP status (None: no answer at all)."""

    def __init__(
        self,
        status: int | None,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        body: str | None = None,
        retry_after: float | None = None,
    ):
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        self.body = body
        self.retry_after = retry_after
        where = f" ({method} {url})" if method and url else ""
        super().__init__(f"Confluence answered {status if status is not None else 'nothing'}: {message}{where}")


class ConfluenceConflict(ConfluenceError):
    """409: someone else changed the content first (version not current+1) or it already exists."""


class ConfluenceRateLimited(ConfluenceError):
    """429 that outlasted our waiting budget; `retry_after` says when Confluence will listen again."""


class ConfluenceNotFound(ConfluenceError):
    """404: missing, or invisible to the token we used (Confluence does not distinguish)."""


class ConfluenceAuthError(ConfluenceError):
    """401/403: the token is wrong, expired, or lacks the scope/permission."""


class ConfluenceUnavailable(ConfluenceError):
    """5xx after our retries, or no HTTP answer at all (connection error, timeout)."""


class ConfluenceBadResponse(ConfluenceError):
    """Confluence answered 2xx with something we cannot read (not JSON, missing fields)."""


def error_class_for(status: int | None) -> type[ConfluenceError]:
    if status is None or status >= 500:
        return ConfluenceUnavailable
    return {
        409: ConfluenceConflict,
        429: ConfluenceRateLimited,
        404: ConfluenceNotFound,
        401: ConfluenceAuthError,
        403: ConfluenceAuthError,
    }.get(status, ConfluenceError)


def message_from_body(payload: object, fallback: str) -> str:
    """Confluence's own words: v1 `{"message": ...}`, v2 `{"errors": [{"title", "detail"}]}`."""
    if isinstance(payload, dict):
        if isinstance(payload.get("message"), str) and payload["message"]:
            return payload["message"]
        errors = payload.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for item in errors:
                if isinstance(item, dict):
                    text = " - ".join(str(item[k]) for k in ("title", "detail") if item.get(k))
                    parts.append(text or str(item.get("code", "")))
                else:
                    parts.append(str(item))
            joined = "; ".join(p for p in parts if p)
            if joined:
                return joined
        data = payload.get("data")
        if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0]
            if isinstance(first, dict):
                msg = first.get("message")
                if isinstance(msg, dict):
                    msg = msg.get("translation") or msg.get("key")
                if msg:
                    return str(msg)
    return fallback
