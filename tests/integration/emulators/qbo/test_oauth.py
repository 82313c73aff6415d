"""Intuit OAuth 2.0 against the emulator, driven by the unmodified `intuitlib` client."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from infra.local.emulators import demo_accounts

US = demo_accounts.REALM_US.realm_id
SANDBOX = demo_accounts.REALM_SANDBOX.realm_id
REDIRECT = "https://hubqbo.example/oauth/qbo/callback"


def auth_client(base: str) -> AuthClient:
    discovery = base + "/.well-known/openid_configuration/"  # intuitlib takes an unknown environment as the URL
    return AuthClient(demo_accounts.QBO_CLIENT_ID, demo_accounts.QBO_CLIENT_SECRET, REDIRECT, discovery)


def consent(client: AuthClient, realm: str, decision: str = "connect") -> dict[str, str]:
    """What a user does in the browser: open the consent page, pick a company, submit."""
    url = client.get_authorization_url([Scopes.ACCOUNTING], state_token="xyz-state")
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and realm in page.text
    form = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()} | {"realmId": realm, "decision": decision}
    answer = requests.post(url.split("?")[0], data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def connected(base: str, realm: str = US) -> AuthClient:
    client = auth_client(base)
    callback = consent(client, realm)
    client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    return client


def company_info(base: str, realm: str, token: str, sandbox: bool = False) -> requests.Response:
    prefix = "/sandbox" if sandbox else ""
    url = f"{base}{prefix}/v3/company/{realm}/companyinfo/{realm}"
    return requests.get(url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}, timeout=10)


def test_consent_redirects_with_code_state_and_realm_and_the_code_exchanges_for_tokens(admin):
    client = auth_client(admin.base)
    callback = consent(client, US)
    assert callback["state"] == "xyz-state" and callback["realmId"] == US
    client.get_bearer_token(callback["code"], realm_id=US)
    assert client.access_token and client.refresh_token
    assert client.expires_in == 3600 and client.x_refresh_token_expires_in > 86400 * 99
    info = company_info(admin.base, US, client.access_token)
    assert info.json()["CompanyInfo"]["CompanyName"] == demo_accounts.REALM_US.name

    with pytest.raises(AuthClientError) as reused:  # codes are single use
        client.get_bearer_token(callback["code"], realm_id=US)
    assert reused.value.status_code == 400 and "invalid_grant" in reused.value.content.decode()


def test_denying_consent_redirects_with_access_denied(admin):
    callback = consent(auth_client(admin.base), US, decision="deny")
    assert callback["error"] == "access_denied" and callback["state"] == "xyz-state"


def test_refresh_rotates_and_the_old_refresh_token_works_only_for_the_grace_period(admin):
    client = connected(admin.base)
    first_refresh = client.refresh_token
    client.refresh()
    assert client.refresh_token != first_refresh
    admin.advance(23 * 3600)
    client.refresh(refresh_token=first_refresh)  # still inside the 24 h grace
    admin.advance(2 * 3600)
    with pytest.raises(AuthClientError) as expired:
        client.refresh(refresh_token=first_refresh)
    assert expired.value.status_code == 400 and '"invalid_grant"' in expired.value.content.decode()
    client.refresh()  # the newest one still works


def test_grace_period_is_configurable(admin):
    admin.post("/qbo/oauth", {"refresh_grace_seconds": 60})
    client = connected(admin.base)
    old = client.refresh_token
    client.refresh()
    admin.advance(61)
    with pytest.raises(AuthClientError):
        client.refresh(refresh_token=old)


def test_access_token_expires_after_3600_seconds_of_emulator_time(admin):
    client = connected(admin.base)
    admin.advance(3599)
    assert company_info(admin.base, US, client.access_token).status_code == 200
    admin.advance(2)
    expired = company_info(admin.base, US, client.access_token)
    assert expired.status_code == 401
    assert expired.json()["fault"]["error"][0]["code"] == "3200"
    client.refresh()
    assert company_info(admin.base, US, client.access_token).status_code == 200


def test_hard_expiry_is_returned_only_when_asked_for_with_the_header(admin):
    client = connected(admin.base)
    auth = base64.b64encode(f"{demo_accounts.QBO_CLIENT_ID}:{demo_accounts.QBO_CLIENT_SECRET}".encode()).decode()
    headers = {"Authorization": f"Basic {auth}", "Accept": "application/json"}
    url = f"{admin.base}/oauth2/v1/tokens/bearer"
    plain = requests.post(
        url, data={"grant_type": "refresh_token", "refresh_token": client.refresh_token}, headers=headers, timeout=10
    )
    assert "x_refresh_token_hard_expires_in" not in plain.json()
    headers["x-include-refresh-token-hard-expires-in"] = "true"
    asked = requests.post(
        url,
        data={"grant_type": "refresh_token", "refresh_token": plain.json()["refresh_token"]},
        headers=headers,
        timeout=10,
    )
    assert asked.json()["x_refresh_token_hard_expires_in"] > asked.json()["x_refresh_token_expires_in"]


def test_admin_can_force_a_refresh_token_invalid(admin):
    client = connected(admin.base)
    admin.post("/qbo/oauth/invalidate", {"refresh_token": client.refresh_token})
    with pytest.raises(AuthClientError) as failed:
        client.refresh()
    assert "invalid_grant" in failed.value.content.decode()


def test_revoke_disconnects_both_tokens(admin):
    client = connected(admin.base)
    access = client.access_token
    assert client.revoke(token=client.refresh_token)
    assert company_info(admin.base, US, access).status_code == 401
    with pytest.raises(AuthClientError):
        client.refresh()


def test_wrong_client_secret_is_invalid_client(admin):
    client = auth_client(admin.base)
    client.client_secret = "wrong"
    with pytest.raises(AuthClientError) as failed:
        client.refresh(refresh_token="anything")
    assert failed.value.status_code == 401 and "invalid_client" in failed.value.content.decode()


def test_a_token_for_another_realm_or_the_wrong_host_is_refused_with_403(admin):
    us_client = connected(admin.base, US)
    other = company_info(admin.base, demo_accounts.REALM_UK.realm_id, us_client.access_token)
    assert other.status_code == 403 and other.json()["fault"]["error"][0]["code"] == "3100"

    sandbox_client = connected(admin.base, SANDBOX)
    assert company_info(admin.base, SANDBOX, sandbox_client.access_token, sandbox=True).status_code == 200
    assert company_info(admin.base, SANDBOX, sandbox_client.access_token).status_code == 403
    assert company_info(admin.base, US, us_client.access_token, sandbox=True).status_code == 403


def test_missing_bearer_token_is_401_in_the_gateway_shape(admin):
    answer = requests.get(f"{admin.base}/v3/company/{US}/companyinfo/{US}", timeout=10)
    assert answer.status_code == 401
    assert "AuthenticationFailed" in answer.json()["fault"]["error"][0]["message"]
