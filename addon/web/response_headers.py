"""Headers every response carries, whichever path answers it: the app's after-request hook
(`create_app`) and the macro lane (which answers before Flask) both send exactly these."""

from __future__ import annotations


def common_headers(request_id: str) -> tuple[tuple[str, str], ...]:
    return (("X-Request-Id", request_id), ("X-Content-Type-Options", "nosniff"))
