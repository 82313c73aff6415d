"""Account info, users, owners, timeline events; rate limits and injected faults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from infra.local.emulators.demo_accounts import PORTAL_UK, PORTAL_US, SALES_USER_EMAIL, SUPER_ADMIN_EMAIL

from .conftest import Api


def test_account_details_per_portal(api, base_url, issue_token, validate_response):
    us = api("GET", "/account-info/v3/details")
    validate_response("account-info-v3", us)
    assert us.json()["portalId"] == PORTAL_US
    assert us.json()["companyCurrency"] == "USD" and us.json()["timeZone"] == "America/New_York"
    assert us.json()["utcOffset"] in {"-05:00", "-04:00"}
    uk = Api(base_url, issue_token(portal_id=PORTAL_UK)["access_token"])("GET", "/account-info/v3/details").json()
    assert (uk["portalId"], uk["companyCurrency"], uk["timeZone"], uk["dataHostingLocation"]) == (
        PORTAL_UK,
        "GBP",
        "Europe/London",
        "eu1",
    )


def test_users_show_who_is_super_admin(api):
    users = {u["email"]: u for u in api("GET", "/settings/v3/users/").json()["results"]}
    assert users[SUPER_ADMIN_EMAIL]["superAdmin"] is True
    assert users[SALES_USER_EMAIL]["superAdmin"] is False
    roles = {r["id"]: r["name"] for r in api("GET", "/settings/v3/users/roles").json()["results"]}
    assert "App Marketplace" in roles[users[SALES_USER_EMAIL]["roleIds"][0]]
    by_email = api("GET", f"/settings/v3/users/{SALES_USER_EMAIL}", params={"idProperty": "EMAIL"})
    assert by_email.json()["id"] == users[SALES_USER_EMAIL]["id"]


def test_owners_can_be_assigned_to_tasks(api):
    owners = api("GET", "/crm/v3/owners/").json()["results"]
    rep = next(o for o in owners if o["email"] == SALES_USER_EMAIL)
    assert api("GET", f"/crm/v3/owners/{rep['id']}").json()["userId"] == rep["userId"]
    task = api(
        "POST",
        "/crm/v3/objects/tasks",
        json={"properties": {"hs_task_subject": "Fix sync", "hubspot_owner_id": rep["id"]}},
    )
    assert task.status_code == 201


def test_timeline_events_need_a_configured_template(api, admin, seeded, validate_body):
    deal_id = seeded["ids"]["deals"]["website_redesign"]
    event = {"eventTemplateId": "1001", "objectId": deal_id, "tokens": {"invoiceNumber": "1037"}}
    assert api("POST", "/crm/v3/timeline/events", json=event).status_code == 404
    template = {
        "id": "1001",
        "name": "Invoice created",
        "objectType": "deals",
        "tokens": [{"name": "invoiceNumber", "label": "Invoice", "type": "string"}],
    }
    admin("PUT", "/app", json={"timeline_event_templates": [template]})
    created = api("POST", "/integrators/timeline/v3/events", json=event)
    assert created.status_code == 201
    validate_body("timeline-v3", "TimelineEventResponse", created.json())
    read = api("GET", f"/crm/v3/timeline/events/1001/{created.json()['id']}")
    assert read.json()["tokens"] == {"invoiceNumber": "1037"}
    bad_token = api("POST", "/crm/v3/timeline/events", json={**event, "tokens": {"nope": "x"}})
    assert bad_token.status_code == 400
    assert len(admin("GET", f"/portals/{PORTAL_US}/timeline-events").json()["results"]) == 1


# -- rate limits ------------------------------------------------------------------------------------


def _freeze(admin):
    admin("POST", "/clock", json={"freeze_at": datetime.now(UTC).isoformat()})


def test_burst_limit_is_110_per_10_seconds_with_headers_and_hubspot_body(api, admin, validate_response):
    _freeze(admin)
    first = api("GET", "/crm/v3/objects/contacts")
    assert first.headers["X-HubSpot-RateLimit-Max"] == "110"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Remaining"] == "109"
    for _ in range(109):
        assert api("GET", "/crm/v3/objects/contacts").status_code == 200
    limited = api("GET", "/crm/v3/objects/contacts")
    assert limited.status_code == 429
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    body = limited.json()
    assert (body["policyName"], body["errorType"], body["status"]) == ("TEN_SECONDLY_ROLLING", "RATE_LIMIT", "error")
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    validate_response("contacts-v3", limited)
    admin("POST", "/clock", json={"advance_seconds": 10})
    assert api("GET", "/crm/v3/objects/contacts").status_code == 200


def test_limits_are_per_portal(api, admin, base_url, issue_token):
    _freeze(admin)
    admin("POST", "/rate-limits", json={"burst": 3})
    for _ in range(3):
        api("GET", "/crm/v3/objects/contacts")
    assert api("GET", "/crm/v3/objects/contacts").status_code == 429
    uk = Api(base_url, issue_token(portal_id=PORTAL_UK)["access_token"])
    assert uk("GET", "/crm/v3/objects/contacts").status_code == 200


def test_admin_can_turn_limits_off(api, admin):
    _freeze(admin)
    admin("POST", "/rate-limits", json={"enabled": False})
    assert all(api("GET", "/crm/v3/objects/contacts").status_code == 200 for _ in range(120))
    assert admin("GET", "/rate-limits").json()["enabled"] is False


# -- faults -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "status"), [("429", 429), ("500", 500), ("503", 503)])
def test_injected_status_faults_hit_the_next_matching_call_only(api, admin, kind, status, validate_response):
    assert admin("POST", "/faults", json={"path": "^/crm/v3/objects/deals", "kind": kind}).status_code == 201
    faulty = api("GET", "/crm/v3/objects/deals")
    assert faulty.status_code == status
    assert faulty.json()["status"] == "error"
    validate_response("contacts-v3", faulty, path="/crm/v3/objects/contacts")
    if kind == "429":
        assert faulty.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert api("GET", "/crm/v3/objects/deals").status_code == 200


def test_injected_timeout_outlasts_the_client_timeout(api, admin):
    admin("POST", "/faults", json={"path": "/crm/v3/objects/products", "kind": "timeout", "delay_seconds": 0.6})
    with pytest.raises(requests.Timeout):
        api("GET", "/crm/v3/objects/products", timeout=0.2)


def test_injected_malformed_body_is_not_json(api, admin):
    admin("POST", "/faults", json={"path": "/account-info", "kind": "malformed", "method": "GET"})
    reply = api("GET", "/account-info/v3/details")
    assert reply.status_code == 200
    with pytest.raises(ValueError):
        reply.json()


def test_calls_are_counted_per_endpoint(api, admin):
    admin("DELETE", "/calls")
    api("GET", "/crm/v3/objects/contacts")
    api("POST", "/crm/v3/objects/contacts/search", json={})
    calls = admin("GET", "/calls").json()["calls"]
    assert calls == {"GET crm_list": 1, "POST crm_search": 1}
