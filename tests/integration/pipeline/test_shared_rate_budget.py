"""The rate budget that every worker shares, against moto: no rolling window ever exceeds the limit, five
concurrent workers together use over 90 % of it, and portals do not share a budget.

The bound is exact: each call is one conditional UpdateItem, which DynamoDB checks and applies atomically.
moto 5 does not (it reads the condition, then writes), so under load two threads could both take a
bucket's last unit (112 > 110 once; 150 with a tiny thread switch interval). The `deployed` fixture makes
moto's item operations atomic (`infra/local/dynamodb_atomic.py`), as the table in AWS is; the bound stays.
"""

from __future__ import annotations

import threading
from bisect import bisect_left

import boto3

from hubqbo.store.rate_budget import Budget, SharedRateBudget
from tests.support.deployment import REGION

HUBSPOT = Budget(limit=110, window=10)


class SteppedClock:
    """Shared by the workers: the test moves it; every worker reads the same time."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _budget(deployed, clock) -> SharedRateBudget:
    return SharedRateBudget(boto3.resource("dynamodb", region_name=REGION).Table(deployed.physical("AppTable")), clock)


def _max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    return max((bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


def test_five_concurrent_workers_never_exceed_the_portals_limit_and_use_over_90_percent_of_it(deployed):
    clock = SteppedClock()
    budget = _budget(deployed, clock)
    start, granted, lock = clock.now, [], threading.Lock()

    def worker() -> None:
        while budget.take("hubspot:1", HUBSPOT) == 0:  # each worker wants more than the budget allows
            with lock:
                granted.append(clock.now)

    for _ in range(120):  # 30 seconds in steps of 0.25 s, five workers racing in each step
        threads = [threading.Thread(target=worker) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        clock.now += 0.25

    assert _max_in_any_window(granted, HUBSPOT.window) <= HUBSPOT.limit
    used = len(granted) / (HUBSPOT.limit * 30 / HUBSPOT.window)
    assert used >= 0.9, f"{used:.0%} of the limit"
    assert clock.now - start >= 30


def test_a_spent_budget_says_how_long_to_wait_for_the_next_bucket(deployed):
    clock = SteppedClock()
    clock.now = 1_800_000_000.25
    budget = _budget(deployed, clock)
    taken = [budget.take("hubspot:1", HUBSPOT) for _ in range(HUBSPOT.per_slot)]
    assert taken == [0.0] * HUBSPOT.per_slot
    wait = budget.take("hubspot:1", HUBSPOT)
    assert 0 < wait <= HUBSPOT.slot_seconds and abs(wait - 0.75) < 1e-6
    assert budget.used("hubspot:1", HUBSPOT, clock.now) == HUBSPOT.per_slot  # the refusal took nothing
    clock.now += wait
    assert budget.take("hubspot:1", HUBSPOT) == 0.0


def test_one_portals_spent_budget_does_not_slow_another_portal(deployed):
    clock = SteppedClock()
    budget = _budget(deployed, clock)
    while budget.take("hubspot:1", HUBSPOT) == 0:
        pass
    assert budget.take("hubspot:2", HUBSPOT) == 0.0


def test_the_clients_budget_keeps_qbo_under_both_of_its_windows(deployed):
    from hubqbo.clients.throttle import Bucket
    from hubqbo.store.rate_budget import SharedBudgets

    clock = SteppedClock()
    budgets = SharedBudgets(_budget(deployed, clock))
    granted = []
    for _ in range(600):  # a minute in tenths of a second, asking 3 times per step
        for _ in range(3):
            if budgets.take(Bucket("qbo", "9130")) == 0:
                granted.append(clock.now)
        clock.now += 0.1
    assert _max_in_any_window(granted, 1.0) <= 10
    assert _max_in_any_window(granted, 60.0) <= 500
    assert len(granted) >= 0.8 * 500


def test_a_call_one_window_refuses_is_not_charged_to_the_other(deployed):
    from hubqbo.clients.throttle import Bucket, Window
    from hubqbo.store.rate_budget import SharedBudgets

    clock = SteppedClock()  # at the start of a 20-second bucket
    shared = _budget(deployed, clock)
    # QBO's shape, small: a short window (1 call per second's bucket) asked before a long one (1 per 20 s)
    budgets = SharedBudgets(shared, {("qbo", "api"): (Window(2, 1.0), Window(4, 60.0))})
    start, granted = clock.now, 0
    for _ in range(20):  # twenty seconds, asking five times a second
        for _ in range(5):
            granted += budgets.take(Bucket("qbo", "r2")) == 0
        clock.now += 1.0
    assert granted == 1
    per_second = Budget(2, 1.0, slots=1)
    used = [shared.used("qbo:api:r2:0", per_second, start + k) for k in range(20)]
    assert used == [1] + [0] * 19  # each refusal of the long window gave its short-window unit back
