"""The change pipeline: payments recorded in QBO reach the deal through webhook -> SQS -> worker.

A UK invoice of 1,250.00 GBP is linked to a new deal (through the invoicing feature's service), then
a partial and a full payment are recorded in QBO's "product UI". The deal's status moves from
"Waiting to be sent" to "Partial payment" to "Paid in full", and each payment appears once on the
deal's timeline (as a note: the local app has no timeline template configured). Then the CDC
catch-up finds a payment whose webhook QBO lost, and the overdue sweep runs.
"""

from __future__ import annotations

import uuid
from typing import Any

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.demo_steps.uk_company import REALM, UK, ensure_connected, invoice_line, qbo_ui

LABELS = {
    "waiting_to_be_sent": "Waiting to be sent",
    "sent_to_customer": "Sent to customer",
    "partial_payment": "Partial payment",
    "paid_in_full": "Paid in full",
    "overdue": "Overdue",
    "voided": "Voided",
}
STATE: dict[str, Any] = {}


def _hubspot(demo: Demo, path: str) -> dict[str, Any]:
    return requests.get(f"{demo.stack.urls['hubspot']}/_emulator/portals/{UK}/{path}", timeout=10).json()


def _deal(demo: Demo, deal_id: str) -> dict[str, str]:
    deal = next(d for d in _hubspot(demo, "objects/deals")["results"] if d["id"] == deal_id)
    return {k: v for k, v in deal["properties"].items() if k.startswith("hubqbo_")}


def _notes(demo: Demo, deal_id: str) -> list[str]:
    notes = _hubspot(demo, "objects/notes")["results"]
    return [n["properties"]["hs_note_body"] for n in notes if deal_id in n.get("associations", {}).get("deals", [])]


def _calls(demo: Demo) -> dict[str, int]:
    totals = {}
    for name in ("qbo", "hubspot"):
        calls = requests.get(demo.stack.urls[name] + "/_emulator/calls", timeout=10).json()["calls"]
        totals[name] = sum(v for k, v in calls.items() if not k.startswith(("POST oauth", "GET oauth")))
    return totals


def _clear_calls(demo: Demo) -> None:
    for name in ("qbo", "hubspot"):
        requests.delete(demo.stack.urls[name] + "/_emulator/calls", timeout=10)


def linked_invoice(demo: Demo) -> None:
    from hubqbo import wiring
    from hubqbo.services.invoice_links import link_invoices

    ensure_connected(demo)
    line = invoice_line("1250.00")
    invoice = qbo_ui(demo, "invoice", {"CustomerRef": {"value": "1"}, "Line": [line]})
    body = {"properties": {"dealname": f"Consulting retainer {uuid.uuid4().hex[:4]}", "deal_currency_code": "GBP",
                           "pipeline": "default", "dealstage": "contractsent"}}  # fmt: skip
    deal = requests.post(f"{demo.stack.urls['hubspot']}/_emulator/portals/{UK}/objects/deals", json=body, timeout=10)
    deal_id = deal.json()["id"]
    ports = wiring.invoice_ports()
    connection = ports.connections.get_connection(UK, REALM)
    assert connection is not None
    link_invoices(ports, UK, connection, [invoice], "deals", deal_id, source="attached")
    STATE.update(invoice=invoice, deal=deal_id)
    status = _deal(demo, deal_id)["hubqbo_invoice_status"]
    demo.say(f"QBO invoice {invoice['DocNumber']} (1,250.00 GBP) linked to deal {deal_id}: {LABELS[status]}")
    check(status == "waiting_to_be_sent", f"the new invoice shows {status}")


