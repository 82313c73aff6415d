"""The "Create QuickBooks estimate" workflow action, run by the emulated HubSpot workflow engine, and the
"create the item" fallback both actions offer for a line whose product QBO does not have."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import requests

from infra.local.emulators.hubspot.signing import signed_post
from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US
from tests.integration.invoices.test_discounts import uk_quote_with_discounts

ACTION = "hubqbo_create_estimate"
INVOICE_ACTION = "hubqbo_create_invoice"


def _execute(inv, portal: int, deal: str, attempts: int = 3, action: str = ACTION, **inputs) -> dict:
    base = {"source": "line_items"} | ({"send": "draft"} if action == INVOICE_ACTION else {})
    body = {"objectType": "deals", "objectId": deal, "inputFields": base | inputs, "attempts": attempts}
    reply = requests.post(
        f"{inv.hubspot}/_emulator/portals/{portal}/workflows/actions/{action}/execute", json=body, timeout=60
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def _john(inv) -> str:
    contacts = inv.hubspot_objects(US, "contacts")
    return next(i for i, c in contacts.items() if c["properties"]["email"] == "john@meltonjohnson.example")


def _deal_with_lines(inv, name: str, *lines: tuple[str, str, str], currency: str = "USD") -> str:
    """A US deal of John Melton's with line items (name, sku, price), two of each."""
    deal = inv.new_deal(US, name, currency, _john(inv), None)
    for line_name, sku, price in lines:
        props = {"name": line_name, "hs_sku": sku, "quantity": "2", "price": price}
        inv.hubspot_create(US, "line_items", props, [("deals", deal)])
    return deal


def _deal_with_quote(inv, name: str, expires: date) -> str:
    """A US deal with a published quote of 3 pumps at 15.00 and one design day at 75.00."""
    john = _john(inv)
    deal = inv.new_deal(US, name, "USD", john, None)
    quote_props = {"hs_title": name, "hs_status": "APPROVED", "hs_expiration_date": expires.isoformat(),
                   "hs_currency": "USD", "hs_locked": "true"}  # fmt: skip
    quote = inv.hubspot_create(US, "quotes", quote_props, [("deals", deal), ("contacts", john)])
    for position, (line_name, sku, price, quantity) in enumerate(
        (("Pump", "PUMP-001", "15.00", "3"), ("Design", "DESIGN-001", "75.00", "1"))
    ):
        props = {"name": line_name, "hs_sku": sku, "price": price, "quantity": quantity,
                 "hs_position_on_quote": str(position)}  # fmt: skip
        inv.hubspot_create(US, "line_items", props, [("quotes", quote)])
    return deal


def _qbo(inv, realm: str, entity: str) -> dict[str, dict]:
    """The emulated company's records of `entity`, by id."""
    return dict(inv.stack.qbo.realms[realm].table(entity))


def _sync_log(portal: int, deal: str) -> list[dict]:
    from hubqbo import wiring

    entries = wiring.sync_log().recent(f"portal:{portal}")
    return [e.model_dump(mode="json") for e in entries if e.hubspot_id == deal and e.source == "workflow"]


