"""The review's figures: line amounts, VAT per rate and totals computed the way QBO computes them."""

from decimal import Decimal as D

import pytest

from hubqbo.domain.invoice_totals import (
    MissingExchangeRate,
    TaxCodeInfo,
    TaxRateInfo,
    TotalsLine,
    convert_price,
    invoice_totals,
)
from hubqbo.domain.tax import TaxSetup

UK = TaxSetup(country="GB")
US_AST = TaxSetup(country="US", partner_tax_enabled=True, using_sales_tax=True)
US_NONE = TaxSetup(country="US")
STANDARD = TaxRateInfo(id="1", name="20.0% S", percent=D(20))
REDUCED = TaxRateInfo(id="2", name="5.0% R", percent=D(5))
CODES = {
    "3": TaxCodeInfo(id="3", name="20.0% S", rates=(STANDARD,)),
    "4": TaxCodeInfo(id="4", name="5.0% R", rates=(REDUCED,)),
    "5": TaxCodeInfo(id="5", name="Exempt", rates=()),
}


def test_uk_invoice_shows_vat_per_rate_and_the_total_qbo_books():
    lines = [
        TotalsLine(quantity=D(4), unit_price=D("125.00"), tax_code="3"),
        TotalsLine(quantity=D(1), unit_price=D("40"), tax_code="5"),
    ]
    totals = invoice_totals(lines, UK, CODES)
    assert totals.line_amounts == (D("500.00"), D("40.00"))
    assert totals.subtotal == D("540.00")
    assert [(t.name, t.net, t.amount) for t in totals.tax_lines] == [("20.0% S", D("500.00"), D("100.00"))]
    assert (totals.tax, totals.total) == (D("100.00"), D("640.00"))


def test_vat_is_rounded_once_per_rate_not_once_per_line():
    """Three lines of 0.05 at 5%: per line each tax is 0.0025 -> 0.00; QBO taxes the 0.15 net once: 0.01."""
    lines = [TotalsLine(quantity=D(1), unit_price=D("0.05"), tax_code="4")] * 3
    totals = invoice_totals(lines, UK, CODES)
    assert totals.tax_lines[0].net == D("0.15")
    assert totals.tax == D("0.01")


def test_line_amount_is_quantity_times_price_rounded_half_up():
    totals = invoice_totals([TotalsLine(quantity=D("0.333"), unit_price=D("1.50"), tax_code="5")], UK, CODES)
    assert totals.line_amounts == (D("0.50"),)  # 0.4995 -> 0.50


def test_us_automated_sales_tax_is_left_to_quickbooks():
    totals = invoice_totals([TotalsLine(quantity=D(2), unit_price=D("10"), tax_code="TAX")], US_AST)
    assert totals.subtotal == D("20.00")
    assert totals.tax_by_quickbooks and totals.total is None


def test_a_company_without_sales_tax_books_the_subtotal():
    totals = invoice_totals([TotalsLine(quantity=D(2), unit_price=D("10"))], US_NONE)
    assert (totals.tax, totals.total) == (D(0), D("20.00"))


def test_prices_convert_through_the_home_currency_at_qbos_rate():
    rates = {"EUR": D("1.08"), "PLN": D("0.25")}  # USD home: 1 EUR = 1.08 USD, 1 PLN = 0.25 USD
    assert convert_price(D("100"), "EUR", "PLN", "USD", rates) == D("432.00")
    assert convert_price(D("100"), "USD", "EUR", "USD", rates) == D("92.59")
    assert convert_price(D("100"), "EUR", "EUR", "USD", rates) == D("100")


def test_a_currency_without_a_rate_is_refused_not_guessed():
    with pytest.raises(MissingExchangeRate):
        convert_price(D("100"), "EUR", "GBP", "USD", {"EUR": D("1.08")})
