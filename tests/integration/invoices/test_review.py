"""The review's figures come from the server as QBO will book them, and each step checks its own fields."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US


def uk_wizard(inv):
    deal = inv.uk_deal("Pumps and design")
    token = inv.token(UK, deal)
    key, prep = inv.prepare(token, REALM_UK)
    return token, key, prep


def test_a_uk_review_names_the_tax_codes_and_shows_vat_per_rate_and_the_total_qbo_books(inv):
    token, key, prep = uk_wizard(inv)
    codes = {c["name"]: c["id"] for c in prep["tax"]["codes"]}
    items = {i["sku"]: i for i in inv.ok(token, "GET", "items", realm=REALM_UK, q="")["items"]}
    lines = [
        {"item_id": items["PUMP-001"]["id"], "quantity": "20", "unit_price": "15.00", "tax_code": codes["20.0% S"]},
        {"item_id": items["DESIGN-001"]["id"], "quantity": "3", "unit_price": "80.00", "tax_code": codes["5.0% R"]},
        {"item_id": items["PUMP-001"]["id"], "quantity": "0.333", "unit_price": "10.00", "tax_code": codes["20.0% S"]},
    ]
    body = inv.submission(key, prep, lines=lines)
    figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
    assert [(ln["amount"], ln["tax_code_name"]) for ln in figures["lines"]] == [
        ("300.00", "20.0% S"),
        ("240.00", "5.0% R"),
        ("3.33", "20.0% S"),  # 0.333 x 10.00, rounded half up as QBO rounds the line
    ]
    assert [(t["name"], t["net"], t["amount"]) for t in figures["tax_lines"]] == [
        ("20.0% S", "303.33", "60.67"),  # VAT per rate, rounded once
        ("5.0% R", "240.00", "12.00"),
    ]
    assert (figures["subtotal"], figures["tax"], figures["total"]) == ("543.33", "72.67", "616.00")
    assert figures["currency"] == "GBP" and figures["tax_by_quickbooks"] is False

    created = inv.ok(token, "POST", "create", body)
    stored = inv.qbo_invoices(REALM_UK)[created["invoice"]["id"]]
    assert stored["TxnTaxDetail"]["TotalTax"] == Decimal("72.67") and stored["TotalAmt"] == Decimal("616.00")


def test_a_us_review_says_quickbooks_calculates_the_sales_tax(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US)
    figures = inv.ok(token, "POST", "review", {**inv.submission(key, prep), "step": "review"})
    assert figures["tax_by_quickbooks"] is True and figures["tax"] is None and figures["total"] is None
    assert figures["subtotal"] == str(sum(Decimal(ln["amount"]) for ln in figures["lines"]))


def test_bad_quantities_and_rates_are_refused_at_the_products_step_next_to_their_fields(inv):
    token, key, prep = uk_wizard(inv)
    items = inv.ok(token, "GET", "items", realm=REALM_UK, q="Pump")["items"]
    lines = [
        {"item_id": items[0]["id"], "quantity": "abc", "unit_price": "-5"},
        {"item_id": items[0]["id"], "quantity": "2", "unit_price": "1e400x"},
        {"item_id": items[0]["id"], "quantity": "-1", "unit_price": "NaN"},
        {"item_id": items[0]["id"], "quantity": "1e30", "unit_price": "1"},  # beyond any invoice: refused, no 5xx
    ]
    body = inv.submission(key, prep, lines=lines)

    customer = inv.api(token, "POST", "review", {**body, "step": "customer"})  # not the customer step's business
    assert customer.status_code == 200, customer.text
    assert customer.json()["subtotal"] is None  # lines that cannot be priced leave the totals out

    refused = inv.api(token, "POST", "review", {**body, "step": "products"})
    assert refused.status_code == 400
    errors = {e["field"]: e["message"] for e in refused.json()["errors"]}
    assert errors == {
        "lines[0].quantity": "Enter the quantity as a number.",
        "lines[0].unit_price": "Enter a price of zero or more.",
        "lines[1].unit_price": "Enter the rate as a number.",
        "lines[2].quantity": "Enter a quantity above zero.",
        "lines[2].unit_price": "Enter the rate as a number.",
        "lines[3].quantity": "Enter the quantity as a number.",
    }  # the tax codes, missing on every line, wait for the tax step
    tax = inv.api(token, "POST", "review", {**body, "lines": [{**lines[0], "quantity": "1", "unit_price": "5"}]})
    assert [e["field"] for e in tax.json()["errors"]] == ["lines[0].tax_code"]
    assert inv.api(token, "POST", "create", body).status_code == 400  # and create refuses the same
