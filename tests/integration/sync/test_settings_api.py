"""The settings API through the local gateway: who may call it, bad input, mapping rules, custom
invoice properties, and the iframe page's session."""

from __future__ import annotations

import time
import uuid

import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request
from tests.integration.sync.conftest import REALM, REALM_UK, UK, US

TAB = f"/settings/companies/{REALM}/tabs/contacts"


def test_unsigned_forged_and_stale_requests_are_refused(sync):
    url = f"{sync.gateway}{TAB}?portalId={US}&userId=5000001"
    assert requests.get(url, timeout=10).status_code == 401
    forged = sign_request("GET", url, b"", "not-the-secret")
    assert requests.get(url, headers=forged, timeout=10).status_code == 401
    stale = sign_request(
        "GET", url, b"", demo_accounts.HUBSPOT_CLIENT_SECRET, timestamp_ms=int(time.time() * 1000) - 301_000
    )
    assert requests.get(url, headers=stale, timeout=10).status_code == 401
    body = b'{"enabled":true}'
    signed_other_body = sign_request("PUT", url, b'{"enabled":false}', demo_accounts.HUBSPOT_CLIENT_SECRET)
    assert requests.put(url, data=body, headers=signed_other_body, timeout=10).status_code == 401
    assert requests.get(f"{sync.gateway}/settings/page?session=forged.token", timeout=10).status_code == 401


def test_another_portals_company_is_not_found(sync):
    assert sync.api("GET", TAB, portal_id=UK).status_code == 404
    assert sync.api("PUT", TAB, {"enabled": True}, portal_id=UK).status_code == 404
    assert sync.api("GET", f"/settings/companies/{REALM_UK}/tabs/contacts").status_code == 404
    assert sync.api("GET", f"/settings/companies/{REALM}/tabs/deals").status_code == 404
    assert sync.tab("contacts")["realm_id"] == REALM


def test_malformed_and_invalid_bodies_are_refused_with_the_reason(sync):
    url = f"{sync.gateway}{TAB}?portalId={US}&userId=5000001"
    raw = b"{not json"
    reply = requests.put(
        url, data=raw, headers=sign_request("PUT", url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET), timeout=10
    )
    assert reply.status_code == 400 and "not JSON" in reply.json()["message"]
    reply = sync.api("PUT", TAB, {"on_change": "delete_everything"})
    assert reply.status_code == 400 and "on_change" in reply.json()["message"]
    reply = sync.api("PUT", TAB, {"enabled": True, "surprise": 1})
    assert reply.status_code == 400
    reply = sync.api("POST", f"{TAB}/backfill", {"action": "explode"})
    assert reply.status_code == 400


def test_toggles_and_options_are_saved_per_company_and_tab(sync):
    sync.reset_tab("contacts")
    view = sync.set_tab("contacts", enabled=True, on_change="update_only", on_delete="archive")
    assert (view["enabled"], view["on_change"], view["on_delete"]) == (True, "update_only", "archive")
    assert sync.tab("products")["enabled"] is False
    stale = sync.api("PUT", TAB, {"enabled": False, "version": view["version"] - 1})
    assert stale.status_code == 409
    sync.reset_tab("contacts")


def test_incompatible_mappings_are_refused_with_a_message_that_says_why(sync):
    sync.reset_tab("contacts")
    cases = [
        ({"hubspot_property": "jobtitle", "qbo_field": "Balance"}, "numbers can only feed number properties"),
        ({"hubspot_property": "jobtitle", "qbo_field": "CompanyName"}, "may feed one HubSpot property at most"),
        ({"hubspot_property": "email", "qbo_field": "Notes"}, "already mapped"),
        ({"hubspot_property": "lifecyclestage", "qbo_field": "Balance"}, "choice from a list"),
        ({"hubspot_property": "lifecyclestage", "qbo_field": "Taxable", "value_map": {"true": "vip"}}, "not an option"),
        ({"hubspot_property": "hs_object_id", "qbo_field": "Balance"}, "HubSpot calculates"),
        ({"hubspot_property": "hubqbo_qbo_customer_id", "qbo_field": "Notes"}, "link ids"),
        ({"hubspot_property": "no_such_property", "qbo_field": "Notes"}, "has no contact property"),
        ({"hubspot_property": "jobtitle", "qbo_field": "Password"}, "no field"),
    ]
    for body, why in cases:
        reply = sync.api("POST", f"{TAB}/mappings", body)
        assert reply.status_code == 400, (body, reply.text)
        assert why in reply.json()["message"], (body, reply.json())
    assert not sync.tab("contacts")["customized"]


def test_mappings_can_be_added_edited_deleted_and_restored(sync):
    sync.reset_tab("contacts")
    added = sync.api("POST", f"{TAB}/mappings", {"hubspot_property": "jobtitle", "qbo_field": "Title"})
    assert added.status_code == 201
    assert any(m["hubspot_property"] == "jobtitle" for m in added.json()["mappings"])
    edited = sync.api("PUT", f"{TAB}/mappings/jobtitle", {"hubspot_property": "jobtitle", "qbo_field": "Notes"})
    assert edited.status_code == 200
    assert next(m for m in edited.json()["mappings"] if m["hubspot_property"] == "jobtitle")["qbo_field"] == "Notes"
    assert (
        sync.api("PUT", f"{TAB}/mappings/missing", {"hubspot_property": "jobtitle", "qbo_field": "Notes"}).status_code
        == 404
    )
    deleted = sync.api("DELETE", f"{TAB}/mappings/phone")
    assert deleted.status_code == 200
    assert [m for m in deleted.json()["mappings"] if m["hubspot_property"] == "phone"] == []
    restored = sync.api("POST", f"{TAB}/defaults").json()
    assert not restored["customized"] and any(m["hubspot_property"] == "phone" for m in restored["mappings"])