def _pay_and_watch(demo: Demo, amount: str | None, expected: str, notes: int) -> None:
    invoice, deal = STATE["invoice"], STATE["deal"]
    _clear_calls(demo)
    payment = qbo_ui(demo, f"invoice/{invoice['Id']}/payment", {"amount": amount} if amount else {})
    demo.say(f"in QBO, a user records a payment of {payment['TotalAmt']} GBP (payment {payment['Id']})")
    demo.wait_for(LABELS[expected], lambda: _deal(demo, deal).get("hubqbo_invoice_status") == expected)
    found = demo.wait_for("the timeline entry", lambda: len(_notes(demo, deal)) >= notes and _notes(demo, deal))
    props = _deal(demo, deal)
    demo.say(
        f"webhook -> SQS -> worker: deal {deal} now '{LABELS[props['hubqbo_invoice_status']]}', "
        f"balance {props['hubqbo_invoice_balance']}, last payment {props['hubqbo_last_payment_date']}"
    )
    demo.say(f"timeline: {found[-1] if len(found) == 1 else sorted(found)[-1]}")
    calls = _calls(demo)
    demo.say(f"API calls for this payment: QBO {calls['qbo']}, HubSpot {calls['hubspot']}")
    check(len(found) == notes, f"the deal has {len(found)} payment notes, expected {notes}")


def partial_payment(demo: Demo) -> None:
    _pay_and_watch(demo, "500.00", "partial_payment", 1)


def full_payment(demo: Demo) -> None:
    _pay_and_watch(demo, None, "paid_in_full", 2)
    for text in _notes(demo, STATE["deal"]):
        demo.say(f"  note on the deal: {text.removeprefix('<p>').removesuffix('</p>')}")


def lost_webhook_caught_up(demo: Demo) -> None:
    qbo = demo.stack.urls["qbo"]
    ensure_connected(demo)
    line = invoice_line("80.00")
    invoice = qbo_ui(demo, "invoice", {"CustomerRef": {"value": "1"}, "Line": [line]})
    requests.post(qbo + "/_emulator/qbo/webhooks/flush", timeout=10)
    requests.post(qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
    try:
        payment = qbo_ui(demo, f"invoice/{invoice['Id']}/payment", {})
        demo.say(
            f"QBO's webhooks are off (lost): payment {payment['Id']} for invoice {invoice['DocNumber']} sends none"
        )
        fired = requests.post(f"{demo.gateway}/_local/schedules/CdcCatchUp", timeout=60).json()["result"]
        demo.say(f"CDC catch-up: {fired['status']}, queued {fired['detail'].get('queued')} change(s)")
        check(fired["status"] in ("done", "busy"), "the catch-up did not run")

        def logged() -> list[dict[str, Any]]:
            return [
                e
                for e in demo.sync_log(f"portal:{UK}")
                if e.get("entity") == "Payment" and e.get("qbo_id") == payment["Id"] and e.get("source") == "cdc"
            ]

        entry = demo.wait_for("the caught-up payment in the sync log", logged)[0]
        demo.say(f"sync log: {entry['outcome']} {entry['entity']} {entry['qbo_id']} via cdc ({entry['reason'][:90]})")
    finally:
        requests.post(qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)


def overdue_sweep(demo: Demo) -> None:
    fired = requests.post(f"{demo.gateway}/_local/schedules/OverdueSweep", timeout=60).json()["result"]
    detail = fired["detail"]
    demo.say(
        f"overdue sweep: {detail.get('swept', 0)} compan(ies) swept today, "
        f"{detail.get('already_swept', 0)} already swept, "
        f"{detail.get('invoices_queued', 0)} past-due invoice(s) queued for a re-check"
    )
    again = requests.post(f"{demo.gateway}/_local/schedules/OverdueSweep", timeout=60).json()["result"]["detail"]
    demo.say(f"run again the same day: {again.get('swept', 0)} swept (once per local day)")
    check(again.get("swept", 0) == 0, "the sweep ran twice on one day")


STEPS: list[Step] = [
    ("Pipeline: a QBO invoice linked to a new deal", linked_invoice),
    ("Pipeline: a partial payment in QBO reaches the deal and its timeline", partial_payment),
    ("Pipeline: the full payment marks it paid in full", full_payment),
    ("Pipeline: CDC catch-up finds a payment whose webhook was lost", lost_webhook_caught_up),
    ("Pipeline: the overdue sweep runs once per local day", overdue_sweep),
]
