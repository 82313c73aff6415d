"""The emulator books an invoice discount as QBO documents it: one DiscountLineDetail line on the subtotal, a
percentage computed and rounded half up, VAT on the lines less their pro-rated shares outside the US."""

from __future__ import annotations

import pytest

from tests.integration.emulators.qbo.test_business_rules import fault_code, first, line


def discount_line(**detail) -> dict:
    amount = detail.pop("Amount", None)
    body = {"DetailType": "DiscountLineDetail", "DiscountLineDetail": detail}
    return body | ({"Amount": amount} if amount is not None else {})


def test_a_percent_discount_is_computed_on_the_subtotal_and_vat_charged_on_what_is_left(uk):
    customer = first(uk, "SELECT * FROM Customer WHERE DisplayName = 'Smith & Sons Ltd'")
    standard = first(uk, "SELECT * FROM TaxCode WHERE Name = '20.0% S'")
    reduced = first(uk, "SELECT * FROM TaxCode WHERE Name = '5.0% R'")
    design = first(uk, "SELECT * FROM Item WHERE Sku = 'DESIGN-001'")
    lines = [
        line(design["Id"], 20, UnitPrice=15, TaxCodeRef={"value": standard["Id"]}),
        line(design["Id"], 3, UnitPrice=80, TaxCodeRef={"value": reduced["Id"]}),
        discount_line(PercentBased=True, DiscountPercent=12.5, Amount=1),  # QBO computes the amount itself
    ]
    booked = uk.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": lines}).json()["Invoice"]
    discount = next(ln for ln in booked["Line"] if ln["DetailType"] == "DiscountLineDetail")
    assert discount["Amount"] == 67.5  # 12.5 % of 540.00
    shares = [ln["SalesItemLineDetail"]["DiscountAmt"] for ln in booked["Line"][:2]]
    assert shares == [37.5, 30]  # pro rata to 300.00 and 240.00
    nets = sorted(t["TaxLineDetail"]["NetAmountTaxable"] for t in booked["TxnTaxDetail"]["TaxLine"])
    assert nets == [210, 262.5]
    assert booked["TxnTaxDetail"]["TotalTax"] == 63  # 52.50 + 10.50
    assert booked["TotalAmt"] == 535.5  # 540.00 - 67.50 + 63.00


def test_a_us_amount_discount_is_taken_off_the_total(us):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Bill\\'s Windsurf Shop'")
    item = first(us, "SELECT * FROM Item WHERE Sku = 'DESIGN-001'")
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "Line": [line(item["Id"], 2, UnitPrice=50), discount_line(PercentBased=False, Amount=25)],
        "ApplyTaxAfterDiscount": True,
    }
    booked = us.post("/invoice", body).json()["Invoice"]
    assert booked["TotalAmt"] == 75 and booked["ApplyTaxAfterDiscount"] is True


@pytest.mark.parametrize(
    "discount",
    [
        discount_line(PercentBased=True, DiscountPercent=101),
        discount_line(PercentBased=True, DiscountPercent=-1),
        discount_line(Amount=100.01),
        discount_line(Amount=-1),
    ],
)
def test_a_discount_below_zero_or_above_the_subtotal_is_refused(us, discount):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Bill\\'s Windsurf Shop'")
    item = first(us, "SELECT * FROM Item WHERE Sku = 'DESIGN-001'")
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [line(item["Id"], 2, UnitPrice=50), discount]}
    refused = us.post("/invoice", body)
    assert (refused.status_code, fault_code(refused)) == (400, "6000")


def test_only_one_discount_line_is_allowed(us):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Bill\\'s Windsurf Shop'")
    item = first(us, "SELECT * FROM Item WHERE Sku = 'DESIGN-001'")
    two = [discount_line(Amount=1), discount_line(Amount=2)]
    refused = us.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(item["Id"]), *two]})
    assert (refused.status_code, fault_code(refused)) == (400, "6000")
