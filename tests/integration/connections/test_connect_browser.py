"""The QuickBooks connect flow in headless Chromium, as HubSpot's settings extension runs it: the
extension asks for the connect URL with hubspot.fetch and opens it in a new tab; that tab reaches our
connect route first (which sets the `__Host-` binding cookie on our origin), then Intuit, then our
callback. Only the browser that started the flow can complete it; a reconnect takes only its company."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page

from infra.local.emulators import demo_accounts as demo
from infra.local.emulators.hubspot.signing import signed_get
from tests.support.browser import chromium, chromium_browsers

from .conftest import CONNECT_COOKIE

US = demo.PORTAL_US
REALM, OTHER = demo.REALM_US.realm_id, demo.REALM_MULTI.realm_id


def _tab_url(flows, realm: str | None = None) -> str:
    """What the settings extension's hubspot.fetch gets back: the URL its new tab opens."""
    extra = f"&realm={realm}" if realm else ""
    reply = signed_get(
        f"{flows.gateway}/oauth/qbo/connect?portalId={US}&userId=5000001{extra}", headers={"Accept": "application/json"}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["authorize_url"]


def _consent(page: Page, realm: str) -> None:
    """Intuit's consent page (the emulator's): choose the company and connect."""
    assert urlsplit(page.url).path == "/connect/oauth2", page.url
    page.check(f'input[name="realmId"][value="{realm}"]')
    page.click('button[value="connect"]')
    page.wait_for_selector("#outcome")


def _outcome(page: Page) -> str:
    return page.locator("#outcome").get_attribute("data-outcome") or ""


@pytest.fixture(scope="module")
def installed(flows):
    assert flows.install(US).status_code == 200
    return flows


def test_the_flow_completes_in_the_browser_that_started_it_from_a_new_tab(installed):
    flows = installed
    with chromium() as browser:
        page = browser.new_page()
        page.goto(_tab_url(flows))
        [cookie] = [c for c in browser.cookies() if c["name"] == CONNECT_COOKIE]
        assert (cookie["httpOnly"], cookie["secure"], cookie["sameSite"], cookie["path"]) == (True, True, "Lax", "/")
        _consent(page, REALM)
        assert _outcome(page) in ("connected", "reconnected"), page.content()
        assert not [c for c in browser.cookies() if c["name"] == CONNECT_COOKIE]  # the flow is over
    assert flows.connection(US, REALM)["status"] == "active"


def test_another_browser_completing_the_authorize_url_gets_a_clear_refusal_and_nothing_connects(installed):
    flows = installed
    with chromium_browsers() as chromium_process:
        started, stranger = chromium_process.new_context(), chromium_process.new_context()  # two browsers
        tab = started.new_page()
        tab.goto(_tab_url(flows))
        authorize_url = tab.url  # Intuit's authorize URL with the state, as the admin could pass it on
        assert parse_qs(urlsplit(authorize_url).query)["state"]
        other = stranger.new_page()
        other.goto(authorize_url)
        _consent(other, OTHER)
        assert _outcome(other) == "problem"
        assert "Finish connecting in the browser that started it" in other.content()
        assert "started in another browser" in other.content()
    assert OTHER not in {c["realm_id"] for c in flows.connections(US)}


def test_reconnecting_a_known_company_refuses_a_different_one_with_a_clear_page(installed):
    flows = installed
    with chromium() as browser:
        page = browser.new_page()
        page.goto(_tab_url(flows, realm=REALM))
        _consent(page, OTHER)
        assert _outcome(page) == "problem"
        assert "A different QuickBooks company was chosen" in page.content()
    assert OTHER not in {c["realm_id"] for c in flows.connections(US)}
    with chromium() as browser:  # the same company reconnects
        page = browser.new_page()
        page.goto(_tab_url(flows, realm=REALM))
        _consent(page, REALM)
        assert _outcome(page) == "reconnected"
