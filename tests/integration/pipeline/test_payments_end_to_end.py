"""A payment made in QBO reaches the HubSpot deal through the real path: QBO's signed webhook →
gateway → intake → SQS → worker → QBO read → HubSpot (properties, and a note or timeline event)."""

from __future__ import annotations

import requests

from tests.integration.pipeline.conftest import REALM_UK, UK, wait_for


def test_partial_then_full_payment_move_the_deal_and_appear_once_each_on_its_timeline(pipe):
    invoice, deal = pipe.linked_deal(amount="1250.00")
    number = invoice["DocNumber"]
    assert pipe.status(UK, deal) == "waiting_to_be_sent"

    pipe.pay(REALM_UK, invoice["Id"], "500.00")
    wait_for("partial payment on the deal", lambda: pipe.status(UK, deal) == "partial_payment")
    notes = wait_for("the payment note", lambda: pipe.deal_notes(UK, deal))
    assert notes == [f"<p>Payment of 500.00 GBP received for invoice {number}, balance 750.00</p>"]
    props = pipe.deal_properties(UK, deal)
    assert props["hubqbo_invoice_balance"] == "750.00"
    assert props["hubqbo_last_payment_date"]

    pipe.pay(REALM_UK, invoice["Id"])  # the rest
    wait_for("paid in full", lambda: pipe.status(UK, deal) == "paid_in_full")
    notes = wait_for("the second note", lambda: len(pipe.deal_notes(UK, deal)) == 2 and pipe.deal_notes(UK, deal))
    assert f"<p>Payment of 750.00 GBP received for invoice {number}, balance 0.00</p>" in notes
    applied = [e for e in pipe.sync_log(UK) if e["entity"] == "Payment" and e["hubspot_id"] == deal]
    assert {e["outcome"] for e in applied} == {"applied"}


def test_payment_becomes_an_app_timeline_event_when_the_app_has_a_template(pipe):
    template = {
        "id": "9001",
        "name": "QuickBooks payment",
        "objectType": "deals",
        "tokens": [
            {"name": n, "label": n, "type": "string"}
            for n in ("message", "action", "amount", "currency", "invoice_number", "balance")
        ],
    }
    requests.put(
        pipe.hubspot + "/_emulator/app", json={"timeline_event_templates": [template]}, timeout=10
    ).raise_for_status()
    pipe.set_env(PAYMENT_TIMELINE_TEMPLATE_ID="9001")
    try:
        invoice, deal = pipe.linked_deal(amount="1250.00")
        pipe.pay(REALM_UK, invoice["Id"])
        event = wait_for(
            "the timeline event",
            lambda: next((e for e in pipe.timeline_events(UK) if e["objectId"] == deal), None),
        )
        assert event["eventTemplateId"] == "9001"
        assert (
            event["tokens"]["message"]
            == f"Payment of 1,250.00 GBP received for invoice {invoice['DocNumber']}, balance 0.00"
        )
        assert event["tokens"]["action"] == "received"
        assert pipe.deal_notes(UK, deal) == []  # an event instead of a note, not both
        wait_for("paid in full", lambda: pipe.status(UK, deal) == "paid_in_full")
    finally:
        pipe.set_env(PAYMENT_TIMELINE_TEMPLATE_ID="")


def test_voided_payment_puts_the_balance_back_and_says_so(pipe):
    invoice, deal = pipe.linked_deal(amount="300.00")
    payment = pipe.pay(REALM_UK, invoice["Id"])
    wait_for("paid in full", lambda: pipe.status(UK, deal) == "paid_in_full")
    wait_for("the receipt note", lambda: pipe.deal_notes(UK, deal))
    pipe.qbo_ui(REALM_UK, f"payment/{payment['Id']}/void")
    wait_for("the balance back", lambda: pipe.status(UK, deal) == "waiting_to_be_sent")
    notes = wait_for("the reversal note", lambda: len(pipe.deal_notes(UK, deal)) == 2 and pipe.deal_notes(UK, deal))
    assert f"<p>Payment of 300.00 GBP for invoice {invoice['DocNumber']} was voided, balance 300.00</p>" in notes


def test_deleted_payment_is_reversed_from_what_was_seen_before(pipe):
    invoice, deal = pipe.linked_deal(amount="200.00")
    payment = pipe.pay(REALM_UK, invoice["Id"], "50.00")
    wait_for("partial", lambda: pipe.status(UK, deal) == "partial_payment")
    wait_for("the receipt note", lambda: pipe.deal_notes(UK, deal))  # the payment was seen: we know its invoice
    pipe.qbo_ui(REALM_UK, f"payment/{payment['Id']}/delete")
    wait_for("the balance back", lambda: pipe.status(UK, deal) == "waiting_to_be_sent")
    notes = wait_for("the reversal note", lambda: len(pipe.deal_notes(UK, deal)) == 2 and pipe.deal_notes(UK, deal))
    assert f"<p>Payment of 50.00 GBP for invoice {invoice['DocNumber']} was deleted, balance 200.00</p>" in notes
