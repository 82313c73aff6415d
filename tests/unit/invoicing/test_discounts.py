"""Discounts as QBO books them: the invoice's discount line, VAT on the pro-rated discounted lines outside the
US, HubSpot's line and quote discounts carried over, and the bounds a discount must keep."""

from datetime import date
from decimal import Decimal as D

import pytest

from hubqbo.domain.currency import CompanyCurrencies
from hubqbo.domain.invoice_draft import DraftContext, DraftError, DraftLine, InvoiceDraft, build_invoice
from hubqbo.domain.invoice_totals import (
    Discount,
    TaxCodeInfo,
    TaxRateInfo,
    TotalsLine,
    discount_shares,
    invoice_totals,
)
from hubqbo.domain.matching import HubSpotLineItem, QboCustomer
from hubqbo.domain.quotes import QuoteDiscount, invoice_discount
from hubqbo.domain.tax import TaxSetup

UK = TaxSetup(country="GB")
US_AST = TaxSetup(country="US", partner_tax_enabled=True, using_sales_tax=True)
US_NONE = TaxSetup(country="US")
CODES = {
    "3": TaxCodeInfo(id="3", name="20.0% S", rates=(TaxRateInfo(id="1", name="20.0% S", percent=D(20)),)),
    "4": TaxCodeInfo(id="4", name="5.0% R", rates=(TaxRateInfo(id="2", name="5.0% R", percent=D(5)),)),
}


def test_a_percent_discount_is_taken_of_the_subtotal_and_rounded_half_up():
    assert Discount(percent=D("12.5")).amount_of(D("0.20")) == D("0.03")  # 0.025 -> 0.03
    assert Discount(amount=D("7")).amount_of(D("100")) == D("7.00")


def test_the_discount_is_shared_pro_rata_and_the_shares_add_up_to_it():
    assert discount_shares([D("300.00"), D("240.00")], D("10.00")) == (D("5.56"), D("4.44"))
    shares = discount_shares([D("0.01")] * 3, D("0.01"))  # 0.0033 each rounds to 0: the first largest takes it
    assert shares == (D("0.01"), D("0.00"), D("0.00")) and sum(shares) == D("0.01")
    assert discount_shares([D(0)], D(0)) == (D(0),)


def test_uk_vat_is_charged_on_each_rates_lines_less_their_share_of_the_discount():
    lines = [
        TotalsLine(quantity=D(20), unit_price=D("15.00"), tax_code="3"),
        TotalsLine(quantity=D(3), unit_price=D("80.00"), tax_code="4"),
    ]
    totals = invoice_totals(lines, UK, CODES, Discount(amount=D("10")))
    assert (totals.subtotal, totals.discount) == (D("540.00"), D("10.00"))
    assert [(t.net, t.amount) for t in totals.tax_lines] == [(D("294.44"), D("58.89")), (D("235.56"), D("11.78"))]
    assert (totals.tax, totals.total) == (D("70.67"), D("600.67"))


def test_us_totals_take_the_discount_off_and_leave_automated_tax_to_quickbooks():
    lines = [TotalsLine(quantity=D(2), unit_price=D("10"))]
    assert invoice_totals(lines, US_NONE, discount=Discount(percent=D(25))).total == D("15.00")
    ast = invoice_totals(lines, US_AST, discount=Discount(percent=D(25)))
    assert ast.discount == D("5.00") and ast.tax_by_quickbooks and ast.total is None


US = DraftContext(
    currencies=CompanyCurrencies(home="USD"),
    tax=US_AST,
    customer=QboCustomer(id="21", display_name="Melton Johnson"),
)
GB = DraftContext(
    currencies=CompanyCurrencies(home="GBP"),
    tax=UK,
    customer=QboCustomer(id="21", display_name="Smith & Sons", currency="GBP"),
)


def draft(discount: Discount | None, tax_code: str = "TAX") -> InvoiceDraft:
    line = DraftLine(item_id="1", quantity=D(2), unit_price=D("10.00"), tax_code=tax_code)
    return InvoiceDraft(customer_id="21", lines=(line,), invoice_date=date(2026, 12, 3), discount=discount)


def test_a_us_discount_is_one_discount_line_with_tax_after_the_discount():
    body = build_invoice(draft(Discount(percent=D("12.5"))), US)
    assert body["Line"][-1] == {
        "DetailType": "DiscountLineDetail",
        "Amount": D("2.50"),
        "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": D("12.5")},
    }
    assert body["ApplyTaxAfterDiscount"] is True


def test_outside_the_us_the_discount_line_is_sent_without_the_us_only_flag():
    body = build_invoice(draft(Discount(amount=D("5")), tax_code="3"), GB)
    assert body["Line"][-1] == {
        "DetailType": "DiscountLineDetail",
        "Amount": D("5.00"),
        "DiscountLineDetail": {"PercentBased": False},
    }
    assert "ApplyTaxAfterDiscount" not in body


@pytest.mark.parametrize("discount", [None, Discount(percent=D(0)), Discount(amount=D("0.00"))])
def test_no_discount_or_a_zero_one_sends_no_discount_line(discount):
    body = build_invoice(draft(discount), US)
    assert [ln["DetailType"] for ln in body["Line"]] == ["SalesItemLineDetail"]
    assert "ApplyTaxAfterDiscount" not in body


@pytest.mark.parametrize(
    ("discount", "field"),
    [
        (Discount(percent=D("100.01")), "discount.percent"),
        (Discount(percent=D(-1)), "discount.percent"),
        (Discount(amount=D("20.01")), "discount.amount"),
        (Discount(amount=D("-0.01")), "discount.amount"),
        (Discount(percent=D(1), amount=D(1)), "discount"),
    ],
)
def test_a_discount_out_of_bounds_is_an_error_on_its_field(discount, field):
    with pytest.raises(DraftError) as caught:
        build_invoice(draft(discount), US)
    assert [e.field for e in caught.value.errors] == [field]


def test_hubspot_line_discounts_price_the_line_at_what_the_customer_pays():
    percent = HubSpotLineItem.from_hubspot("1", {"price": "234.56", "quantity": "10", "hs_discount_percentage": "20"})
    assert percent.net_price == D("187.648")  # 10 x 187.648 = 1876.48, HubSpot's net amount for the line
    unit = HubSpotLineItem.from_hubspot("2", {"price": "80.00", "discount": "5"})
    assert unit.net_price == D("75.00")
    for odd in ({"discount": "abc"}, {"discount": "-3"}, {"hs_discount_percentage": "150"}):
        assert HubSpotLineItem.from_hubspot("3", {"price": "80.00", **odd}).net_price == D("80.00")  # ignored
    assert HubSpotLineItem.from_hubspot("4", {"price": "5.00", "discount": "9"}).net_price == D(0)


def test_a_quotes_discounts_become_the_invoices_one_discount():
    ten = QuoteDiscount.from_hubspot({"hs_type": "PERCENT", "hs_value": "10"})
    five = QuoteDiscount.from_hubspot({"hs_type": "FIXED", "hs_value": "5"})
    assert invoice_discount([ten], D("200.00")) == Discount(percent=D(10))
    assert invoice_discount([five, five], D("200.00")) == Discount(amount=D("10.00"))
    assert invoice_discount([ten, five], D("200.00")) == Discount(amount=D("25.00"))  # 20.00 + 5.00
    assert invoice_discount([five], D("3.00")) == Discount(amount=D("3.00"))  # never more than the lines
    assert invoice_discount([QuoteDiscount.from_hubspot({"hs_type": "FIXED", "hs_value": "x"})], D(1)) is None
    assert invoice_discount([], D("200.00")) is None
