"""The clients' rate budget: sliding windows per portal or realm, and what a client does when it is spent."""

from __future__ import annotations

import pytest
import requests

from hubqbo.clients.errors import RateLimited, Unavailable
from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.clients.qbo import QboClient
from hubqbo.clients.throttle import Bucket, SlidingWindowBudget, Window
from hubqbo.clients.tokens import StaticTokens


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_grants_its_calls_then_says_how_long_until_the_oldest_leaves_it():
    clock = Clock()
    budget = SlidingWindowBudget({("hubspot", "api"): (Window(2, 10.0),)}, clock)
    portal = Bucket("hubspot", "1")
    assert budget.take(portal) == 0.0
    clock.now += 4
    assert budget.take(portal) == 0.0
    assert budget.take(portal) == pytest.approx(6.0)
    assert budget.take(Bucket("hubspot", "2")) == 0.0  # another portal has its own budget
    clock.now += 6
    assert budget.take(portal) == 0.0


def test_a_refused_call_spends_nothing_in_any_window():
    clock = Clock()
    budget = SlidingWindowBudget({("qbo", "api"): (Window(1, 1.0), Window(3, 60.0))}, clock)
    realm = Bucket("qbo", "r1")
    for _ in range(3):
        assert budget.take(realm) == 0.0
        assert budget.take(realm) > 0  # the per-second window is full, the minute not yet
        clock.now += 1
    assert budget.take(realm) == pytest.approx(57.0)  # now the minute is


def test_search_has_its_own_bucket_beside_the_burst_limit():
    clock = Clock()
    budget = SlidingWindowBudget(
        {("hubspot", "api"): (Window(1, 10.0),), ("hubspot", "search"): (Window(1, 1.0),)}, clock
    )
    assert budget.take(Bucket("hubspot", "1", "search")) == 0.0
    assert budget.take(Bucket("hubspot", "1")) == 0.0
    assert budget.take(Bucket("hubspot", "1", "search")) > 0


class Spent:
    """A budget with nothing left for `seconds`, then room again."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.asked = seconds, []

    def take(self, bucket: Bucket) -> float:
        self.asked.append(bucket)
        wait, self.seconds = self.seconds, 0.0
        return wait


def _unreachable() -> str:
    return "http://127.0.0.1:9"  # nothing listens: a call that gets through fails as Unavailable


def test_a_worker_client_raises_rate_limited_instead_of_sleeping_when_the_budget_is_spent():
    slept: list[float] = []
    budget = Spent(8.0)
    client = HubSpotClient(
        requests.Session(),
        _unreachable(),
        StaticTokens("t", "hubspot"),
        budget=budget,
        budget_scope="42",
        max_rate_limit_wait=0.0,
        sleep=slept.append,
    )
    with pytest.raises(RateLimited) as raised:
        client.crm_search("products", {})
    assert raised.value.retry_after == 8.0
    assert slept == []
    assert client.calls == 0  # nothing was sent
    assert budget.asked == [Bucket("hubspot", "42", "search")]


def test_a_client_that_may_wait_sleeps_for_the_budget_then_sends():
    slept: list[float] = []
    client = QboClient(
        requests.Session(),
        _unreachable(),
        StaticTokens("t", "qbo"),
        "r9",
        budget=Spent(2.0),
        max_rate_limit_wait=5.0,
        attempts=1,
        sleep=slept.append,
    )
    with pytest.raises(Unavailable):
        client.company_info()
    assert slept == [2.0]
    assert client.calls == 1
