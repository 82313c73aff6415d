"""A deal's or quote's discounts reach the QBO invoice as a user expects: a line's own discount prices the line,
the quote's discount becomes the invoice's discount line; the review shows them as QBO books them, and a
discount QBO could not book is refused next to its field (never a 5xx)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US


def uk_quote_with_discounts(inv) -> tuple[str, str]:
    """A UK deal with a published GBP quote: 20 pumps at 15.00 less 20 %, 3 design days at 80.00 less 5.00 each,
    and a 10 % discount on the quote."""
    oliver = inv.uk_contact()
    deal = inv.new_deal(UK, "Discounted pumps", "GBP", oliver, None)
    expires = (date.today() + timedelta(days=30)).isoformat()
    quote = inv.hubspot_create(
        UK,
        "quotes",
        {
            "hs_title": "Discounted pumps",
            "hs_status": "APPROVED",
            "hs_expiration_date": expires,
            "hs_currency": "GBP",
            "hs_locked": "true",
        },
        [("deals", deal), ("contacts", oliver)],
    )
    pumps = {"name": "Pump", "hs_sku": "PUMP-001", "price": "15.00", "quantity": "20", "hs_discount_percentage": "20"}
    design = {"name": "Design", "hs_sku": "DESIGN-001", "price": "80.00", "quantity": "3", "discount": "5"}
    for position, props in enumerate((pumps, design)):
        extra = {"hs_line_item_currency_code": "GBP", "hs_position_on_quote": str(position)}
        inv.hubspot_create(UK, "line_items", {**props, **extra}, [("quotes", quote)])
    discount = {"hs_label": "Loyal customer", "hs_type": "PERCENT", "hs_value": "10", "hs_duration": "ONCE"}
    inv.hubspot_create(UK, "discounts", discount, [("quotes", quote)])
    return deal, quote


def test_a_quotes_line_and_quote_discounts_reach_the_uk_invoice_with_vat_on_the_discounted_amounts(inv):
    deal, quote = uk_quote_with_discounts(inv)
    token = inv.token(UK, deal)
    key, prep = inv.prepare(token, REALM_UK, "quote", quote)
    assert prep["discount"] == {"percent": "10"}  # the quote's discount, as QBO's percent-based discount line
    assert [(ln["list_price"], ln["price"]) for ln in prep["lines"]] == [("15.00", "12"), ("80.00", "75.00")]
    assert [(ln["discount_percent"], ln["unit_discount"]) for ln in prep["lines"]] == [("20", None), (None, "5")]
    codes = {c["name"]: c["id"] for c in prep["tax"]["codes"]}
    body = inv.submission(key, prep, discount=prep["discount"])
    body["lines"][0]["tax_code"], body["lines"][1]["tax_code"] = codes["20.0% S"], codes["5.0% R"]

    figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
    assert [ln["amount"] for ln in figures["lines"]] == ["240.00", "225.00"]  # each line at its discounted price
    assert figures["subtotal"] == "465.00"
    assert figures["discount"] == {"percent": "10", "amount": "46.50"}
    assert [(t["name"], t["net"], t["amount"]) for t in figures["tax_lines"]] == [
        ("20.0% S", "216.00", "43.20"),  # 240.00 less its share of the discount (24.00)
        ("5.0% R", "202.50", "10.13"),  # 225.00 less 22.50; 10.125 rounded half up
    ]
    assert (figures["tax"], figures["total"]) == ("53.33", "471.83")

    created = inv.ok(token, "POST", "create", body)
    booked = inv.qbo_invoices(REALM_UK)[created["invoice"]["id"]]
    [line] = [ln for ln in booked["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert line["Amount"] == Decimal("46.50")
    assert line["DiscountLineDetail"]["PercentBased"] is True
    assert line["DiscountLineDetail"]["DiscountPercent"] == Decimal("10")
    assert booked["TxnTaxDetail"]["TotalTax"] == Decimal("53.33") and booked["TotalAmt"] == Decimal("471.83")
    assert "ApplyTaxAfterDiscount" not in booked  # a US-only choice; VAT is always on the discounted amount
    assert created["invoice"]["total"] == "471.83"


def test_a_us_amount_discount_is_booked_before_the_sales_tax_quickbooks_calculates(inv):
    token = inv.token(US, inv.seeded_id(US, "deals", "website_redesign"))
    key, prep = inv.prepare(token, REALM_US)
    assert prep["discount"] is None  # a deal without a quote has no invoice discount
    body = inv.submission(key, prep, discount={"amount": "100.00"})

    figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
    assert figures["discount"] == {"percent": None, "amount": "100.00"}
    assert figures["tax_by_quickbooks"] is True and figures["total"] is None

    created = inv.ok(token, "POST", "create", body)
    booked = inv.qbo_invoices(REALM_US)[created["invoice"]["id"]]
    [line] = [ln for ln in booked["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    assert line["Amount"] == Decimal("100.00") and line["DiscountLineDetail"]["PercentBased"] is False
    assert booked["ApplyTaxAfterDiscount"] is True  # the customer pays sales tax on what they pay
    tax = booked["TxnTaxDetail"]["TotalTax"]
    assert booked["TotalAmt"] == Decimal(figures["subtotal"]) - Decimal("100.00") + tax


def uk_two_pumps(inv) -> tuple[str, str, dict, dict]:
    """A UK wizard with one valid line: 2 pumps at 10.00 (subtotal 20.00)."""
    token = inv.token(UK, inv.uk_deal("Two pumps"))
    key, prep = inv.prepare(token, REALM_UK)
    pump = next(i for i in inv.ok(token, "GET", "items", realm=REALM_UK, q="Pump")["items"] if i["active"])
    code = next(c["id"] for c in prep["tax"]["codes"] if c["name"] == "20.0% S")
    line = {"item_id": pump["id"], "quantity": "2", "unit_price": "10.00", "tax_code": code}
    return token, key, prep, line


@pytest.mark.parametrize(
    ("discount", "field", "message"),
    [
        ({"amount": "-5"}, "discount.amount", "Enter a discount of zero or more."),
        ({"amount": "20.01"}, "discount.amount", "The discount cannot be more than the subtotal (20.00)."),
        ({"percent": "-1"}, "discount.percent", "Enter a discount from 0 to 100 %."),
        ({"percent": "150"}, "discount.percent", "Enter a discount from 0 to 100 %."),
        ({"percent": "abc"}, "discount.percent", "Enter the discount as a number."),
        ({"amount": "1e30"}, "discount.amount", "Enter the discount as a number."),  # beyond any invoice
        ({"amount": "NaN"}, "discount.amount", "Enter the discount as a number."),
        ({"percent": "5", "amount": "1"}, "discount", "Give the discount as a percentage or as an amount, not both."),
    ],
)
def test_a_discount_qbo_could_not_book_is_refused_at_the_products_step_next_to_its_field(inv, discount, field, message):
    token, key, prep, line = uk_two_pumps(inv)
    body = inv.submission(key, prep, lines=[line], discount=discount)
    before = set(inv.qbo_invoices(REALM_UK))

    early = inv.api(token, "POST", "review", {**body, "step": "customer"})  # not its step: no error, no discount
    assert early.status_code == 200 and early.json()["discount"] is None
    assert early.json()["total"] == "24.00"  # 20.00 and its VAT
    refused = inv.api(token, "POST", "review", {**body, "step": "products"})
    assert refused.status_code == 400, refused.text
    assert {e["field"]: e["message"] for e in refused.json()["errors"]} == {field: message}
    created = inv.api(token, "POST", "create", body)
    assert created.status_code == 400 and [e["field"] for e in created.json()["errors"]] == [field]
    assert set(inv.qbo_invoices(REALM_UK)) == before


def test_a_discount_that_is_not_an_object_is_a_400_naming_the_field(inv):
    token, key, prep, line = uk_two_pumps(inv)
    reply = inv.api(token, "POST", "review", {**inv.submission(key, prep, lines=[line]), "discount": "10"})
    assert reply.status_code == 400 and reply.json()["errors"][0]["field"] == "discount"


def test_a_discount_of_the_whole_subtotal_books_an_invoice_of_zero(inv):
    token, key, prep, line = uk_two_pumps(inv)
    body = inv.submission(key, prep, lines=[line], discount={"amount": "20.00"})
    figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
    assert (figures["subtotal"], figures["discount"]["amount"], figures["tax"], figures["total"]) == (
        "20.00",
        "20.00",
        "0.00",
        "0.00",
    )
    created = inv.ok(token, "POST", "create", body)
    assert inv.qbo_invoices(REALM_UK)[created["invoice"]["id"]]["TotalAmt"] == Decimal("0.00")
