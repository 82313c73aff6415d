"""The "Create QuickBooks invoice" workflow action, run by the emulated HubSpot workflow engine: signed
execution requests to our action URL, outputs for later steps, reasons in the workflow history, retries."""

from __future__ import annotations

from decimal import Decimal

import requests

from infra.local.emulators.hubspot.signing import signed_post
from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US

ACTION = "hubqbo_create_invoice"


def _execute(inv, portal: int, deal: str, attempts: int = 3, **inputs) -> dict:
    inputs = {"source": "line_items", "send": "draft", **inputs}
    body = {"objectType": "deals", "objectId": deal, "inputFields": inputs, "attempts": attempts}
    reply = requests.post(
        f"{inv.hubspot}/_emulator/portals/{portal}/workflows/actions/{ACTION}/execute", json=body, timeout=60
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _deal_with_lines(inv, name: str, *lines: tuple[str, str, str]) -> str:
    """A US deal of John Melton's with line items (name, sku, price) of the seeded HubSpot products."""
    contacts = inv.hubspot_objects(US, "contacts")
    john = next(i for i, c in contacts.items() if c["properties"]["email"] == "john@meltonjohnson.example")
    deal = inv.new_deal(US, name, "USD", john, None)
    for line_name, sku, price in lines:
        props = {"name": line_name, "hs_sku": sku, "quantity": "2", "price": price}
        inv.hubspot_create(US, "line_items", props, [("deals", deal)])
    return deal


def _sync_log(portal: int, deal: str) -> list[dict]:
    from hubqbo import wiring

    entries = wiring.sync_log().recent(f"portal:{portal}")
    return [e.model_dump(mode="json") for e in entries if e.hubspot_id == deal and e.source == "workflow"]


def test_a_workflow_creates_the_invoice_once_and_returns_its_number_status_and_amount(inv):
    deal = _deal_with_lines(inv, "Workflow pumps", ("Pump", "PUMP-001", "15.00"))
    before = set(inv.qbo_invoices(REALM_US))
    first = _execute(inv, US, deal, realm_id=REALM_US, terms="Net 30", message="Thanks!")
    assert first["state"] == "SUCCESS", first["attempts"]
    out = first["output_fields"]
    assert out["invoice_status"] == "waiting_to_be_sent" and Decimal(out["invoice_amount"]) == Decimal("30.00")
    assert out["invoice_currency"] == "USD" and out["error_code"] == ""
    (new_id,) = set(inv.qbo_invoices(REALM_US)) - before
    stored = inv.qbo_invoices(REALM_US)[new_id]
    assert stored["DocNumber"] == out["invoice_number"] and stored["CustomerMemo"] == {"value": "Thanks!"}
    assert stored["SalesTermRef"]["value"] == "3"  # Net 30
    assert inv.deal_properties(US, deal)["hubqbo_invoice_number"] == out["invoice_number"]

    again = _execute(inv, US, deal, realm_id=REALM_US, terms="Net 30", message="Thanks!")
    assert again["state"] == "SUCCESS" and again["output_fields"]["invoice_number"] == out["invoice_number"]
    assert set(inv.qbo_invoices(REALM_US)) - before == {new_id}  # the second run created nothing
    assert [e["outcome"] for e in _sync_log(US, deal)] == ["applied"]


def test_send_now_emails_it_from_quickbooks(inv):
    deal = _deal_with_lines(inv, "Workflow send", ("Design", "DESIGN-001", "75.00"))
    run = _execute(inv, US, deal, realm_id=REALM_US, send="send")
    assert run["state"] == "SUCCESS" and run["output_fields"]["invoice_status"] == "sent_to_customer"
    number = run["output_fields"]["invoice_number"]
    stored = next(i for i in inv.qbo_invoices(REALM_US).values() if i["DocNumber"] == number)
    assert stored["EmailStatus"] == "EmailSent"


def test_a_deal_that_cannot_be_invoiced_fails_the_action_with_a_reason_in_history_and_log(inv):
    unknown = _deal_with_lines(inv, "Workflow unknown product", ("Gizmo", "NOPE-404", "9.00"))
    run = _execute(inv, US, unknown, realm_id=REALM_US)
    assert run["state"] == "FAIL_CONTINUE"
    assert run["output_fields"]["error_code"] == "NO_ITEM" and "Gizmo" in run["output_fields"]["error_message"]
    assert [e["outcome"] for e in _sync_log(US, unknown)] == ["skipped"]
    # With the fallback set, the same deal is invoiced with the default product.
    fallback = _execute(inv, US, unknown, realm_id=REALM_US, missing_item="default_item", default_item_id="1")
    assert fallback["state"] == "SUCCESS", fallback["output_fields"]

    several = _execute(inv, US, _deal_with_lines(inv, "No company", ("Pump", "PUMP-001", "15.00")))
    assert several["output_fields"]["error_code"] == "NO_COMPANY"  # three companies connected: say which
    assert "3 are connected" in several["output_fields"]["error_message"]

    no_quote = _execute(inv, US, _deal_with_lines(inv, "No quote", ("Pump", "PUMP-001", "15.00")), realm_id=REALM_US,
                        source="quote")  # fmt: skip
    assert no_quote["output_fields"]["error_code"] == "NO_QUOTE"

    nobody = _execute(inv, US, inv.new_deal(US, "Nobody to bill", "USD", None, None), realm_id=REALM_US)
    assert nobody["state"] == "FAIL_CONTINUE" and nobody["output_fields"]["error_code"] == "NO_CUSTOMER"
    no_lines = _execute(inv, US, _deal_with_lines(inv, "No lines"), realm_id=REALM_US)
    assert no_lines["output_fields"]["error_code"] == "NO_LINES"


def test_a_company_that_cannot_hold_the_deals_currency_is_refused_not_booked_in_another(inv):
    contacts = inv.hubspot_objects(US, "contacts")
    john = next(i for i, c in contacts.items() if c["properties"]["email"] == "john@meltonjohnson.example")
    deal = inv.new_deal(US, "Euro pumps", "EUR", john, None)
    inv.hubspot_create(
        US, "line_items", {"name": "Pump", "hs_sku": "PUMP-001", "quantity": "1", "price": "15"}, [("deals", deal)]
    )
    before = len(inv.qbo_invoices(REALM_US))
    run = _execute(inv, US, deal, realm_id=REALM_US)
    assert run["state"] == "FAIL_CONTINUE" and run["output_fields"]["error_code"] == "REFUSED"
    assert "EUR" in run["output_fields"]["error_message"]
    assert len(inv.qbo_invoices(REALM_US)) == before


def test_a_qbo_outage_is_retried_by_hubspot_and_the_retry_creates_the_invoice_once(inv):
    deal = _deal_with_lines(inv, "Workflow outage", ("Pump", "PUMP-001", "15.00"))
    fault = {"path": f"/v3/company/{REALM_US}/invoice$", "kind": "503", "count": 6, "method": "POST"}
    requests.post(inv.qbo + "/_emulator/faults", json=fault, timeout=10).raise_for_status()
    try:
        run = _execute(inv, US, deal, realm_id=REALM_US, attempts=1)
    finally:
        requests.delete(inv.qbo + "/_emulator/faults", timeout=10)
    assert run["state"] == "RETRYING" and run["attempts"][-1]["status"] == 503
    retried = requests.post(f"{inv.hubspot}/_emulator/workflows/executions/{run['execution_id']}/retry", timeout=60)
    assert retried.json()["state"] == "SUCCESS", retried.json()["attempts"]
    number = retried.json()["output_fields"]["invoice_number"]
    assert [i for i in inv.qbo_invoices(REALM_US).values() if i["DocNumber"] == number].__len__() == 1


def test_an_unsigned_or_replayed_execution_is_refused_before_anything_runs(inv):
    url = f"{inv.gateway}/workflows/create-invoice"
    body = {
        "callbackId": "ap-1",
        "origin": {"portalId": US},
        "object": {"objectId": 1, "objectType": "DEAL"},
        "inputFields": {"source": "line_items", "send": "draft"},
    }
    assert requests.post(url, json=body, timeout=10).status_code == 401
    signed = signed_post(url, body)
    assert signed.status_code == 200
    replay = requests.post(url, data=signed.request.body, headers=dict(signed.request.headers), timeout=10)
    assert replay.status_code == 401
    malformed = signed_post(url, {**body, "inputFields": {"source": "everything"}})
    assert malformed.status_code == 400


def test_other_portals_companies_are_not_used(inv):
    deal = _deal_with_lines(inv, "Cross tenant", ("Pump", "PUMP-001", "15.00"))
    run = _execute(inv, US, deal, realm_id=REALM_UK)
    assert run["output_fields"]["error_code"] == "NO_COMPANY"
    before = len(inv.qbo_invoices(REALM_UK))
    uk_run = _execute(inv, UK, deal, realm_id=REALM_UK)  # the US deal id is not a deal of the UK portal
    assert uk_run["state"] != "SUCCESS"
    assert len(inv.qbo_invoices(REALM_UK)) == before


def test_moving_a_deal_to_the_workflows_stage_enrolls_it_and_the_invoice_is_created_and_sent(inv):
    workflow = {
        "objectType": "deals",
        "trigger": {"property": "dealstage", "value": "closedwon"},
        "action": ACTION,
        "inputFields": {"source": "line_items", "send": "send", "realm_id": REALM_US},
    }
    created = requests.post(f"{inv.hubspot}/_emulator/portals/{US}/workflows", json=workflow, timeout=10)
    assert created.status_code == 201, created.text
    deal = _deal_with_lines(inv, "Won deal", ("Consulting hour", "CONSULT-001", "120.00"))
    moved = requests.patch(
        f"{inv.hubspot}/_emulator/portals/{US}/objects/deals/{deal}",
        json={"properties": {"dealstage": "closedwon"}},
        timeout=10,
    )
    assert moved.status_code == 200

    def finished() -> dict | None:
        runs = requests.get(f"{inv.hubspot}/_emulator/portals/{US}/workflows/executions", timeout=10).json()["results"]
        done = [r for r in runs if r["object_id"] == int(deal) and r["state"] != "PENDING"]
        return done[0] if done else None

    from infra.local.waiting import wait_for

    run = wait_for("the workflow's action", finished, 30)
    assert run["state"] == "SUCCESS" and run["output_fields"]["invoice_status"] == "sent_to_customer"
    assert inv.deal_properties(US, deal)["hubqbo_invoice_status"] == "sent_to_customer"
    again = requests.patch(
        f"{inv.hubspot}/_emulator/portals/{US}/objects/deals/{deal}",
        json={"properties": {"amount": "240"}},
        timeout=10,
    )  # an edit that does not meet the trigger again enrolls nothing
    assert again.status_code == 200
    runs = requests.get(f"{inv.hubspot}/_emulator/portals/{US}/workflows/executions", timeout=10).json()["results"]
    assert len([r for r in runs if r["object_id"] == int(deal)]) == 1
