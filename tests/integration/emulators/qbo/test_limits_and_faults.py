"""Throttling (500/min, 10 concurrent, 40 batch/min per realm) and injected faults, in QBO's shapes."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from infra.local.emulators import demo_accounts

US = demo_accounts.REALM_US.realm_id


def is_throttled(response: requests.Response) -> bool:
    if response.status_code != 429:
        return False
    error = response.json()["fault"]["error"][0]
    return error["code"] == "3001" and "ThrottleExceeded" in error["message"]


def test_500_requests_per_minute_per_realm_then_429_until_the_minute_passes(us, uk, admin):
    statuses = [us.get(f"/customer/{n % 3 + 1}").status_code for n in range(500)]
    assert set(statuses) == {200}
    assert is_throttled(us.get("/customer/1"))
    assert uk.get("/customer/1").status_code == 200  # the limit is per realm
    admin.advance(60)
    assert us.get("/customer/1").status_code == 200


def test_40_batch_requests_per_minute(us, admin):
    batch = {"BatchItemRequest": [{"bId": "1", "Query": "SELECT * FROM Term"}]}
    assert all(us.post("/batch", batch).status_code == 200 for _ in range(40))
    assert is_throttled(us.post("/batch", batch))
    assert us.get("/customer/1").status_code == 200  # other calls still go through
    admin.advance(60)
    assert us.post("/batch", batch).status_code == 200


def test_more_than_10_concurrent_requests_per_realm_get_429(us, admin):
    admin.post("/faults", {"path": "/customer/1$", "kind": "timeout", "count": 10, "delay_seconds": 2.0})
    with ThreadPoolExecutor(max_workers=10) as pool:
        slow = [
            pool.submit(requests.get, f"{us.root}/customer/1", headers=us.session.headers, timeout=10)
            for _ in range(10)
        ]
        deadline = time.monotonic() + 2
        while admin.get("/qbo/rate-limits")["in_flight"].get(US, 0) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert is_throttled(requests.get(f"{us.root}/customer/2", headers=us.session.headers, timeout=10))
        assert all(f.result().status_code == 504 for f in slow)
    assert us.get("/customer/2").status_code == 200


def test_limits_can_be_lowered_or_switched_off(us, admin):
    admin.post("/qbo/rate-limits", {"per_minute": 3})
    assert [us.get("/customer/1").status_code for _ in range(4)] == [200, 200, 200, 429]
    admin.post("/qbo/rate-limits", {"enabled": False})
    assert us.get("/customer/1").status_code == 200
    assert admin.get("/qbo/rate-limits")["enabled"] is False


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503)])
def test_injected_server_errors_use_the_fault_shape(us, admin, kind, status):
    admin.post("/faults", {"path": "/invoice/1$", "kind": kind})
    failed = us.get("/invoice/1")
    assert failed.status_code == status
    assert failed.json()["Fault"]["type"] == "SystemFault"
    assert us.get("/invoice/1").status_code == 200  # one-shot


def test_injected_429_uses_the_gateway_throttle_shape(us, admin):
    admin.post("/faults", {"path": "/query", "kind": "429"})
    assert is_throttled(us.query("SELECT * FROM Customer"))


def test_injected_timeout_outlasts_the_client_read_timeout(us, admin):
    admin.post("/faults", {"path": "/invoice/1$", "kind": "timeout", "delay_seconds": 1.0})
    with pytest.raises(requests.Timeout):
        us.session.get(f"{us.root}/invoice/1", timeout=0.3)


def test_an_injected_slow_answer_is_the_usual_answer_only_late(us, admin):
    admin.post("/faults", {"path": "/invoice/1$", "kind": "slow", "delay_seconds": 1.0})
    with pytest.raises(requests.Timeout):  # late: a client that waits less gives up
        us.session.get(f"{us.root}/invoice/1", timeout=0.3)
    admin.post("/faults", {"path": "/invoice/1$", "kind": "slow", "delay_seconds": 0.5})
    late = us.get("/invoice/1")
    assert late.status_code == 200 and late.json()["Invoice"]["Id"] == "1"


def test_injected_malformed_body_is_not_json(us, admin):
    admin.post("/faults", {"path": "/invoice/1$", "kind": "malformed"})
    with pytest.raises(ValueError):
        us.get("/invoice/1").json()


def test_calls_are_counted_per_endpoint(us, admin):
    requests.delete(f"{admin.base}/_emulator/calls", timeout=10)
    us.get("/customer/1")
    us.query("SELECT * FROM Customer")
    calls = admin.get("/calls")["calls"]
    assert calls["GET api_read"] == 1 and calls["POST api_query"] == 1
