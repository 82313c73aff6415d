"""A rate budget shared by every Lambda of a deployment, counted in the table.

HubSpot allows each portal `limit` calls per rolling `window` (110 per 10 s for an app), QBO each company
500 per minute. Five workers that each keep their own count would each believe they have the whole budget,
so the count lives where all of them see it.

Time is cut into `slots` buckets per window, and a call takes one unit of its bucket with a single
conditional `UpdateItem` (`ADD used`, refused once the bucket is full): no read, no lock, and nothing to
clean up (each bucket expires through the table's TTL). A rolling window overlaps at most `slots + 1`
buckets, so a bucket holds `limit // (slots + 1)` calls and no rolling window can ever exceed the limit;
with ten buckets that is 10/11, about 91 % of it, sustained.

- bucket: pk `RATE#{key}`, sk `SLOT#{bucket number}`; `used`, `expires_at`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from hubqbo.clients.throttle import PROVIDER_LIMITS, Bucket, Window

KEEP_SECONDS = 600  # a bucket is worthless once its window has passed; TTL removes it later


@dataclass(frozen=True)
class Budget:
    """At most `limit` calls in any `window` seconds, counted in `slots` buckets per window."""

    limit: int
    window: float
    slots: int = 10

    @property
    def per_slot(self) -> int:
        return max(1, self.limit // (self.slots + 1))

    @property
    def slot_seconds(self) -> float:
        return self.window / self.slots


class SharedRateBudget:
    """`take(key, budget)`: 0 when the call may go now, else the seconds until a unit frees up."""

    def __init__(self, table: Any, clock: Callable[[], float]) -> None:
        self._table = table
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def take(self, key: str, budget: Budget, at: float | None = None) -> float:
        now = self._clock() if at is None else at
        slot = math.floor(now / budget.slot_seconds)
        try:
            self._table.update_item(
                Key={"pk": f"RATE#{key}", "sk": f"SLOT#{slot}"},
                UpdateExpression="SET expires_at = :expires ADD used :one",
                ConditionExpression="attribute_not_exists(used) OR used < :per_slot",
                ExpressionAttributeValues={
                    ":one": 1,
                    ":per_slot": budget.per_slot,
                    ":expires": int(now) + KEEP_SECONDS,
                },
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return max((slot + 1) * budget.slot_seconds - now, 0.001)
        return 0.0

    def give_back(self, key: str, budget: Budget, at: float) -> None:
        """Return the unit `take` spent at `at` for a call that was not sent after all (another window of its
        bucket refused it), so the budget counts only the calls that reach the API."""
        slot = math.floor(at / budget.slot_seconds)
        self._table.update_item(
            Key={"pk": f"RATE#{key}", "sk": f"SLOT#{slot}"},
            UpdateExpression="ADD used :minus",
            ConditionExpression="used > :zero",
            ExpressionAttributeValues={":minus": -1, ":zero": 0},
        )

    def used(self, key: str, budget: Budget, at: float) -> int:
        """Units taken in the bucket that holds `at` (for tests and the dashboard)."""
        slot = math.floor(at / budget.slot_seconds)
        item = self._table.get_item(Key={"pk": f"RATE#{key}", "sk": f"SLOT#{slot}"}, ConsistentRead=True).get("Item")
        return int(item["used"]) if item else 0


class SharedBudgets:
    """The clients' `RateBudget` over the table: each of a bucket's windows (`clients.throttle.LIMITS`) is a
    `Budget` every process shares. Small limits get fewer buckets so that one call per bucket still fits."""

    def __init__(
        self, shared: SharedRateBudget, limits: Mapping[tuple[str, str], tuple[Window, ...]] = PROVIDER_LIMITS
    ) -> None:
        self._shared = shared
        self._budgets = {
            key: tuple(Budget(w.calls, w.seconds, slots=max(1, min(10, w.calls - 1))) for w in windows)
            for key, windows in limits.items()
        }

    def take(self, bucket: Bucket) -> float:
        """One unit of every window, or none: a window that refuses gives back what the others took."""
        taken: list[tuple[str, Budget, float]] = []
        for n, budget in enumerate(self._budgets.get((bucket.provider, bucket.kind), ())):
            key = f"{bucket.provider}:{bucket.kind}:{bucket.scope}:{n}"
            at = self._shared.now()
            wait = self._shared.take(key, budget, at=at)
            if wait > 0:
                for earlier in taken:
                    self._shared.give_back(*earlier)
                return wait
            taken.append((key, budget, at))
        return 0.0
