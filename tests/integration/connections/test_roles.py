"""Roles inside a portal: creating and attaching invoices is for whoever can open the record; settings,
mappings, numbering, dead-letter replay and connections are for Super Admins or users with App
Marketplace Access, read from HubSpot's users API (the seeded sales rep has neither)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request
from infra.local.template import read_application
from tests.integration.sync.conftest import REALM, US, SyncFlows, sync_stack

ADMIN_USER, REP = 5000001, 5000002  # the emulator's seeded Super Admin and sales rep
PATH_VALUES = {"realm": REALM, "realm_id": REALM, "tab": "contacts", "prop": "email"}
# Every admin route, by design: a route leaving this list must be a decision, not an accident.
ADMIN_ROUTES = {
    "GET /oauth/qbo/connect",
    "POST /oauth/qbo/connections/{realm_id}/disconnect",
    "POST /oauth/hubspot/uninstall",
    "POST /invoices/api/numbering",
} | {r.route_key for r in read_application().routes if r.path.startswith("/settings/") and "health" not in r.path}


@pytest.fixture(scope="module")
def sync() -> Iterator[SyncFlows]:
    yield from sync_stack(log_level="WARNING")


def _edge_routes():
    from hubqbo.web import invoices, oauth, settings

    return [r for m in (invoices, oauth, settings) for r in m.router.edge_routes]


def _path(rule: str) -> str:
    return re.sub(r"<(\w+)>", lambda m: PATH_VALUES[m.group(1)], rule)


def _signed(sync: SyncFlows, method: str, path: str, user_id: int, body: bytes = b"") -> requests.Response:
    url = f"{sync.gateway}{path}?portalId={US}&userId={user_id}"
    headers = {
        "Content-Type": "application/json",
        **sign_request(method, url, body, demo_accounts.HUBSPOT_CLIENT_SECRET),
    }
    return requests.request(method, url, data=body or None, headers=headers, allow_redirects=False, timeout=30)


def _wizard_token(user_id: int) -> str:
    from hubqbo import wiring
    from hubqbo.services import invoice_common

    token = invoice_common.WizardToken(portal_id=US, user_id=user_id, object_type="deals", object_id="1")
    return invoice_common.issue_token(wiring.invoice_ports(), token)


def _template_key(route) -> str:
    return route.method + " " + re.sub(r"<(\w+)>", r"{\1}", route.rule)


def test_the_admin_routes_are_exactly_settings_numbering_and_connections():
    admin = {_template_key(r) for r in _edge_routes() if r.access.name.startswith("admin")}
    assert admin == ADMIN_ROUTES


def test_a_sales_rep_is_refused_on_every_admin_route_with_a_clear_message(sync):
    body = json.dumps({"realm_id": REALM, "pattern": "X-{seq:03}"}).encode()
    for route in (r for r in _edge_routes() if r.access.name.startswith("admin")):
        path, method = _path(route.rule), route.method
        sent = body if method in ("POST", "PUT") else b""
        if route.access.name == "admin-wizard-token":
            reply = requests.request(
                method, sync.gateway + path, data=sent, headers={"X-Hubqbo-Token": _wizard_token(REP)}, timeout=30
            )
        else:
            reply = _signed(sync, method, path, REP, sent)
        assert reply.status_code == 403, (method, path, reply.text[:200])
        text = reply.json()["message"] if "json" in reply.headers["content-type"] else reply.text
        assert "Super Admin" in text and "App Marketplace Access" in text, (method, path)


def test_an_admin_passes_the_same_routes(sync):
    assert _signed(sync, "GET", f"/settings/companies/{REALM}/tabs/contacts", ADMIN_USER).status_code == 200
    assert _signed(sync, "GET", "/settings/session", ADMIN_USER).status_code == 200
    numbering = {"realm_id": REALM, "pattern": "HS-{yyyy}-{seq:05}"}
    reply = requests.post(
        sync.gateway + "/invoices/api/numbering",
        json=numbering,
        headers={"X-Hubqbo-Token": _wizard_token(ADMIN_USER)},
        timeout=20,
    )
    assert reply.status_code == 200, reply.text


def test_a_session_that_does_not_carry_the_admin_role_opens_no_settings(sync):
    from hubqbo.web.auth import CONNECT_PURPOSE, issue_session

    secret = demo_accounts.HUBSPOT_CLIENT_SECRET
    member = issue_session(secret, US, REP, time.time() + 600, role="member")
    reply = requests.get(
        f"{sync.gateway}/settings/companies/{REALM}/tabs/contacts", params={"session": member}, timeout=10
    )
    assert reply.status_code == 403 and "Super Admin" in reply.json()["message"]
    page = requests.get(f"{sync.gateway}/settings/page", params={"session": member}, timeout=10)
    assert page.status_code == 403 and "Super Admin" in page.text
    # A connect session (the card's reconnect link) opens the connect route and nothing else.
    connect = issue_session(secret, US, ADMIN_USER, time.time() + 600, role="admin", purpose=CONNECT_PURPOSE)
    reply = requests.get(
        f"{sync.gateway}/settings/companies/{REALM}/tabs/contacts", params={"session": connect}, timeout=10
    )
    assert reply.status_code == 401
    reply = requests.get(
        f"{sync.gateway}/oauth/qbo/connect", params={"session": connect}, allow_redirects=False, timeout=10
    )
    assert reply.status_code == 302


def test_the_card_hands_a_reconnect_link_only_to_users_allowed_to_reconnect(sync):
    from hubqbo import wiring
    from hubqbo.domain.connections import ConnectionStatus

    store = wiring.connection_store()
    store.update_connection(US, REALM, status=ConnectionStatus.RECONNECT_NEEDED.value, status_reason="test")
    try:
        deal = requests.get(f"{sync.hubspot}/_emulator/portals/{US}/objects/deals", timeout=10).json()["results"][0]

        def reconnect_messages(user_id: int) -> list[dict]:
            query = f"associatedObjectId={deal['id']}&associatedObjectType=DEAL&userLocale=en-us"
            url = f"{sync.gateway}/invoices/card?portalId={US}&userId={user_id}&{query}"
            reply = requests.get(
                url, headers=sign_request("GET", url, b"", demo_accounts.HUBSPOT_CLIENT_SECRET), timeout=20
            )
            assert reply.status_code == 200, reply.text
            return [m for m in reply.json()["messages"] if m["level"] == "error"]

        [rep] = reconnect_messages(REP)
        assert "href" not in rep and "Ask a Super Admin" in rep["text"]
        [admin] = reconnect_messages(ADMIN_USER)
        session = parse_qs(urlsplit(admin["href"]).query)["session"][0]
        settings = requests.get(f"{sync.gateway}/settings/companies", params={"session": session}, timeout=10)
        assert settings.status_code == 401  # the reconnect link is no settings session
    finally:
        store.update_connection(US, REALM, status=ConnectionStatus.ACTIVE.value, status_reason=None)