# -- the estimate action ------------------------------------------------------------------------------------
def test_a_workflow_estimates_the_published_quote_once_with_its_expiry_and_returns_number_status_amount(inv):
    expires = date.today() + timedelta(days=20)
    deal = _deal_with_quote(inv, "Quoted pumps", expires)
    invoices_before, estimates_before = set(inv.qbo_invoices(REALM_US)), set(_qbo(inv, REALM_US, "Estimate"))
    first = _execute(inv, US, deal, source="quote", realm_id=REALM_US, message="Valid while stocks last")
    assert first["state"] == "SUCCESS", first["attempts"]
    out = first["output_fields"]
    assert out["estimate_status"] == "pending" and out["error_code"] == ""
    assert Decimal(out["estimate_amount"]) == Decimal("120.00") and out["estimate_currency"] == "USD"
    (new_id,) = set(_qbo(inv, REALM_US, "Estimate")) - estimates_before
    stored = _qbo(inv, REALM_US, "Estimate")[new_id]
    assert stored["DocNumber"] == out["estimate_number"] and stored["TxnStatus"] == "Pending"
    assert stored["ExpirationDate"] == expires.isoformat()  # the quote's own expiry
    assert stored["CustomerRef"]["name"] == "Melton Johnson"
    assert stored["CustomerMemo"] == {"value": "Valid while stocks last"}
    assert [(ln["SalesItemLineDetail"]["ItemRef"]["name"], ln["Amount"]) for ln in stored["Line"][:2]] == [
        ("Pump", Decimal("45.00")),
        ("Design", Decimal("75.00")),
    ]
    assert set(inv.qbo_invoices(REALM_US)) == invoices_before  # an estimate is not an invoice

    again = _execute(inv, US, deal, source="quote", realm_id=REALM_US)
    assert again["state"] == "SUCCESS" and again["output_fields"]["estimate_number"] == out["estimate_number"]
    assert set(_qbo(inv, REALM_US, "Estimate")) - estimates_before == {new_id}  # the second run created nothing
    assert [(e["outcome"], e["entity"]) for e in _sync_log(US, deal)] == [("applied", "Estimate")]


def test_the_second_run_reports_the_status_the_estimate_has_in_quickbooks_now(inv):
    deal = _deal_with_lines(inv, "Accepted later", ("Pump", "PUMP-001", "15.00"))
    first = _execute(inv, US, deal, realm_id=REALM_US)
    assert first["output_fields"]["estimate_status"] == "pending"
    estimate = next(
        e
        for e in _qbo(inv, REALM_US, "Estimate").values()
        if e["DocNumber"] == first["output_fields"]["estimate_number"]
    )
    accepted = {"Id": estimate["Id"], "TxnStatus": "Accepted", "AcceptedBy": "John Melton"}
    requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_US}/ui/estimate", json=accepted, timeout=10).raise_for_status()
    again = _execute(inv, US, deal, realm_id=REALM_US)
    assert again["output_fields"]["estimate_status"] == "accepted"
    assert again["output_fields"]["estimate_number"] == first["output_fields"]["estimate_number"]


def test_an_estimate_from_the_line_items_stands_for_the_days_asked(inv):
    deal = _deal_with_lines(inv, "Line estimate", ("Design", "DESIGN-001", "75.00"))
    run = _execute(inv, US, deal, realm_id=REALM_US, valid_days="14")
    assert run["state"] == "SUCCESS", run["output_fields"]
    assert Decimal(run["output_fields"]["estimate_amount"]) == Decimal("150.00")
    stored = next(
        e for e in _qbo(inv, REALM_US, "Estimate").values() if e["DocNumber"] == run["output_fields"]["estimate_number"]
    )
    txn = date.fromisoformat(stored["TxnDate"])
    assert date.fromisoformat(stored["ExpirationDate"]) == txn + timedelta(days=14)
    assert stored["PrivateNote"] == f"Created from HubSpot deal {deal}"


def _give_vat_code(inv, sku: str, code_name: str) -> None:
    """A user sets the UK item's default VAT code in QBO (the seeded items have none)."""
    item = next(i for i in _qbo(inv, REALM_UK, "Item").values() if i.get("Sku") == sku)
    code = next(c for c in _qbo(inv, REALM_UK, "TaxCode").values() if c["Name"] == code_name)
    change = {"Id": item["Id"], "SalesTaxCodeRef": {"value": code["Id"]}}
    requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_UK}/ui/item", json=change, timeout=10).raise_for_status()


