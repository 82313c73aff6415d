"""Disconnect and reconnect without duplicates, the keep-alive job, and no token in any log (uninstalling:
test_app_lifecycle.py)."""

import time

import requests

from hubqbo.services import connections
from hubqbo.store.connections import TokenKey
from infra.local.emulators import demo_accounts as demo

from .conftest import page_outcome

US, UK = demo.PORTAL_US, demo.PORTAL_UK
DAY = 86_400


def test_disconnect_revokes_at_intuit_stops_sync_and_keeps_the_connection_record(flows):
    realm = demo.REALM_MULTI.realm_id
    flows.ready(US, realm)
    ports = flows.ports()
    refresh = ports.tokens.get(TokenKey("qbo", US, realm)).tokens.refresh_token.get_secret_value()
    before = flows.qbo_calls().get("POST oauth_revoke", 0)
    response = flows.disconnect(US, realm)
    assert response.status_code == 200
    assert response.json()["status"] == "disconnected"
    assert flows.qbo_calls()["POST oauth_revoke"] - before == 1
    assert ports.tokens.get(TokenKey("qbo", US, realm)) is None
    shown = flows.connection(US, realm)
    assert shown["status"] == "disconnected"
    assert shown["refresh_token_expires_at"] is None
    revoked = requests.post(
        flows.qbo + "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": refresh},
        auth=(demo.QBO_CLIENT_ID, demo.QBO_CLIENT_SECRET),
        timeout=10,
    )
    assert revoked.json()["error"] == "invalid_grant"
    try:
        connections.qbo_client(ports, US, realm)
        raise AssertionError("a disconnected company must not sync")
    except connections.ReconnectNeeded:
        pass


def test_reconnecting_a_disconnected_company_resumes_the_same_connection(flows):
    realm = demo.REALM_MULTI.realm_id
    flows.ready(US, realm)
    connected_at = flows.connection(US, realm)["connected_at"]
    assert flows.disconnect(US, realm).status_code == 200
    page = flows.connect(US, realm)
    assert page_outcome(page.text) == "reconnected"
    same = [c for c in flows.connections(US) if c["realm_id"] == realm]
    assert len(same) == 1
    assert (same[0]["status"], same[0]["connected_at"], same[0]["status_reason"]) == ("active", connected_at, None)
    assert connections.qbo_client(flows.ports(), US, realm).company_info()["CompanyName"] == demo.REALM_MULTI.name


def test_disconnecting_a_company_that_is_not_connected_is_404_and_other_portals_are_untouched(flows):
    realm = demo.REALM_UK.realm_id
    flows.ready(UK, realm)
    assert flows.disconnect(US, "12345").status_code == 404
    unsigned = requests.post(f"{flows.gateway}/oauth/qbo/connections/{realm}/disconnect?portalId={UK}", timeout=10)
    assert unsigned.status_code == 401
    assert flows.connection(UK, realm)["status"] == "active"


def test_keep_alive_refreshes_connections_idle_for_over_30_days_and_records_the_hard_expiry(flows):
    realm = demo.REALM_UK.realm_id
    flows.ready(US, realm)
    key = TokenKey("qbo", US, realm)
    ports = flows.ports()
    version = ports.tokens.get(key).version
    flows.set_token_fields(US, realm, refreshed_at=time.time() - 31 * DAY)
    fired = requests.post(f"{flows.gateway}/_local/schedules/TokenKeepAlive", timeout=60).json()
    result = fired["result"]
    assert result["status"] == "done"
    assert result["detail"]["refreshed"] >= 1
    after = ports.tokens.get(key)
    assert after.version == version + 1
    assert after.tokens.refreshed_at > time.time() - 60
    assert after.tokens.hard_expires_at > time.time() + 4 * 365 * DAY
    stored = ports.connections.get_connection(US, realm)
    assert stored.last_refreshed_at == after.tokens.refreshed_at
    assert stored.hard_expiry_flag is None


def test_keep_alive_leaves_recently_used_connections_alone(flows):
    realm = demo.REALM_US.realm_id
    flows.ready(US, realm)
    key = TokenKey("qbo", US, realm)
    version = flows.ports().tokens.get(key).version
    requests.post(f"{flows.gateway}/_local/schedules/TokenKeepAlive", timeout=60).raise_for_status()
    assert flows.ports().tokens.get(key).version == version


def test_keep_alive_flags_connections_near_their_hard_expiry(flows):
    realm = demo.REALM_SANDBOX.realm_id
    flows.ready(US, realm)
    flows.set_token_fields(US, realm, hard_expires_at=time.time() + 10 * DAY)
    result = requests.post(f"{flows.gateway}/_local/schedules/TokenKeepAlive", timeout=60).json()["result"]
    assert result["detail"]["flagged_14_days"] >= 1
    assert result["detail"]["near_hard_expiry"] >= 1  # the figure the hard-expiry alarm watches
    assert flows.ports().connections.get_connection(US, realm).hard_expiry_flag == 14
    assert flows.connection(US, realm)["hard_expiry_flag_days"] == 14


def test_keep_alive_counts_connections_waiting_for_a_reconnect(flows):
    realm = demo.REALM_UK.realm_id
    flows.ready(UK, realm)
    flows.ports().connections.update_connection(UK, realm, status="reconnect_needed")
    try:
        result = requests.post(f"{flows.gateway}/_local/schedules/TokenKeepAlive", timeout=60).json()["result"]
        assert result["detail"]["awaiting_reconnect"] >= 1  # the figure the reconnect alarm watches
    finally:
        flows.ready(UK, realm)


def test_no_token_issued_by_the_emulators_appears_in_any_log(flows):
    """Runs a full life cycle (so it means something in any order), then scans every line logged so far."""
    flows.ready(US, demo.REALM_US.realm_id)
    flows.set_token_fields(US, demo.REALM_US.realm_id, access_expires_at=time.time() - 60)
    connections.qbo_client(flows.ports(), US, demo.REALM_US.realm_id).company_info()
    flows.ready(UK, demo.REALM_MULTI.realm_id)
    flows.disconnect(UK, demo.REALM_MULTI.realm_id)
    issued = set()
    qbo, hubspot = flows.stack.qbo, flows.stack.hubspot
    issued |= set(qbo.tokens.refresh_tokens) | set(qbo.tokens.access_tokens)
    issued |= set(hubspot.tokens.access) | set(hubspot.tokens.refresh)
    assert len(issued) >= 6  # HubSpot and QBO access and refresh tokens, original and rotated
    logged = "\n".join(flows.capture.lines)
    assert any("Token refreshed" in line for line in flows.capture.lines)  # our own logs are in the scan
    assert any("QuickBooks company disconnected" in line for line in flows.capture.lines)
    leaked = [token[:6] + "..." for token in issued if token in logged]
    assert leaked == []
