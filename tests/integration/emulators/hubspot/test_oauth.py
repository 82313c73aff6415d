"""OAuth as HubSpot runs it: consent page, code exchange, 30-minute tokens, refresh, introspection,
revocation, and the 401/403 answers of the APIs."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from infra.local.emulators.demo_accounts import (
    HUBSPOT_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET,
    PORTAL_UK,
    PORTAL_US,
    SALES_USER_EMAIL,
    SUPER_ADMIN_EMAIL,
)
from infra.local.emulators.hubspot.project import load_project

REDIRECT = "https://backend.example/oauth/hubspot/callback"
APP = load_project()  # the emulator registers our app from infra/hubspot-app: its scopes are the only valid ones
SCOPES = " ".join(APP.required_scopes)
OPTIONAL = " ".join(APP.optional_scopes)


def _consent(base_url: str, decision: str = "allow", user_email: str = SUPER_ADMIN_EMAIL, portal: int = PORTAL_US):
    """Loads the consent page like a browser and submits it for the chosen portal and user."""
    params = {
        "client_id": HUBSPOT_CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": SCOPES,
        "optional_scope": OPTIONAL,
        "state": "s-1",
    }
    page = requests.get(f"{base_url}/oauth/authorize", params=params, timeout=5)
    assert page.status_code == 200 and "<form" in page.text
    choice = next(
        v
        for v, label in re.findall(r'<option value="([^"]+)">([^<]+)</option>', page.text)
        if f"({portal})" in label and user_email in label
    )
    form = {**params, "account": choice, "decision": decision}
    return requests.post(f"{base_url}/oauth/authorize", data=form, allow_redirects=False, timeout=5)


def _code(base_url: str) -> str:
    reply = _consent(base_url)
    assert reply.status_code == 302
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def _exchange(base_url: str, code: str, path: str = "/oauth/v3/token") -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": HUBSPOT_CLIENT_ID,
        "client_secret": HUBSPOT_CLIENT_SECRET,
    }
    return requests.post(f"{base_url}{path}", data=form, timeout=5)


def test_consent_then_code_exchange_gives_30_minute_token_for_the_chosen_portal(base_url, validate_response):
    reply = _exchange(base_url, _code(base_url))
    validate_response("oauth-v3", reply)
    body = reply.json()
    assert body["expires_in"] == 1800
    assert body["hub_id"] == PORTAL_US
    assert body["token_type"] == "bearer"
    assert set(body["scopes"]) == {*SCOPES.split(), *OPTIONAL.split()}
    assert len(body["access_token"]) >= 150


def _authorize(base_url: str, scope: str, optional: str = "") -> requests.Response:
    params = {"client_id": HUBSPOT_CLIENT_ID, "redirect_uri": REDIRECT, "scope": scope, "optional_scope": optional}
    return requests.get(f"{base_url}/oauth/authorize", params=params, timeout=5)


def test_an_install_url_missing_a_required_scope_is_refused_as_insufficient(base_url):
    page = _authorize(base_url, " ".join(APP.required_scopes[:-1]))
    assert page.status_code == 400 and "<form" not in page.text
    assert "Couldn&#x27;t complete the connection" in page.text
    assert "the provided scopes are insufficient" in page.text


def test_a_required_scope_passed_as_optional_is_refused(base_url):
    page = _authorize(base_url, " ".join(APP.required_scopes[1:]), APP.required_scopes[0])
    assert page.status_code == 400 and "insufficient" in page.text


def test_an_install_url_asking_for_more_than_the_app_declares_is_refused_as_a_mismatch(base_url):
    extra = _authorize(base_url, SCOPES + " crm.objects.owners.read")
    assert extra.status_code == 400
    assert "mismatch between the scopes in the install URL and the app&#x27;s configured scopes" in extra.text
    undeclared_optional = _authorize(base_url, SCOPES, "crm.objects.custom.read")
    assert undeclared_optional.status_code == 400 and "mismatch" in undeclared_optional.text
    optional_as_required = _authorize(base_url, f"{SCOPES} {OPTIONAL}")
    assert optional_as_required.status_code == 400 and "mismatch" in optional_as_required.text


def test_a_consent_posted_with_other_scopes_is_refused_too(base_url):
    form = {"client_id": HUBSPOT_CLIENT_ID, "redirect_uri": REDIRECT, "scope": "oauth", "decision": "allow"}
    form["account"] = f"{PORTAL_US}:{SUPER_ADMIN_EMAIL}"
    refused = requests.post(f"{base_url}/oauth/authorize", data=form, allow_redirects=False, timeout=5)
    assert refused.status_code == 400 and "insufficient" in refused.text


def test_without_optional_scopes_the_token_has_exactly_the_required_ones(base_url):
    page = _authorize(base_url, SCOPES)
    account = page.text.split('<option value="', 1)[1].split('"', 1)[0]
    form = {"client_id": HUBSPOT_CLIENT_ID, "redirect_uri": REDIRECT, "scope": SCOPES, "account": account}
    consent = requests.post(
        f"{base_url}/oauth/authorize", data={**form, "decision": "allow"}, allow_redirects=False, timeout=5
    )
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    assert sorted(_exchange(base_url, code).json()["scopes"]) == sorted(APP.required_scopes)


def test_codes_are_single_use(base_url):
    code = _code(base_url)
    assert _exchange(base_url, code).status_code == 200
    again = _exchange(base_url, code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_legacy_v1_token_endpoint_is_accepted(base_url):
    assert _exchange(base_url, _code(base_url), "/oauth/v1/token").json()["hub_id"] == PORTAL_US


def test_deny_redirects_with_access_denied_and_state(base_url):
    reply = _consent(base_url, decision="deny")
    query = parse_qs(urlsplit(reply.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["s-1"]}


def test_user_without_marketplace_access_cannot_install(base_url):
    reply = _consent(base_url, user_email=SALES_USER_EMAIL)
    assert reply.status_code == 403
    assert "App Marketplace Access" in reply.text


def test_account_pinned_authorize_offers_only_that_portal(base_url):
    params = {"client_id": HUBSPOT_CLIENT_ID, "redirect_uri": REDIRECT, "scope": SCOPES}
    page = requests.get(f"{base_url}/oauth/{PORTAL_UK}/authorize", params=params, timeout=5).text
    assert f"({PORTAL_UK})" in page and f"({PORTAL_US})" not in page


def test_refresh_gives_new_access_token_and_keeps_refresh_token(base_url):
    first = _exchange(base_url, _code(base_url)).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": HUBSPOT_CLIENT_ID,
        "client_secret": HUBSPOT_CLIENT_SECRET,
    }
    second = requests.post(f"{base_url}/oauth/v3/token", data=form, timeout=5).json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] == first["refresh_token"]


def test_wrong_client_secret_is_refused(base_url):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": "x",
        "client_id": HUBSPOT_CLIENT_ID,
        "client_secret": "nope",
    }
    reply = requests.post(f"{base_url}/oauth/v3/token", data=form, timeout=5)
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_client"


def test_introspection_describes_the_token_in_v3_and_v1(base_url, validate_response):
    tokens = _exchange(base_url, _code(base_url)).json()
    form = {
        "client_id": HUBSPOT_CLIENT_ID,
        "client_secret": HUBSPOT_CLIENT_SECRET,
        "token": tokens["access_token"],
        "token_type_hint": "access_token",
    }
    v3 = requests.post(f"{base_url}/oauth/v3/token/introspect", data=form, timeout=5)
    validate_response("oauth-v3", v3)
    assert v3.json()["hub_id"] == PORTAL_US and v3.json()["user"] == SUPER_ADMIN_EMAIL
    v1 = requests.get(f"{base_url}/oauth/v1/access-tokens/{tokens['access_token']}", timeout=5).json()
    assert {"hub_id", "user", "user_id", "scopes", "app_id", "expires_in"} <= set(v1)
    assert 0 < v1["expires_in"] <= 1800
    refresh = requests.post(
        f"{base_url}/oauth/v3/token/introspect", data={**form, "token": tokens["refresh_token"]}, timeout=5
    )
    validate_response("oauth-v3", refresh)
    assert refresh.json()["token_use"] == "refresh_token"


def test_revoked_refresh_token_can_no_longer_refresh(base_url):
    tokens = _exchange(base_url, _code(base_url)).json()
    creds = {"client_id": HUBSPOT_CLIENT_ID, "client_secret": HUBSPOT_CLIENT_SECRET}
    assert (
        requests.post(
            f"{base_url}/oauth/v3/token/revoke", data={**creds, "token": tokens["refresh_token"]}, timeout=5
        ).status_code
        == 204
    )
    form = {**creds, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    reply = requests.post(f"{base_url}/oauth/v3/token", data=form, timeout=5)
    assert reply.status_code == 400
    assert reply.json()["status"] == "BAD_REFRESH_TOKEN"


def test_uninstall_revokes_every_token_of_the_portal(api, admin):
    assert api("GET", "/account-info/v3/details").status_code == 200
    admin("POST", f"/portals/{PORTAL_US}/uninstall")
    assert api("GET", "/account-info/v3/details").status_code == 401


def test_access_token_expires_after_30_minutes_of_emulator_time(api, admin, validate_response):
    assert api("GET", "/crm/v3/objects/deals").status_code == 200
    admin("POST", "/clock", json={"advance_seconds": 1799})
    assert api("GET", "/crm/v3/objects/deals").status_code == 200
    admin("POST", "/clock", json={"advance_seconds": 2})
    expired = api("GET", "/crm/v3/objects/contacts")
    assert expired.status_code == 401
    assert expired.json()["category"] == "EXPIRED_AUTHENTICATION"
    validate_response("contacts-v3", expired)


def test_missing_or_unknown_token_is_401_in_hubspot_shape(base_url, validate_response):
    none = requests.get(f"{base_url}/crm/v3/objects/contacts", timeout=5)
    assert none.status_code == 401 and none.json()["category"] == "INVALID_AUTHENTICATION"
    validate_response("contacts-v3", none)
    bogus = requests.get(f"{base_url}/crm/v3/objects/contacts", headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bogus.status_code == 401


def test_missing_scope_is_403_naming_the_required_scopes(base_url, issue_token, validate_response):
    token = issue_token(scopes=["oauth", "crm.objects.deals.read"])["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(f"{base_url}/crm/v3/objects/deals", headers=headers, timeout=5).status_code == 200
    write = requests.post(f"{base_url}/crm/v3/objects/contacts", json={"properties": {}}, headers=headers, timeout=5)
    assert write.status_code == 403
    body = write.json()
    assert body["category"] == "MISSING_SCOPES"
    assert body["errors"][0]["context"]["requiredGranularScopes"] == ["crm.objects.contacts.write"]
    validate_response("contacts-v3", write)
    ecommerce = issue_token(scopes=["e-commerce"])["access_token"]  # the legacy scope still opens products
    reply = requests.get(
        f"{base_url}/crm/v3/objects/products", headers={"Authorization": f"Bearer {ecommerce}"}, timeout=5
    )
    assert reply.status_code == 200
