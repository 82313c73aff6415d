"""The API clients' rate budget: every request to HubSpot and QBO spends one call of its bucket first.

A bucket is `(provider, scope, kind)`: HubSpot's burst limit is per installing portal (110 calls per
10 s for a public app, CRM search apart at 5 per second), QBO's per realm (500 per minute and 10 per
second). We budget a little under each, so our own retries and a second process rarely meet a 429.

`RateBudget` is the one thing a client asks ("may I send one now? if not, how long until I may?"),
so a budget shared across processes (a DynamoDB counter per window) can replace the in-process
`SlidingWindowBudget` without touching the clients. A client that may wait (`max_rate_limit_wait`)
sleeps; the worker's clients may not, and raise `RateLimited` as for a 429.

Limits: https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines and
https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Bucket:
    provider: str  # "hubspot" | "qbo"
    scope: str  # the portal id or realm id whose budget it is
    kind: str = "api"  # "api", or "search" (HubSpot's CRM search has its own limit)


@dataclass(frozen=True)
class Window:
    calls: int
    seconds: float


# (provider, kind) -> the windows a bucket of that kind must fit, all of them
LIMITS: dict[tuple[str, str], tuple[Window, ...]] = {
    ("hubspot", "api"): (Window(100, 10.0),),  # public app: 110 / 10 s per portal
    ("hubspot", "search"): (Window(4, 1.0),),  # CRM search: 5 / s per portal
    ("qbo", "api"): (Window(9, 1.0), Window(450, 60.0)),  # 10 / s and 500 / min per realm
}
# The providers' own limits, for the budget shared through DynamoDB (`store.rate_budget`), which keeps
# every rolling window under them by construction.
PROVIDER_LIMITS: dict[tuple[str, str], tuple[Window, ...]] = {
    ("hubspot", "api"): (Window(110, 10.0),),
    ("hubspot", "search"): (Window(5, 1.0),),
    ("qbo", "api"): (Window(10, 1.0), Window(500, 60.0)),
}


class RateBudget(Protocol):
    def take(self, bucket: Bucket) -> float:
        """Spend one call when it fits now (answer 0.0); otherwise spend nothing and answer the
        seconds until one would fit."""
        ...


class SlidingWindowBudget:
    """A budget per bucket in this process (a warm Lambda keeps it across invocations)."""

    def __init__(
        self,
        limits: Mapping[tuple[str, str], tuple[Window, ...]] = LIMITS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits, self._clock = limits, clock
        self._sent: dict[tuple[Bucket, Window], deque[float]] = {}
        self._lock = threading.Lock()

    def take(self, bucket: Bucket) -> float:
        windows = self._limits.get((bucket.provider, bucket.kind), ())
        with self._lock:
            now = self._clock()
            wait = max((self._wait(bucket, w, now) for w in windows), default=0.0)
            if wait > 0:
                return wait
            for window in windows:
                self._sent[(bucket, window)].append(now)
            return 0.0

    def _wait(self, bucket: Bucket, window: Window, now: float) -> float:
        sent = self._sent.setdefault((bucket, window), deque())
        while sent and now - sent[0] >= window.seconds:
            sent.popleft()
        return 0.0 if len(sent) < window.calls else window.seconds - (now - sent[0])


class Unlimited:
    """No budget (a client built without one, e.g. in a unit test of the client alone)."""

    def take(self, bucket: Bucket) -> float:
        return 0.0
