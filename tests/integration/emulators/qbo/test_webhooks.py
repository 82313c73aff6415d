"""Webhook delivery: signed, batched, both formats, UI changes, retries on the emulator clock."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.qbo import QboEmulator

US = demo_accounts.REALM_US.realm_id


def signature_ok(request: dict) -> bool:
    digest = hmac.new(demo_accounts.QBO_WEBHOOK_VERIFIER_TOKEN.encode(), request["body"], hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), request["headers"]["intuit-signature"])


def rename(api, display_name: str, notes: str) -> dict:
    customer = api.rows(f"SELECT * FROM Customer WHERE DisplayName = '{display_name}'")[0]  # noqa: S608
    body = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": notes}
    return api.post("/customer", body).json()["Customer"]


def test_api_changes_are_batched_signed_cloudevents(us, admin, receiver):
    first = rename(us, "Melton Johnson", "a")
    rename(us, "Dylan Sollfrank", "b")
    assert receiver.received == []  # nothing leaves until a flush
    admin.post("/qbo/webhooks/flush")
    assert len(receiver.received) == 1
    request = receiver.received[0]
    assert signature_ok(request)
    assert request["headers"]["content-type"] == "application/cloudevents+json"
    events = receiver.bodies()[0]
    assert [e["type"] for e in events] == ["qbo.customer.updated.v1"] * 2
    assert events[0]["intuitentityid"] == first["Id"] and events[0]["intuitaccountid"] == US
    assert events[0]["specversion"] == "1.0" and events[0]["id"] != events[1]["id"]


def test_legacy_format_groups_entities_per_realm(us, admin, receiver):
    admin.post("/qbo/webhooks", {"format": "legacy"})
    rename(us, "Melton Johnson", "a")
    admin.post("/qbo/webhooks/flush")
    body = receiver.bodies()[0]
    note = body["eventNotifications"][0]
    assert note["realmId"] == US
    entity = note["dataChangeEvent"]["entities"][0]
    assert (entity["name"], entity["operation"]) == ("Customer", "Update")
    assert entity["lastUpdated"].endswith("Z")
    assert signature_ok(receiver.received[0])


def test_ui_payment_fires_payment_create_and_invoice_update(us, admin, receiver):
    invoice = us.rows("SELECT * FROM Invoice WHERE Balance > '0' ORDERBY Id")[0]
    admin.post(f"/qbo/{US}/ui/invoice/{invoice['Id']}/payment", {"amount": "5.00"})
    admin.post("/qbo/webhooks/flush")
    types = {(e["type"], e["intuitentityid"]) for e in receiver.bodies()[0]}
    assert ("qbo.invoice.updated.v1", invoice["Id"]) in types
    assert any(t == "qbo.payment.created.v1" for t, _ in types)


def test_ui_edits_void_send_and_inactivate_fire_webhooks(us, admin, receiver):
    customer = admin.post(f"/qbo/{US}/ui/customer", {"DisplayName": "Walk-in Customer"})
    admin.post(f"/qbo/{US}/ui/customer", {"Id": customer["Id"], "Notes": "edited in the UI"})
    admin.post(f"/qbo/{US}/ui/customer/{customer['Id']}/inactivate")
    admin.post(f"/qbo/{US}/ui/invoice/1/send", {"to": "x@example.com"})
    admin.post(f"/qbo/{US}/ui/invoice/1/void")
    admin.post("/qbo/webhooks/flush")
    types = [e["type"] for e in receiver.bodies()[0]]
    assert types == [
        "qbo.customer.created.v1",
        "qbo.customer.updated.v1",
        "qbo.customer.updated.v1",
        "qbo.invoice.emailed.v1",
        "qbo.invoice.voided.v1",
    ]
    assert us.get(f"/customer/{customer['Id']}").json()["Customer"]["Active"] is False


def test_failed_delivery_is_retried_when_the_clock_reaches_the_retry_time(us, admin, receiver):
    receiver.statuses = [500, 503]
    rename(us, "Melton Johnson", "a")
    admin.post("/qbo/webhooks/flush")
    rename(us, "Dylan Sollfrank", "b")
    admin.post("/qbo/webhooks/flush")  # queued behind the failing delivery, in order
    assert len(receiver.received) == 1
    admin.advance(9)
    assert len(receiver.received) == 1
    admin.advance(1)  # 10 s after the first failure
    assert len(receiver.received) == 2
    admin.advance(20)  # 20 s after the second failure: delivered, then the next one follows
    assert len(receiver.received) == 4
    bodies = receiver.bodies()
    assert bodies[0] == bodies[1] == bodies[2]  # same events, same ids on every retry
    deliveries = admin.get("/qbo/webhooks")["deliveries"]
    assert [d["delivered"] for d in deliveries] == [True, True]
    assert [a["status"] for a in deliveries[0]["attempts"]] == [500, 503, 200]


def test_disabled_webhooks_lose_changes(us, admin, receiver):
    admin.post("/qbo/webhooks", {"enabled": False})
    rename(us, "Melton Johnson", "a")
    admin.post("/qbo/webhooks", {"enabled": True})
    admin.post("/qbo/webhooks/flush")
    assert receiver.received == []
    assert admin.get("/qbo/webhooks")["dropped"] == 1


def test_pending_changes_are_listed_before_flush(us, admin, receiver):
    rename(us, "Melton Johnson", "a")
    pending = admin.get("/qbo/webhooks")["pending"]
    assert [(p["entity"], p["operation"]) for p in pending] == [("Customer", "Update")]


def test_tax_codes_and_seeding_fire_no_webhooks(us, admin, receiver):
    admin.post("/seed")
    admin.post("/qbo/webhooks/flush")
    assert receiver.received == []


def test_background_timer_delivers_without_a_flush(receiver):
    """The local stack runs the emulator with `webhook_interval`: deliveries go out on their own."""
    qbo = QboEmulator(webhook_interval=0.05)
    base = qbo.start(port=0)
    try:
        requests.post(f"{base}/_emulator/qbo/webhooks", json={"url": receiver.url}, timeout=10)
        requests.post(f"{base}/_emulator/qbo/{US}/ui/customer", json={"DisplayName": "Timer Test"}, timeout=10)
        deadline = time.monotonic() + 5
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.bodies()[0][0]["type"] == "qbo.customer.created.v1"
    finally:
        qbo.stop()


def test_seed_summary_names_every_demo_realm_with_counts(admin):
    summary = admin.post("/seed")["realms"]
    assert [r["realm_id"] for r in summary] == [r.realm_id for r in demo_accounts.REALMS]
    assert all(r["name"] and r["counts"]["Customer"] > 0 and r["counts"]["Invoice"] == 4 for r in summary)
    assert [r["sandbox"] for r in summary] == [r.sandbox for r in demo_accounts.REALMS]
