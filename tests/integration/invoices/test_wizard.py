"""Each path of the create-invoice wizard through the local gateway, against the emulators."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import requests

from tests.integration.invoices.conftest import REALM_MULTI, REALM_NUMBERS, REALM_UK, REALM_US, UK, US


def test_a_us_invoice_from_a_published_quote_is_created_unsent_linked_and_costs_two_qbo_calls(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    sources = inv.ok(token, "GET", "sources", realm=REALM_US)
    quote = next(q for q in sources["quotes"] if q["usable"])
    assert {q["reason"] for q in sources["quotes"] if not q["usable"]} == {"draft", "expired"}
    before = set(inv.qbo_invoices(REALM_US))
    inv.reset_calls()

    key, prep = inv.prepare(token, REALM_US, "quote", quote["id"])
    assert prep["customer"]["best"]["name"] == "Melton Johnson" and prep["customer"]["method"] == "email"
    assert [(line["sku"], line["item"]["name"], line["method"]) for line in prep["lines"]] == [
        ("DESIGN-001", "Design", "sku"),
        ("INSTALL-001", "Installation", "sku"),
    ]
    assert prep["tax"]["per_line"] is False and prep["doc_number"] is None
    created = inv.ok(token, "POST", "create", inv.submission(key, prep))

    qbo_calls = inv.calls(inv.qbo)
    assert qbo_calls == {"POST api_batch": 1, "POST api_write": 1}  # everything the wizard needs + the create
    new = set(inv.qbo_invoices(REALM_US)) - before
    assert new == {created["invoice"]["id"]}
    stored = inv.qbo_invoices(REALM_US)[created["invoice"]["id"]]
    assert stored["EmailStatus"] == "NotSet" and stored["TotalAmt"] == Decimal("950.00")
    assert stored["PrivateNote"] == f"Created from HubSpot deal {deal}"
    assert stored["CustomerMemo"] == {"value": "Thank you for your business."}
    assert stored["DueDate"] == created["invoice"]["due_date"]  # Net 30 from the invoice date

    props = inv.deal_properties(US, deal)
    assert props["hubqbo_invoice_number"] == stored["DocNumber"]
    assert props["hubqbo_invoice_status"] == "waiting_to_be_sent"
    assert props["hubqbo_invoice_amount"] == "950.00" and props["hubqbo_invoice_recipient"] == "Melton Johnson"
    for money in ("hubqbo_invoice_amount", "hubqbo_invoice_balance"):  # shown as money in HubSpot
        definition = inv.stack.hubspot.portals[US].property("deals", money)
        assert definition is not None and definition.number_display_hint == "currency", money

    card = inv.card_json(US, deal)
    section = next(s for s in card["sections"] if s["invoiceId"] == created["invoice"]["id"])
    preview = next(i["href"] for i in section["items"] if i["label"] == "Invoice number")
    pdf = requests.get(inv.gateway + preview, timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and stored["DocNumber"].encode() in pdf.content


def test_a_uk_invoice_from_scratch_needs_a_tax_code_on_every_line(inv):
    people = inv.hubspot_objects(UK, "contacts")
    oliver = next(i for i, c in people.items() if c["properties"]["email"] == "oliver@smithandsons.example")
    company = next(iter(inv.hubspot_objects(UK, "companies")))
    deal = inv.new_deal(UK, "Spring pumps", "GBP", oliver, company)
    token = inv.token(UK, deal)
    key, prep = inv.prepare(token, REALM_UK)
    assert prep["lines"] == [] and prep["tax"]["per_line"] is True
    assert prep["customer"]["best"]["name"] == "Smith & Sons Ltd"
    codes = {c["name"]: c["id"] for c in prep["tax"]["codes"]}
    pump = next(i for i in inv.ok(token, "GET", "items", realm=REALM_UK, q="Pump")["items"] if i["sku"] == "PUMP-001")
    line = {"item_id": pump["id"], "quantity": "20", "unit_price": "15.00", "description": "Pump"}

    refused = inv.api(token, "POST", "create", inv.submission(key, prep, lines=[line]))
    assert refused.status_code == 400
    assert {e["field"] for e in refused.json()["errors"]} == {"lines[0].tax_code"}

    created = inv.ok(token, "POST", "create", inv.submission(key, prep, lines=[{**line, "tax_code": codes["20.0% S"]}]))
    stored = inv.qbo_invoices(REALM_UK)[created["invoice"]["id"]]
    assert stored["TxnTaxDetail"]["TotalTax"] == Decimal("60.00") and stored["TotalAmt"] == Decimal("360.00")
    assert stored["GlobalTaxCalculation"] == "TaxExcluded"
    assert inv.deal_properties(UK, deal)["hubqbo_invoice_amount"] == "360.00"  # GBP portal, GBP invoice


def test_a_multicurrency_invoice_for_a_new_customer_is_in_the_deal_currency_and_leaves_the_usd_deal_alone(inv):
    contact = inv.hubspot_create(
        US, "contacts", {"email": "lena@berlinwidgets.example", "firstname": "Lena", "lastname": "Kraus"}
    )
    company = inv.hubspot_create(US, "companies", {"name": "Berlin Widgets GmbH"})
    deal = inv.new_deal(US, "Widgets for Berlin", "EUR", contact, company)
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_MULTI)
    assert prep["customer"]["best"] is None
    assert prep["new_customer"]["display_name"] == "Berlin Widgets GmbH"
    assert prep["new_customer"]["currency"] == "EUR" and "EUR" in prep["company"]["currencies"]
    design = next(i for i in inv.ok(token, "GET", "items", realm=REALM_MULTI, q="Design")["items"])
    body = inv.submission(
        key,
        prep,
        customer_id=None,
        new_customer={"display_name": "Berlin Widgets GmbH", "currency": "EUR", "email": "lena@berlinwidgets.example"},
        currency="EUR",
        lines=[{"item_id": design["id"], "quantity": "2", "unit_price": "100.00"}],
    )
    created = inv.ok(token, "POST", "create", body)
    stored = inv.qbo_invoices(REALM_MULTI)[created["invoice"]["id"]]
    customer = inv.qbo_customers(REALM_MULTI)[stored["CustomerRef"]["value"]]
    assert stored["CurrencyRef"] == {"value": "EUR"} and customer["CurrencyRef"] == {"value": "EUR"}
    assert inv.deal_properties(US, deal) == {}  # EUR invoice, USD portal: the native rule
    card = inv.card_json(US, deal)
    assert len(card["sections"]) == 1
    assert any("EUR" in m["text"] and "USD" in m["text"] for m in card["messages"])


def test_custom_numbers_come_from_the_sequence_skip_numbers_qbo_already_uses_and_can_be_edited(inv):
    deal = inv.seeded_id(US, "deals", "no_line_items")
    token = inv.token(US, deal)
    settings = inv.ok(token, "POST", "numbering", {"realm_id": REALM_NUMBERS, "pattern": "T-{seq:03}", "next_seq": 1})
    assert settings["example"] == "T-001"
    bad = inv.api(token, "POST", "numbering", {"realm_id": REALM_NUMBERS, "pattern": "T-{yyyy}"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "pattern"
    customer = next(iter(inv.qbo_customers(REALM_NUMBERS)))
    line = {"DetailType": "SalesItemLineDetail", "Amount": 75, "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}
    made = requests.post(
        f"{inv.qbo}/_emulator/qbo/{REALM_NUMBERS}/ui/invoice",
        json={"CustomerRef": {"value": customer}, "Line": [line], "DocNumber": "T-001"},
        timeout=10,
    )
    assert made.status_code == 200, made.text

    key, prep = inv.prepare(token, REALM_NUMBERS)
    assert prep["company"]["custom_numbers"] is True and prep["doc_number"] == "T-002"  # T-001 is taken in QBO
    again_key, again = inv.prepare(token, REALM_NUMBERS)
    assert again["doc_number"] == "T-003"  # another wizard never gets the same number
    item = {"item_id": "1", "quantity": "1", "unit_price": "75.00"}
    body = inv.submission(key, prep, lines=[item], customer_id=customer)
    created = inv.ok(token, "POST", "create", body)
    assert inv.qbo_invoices(REALM_NUMBERS)[created["invoice"]["id"]]["DocNumber"] == "T-002"

    clash = inv.api(
        token,
        "POST",
        "create",
        inv.submission(again_key, again, lines=[item], doc_number="T-001", customer_id=customer),
    )
    assert clash.status_code == 400 and clash.json()["errors"][0]["field"] == "doc_number"
    edited = inv.ok(
        token,
        "POST",
        "create",
        inv.submission(again_key, again, lines=[item], doc_number="MY-42", customer_id=customer),
    )
    assert inv.qbo_invoices(REALM_NUMBERS)[edited["invoice"]["id"]]["DocNumber"] == "MY-42"


def test_an_expired_or_draft_quote_is_refused(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    for state in ("expired", "draft"):
        quote = inv.seeded_id(US, "quotes", state)
        reply = inv.api(
            token,
            "POST",
            "prepare",
            {"realm_id": REALM_US, "source": "quote", "quote_id": quote, "idempotency_key": "k" * 16},
        )
        assert reply.status_code == 400, reply.text
        assert reply.json()["errors"][0]["field"] == "quote_id"


def test_a_double_click_creates_one_invoice(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US, "scratch")
    body = inv.submission(key, prep)
    inv.reset_calls()
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: inv.api(token, "POST", "create", body), range(2)))
    assert [r.status_code for r in replies] == [201, 201], [r.text for r in replies]
    assert replies[0].json()["invoice"]["id"] == replies[1].json()["invoice"]["id"]
    third = inv.ok(token, "POST", "create", body)  # a later resubmission too
    assert third["invoice"]["id"] == replies[0].json()["invoice"]["id"]
    assert inv.calls(inv.qbo).get("POST api_write") == 1  # QBO saw one create


def test_an_idempotency_key_reused_for_another_deal_or_other_lines_is_422_and_creates_nothing(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US, "scratch")
    first = inv.ok(token, "POST", "create", inv.submission(key, prep))
    other_deal = inv.token(US, inv.seeded_id(US, "deals", "no_line_items"))
    other_lines = inv.submission(key, prep, lines=[{"item_id": "1", "quantity": "3", "unit_price": "9.00"}])
    inv.reset_calls()
    for reuse_token, body in ((other_deal, inv.submission(key, prep)), (token, other_lines)):
        reply = inv.api(reuse_token, "POST", "create", body)
        assert reply.status_code == 422, reply.text
        assert "already used for a different invoice request" in reply.json()["message"]
        assert first["invoice"]["id"] not in reply.text
    assert inv.calls(inv.qbo).get("POST api_write", 0) == 0  # nothing was created
    assert inv.ok(token, "POST", "create", inv.submission(key, prep))["invoice"]["id"] == first["invoice"]["id"]


def test_a_failure_after_the_customer_was_created_is_retried_with_that_customer(inv):
    contact = inv.hubspot_create(
        US, "contacts", {"email": "kim@retry.example", "firstname": "Kim", "lastname": "Retry"}
    )
    deal = inv.new_deal(US, "Retry me", "USD", contact, None)
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US)
    assert prep["customer"]["best"] is None and prep["new_customer"]["display_name"] == "Kim Retry"
    body = inv.submission(
        key,
        prep,
        customer_id=None,
        new_customer={"display_name": "Kim Retry", "email": "kim@retry.example"},
        lines=[{"item_id": "1", "quantity": "1", "unit_price": "75.00"}],
    )
    customers_before = len(inv.qbo_customers(REALM_US))
    fault = {"path": f"/v3/company/{REALM_US}/invoice$", "kind": "503", "count": 5, "method": "POST"}
    requests.post(inv.qbo + "/_emulator/faults", json=fault, timeout=10).raise_for_status()
    try:
        failed = inv.api(token, "POST", "create", body)
    finally:
        requests.delete(inv.qbo + "/_emulator/faults", timeout=10)
    assert failed.status_code >= 500
    assert len(inv.qbo_customers(REALM_US)) == customers_before + 1
    assert inv.card_json(US, deal)["sections"] == []  # no invoice, no link: no half-state on the card

    created = inv.ok(token, "POST", "create", body)
    assert len(inv.qbo_customers(REALM_US)) == customers_before + 1  # the retry reused the customer
    stored = inv.qbo_invoices(REALM_US)[created["invoice"]["id"]]
    assert inv.qbo_customers(REALM_US)[stored["CustomerRef"]["value"]]["DisplayName"] == "Kim Retry"


def test_a_new_customer_whose_name_is_taken_gets_a_free_display_name(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US)
    assert prep["new_customer"]["display_name"] == "Melton Johnson (2)"  # proposed without a 6240
    body = inv.submission(key, prep, customer_id=None, new_customer={"display_name": "melton johnson"})
    created = inv.ok(token, "POST", "create", body)  # the user typed a clashing name: resolved on 6240
    stored = inv.qbo_invoices(REALM_US)[created["invoice"]["id"]]
    assert inv.qbo_customers(REALM_US)[stored["CustomerRef"]["value"]]["DisplayName"] == "melton johnson (2)"
