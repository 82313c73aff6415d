"""The emulators' chaos controls, on a QBO emulator of its own: faults with a probability (seeded,
counted by kind), an answer lost after the write, and webhooks lost before they are sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.qbo import QboEmulator

REALM = demo_accounts.REALM_US.realm_id


@pytest.fixture
def qbo() -> Iterator[tuple[QboEmulator, str]]:
    emulator = QboEmulator(seed_data=True)
    base = emulator.start()
    try:
        yield emulator, base
    finally:
        emulator.stop()


def _token(base: str) -> str:
    reply = requests.post(base + "/_emulator/qbo/oauth/tokens", json={"realm_id": REALM}, timeout=10)
    return reply.json()["access_token"]


def test_a_fault_with_a_probability_fails_about_that_share_of_the_calls_and_is_counted(qbo):
    _, base = qbo
    requests.post(base + "/_emulator/qbo/rate-limits", json={"enabled": False}, timeout=10)
    spec = {"path": "/v3/company/", "kind": "503", "count": 1000, "probability": 0.2, "seed": 7}
    requests.post(base + "/_emulator/faults", json=spec, timeout=10).raise_for_status()
    headers = {"Authorization": f"Bearer {_token(base)}", "Accept": "application/json"}
    statuses = [
        requests.get(f"{base}/v3/company/{REALM}/customer/1", headers=headers, timeout=10).status_code
        for _ in range(200)
    ]
    failed = statuses.count(503)
    assert 20 <= failed <= 60 and statuses.count(200) == 200 - failed
    assert requests.get(base + "/_emulator/faults", timeout=10).json()["injected"] == {"503": failed}


def test_a_lost_answer_is_carried_out_although_the_client_sees_a_timeout(qbo):
    emulator, base = qbo
    spec = {"path": "/customer$", "kind": "lost_answer", "count": 1, "delay_seconds": 0.5}
    requests.post(base + "/_emulator/faults", json=spec, timeout=10).raise_for_status()
    headers = {"Authorization": f"Bearer {_token(base)}", "Accept": "application/json"}
    body = {"DisplayName": "Written anyway"}
    with pytest.raises(requests.Timeout):
        requests.post(f"{base}/v3/company/{REALM}/customer", json=body, headers=headers, timeout=0.2)
    with emulator.lock:
        assert [c for c in emulator.realms[REALM].all("Customer") if c["DisplayName"] == "Written anyway"]


def test_lost_webhooks_are_never_queued_and_are_listed(qbo):
    emulator, base = qbo
    config = {"url": "http://127.0.0.1:9/none", "lose_events": 1}
    requests.post(base + "/_emulator/qbo/webhooks", json=config, timeout=10).raise_for_status()
    for name in ("Lost one", "Sent one"):
        requests.post(f"{base}/_emulator/qbo/{REALM}/ui/customer", json={"DisplayName": name}, timeout=10)
    hooks = emulator.webhooks
    assert len(hooks.lost) == 1 and len(hooks.pending) == 1
    assert hooks.chaos["lost"] == 1
