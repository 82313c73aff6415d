"""The user paths: install in HubSpot, connect QBO companies (production and sandbox), list them."""

import time
from urllib.parse import parse_qs, quote, urlsplit

import requests

from hubqbo.store.connections import TokenKey
from hubqbo.web.auth import issue_session
from infra.local.emulators import demo_accounts as demo
from infra.local.emulators.hubspot.signing import sign_request, signed_get

from .conftest import page_outcome

US, UK = demo.PORTAL_US, demo.PORTAL_UK


def test_install_redirects_to_hubspot_with_the_scopes_the_product_needs(flows):
    location = flows.start_install()
    assert location.startswith(flows.hubspot + "/oauth/authorize?")
    scopes = parse_qs(urlsplit(location).query)["scope"][0].split()
    assert {"oauth", "crm.objects.deals.write", "crm.objects.invoices.write", "settings.users.read"} <= set(scopes)
    assert "state=" in location
    assert "redirect_uri=" + quote(flows.gateway + "/oauth/hubspot/callback", safe="") in location


def test_a_super_admin_installs_and_the_portal_is_recorded_with_currency_and_time_zone(flows):
    page = flows.install(UK)
    assert page.status_code == 200
    assert page_outcome(page.text) == "installed"
    assert "GBP" in page.text and "Europe/London" in page.text
    assert "What next" in page.text
    portal = flows.ports().connections.get_portal(UK)
    assert (portal.company_currency, portal.time_zone, portal.status) == ("GBP", "Europe/London", "installed")


def test_a_sales_rep_cannot_install_and_nothing_is_recorded(flows):
    before = flows.ports().connections.get_portal(US)
    consent = flows.consent_hubspot(flows.start_install(), US, demo.SALES_USER_EMAIL)
    assert consent.status_code == 403  # HubSpot refuses the consent; our callback re-checks the user too
    assert flows.ports().connections.get_portal(US) == before


def test_our_callback_refuses_a_code_granted_to_a_user_who_may_not_install(flows):
    """Even if HubSpot handed out a code for a sales rep, our callback checks the user and stores nothing."""
    before = flows.ports().connections.get_portal(US)
    authorize = parse_qs(urlsplit(flows.start_install()).query)
    state, scopes = authorize["state"][0], authorize["scope"][0].split()
    callback = flows.gateway + "/oauth/hubspot/callback"
    grant = {"portal_id": US, "user_email": demo.SALES_USER_EMAIL, "redirect_uri": callback, "scopes": scopes}
    code = requests.post(flows.hubspot + "/_emulator/oauth/codes", json=grant, timeout=10).json()["code"]
    page = requests.get(callback, params={"code": code, "state": state}, timeout=20)
    assert page.status_code == 403
    assert "Super Admin" in page.text
    assert flows.ports().connections.get_portal(US) == before


def test_connect_needs_a_signed_hubspot_request_or_a_settings_session(flows):
    assert flows.install(US).status_code == 200
    unsigned = requests.get(f"{flows.gateway}/oauth/qbo/connect?portalId={US}", allow_redirects=False, timeout=10)
    assert unsigned.status_code == 401
    session = issue_session(demo.HUBSPOT_CLIENT_SECRET, US, 5000001, time.time() + 600)
    by_cookie = requests.get(
        f"{flows.gateway}/oauth/qbo/connect", cookies={"hubqbo_session": session}, allow_redirects=False, timeout=10
    )
    assert by_cookie.status_code == 302
    assert by_cookie.headers["Location"].startswith(flows.qbo + "/connect/oauth2?")
    as_json = signed_get(f"{flows.gateway}/oauth/qbo/connect?portalId={US}", headers={"Accept": "application/json"})
    assert as_json.json()["authorize_url"].startswith(flows.qbo + "/connect/oauth2?")


def test_connect_for_a_portal_that_never_installed_is_refused(flows):
    response = signed_get(f"{flows.gateway}/oauth/qbo/connect?portalId=999", allow_redirects=False)
    assert response.status_code == 404


def test_signed_routes_refuse_stale_and_forged_signatures(flows):
    url = f"{flows.gateway}/oauth/qbo/connections?portalId={US}"
    stale = sign_request("GET", url, b"", demo.HUBSPOT_CLIENT_SECRET, int(time.time() * 1000) - 301_000)
    assert requests.get(url, headers=stale, timeout=10).status_code == 401
    forged = sign_request("GET", url, b"", "not-the-secret")
    assert requests.get(url, headers=forged, timeout=10).status_code == 401
    other_portal = sign_request("GET", url, b"", demo.HUBSPOT_CLIENT_SECRET)
    assert requests.get(url.replace(str(US), str(UK)), headers=other_portal, timeout=10).status_code == 401


