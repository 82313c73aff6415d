"""The app lifecycle as HubSpot reports it: the client-credentials token, journal subscriptions, the
journal's pointers and presigned pages, a user's uninstall and the uninstall API."""

from __future__ import annotations

from datetime import datetime

import requests

from infra.local.emulators.demo_accounts import HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, PORTAL_UK, PORTAL_US

JOURNAL_SCOPES = (
    "developer.webhooks_journal.read developer.webhooks_journal.subscriptions.read "
    "developer.webhooks_journal.subscriptions.write"
)
UNINSTALL, INSTALL = "4-1916193", "4-1909196"


def app_token(base_url: str, scope: str = JOURNAL_SCOPES, secret: str = HUBSPOT_CLIENT_SECRET) -> requests.Response:
    form = {"grant_type": "client_credentials", "client_id": HUBSPOT_CLIENT_ID, "client_secret": secret, "scope": scope}
    return requests.post(f"{base_url}/oauth/2026-03/token", data=form, timeout=5)


def app_api(base_url: str):
    token = app_token(base_url).json()["access_token"]
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    return lambda method, path, **kw: session.request(method, base_url + path, timeout=5, **kw)


def subscribe(call, event_type: str = UNINSTALL) -> requests.Response:
    body = {"subscriptionType": "APP_LIFECYCLE_EVENT", "eventTypeId": event_type, "properties": []}
    return call("POST", "/webhooks-journal/subscriptions/2026-09", json=body)


def test_client_credentials_token_names_the_app_with_only_journal_scopes(base_url):
    reply = app_token(base_url)
    assert reply.status_code == 200
    body = reply.json()
    assert body["token_use"] == "client_credentials" and body["expires_in"] == 1800
    assert "refresh_token" not in body and "hub_id" not in body
    crm = requests.get(
        f"{base_url}/crm/v3/objects/deals", headers={"Authorization": f"Bearer {body['access_token']}"}, timeout=5
    )
    assert crm.status_code == 403 and crm.json()["category"] == "MISSING_SCOPES"


def test_client_credentials_refuses_a_wrong_secret_and_scopes_outside_the_journal(base_url):
    assert app_token(base_url, secret="nope").json()["error"] == "invalid_client"
    refused = app_token(base_url, scope="crm.objects.deals.read")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    assert app_token(base_url, scope="").status_code == 400
    dated = requests.post(  # 2026-09's token endpoint does not list the client_credentials grant
        f"{base_url}/oauth/2026-09/token",
        data={
            "grant_type": "client_credentials",
            "client_id": HUBSPOT_CLIENT_ID,
            "client_secret": HUBSPOT_CLIENT_SECRET,
            "scope": JOURNAL_SCOPES,
        },
        timeout=5,
    )
    assert dated.json()["error"] == "unsupported_grant_type"


def test_subscribing_is_an_upsert_and_needs_the_app_token(base_url, api):
    call = app_api(base_url)
    first, again = subscribe(call), subscribe(call)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert len(call("GET", "/webhooks-journal/subscriptions/2026-09").json()["results"]) == 1
    assert subscribe(call, "0-1").status_code == 400
    portal_token = subscribe(api)  # a portal's OAuth token lacks the journal scopes
    assert portal_token.status_code == 403 and portal_token.json()["category"] == "MISSING_SCOPES"


def test_nothing_is_journaled_before_subscribing_and_the_journal_is_empty_then(base_url, admin):
    call = app_api(base_url)
    admin("POST", f"/portals/{PORTAL_US}/uninstall").raise_for_status()
    assert call("GET", "/webhooks-journal/journal/2026-09/earliest").status_code == 204
    assert call("GET", "/webhooks-journal/journal/2026-09/latest").status_code == 204


def test_a_users_uninstall_is_journaled_at_the_emulator_time_and_revokes_the_portals_tokens(
    base_url, admin, issue_token
):
    call = app_api(base_url)
    subscribe(call)
    tokens = issue_token(portal_id=PORTAL_US)
    admin("POST", "/clock", json={"freeze_at": "2026-10-01T09:30:00+00:00"})
    done = admin("POST", f"/portals/{PORTAL_US}/uninstall").json()
    assert done["journaled"] is True
    pointer = call("GET", "/webhooks-journal/journal/2026-09/earliest")
    assert pointer.status_code == 200
    meta = pointer.json()
    assert set(meta) == {"currentOffset", "expiresAt", "url"}
    page = requests.get(meta["url"], timeout=5)  # presigned: no Authorization header
    assert page.status_code == 200
    body = page.json()
    assert body["offset"] == meta["currentOffset"]
    (event,) = body["journalEvents"]
    assert (event["type"], event["action"], event["portalId"]) == ("app_lifecycle_event", "APP_UNINSTALL", PORTAL_US)
    assert datetime.fromisoformat(event["occurredAt"]) == datetime.fromisoformat("2026-10-01T09:30:00+00:00")
    assert event["eventTypeId"] == UNINSTALL
    assert set(event["properties"]) == {"hs_app_id", "hs_app_install_level", "hs_initiating_user_id", "hs_user_id"}
    refresh = requests.post(
        f"{base_url}/oauth/2026-09/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": HUBSPOT_CLIENT_ID,
            "client_secret": HUBSPOT_CLIENT_SECRET,
        },
        timeout=5,
    )
    assert refresh.status_code == 400
    assert (refresh.json()["error"], refresh.json()["status"]) == ("invalid_grant", "BAD_REFRESH_TOKEN")
    old = requests.get(
        f"{base_url}/account-info/v3/details", headers={"Authorization": f"Bearer {tokens['access_token']}"}, timeout=5
    )
    assert old.status_code == 401


