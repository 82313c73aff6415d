"""The settings extension's own code (Settings.jsx, under HubSpot's testing renderer) driving the local stack:
its hubspot.fetch calls go through the HubSpot emulator (signed, permittedUrls enforced) to the backend, the
Connect tab follows Intuit's consent to our callback, the sync settings page loads, Disconnect revokes."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import requests

from hubqbo.store.connections import TokenKey
from infra.local.emulators import demo_accounts as demo
from infra.local.walkthrough import run_settings_walkthrough

US = demo.PORTAL_US
REALM = demo.REALM_SANDBOX


def test_the_settings_extension_connects_opens_sync_settings_and_disconnects_a_company(flows):
    assert flows.install(US).status_code == 200
    revokes = flows.qbo_calls().get("POST oauth_revoke", 0)
    started = time.monotonic()
    report = run_settings_walkthrough(flows.stack, US, REALM.realm_id)
    took = time.monotonic() - started
    assert took < 30, f"the walkthrough took {took:.1f} s"

    steps = {s["step"]: s["detail"] for s in report["steps"]}
    assert list(steps) == ["open", "connect", "listed", "sync settings", "disconnect"]
    assert "/oauth/qbo/callback: connected" in steps["connect"]
    assert steps["listed"].endswith("Connected, Sandbox")
    assert '→ 200 "QuickBooks Online sync settings"' in steps["sync settings"]
    assert steps["disconnect"].endswith("Disconnected")

    # The backend saw the company connected (the connection record keeps when), then disconnected.
    shown = flows.connection(US, REALM.realm_id)
    assert (shown["company_name"], shown["environment"]) == (REALM.name, "sandbox")
    assert shown["connected_at"] and shown["status"] == "disconnected"
    assert flows.qbo_calls()["POST oauth_revoke"] - revokes == 1
    assert flows.ports().tokens.get(TokenKey("qbo", US, REALM.realm_id)) is None

    # Every call the extension made went to the backend through HubSpot, and the backend accepted it.
    fetched = [(f["method"], urlsplit(f["url"]).path, f["status"]) for f in report["fetches"]]
    assert ("GET", "/oauth/qbo/connect", 200) in fetched
    assert ("GET", "/settings/session", 200) in fetched
    assert ("POST", f"/oauth/qbo/connections/{REALM.realm_id}/disconnect", 200) in fetched
    assert all(f["url"].startswith(flows.gateway) for f in report["fetches"])


def test_the_backend_refuses_the_extensions_calls_when_they_do_not_come_through_hubspot(flows):
    """The same URLs the extension fetches, sent without HubSpot's signature, are refused."""
    assert flows.install(US).status_code == 200
    for path in ("/oauth/qbo/connections", "/settings/session", "/oauth/qbo/connect"):
        reply = requests.get(
            f"{flows.gateway}{path}?portalId={US}&userId=5000001", headers={"Accept": "application/json"}, timeout=10
        )
        assert reply.status_code == 401, (path, reply.status_code)