def test_connecting_a_us_company_records_it_from_company_info_and_preferences(flows):
    flows.install(US)
    before = flows.qbo_calls()
    page = flows.connect(US, demo.REALM_US.realm_id)
    after = flows.qbo_calls()
    assert page.status_code == 200, page.text
    assert page_outcome(page.text) in ("connected", "reconnected")
    assert "Production company" in page.text
    c = flows.connection(US, demo.REALM_US.realm_id)
    assert c["company_name"] == demo.REALM_US.name
    assert (c["country"], c["home_currency"], c["multicurrency"], c["custom_txn_numbers"]) == (
        "US",
        "USD",
        False,
        False,
    )
    assert (c["environment"], c["status"]) == ("production", "active")
    assert c["refresh_token_expires_at"] is not None
    assert c["refresh_token_hard_expires_at"] is not None  # asked for with Intuit's header
    used = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    used.pop("GET oauth_consent_page", None)
    used.pop("POST oauth_consent_decision", None)
    assert sum(used.values()) == 3, used  # code exchange + CompanyInfo + Preferences


def test_a_sandbox_company_connects_and_is_labelled_sandbox(flows):
    flows.install(US)
    page = flows.connect(US, demo.REALM_SANDBOX.realm_id)
    assert page.status_code == 200, page.text
    assert "Sandbox company" in page.text
    c = flows.connection(US, demo.REALM_SANDBOX.realm_id)
    assert (c["environment"], c["environment_label"]) == ("sandbox", "Sandbox")
    assert c["company_name"] == demo.REALM_SANDBOX.name


def test_multicurrency_and_custom_transaction_numbers_are_recorded(flows):
    flows.install(UK)
    assert flows.connect(UK, demo.REALM_MULTI.realm_id).status_code == 200
    assert flows.connect(UK, demo.REALM_CUSTOM_NUMBERS.realm_id).status_code == 200
    assert flows.connection(UK, demo.REALM_MULTI.realm_id)["multicurrency"] is True
    assert flows.connection(UK, demo.REALM_CUSTOM_NUMBERS.realm_id)["custom_txn_numbers"] is True


def test_one_realm_connects_to_two_portals_and_each_portal_lists_only_its_own(flows):
    flows.ready(US, demo.REALM_UK.realm_id)
    flows.ready(UK, demo.REALM_UK.realm_id)
    portals = flows.ports().connections.portals_for_realm(demo.REALM_UK.realm_id)
    assert {c.portal_id for c in portals} >= {US, UK}
    stored = flows.ports().connections
    for portal in (US, UK):
        listed = {c["realm_id"] for c in flows.connections(portal)}
        assert listed == {c.realm_id for c in stored.list_connections(portal)}
    assert flows.connection(US, demo.REALM_UK.realm_id)["status"] == "active"


def test_connecting_a_realm_already_connected_refreshes_the_same_connection(flows):
    flows.ready(US, demo.REALM_US.realm_id)
    first = flows.connection(US, demo.REALM_US.realm_id)
    again = flows.connect(US, demo.REALM_US.realm_id)
    assert page_outcome(again.text) == "reconnected"
    same = [c for c in flows.connections(US) if c["realm_id"] == demo.REALM_US.realm_id]
    assert len(same) == 1
    assert same[0]["connected_at"] == first["connected_at"]
    items = flows.table().query(
        KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
        ExpressionAttributeValues={":pk": f"PORTAL#{US}", ":sk": f"CONN#{demo.REALM_US.realm_id}"},
    )["Items"]
    assert len(items) == 1


def test_the_connections_list_never_contains_tokens(flows):
    flows.ready(US, demo.REALM_US.realm_id)
    stored = flows.ports().tokens.get(TokenKey("qbo", US, demo.REALM_US.realm_id))
    body = signed_get(f"{flows.gateway}/oauth/qbo/connections?portalId={US}").text
    assert stored.tokens.access_token.get_secret_value() not in body
    assert stored.tokens.refresh_token.get_secret_value() not in body


def test_an_install_through_hubspot_grants_exactly_the_apps_scopes(flows):
    assert flows.install(UK).status_code == 200
    app = flows.stack.hubspot.app
    grants = [grant for grant, _ in flows.stack.hubspot.tokens.access.values() if grant.portal_id == UK]
    assert grants and all(grant.scopes == app.granted_scopes(" ".join(app.optional_scopes)) for grant in grants)
    assert {"settings.users.read", "timeline"} <= set(grants[-1].scopes)


def test_hubspot_refuses_an_install_url_whose_scopes_differ_from_the_app(flows):
    url = flows.start_install()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert requests.get(url, timeout=10).status_code == 200  # ours is accepted
    fewer = {**query, "scope": query["scope"].replace("settings.users.read", "").strip()}
    refused = requests.get(flows.hubspot + "/oauth/authorize", params=fewer, timeout=10)
    assert refused.status_code == 400 and "the provided scopes are insufficient" in refused.text
    more = {**query, "scope": query["scope"] + " crm.objects.owners.read"}
    refused = requests.get(flows.hubspot + "/oauth/authorize", params=more, timeout=10)
    assert refused.status_code == 400 and "mismatch between the scopes" in refused.text


def test_hubspot_refuses_a_redirect_url_the_app_does_not_declare(flows):
    url = flows.start_install()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    other = {**query, "redirect_uri": "https://elsewhere.example/oauth/hubspot/callback"}
    assert requests.get(flows.hubspot + "/oauth/authorize", params=other, timeout=10).status_code == 400