def test_next_walks_the_journal_in_order_and_answers_204_at_the_end(base_url, admin, issue_token):
    call = app_api(base_url)
    subscribe(call)
    subscribe(call, INSTALL)
    issue_token(portal_id=PORTAL_UK)  # an install: APP_INSTALL
    admin("POST", f"/portals/{PORTAL_UK}/uninstall")
    admin("POST", f"/portals/{PORTAL_US}/uninstall")
    seen, pointer = [], call("GET", "/webhooks-journal/journal/2026-09/earliest").json()
    while True:
        events = requests.get(pointer["url"], timeout=5).json()["journalEvents"]
        seen += [(e["action"], e["portalId"]) for e in events]
        reply = call("GET", f"/webhooks-journal/journal/2026-09/offset/{pointer['currentOffset']}/next")
        if reply.status_code == 204:
            break
        pointer = reply.json()
    assert seen == [("APP_INSTALL", PORTAL_UK), ("APP_UNINSTALL", PORTAL_UK), ("APP_UNINSTALL", PORTAL_US)]
    latest = call("GET", "/webhooks-journal/journal/2026-09/latest").json()
    assert latest["currentOffset"] == pointer["currentOffset"]
    only_us = call("GET", f"/webhooks-journal/journal/2026-09/earliest?installPortalId={PORTAL_US}").json()
    assert requests.get(only_us["url"], timeout=5).json()["journalEvents"][0]["portalId"] == PORTAL_US
    unknown = call("GET", "/webhooks-journal/journal/2026-09/offset/not-an-offset/next")
    assert unknown.status_code == 404


def test_presigned_pages_refuse_an_auth_header_a_forged_signature_and_expiry(base_url, admin):
    call = app_api(base_url)
    subscribe(call)
    admin("POST", f"/portals/{PORTAL_US}/uninstall")
    url = call("GET", "/webhooks-journal/journal/2026-09/earliest").json()["url"]
    assert requests.get(url, headers={"Authorization": "Bearer x"}, timeout=5).status_code == 400
    assert requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=5).status_code == 403
    admin("POST", "/clock", json={"advance_seconds": 301})
    assert requests.get(url, timeout=5).status_code == 403


def test_entries_older_than_three_days_leave_the_journal(base_url, admin):
    call = app_api(base_url)
    subscribe(call)
    admin("POST", f"/portals/{PORTAL_US}/uninstall")
    first = call("GET", "/webhooks-journal/journal/2026-09/earliest").json()["currentOffset"]
    admin("POST", "/clock", json={"advance_seconds": 3 * 86400 + 1})
    call = app_api(base_url)  # the first token expired meanwhile
    assert call("GET", "/webhooks-journal/journal/2026-09/earliest").status_code == 204
    admin("POST", f"/portals/{PORTAL_UK}/uninstall")
    after_old = call("GET", f"/webhooks-journal/journal/2026-09/offset/{first}/next")
    assert after_old.status_code == 200  # an aged-out offset still has its place
    page = requests.get(after_old.json()["url"], timeout=5).json()
    assert page["journalEvents"][0]["portalId"] == PORTAL_UK


def test_journal_routes_refuse_portal_tokens_and_missing_tokens(base_url, api):
    assert requests.get(f"{base_url}/webhooks-journal/journal/2026-09/earliest", timeout=5).status_code == 401
    portal = api("GET", "/webhooks-journal/journal/2026-09/earliest")
    assert portal.status_code == 403 and portal.json()["category"] == "MISSING_SCOPES"


def test_the_uninstall_api_removes_the_install_with_the_portals_token(base_url, issue_token, api, admin):
    call = app_api(base_url)
    subscribe(call)
    assert requests.delete(f"{base_url}/appinstalls/2026-09/external-install", timeout=5).status_code == 401
    app_level = call("DELETE", "/appinstalls/2026-09/external-install")
    assert app_level.status_code == 401
    tokens = issue_token(portal_id=PORTAL_UK)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    gone = requests.delete(f"{base_url}/appinstalls/2026-09/external-install", headers=headers, timeout=5)
    assert gone.status_code == 204 and gone.content == b""
    again = requests.delete(f"{base_url}/appinstalls/2026-09/external-install", headers=headers, timeout=5)
    assert again.status_code == 401  # the token went with the install
    assert api("GET", "/account-info/v3/details").status_code == 200  # another portal is untouched
    events = [e for p in admin("GET", "/journal").json()["pages"] for e in p["journalEvents"]]
    assert [(e["action"], e["portalId"]) for e in events] == [("APP_UNINSTALL", PORTAL_UK)]