def test_a_uk_quote_is_estimated_with_the_items_vat_codes_and_the_quotes_discount(inv):
    deal, _ = uk_quote_with_discounts(inv)
    before = set(_qbo(inv, REALM_UK, "Estimate"))
    refused = _execute(inv, UK, deal, source="quote", realm_id=REALM_UK)
    assert refused["output_fields"]["error_code"] == "REFUSED"  # no VAT code for a line: QBO would refuse it
    assert "tax code" in refused["output_fields"]["error_message"]
    assert set(_qbo(inv, REALM_UK, "Estimate")) == before

    _give_vat_code(inv, "PUMP-001", "20.0% S")
    _give_vat_code(inv, "DESIGN-001", "5.0% R")
    run = _execute(inv, UK, deal, source="quote", realm_id=REALM_UK)
    assert run["state"] == "SUCCESS", run["output_fields"]
    stored = next(
        e for e in _qbo(inv, REALM_UK, "Estimate").values() if e["DocNumber"] == run["output_fields"]["estimate_number"]
    )
    discount = [ln for ln in stored["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert discount and discount[0]["DiscountLineDetail"]["DiscountPercent"] == Decimal("10")
    # 240.00 + 225.00 less 10 %, VAT 20 % on 216.00 and 5 % on 202.50: the wizard's invoice figures
    assert stored["TxnTaxDetail"]["TotalTax"] == Decimal("53.33")
    assert stored["TotalAmt"] == Decimal("471.83")
    assert run["output_fields"]["estimate_amount"] == "471.83" and run["output_fields"]["estimate_currency"] == "GBP"


def test_a_deal_that_cannot_be_estimated_fails_the_action_with_a_reason_in_history_and_log(inv):
    unknown = _deal_with_lines(inv, "Estimate unknown product", ("Gizmo", "NOPE-404", "9.00"))
    before = set(_qbo(inv, REALM_US, "Estimate"))
    run = _execute(inv, US, unknown, realm_id=REALM_US)
    assert run["state"] == "FAIL_CONTINUE"
    assert run["output_fields"]["error_code"] == "NO_ITEM" and "Gizmo" in run["output_fields"]["error_message"]
    assert [e["outcome"] for e in _sync_log(US, unknown)] == ["skipped"]
    assert "Gizmo" in _sync_log(US, unknown)[0]["reason"]
    assert set(_qbo(inv, REALM_US, "Estimate")) == before

    fallback = _execute(inv, US, unknown, realm_id=REALM_US, missing_item="default_item", default_item_id="1")
    assert fallback["state"] == "SUCCESS", fallback["output_fields"]
    stored = next(
        e
        for e in _qbo(inv, REALM_US, "Estimate").values()
        if e["DocNumber"] == fallback["output_fields"]["estimate_number"]
    )
    assert stored["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == "1"
    assert stored["Line"][0]["Description"] == "Gizmo"

    no_quote = _execute(inv, US, _deal_with_lines(inv, "No quote", ("Pump", "PUMP-001", "15.00")), source="quote",
                        realm_id=REALM_US)  # fmt: skip
    assert no_quote["output_fields"]["error_code"] == "NO_QUOTE"
    nobody = _execute(inv, US, inv.new_deal(US, "Nobody to estimate", "USD", None, None), realm_id=REALM_US)
    assert nobody["output_fields"]["error_code"] == "NO_CUSTOMER"
    no_lines = _execute(inv, US, _deal_with_lines(inv, "No estimate lines"), realm_id=REALM_US)
    assert no_lines["output_fields"]["error_code"] == "NO_LINES"
    several = _execute(inv, US, _deal_with_lines(inv, "Which company", ("Pump", "PUMP-001", "15.00")))
    assert several["output_fields"]["error_code"] == "NO_COMPANY"


def test_a_company_that_cannot_hold_the_deals_currency_is_refused_not_estimated_in_another(inv):
    deal = _deal_with_lines(inv, "Euro estimate", ("Pump", "PUMP-001", "15.00"), currency="EUR")
    before = set(_qbo(inv, REALM_US, "Estimate"))
    run = _execute(inv, US, deal, realm_id=REALM_US)
    assert run["state"] == "FAIL_CONTINUE" and run["output_fields"]["error_code"] == "REFUSED"
    assert "EUR" in run["output_fields"]["error_message"]
    assert set(_qbo(inv, REALM_US, "Estimate")) == before
    assert [e["outcome"] for e in _sync_log(US, deal)] == ["skipped"]


def test_a_qbo_rate_limit_is_answered_so_hubspot_retries_and_the_retry_creates_one_estimate(inv):
    deal = _deal_with_lines(inv, "Estimate throttled", ("Pump", "PUMP-001", "15.00"))
    fault = {"path": f"/v3/company/{REALM_US}/estimate$", "kind": "429", "count": 6, "method": "POST"}
    requests.post(inv.qbo + "/_emulator/faults", json=fault, timeout=10).raise_for_status()
    try:
        run = _execute(inv, US, deal, realm_id=REALM_US, attempts=1)
    finally:
        requests.delete(inv.qbo + "/_emulator/faults", timeout=10)
    assert run["state"] == "RETRYING" and run["attempts"][-1]["status"] == 429
    assert _sync_log(US, deal) == []  # not a refusal: nothing for the history yet
    retried = requests.post(f"{inv.hubspot}/_emulator/workflows/executions/{run['execution_id']}/retry", timeout=60)
    assert retried.json()["state"] == "SUCCESS", retried.json()["attempts"]
    number = retried.json()["output_fields"]["estimate_number"]
    assert len([e for e in _qbo(inv, REALM_US, "Estimate").values() if e["DocNumber"] == number]) == 1


def test_the_rate_limited_answer_carries_retry_after(inv):
    deal = _deal_with_lines(inv, "Estimate throttled twice", ("Pump", "PUMP-001", "15.00"))
    url = f"{inv.gateway}/workflows/create-estimate"
    body = {
        "callbackId": "ap-2",
        "origin": {"portalId": US},
        "object": {"objectId": int(deal), "objectType": "DEAL"},
        "inputFields": {"source": "line_items", "realm_id": REALM_US},
    }
    fault = {"path": f"/v3/company/{REALM_US}/estimate$", "kind": "429", "count": 6, "method": "POST"}
    requests.post(inv.qbo + "/_emulator/faults", json=fault, timeout=10).raise_for_status()
    try:
        answer = signed_post(url, body)
    finally:
        requests.delete(inv.qbo + "/_emulator/faults", timeout=10)
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) >= 1


def test_an_unsigned_replayed_or_malformed_execution_is_refused_before_anything_runs(inv):
    url = f"{inv.gateway}/workflows/create-estimate"
    body = {
        "callbackId": "ap-1",
        "origin": {"portalId": US},
        "object": {"objectId": 1, "objectType": "DEAL"},
        "inputFields": {"source": "line_items"},
    }
    assert requests.post(url, json=body, timeout=10).status_code == 401
    forged = {"X-HubSpot-Signature-v3": "Zm9yZ2Vk", "X-HubSpot-Request-Timestamp": "1"}
    assert requests.post(url, json=body, headers=forged, timeout=10).status_code == 401
    signed = signed_post(url, body)
    assert signed.status_code == 200
    replay = requests.post(url, data=signed.request.body, headers=dict(signed.request.headers), timeout=10)
    assert replay.status_code == 401
    for bad in ({"source": "everything"}, {"valid_days": "soon"}, {"missing_item": "guess"}):
        malformed = signed_post(url, {**body, "inputFields": bad})
        assert malformed.status_code == 400, bad
    assert signed_post(url, {"callbackId": "ap-1"}).status_code == 400


# -- the "create the item" fallback -------------------------------------------------------------------------
def test_a_missing_product_is_created_once_as_a_service_item_and_then_matched(inv):
    items_before = set(_qbo(inv, REALM_US, "Item"))
    deal = _deal_with_lines(inv, "New product", ("Laser alignment: on site", "LASER-7", "40.00"))
    run = _execute(inv, US, deal, realm_id=REALM_US, missing_item="create_item")
    assert run["state"] == "SUCCESS", run["output_fields"]
    (item_id,) = set(_qbo(inv, REALM_US, "Item")) - items_before
    item = _qbo(inv, REALM_US, "Item")[item_id]
    assert item["Name"] == "Laser alignment - on site"  # ':' would make it a sub-item
    assert item["Type"] == "Service" and item["Sku"] == "LASER-7" and item["UnitPrice"] == Decimal("40.00")
    income = _qbo(inv, REALM_US, "Account")[item["IncomeAccountRef"]["value"]]
    assert income["AccountType"] == "Income"
    stored = next(
        e for e in _qbo(inv, REALM_US, "Estimate").values() if e["DocNumber"] == run["output_fields"]["estimate_number"]
    )
    assert stored["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == item_id
    assert Decimal(run["output_fields"]["estimate_amount"]) == Decimal("80.00")

    # The invoice action on another deal with the same product finds the item made: no second one.
    other = _deal_with_lines(inv, "Same new product", ("Laser alignment: on site", "LASER-7", "40.00"))
    invoiced = _execute(inv, US, other, action=INVOICE_ACTION, realm_id=REALM_US, missing_item="create_item")
    assert invoiced["state"] == "SUCCESS", invoiced["output_fields"]
    assert set(_qbo(inv, REALM_US, "Item")) - items_before == {item_id}
    invoice = next(
        i for i in inv.qbo_invoices(REALM_US).values() if i["DocNumber"] == invoiced["output_fields"]["invoice_number"]
    )
    assert invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == item_id


def test_the_invoice_action_creates_a_missing_item_and_a_qbo_retry_does_not_make_two(inv):
    items_before = set(_qbo(inv, REALM_US, "Item"))
    deal = _deal_with_lines(inv, "Retried new product", ("Balancing kit", "BAL-9", "22.50"))
    fault = {"path": f"/v3/company/{REALM_US}/invoice$", "kind": "503", "count": 6, "method": "POST"}
    requests.post(inv.qbo + "/_emulator/faults", json=fault, timeout=10).raise_for_status()
    try:
        run = _execute(inv, US, deal, action=INVOICE_ACTION, attempts=1, realm_id=REALM_US, missing_item="create_item")
    finally:
        requests.delete(inv.qbo + "/_emulator/faults", timeout=10)
    assert run["state"] == "RETRYING"
    created = set(_qbo(inv, REALM_US, "Item")) - items_before
    assert len(created) == 1  # the item was made before QBO refused the invoice
    retried = requests.post(f"{inv.hubspot}/_emulator/workflows/executions/{run['execution_id']}/retry", timeout=60)
    assert retried.json()["state"] == "SUCCESS", retried.json()["attempts"]
    assert set(_qbo(inv, REALM_US, "Item")) - items_before == created


def test_a_created_item_in_a_vat_company_takes_the_default_items_account_and_tax_code(inv):
    people = inv.hubspot_objects(UK, "contacts")
    oliver = next(i for i, c in people.items() if c["properties"]["email"] == "oliver@smithandsons.example")
    deal = inv.new_deal(UK, "UK new product", "GBP", oliver, None)
    props = {"name": "Commissioning", "hs_sku": "COMM-1", "quantity": "1", "price": "100.00"}
    inv.hubspot_create(UK, "line_items", props, [("deals", deal)])
    _give_vat_code(inv, "DESIGN-001", "5.0% R")
    design = next(i for i in _qbo(inv, REALM_UK, "Item").values() if i.get("Sku") == "DESIGN-001")
    items_before = set(_qbo(inv, REALM_UK, "Item"))
    run = _execute(inv, UK, deal, realm_id=REALM_UK, missing_item="create_item", default_item_id=design["Id"])
    assert run["state"] == "SUCCESS", run["output_fields"]
    (item_id,) = set(_qbo(inv, REALM_UK, "Item")) - items_before
    item = _qbo(inv, REALM_UK, "Item")[item_id]
    assert item["IncomeAccountRef"]["value"] == design["IncomeAccountRef"]["value"]
    assert item["SalesTaxCodeRef"] == design["SalesTaxCodeRef"]
    estimate = next(
        e for e in _qbo(inv, REALM_UK, "Estimate").values() if e["DocNumber"] == run["output_fields"]["estimate_number"]
    )
    assert estimate["Line"][0]["SalesItemLineDetail"]["TaxCodeRef"]["value"] == design["SalesTaxCodeRef"]["value"]


def test_an_inactive_item_of_the_lines_name_is_a_reason_not_a_duplicate(inv):
    inactive = next(i for i in _qbo(inv, REALM_US, "Item").values() if i.get("Active") is False)
    deal = _deal_with_lines(inv, "Inactive product", (inactive["Name"], "", "5.00"))
    before = set(_qbo(inv, REALM_US, "Item"))
    run = _execute(inv, US, deal, realm_id=REALM_US, missing_item="create_item")
    assert run["state"] == "FAIL_CONTINUE" and run["output_fields"]["error_code"] == "NO_ITEM"
    assert "inactive" in run["output_fields"]["error_message"]
    assert set(_qbo(inv, REALM_US, "Item")) == before


def test_a_custom_numbering_company_numbers_the_estimate_itself_and_no_invoice_number_is_taken(inv):
    from hubqbo import wiring
    from tests.integration.invoices.conftest import REALM_NUMBERS

    customer = {"DisplayName": "Melton Johnson", "PrimaryEmailAddr": {"Address": "john@meltonjohnson.example"}}
    requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_NUMBERS}/ui/customer", json=customer, timeout=10)
    store = wiring.invoice_ports().invoices
    sequence_before = store.number_settings(US, REALM_NUMBERS)
    deal = _deal_with_lines(inv, "Custom numbers estimate", ("Pump", "PUMP-001", "15.00"))
    run = _execute(inv, US, deal, realm_id=REALM_NUMBERS)
    assert run["state"] == "SUCCESS", run["output_fields"]
    number = run["output_fields"]["estimate_number"]
    assert [e for e in _qbo(inv, REALM_NUMBERS, "Estimate").values() if e["DocNumber"] == number]
    assert number.isdigit()  # QuickBooks' own estimate number (AUTO_GENERATE), not the invoices' pattern
    assert store.number_settings(US, REALM_NUMBERS) == sequence_before


def test_hubspot_will_not_run_the_action_with_a_number_field_that_is_no_number(inv):
    deal = _deal_with_lines(inv, "Typo in days", ("Pump", "PUMP-001", "15.00"))
    body = {"objectType": "deals", "objectId": deal, "inputFields": {"source": "line_items", "valid_days": "ten"}}
    reply = requests.post(
        f"{inv.hubspot}/_emulator/portals/{US}/workflows/actions/{ACTION}/execute", json=body, timeout=60
    )
    assert reply.status_code == 400 and "number" in reply.text


def test_the_invoice_action_books_the_quotes_discount_as_the_wizard_does(inv):
    deal, _ = uk_quote_with_discounts(inv)
    _give_vat_code(inv, "PUMP-001", "20.0% S")
    _give_vat_code(inv, "DESIGN-001", "5.0% R")
    run = _execute(inv, UK, deal, action=INVOICE_ACTION, source="quote", realm_id=REALM_UK)
    assert run["state"] == "SUCCESS", run["output_fields"]
    invoice = next(
        i for i in inv.qbo_invoices(REALM_UK).values() if i["DocNumber"] == run["output_fields"]["invoice_number"]
    )
    [discount] = [ln for ln in invoice["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert discount["Amount"] == Decimal("46.50") and invoice["TotalAmt"] == Decimal("471.83")


def test_a_deal_moved_to_the_workflows_stage_is_estimated_by_the_enrolled_action(inv):
    from infra.local.waiting import wait_for

    workflow = {
        "objectType": "deals",
        "trigger": {"property": "dealstage", "value": "presentationscheduled"},
        "action": ACTION,
        "inputFields": {"source": "line_items", "realm_id": REALM_US, "valid_days": "30"},
    }
    created = requests.post(f"{inv.hubspot}/_emulator/portals/{US}/workflows", json=workflow, timeout=10)
    assert created.status_code == 201, created.text
    deal = _deal_with_lines(inv, "Proposal deal", ("Consulting hour", "CONSULT-001", "120.00"))
    moved = requests.patch(
        f"{inv.hubspot}/_emulator/portals/{US}/objects/deals/{deal}",
        json={"properties": {"dealstage": "presentationscheduled"}},
        timeout=10,
    )
    assert moved.status_code == 200

    def finished() -> dict | None:
        runs = requests.get(f"{inv.hubspot}/_emulator/portals/{US}/workflows/executions", timeout=10).json()["results"]
        done = [
            r for r in runs if r["object_id"] == int(deal) and r["action_uid"] == ACTION and r["state"] != "PENDING"
        ]
        return done[0] if done else None

    run = wait_for("the workflow's estimate action", finished, 30)
    assert run["state"] == "SUCCESS" and run["output_fields"]["estimate_status"] == "pending"
    assert Decimal(run["output_fields"]["estimate_amount"]) == Decimal("240.00")


def test_an_unmatched_line_in_a_vat_company_takes_the_default_items_vat_code_on_the_invoice(inv):
    people = inv.hubspot_objects(UK, "contacts")
    oliver = next(i for i, c in people.items() if c["properties"]["email"] == "oliver@smithandsons.example")
    deal = inv.new_deal(UK, "UK default product", "GBP", oliver, None)
    props = {"name": "Site visit", "hs_sku": "VISIT-9", "quantity": "2", "price": "50.00"}
    inv.hubspot_create(UK, "line_items", props, [("deals", deal)])
    _give_vat_code(inv, "DESIGN-001", "5.0% R")
    design = next(i for i in _qbo(inv, REALM_UK, "Item").values() if i.get("Sku") == "DESIGN-001")
    items_before = set(_qbo(inv, REALM_UK, "Item"))
    run = _execute(
        inv,
        UK,
        deal,
        action=INVOICE_ACTION,
        realm_id=REALM_UK,
        missing_item="default_item",
        default_item_id=design["Id"],
    )
    assert run["state"] == "SUCCESS", run["output_fields"]
    assert set(_qbo(inv, REALM_UK, "Item")) == items_before  # the default item, not a new one
    invoice = next(
        i for i in _qbo(inv, REALM_UK, "Invoice").values() if i["DocNumber"] == run["output_fields"]["invoice_number"]
    )
    [line] = [line for line in invoice["Line"] if line.get("DetailType") == "SalesItemLineDetail"]
    assert line["SalesItemLineDetail"]["ItemRef"]["value"] == design["Id"]
    assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == design["SalesTaxCodeRef"]["value"]


def test_a_default_item_that_does_not_exist_is_a_reason_not_a_refusal_from_quickbooks(inv):
    deal = _deal_with_lines(inv, "Missing default", ("Gizmo", "NOPE-405", "9.00"))
    run = _execute(inv, US, deal, realm_id=REALM_US, missing_item="default_item", default_item_id="999999")
    assert run["state"] == "FAIL_CONTINUE" and run["output_fields"]["error_code"] == "NO_ITEM"
    assert "999999" in run["output_fields"]["error_message"]
