"""Bad input gets a clear page, and nothing is stored."""

import time
from urllib.parse import parse_qs, urlsplit

import requests

from hubqbo.security.signing import Signer
from infra.local.emulators import demo_accounts as demo

from .conftest import page_outcome

US, UK = demo.PORTAL_US, demo.PORTAL_UK
REALM = demo.REALM_CUSTOM_NUMBERS.realm_id


def with_query(url: str, **changes: str | None) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for name, value in changes.items():
        if value is None:
            query.pop(name, None)
        else:
            query[name] = value
    return parts._replace(query="&".join(f"{k}={requests.utils.quote(v, safe='')}" for k, v in query.items())).geturl()


def assert_start_again(response):
    assert response.status_code == 400, response.text
    assert page_outcome(response.text) == "problem"
    assert "start again" in response.text.lower()
    assert response.headers["content-type"].startswith("text/html")


def connections_of(flows, portal_id):
    return {c.realm_id for c in flows.ports().connections.list_connections(portal_id)}


def test_a_qbo_callback_without_state_asks_to_start_again_and_stores_nothing(flows):
    flows.install(US)
    before = connections_of(flows, US)
    callback = flows.callback_url(US, REALM)
    assert_start_again(flows.callback(with_query(callback, state=None)))
    assert connections_of(flows, US) == before


def test_a_forged_state_asks_to_start_again(flows):
    flows.install(US)
    callback = flows.callback_url(US, REALM)
    forged = Signer("attacker-secret", "oauth-state").sign({"n": "x", "p": "qbo"}, expires_at=int(time.time() + 600))
    assert_start_again(flows.callback(with_query(callback, state=forged)))


def test_an_expired_state_asks_to_start_again(flows):
    flows.install(US)
    callback = flows.callback_url(US, REALM)
    key = demo.HUBSPOT_CLIENT_SECRET + demo.QBO_CLIENT_SECRET
    expired = Signer(key, "oauth-state").sign({"n": "x", "p": "qbo"}, expires_at=int(time.time() - 1))
    response = flows.callback(with_query(callback, state=expired))
    assert_start_again(response)


def test_a_replayed_state_asks_to_start_again_and_does_not_connect_twice(flows):
    flows.install(US)
    callback = flows.callback_url(US, REALM)
    assert flows.callback(callback).status_code == 200
    assert_start_again(flows.callback(callback))


def test_a_hubspot_state_cannot_finish_a_qbo_connect(flows):
    hubspot_state = parse_qs(urlsplit(flows.start_install()).query)["state"][0]
    callback = flows.callback_url(US, REALM)
    assert_start_again(flows.callback(with_query(callback, state=hubspot_state)))


def test_a_hubspot_callback_with_a_bad_state_offers_to_start_the_install_again(flows):
    response = requests.get(f"{flows.gateway}/oauth/hubspot/callback?code=abc&state=nope", timeout=10)
    assert_start_again(response)
    assert f'href="{flows.gateway}/oauth/hubspot/install"' in response.text


def test_denying_access_in_quickbooks_shows_a_page_that_says_so(flows):
    flows.install(UK)
    before = connections_of(flows, UK)
    denied = flows.consent_qbo(flows.start_connect(UK), REALM, decision="deny")
    assert "error=access_denied" in denied.headers["Location"]
    page = requests.get(denied.headers["Location"], timeout=10)
    assert page.status_code == 400
    assert "Access was not granted" in page.text
    assert "chose not to give hubqbo access in QuickBooks" in page.text
    assert connections_of(flows, UK) == before


def test_denying_the_hubspot_install_shows_a_page_that_says_so(flows):
    denied = flows.consent_hubspot(flows.start_install(), US, demo.SUPER_ADMIN_EMAIL, decision="deny")
    page = requests.get(denied.headers["Location"], timeout=10)
    assert page.status_code == 400
    assert "chose not to give hubqbo access in HubSpot" in page.text


def test_a_failed_code_exchange_shows_a_502_page_with_the_reason_and_a_correlation_id(flows):
    flows.install(UK)
    before = connections_of(flows, UK)
    callback = flows.callback_url(UK, demo.REALM_UK.realm_id)
    page = flows.callback(with_query(callback, code="not-a-real-code"))
    assert page.status_code == 502
    assert "Invalid authorization code" in page.text  # the provider's reason
    assert 'id="correlation-id"' in page.text
    assert 'id="provider-correlation-id"' in page.text  # Intuit's intuit_tid
    assert connections_of(flows, UK) == before or demo.REALM_UK.realm_id in before


def test_a_callback_without_a_code_asks_to_start_again(flows):
    flows.install(US)
    callback = flows.callback_url(US, REALM)
    assert_start_again(flows.callback(with_query(callback, code=None)))