def test_field_lists_come_live_from_hubspot_and_from_the_qbo_catalogue(sync):
    fields = sync.api("GET", f"{TAB}/fields").json()
    names = {p["name"]: p for p in fields["hubspot"]}
    assert names["email"]["kind"] == "text" and names["email"]["writable"]
    assert not names["hs_object_id"]["writable"]
    assert "hubqbo_qbo_customer_id" not in names
    qbo = {f["path"]: f for f in fields["qbo"]}
    assert qbo["Balance"]["kind"] == "number" and qbo["@FirstName"]["derived"]


def test_a_custom_invoice_property_is_created_and_can_be_mapped(sync):
    label = f"PO ref {uuid.uuid4().hex[:5]}"
    created = sync.api("POST", f"/settings/companies/{REALM}/invoice-properties", {"label": label, "type": "text"})
    assert created.status_code == 201, created.text
    name = created.json()["name"]
    again = sync.api("POST", f"/settings/companies/{REALM}/invoice-properties", {"label": label, "type": "text"})
    assert again.status_code == 409
    assert (
        sync.api("POST", f"/settings/companies/{REALM}/invoice-properties", {"label": "", "type": "text"}).status_code
        == 400
    )
    mapped = sync.api(
        "POST",
        f"/settings/companies/{REALM}/tabs/invoices/mappings",
        {"hubspot_property": name, "qbo_field": "TrackingNum"},
    )
    assert mapped.status_code == 201, mapped.text
    sync.reset_tab("invoices")


def test_the_settings_page_opens_with_a_session_from_a_signed_call(sync):
    answer = sync.api("GET", "/settings/session").json()
    assert answer["url"].startswith(f"{sync.gateway}/settings/page?session=")
    page = requests.get(answer["url"], timeout=20)
    assert page.status_code == 200 and 'id="sync-enabled"' in page.text
    assert page.headers["Cache-Control"] == "no-store"
    with_session = requests.get(f"{sync.gateway}{TAB}", params={"session": answer["session"]}, timeout=10)
    assert with_session.status_code == 200 and with_session.json()["realm_id"] == REALM
    polish = requests.get(answer["url"] + "&userLocale=pl-pl", timeout=20)
    assert "Synchronizuj istniejące rekordy" in polish.text


def test_dead_letters_of_this_portal_can_be_replayed_and_a_stranger_is_refused(sync):
    from hubqbo.messages import SyncBackfillMessage

    url = f"{sync.gateway}/settings/dead-letters/replay"
    assert requests.post(url, json={}, timeout=10).status_code == 401
    assert sync.api("POST", "/settings/dead-letters/replay", {"limit": 0}).status_code == 400
    sqs, dlq = sync.stack.client("sqs"), sync.stack.physical("SyncDeadLetterQueue")
    for portal in (US, UK):
        dead = SyncBackfillMessage(
            portal_id=portal, realm_id=REALM, tab="contacts", run_id="gone", mode="run", chunk=0, start=1, size=5
        )
        sqs.send_message(QueueUrl=dlq, MessageBody=dead.model_dump_json())
    sqs.send_message(QueueUrl=dlq, MessageBody="not a message anyone can read")
    preview = sync.api("POST", "/settings/dead-letters/replay", {"dry_run": True}).json()
    # Only this portal's own count: nothing about other portals' (or unreadable, portal-less) dead letters.
    assert preview == {"replayed": 1, "dry_run": True}
    done = sync.api("POST", "/settings/dead-letters/replay", {}).json()
    assert done == {"replayed": 1, "dry_run": False}
    left = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    readable = [m["Body"] for m in left if m["Body"].startswith("{")]
    assert [SyncBackfillMessage.model_validate_json(b).portal_id for b in readable] == [UK]
    assert len(left) == 2  # UK's message and the unreadable one stay for the ops CLI
    for message in left:
        sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])


def test_a_signed_state_changing_request_is_refused_when_replayed_within_the_signature_window(sync):
    """HubSpot's signature verifies for five minutes: the same signed write is taken once per portal."""
    routes = [
        ("PUT", TAB, b'{"enabled":false}'),
        ("POST", f"{TAB}/defaults", b""),
        ("POST", "/settings/dead-letters/replay", b'{"dry_run":true}'),
        ("POST", f"/settings/companies/{REALM}/tabs/contacts/backfill", b'{"action":"preview"}'),
        ("POST", "/oauth/qbo/connections/12345/disconnect", b""),
    ]
    for method, path, raw in routes:
        url = f"{sync.gateway}{path}?portalId={US}&userId=5000001"
        headers = {
            "Content-Type": "application/json",
            **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
        }
        first = requests.request(method, url, data=raw or None, headers=headers, timeout=30)
        assert first.status_code < 500 and first.status_code != 401, (path, first.text)
        again = requests.request(method, url, data=raw or None, headers=headers, timeout=30)
        assert again.status_code == 401, (path, again.text)
        assert "already used" in again.json()["message"]
    # A read may be repeated (nothing changes), and the same write signed anew is accepted.
    url = f"{sync.gateway}{TAB}?portalId={US}&userId=5000001"
    read = sign_request("GET", url, b"", demo_accounts.HUBSPOT_CLIENT_SECRET)
    assert [requests.get(url, headers=read, timeout=10).status_code for _ in range(2)] == [200, 200]
    assert sync.api("PUT", TAB, {"enabled": False}).status_code == 200
