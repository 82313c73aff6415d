"""Tokens stay alive: one refresh for many workers, 401 → refresh + retry, rotation, invalid_grant."""

import threading
import time
import uuid
from datetime import UTC, datetime

import pytest
import requests

from hubqbo import clock as product_clock
from hubqbo.clients.errors import ReconnectNeeded
from hubqbo.domain.changes import ChangeEvent
from hubqbo.messages import QboChangeMessage
from hubqbo.services import connections
from hubqbo.store.connections import TokenKey
from hubqbo.store.sync_log import SyncLogEntry
from infra.local.emulators import demo_accounts as demo

from .conftest import page_outcome

US, UK = demo.PORTAL_US, demo.PORTAL_UK


@pytest.fixture
def qbo_limits_off(flows):
    requests.post(flows.qbo + "/_emulator/qbo/rate-limits", json={"enabled": False}, timeout=10).raise_for_status()
    yield
    requests.post(flows.qbo + "/_emulator/qbo/rate-limits", json={"enabled": True}, timeout=10).raise_for_status()


def test_fifty_workers_with_an_expired_token_cause_exactly_one_refresh(flows, qbo_limits_off):
    realm = demo.REALM_US.realm_id
    flows.ready(UK, realm)
    key = TokenKey("qbo", UK, realm)
    version = flows.ports().tokens.get(key).version
    flows.set_token_fields(UK, realm, access_expires_at=time.time() - 60)
    before = flows.qbo_token_calls()
    start, names, errors = threading.Barrier(50), [], []

    def worker():
        try:
            ports = flows.ports()
            start.wait()
            names.append(connections.qbo_client(ports, UK, realm).company_info()["CompanyName"])
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert names == [demo.REALM_US.name] * 50
    assert flows.qbo_token_calls() - before == 1
    assert flows.ports().tokens.get(key).version == version + 1


def test_a_401_from_quickbooks_refreshes_once_and_retries(flows):
    realm = demo.REALM_US.realm_id
    flows.ready(US, realm)
    ports = flows.ports()
    client = connections.qbo_client(ports, US, realm)
    client.company_info()  # a valid token by our clock...
    # ...that Intuit's clock has expired: the local stack's one clock drives both, so ours is held back
    ours = product_clock.point_at(lambda: flows.stack.clock.timestamp() - 3700)
    flows.advance_qbo_clock(3700)
    try:
        before = flows.qbo_calls()
        client = connections.qbo_client(ports, US, realm)
        assert client.company_info()["CompanyName"] == demo.REALM_US.name
        after = flows.qbo_calls()
    finally:
        flows.advance_qbo_clock(-3700)
        product_clock.point_at(ours)
    assert after["POST oauth_token"] - before.get("POST oauth_token", 0) == 1
    assert after["GET api_read"] - before.get("GET api_read", 0) == 2  # the 401, then the retry
    assert client.calls == 2


def test_the_rotated_refresh_token_is_stored_before_use_and_the_old_one_dies_after_the_grace_period(flows):
    realm = demo.REALM_UK.realm_id
    flows.ready(UK, realm)
    key = TokenKey("qbo", UK, realm)
    ports = flows.ports()
    old = ports.tokens.get(key)
    flows.set_token_fields(UK, realm, access_expires_at=time.time() - 60)
    connections.qbo_client(ports, UK, realm).company_info()
    new = ports.tokens.get(key)
    assert new.version == old.version + 1
    assert new.tokens.refresh_token.get_secret_value() != old.tokens.refresh_token.get_secret_value()
    grace = 86_400 + 60
    flows.advance_qbo_clock(grace)
    try:
        refused = requests.post(
            flows.qbo + "/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": old.tokens.refresh_token.get_secret_value()},
            auth=(demo.QBO_CLIENT_ID, demo.QBO_CLIENT_SECRET),
            timeout=10,
        )
        assert refused.status_code == 400
        assert refused.json()["error"] == "invalid_grant"
        # we hold the newest token, so the connection carries on after the grace period
        assert connections.qbo_client(ports, UK, realm).company_info()["CompanyName"] == demo.REALM_UK.name
        assert flows.connection(UK, realm)["status"] == "active"
    finally:
        flows.advance_qbo_clock(-grace)


def test_invalid_grant_marks_reconnect_needed_without_looping_and_queued_work_waits_for_the_reconnect(flows):
    realm = demo.REALM_CUSTOM_NUMBERS.realm_id
    flows.ready(US, realm)
    ports = flows.ports()
    requests.post(flows.qbo + "/_emulator/qbo/oauth/invalidate", json={"realm_id": realm}, timeout=10)
    flows.set_token_fields(US, realm, access_expires_at=time.time() - 60)
    before = flows.qbo_token_calls()
    with pytest.raises(ReconnectNeeded):
        connections.qbo_client(ports, US, realm).company_info()
    with pytest.raises(ReconnectNeeded):  # paused: no second refresh attempt, no loop
        connections.qbo_client(ports, US, realm)
    assert flows.qbo_token_calls() - before == 1
    shown = flows.connection(US, realm)
    assert shown["status"] == "reconnect_needed"
    assert "invalid_grant" in shown["status_reason"]

    event_id = f"parked-{uuid.uuid4()}"
    change = ChangeEvent(
        event_id=event_id,
        realm_id=realm,
        entity="Invoice",
        entity_id="130",
        operation="Update",
        occurred_at=datetime.now(UTC),
    )
    connections.park_for_reconnect(ports, US, realm, QboChangeMessage(change=change, portal_id=US))
    assert len(ports.connections.parked(US, realm)) == 1

    page = flows.connect(US, realm)
    assert page_outcome(page.text) == "reconnected"
    assert "1 waiting change" in page.text
    assert flows.connection(US, realm)["status"] == "active"
    assert ports.connections.parked(US, realm) == []
    from hubqbo import wiring

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if any(e.event_id == event_id for e in wiring.sync_log().recent(SyncLogEntry.portal_scope(US))):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the parked change never reached the worker after the reconnect")
