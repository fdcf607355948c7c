"""The one backoff rule for retries against Consonance, Confluence and the outbox: exponential,
capped, and partly random so many clients that failed together do not retry together."""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delay(
    retry: int,
    *,
    base: float,
    cap: float,
    jitter: float = 0.5,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry number `retry` (0 for the first): `base`·2^retry, at most `cap`,
    of which the top `jitter` fraction is random ("equal jitter" at 0.5: never near zero, never in step)."""
    ceiling = min(cap, base * (2 ** max(retry, 0)))
    return ceiling * (1 - jitter) + ceiling * jitter * rand()
