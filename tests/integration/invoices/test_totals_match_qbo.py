"""The review's figures equal what QBO books, to the cent, for any lines, quantities, prices, discounts (a
percentage or an amount), tax codes and currencies on the US, UK and multicurrency companies (hypothesis drives
the QBO emulator over HTTP)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hubqbo.domain.invoice_totals import Discount, TaxCodeInfo, TotalsLine, convert_price, invoice_totals
from hubqbo.domain.money import round_money, to_decimal
from hubqbo.domain.qbo_json import dumps
from hubqbo.domain.tax import TaxSetup
from infra.local.emulators import demo_accounts
from infra.local.emulators.qbo import QboEmulator
from tests.integration.emulators.qbo.conftest import Api

REALMS = {
    "US": demo_accounts.REALM_US.realm_id,
    "UK": demo_accounts.REALM_UK.realm_id,
    "MULTI": demo_accounts.REALM_MULTI.realm_id,
}


class Company:
    """One seeded QBO company as the wizard sees it: its tax setup, tax codes, items and customers."""

    def __init__(self, base: str, realm: str) -> None:
        tokens = requests.post(f"{base}/_emulator/qbo/oauth/tokens", json={"realm_id": realm}, timeout=10).json()
        self.api = Api(base, realm, tokens["access_token"])
        company = self.api.rows("SELECT * FROM CompanyInfo")[0]
        prefs = self.api.get("/preferences").json()["Preferences"]
        self.setup = TaxSetup.from_qbo(company, prefs)
        self.home = prefs["CurrencyPrefs"]["HomeCurrency"]["value"]
        self.multicurrency = prefs["CurrencyPrefs"].get("MultiCurrencyEnabled") is True
        rates = {r["Id"]: r for r in self.api.rows("SELECT * FROM TaxRate")}
        self.codes = {c["Id"]: TaxCodeInfo.from_qbo(c, rates) for c in self.api.rows("SELECT * FROM TaxCode")}
        self.items = [i for i in self.api.rows("SELECT * FROM Item") if i.get("Active", True)]
        self.customers = [c for c in self.api.rows("SELECT * FROM Customer") if c.get("Active", True)]

    def exchange_rate(self, currency: str) -> Decimal:
        answer = self.api.get("/exchangerate", sourcecurrencycode=currency, asofdate="2026-12-03")
        assert answer.status_code == 200, answer.text
        return to_decimal(answer.json()["ExchangeRate"]["Rate"])

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        answer = self.api.session.post(
            self.api.root + "/invoice",
            data=dumps(body),
            params={"minorversion": 75},
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        assert answer.status_code == 200, answer.text
        return json.loads(answer.text, parse_float=Decimal)["Invoice"]  # exact, as our client reads it


@pytest.fixture(scope="module")
def companies() -> Iterator[dict[str, Company]]:
    qbo = QboEmulator()
    qbo.start(port=0)
    requests.post(f"{qbo.base_url}/_emulator/qbo/rate-limits", json={"enabled": False}, timeout=10)
    try:
        yield {name: Company(qbo.base_url, realm) for name, realm in REALMS.items()}
    finally:
        qbo.stop()


money = st.decimals(min_value=Decimal("0"), max_value=Decimal("25000"), places=2)
quantity = st.one_of(
    st.integers(min_value=1, max_value=500).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250"), places=2),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("20"), places=4),
)
lines = st.lists(st.tuples(quantity, money, st.integers(min_value=0, max_value=1_000)), min_size=1, max_size=8)
# None, a percentage (0 to 100, as QBO allows it), or an amount as a share of the subtotal (0 to all of it)
discounts = st.one_of(
    st.none(),
    st.tuples(st.just("percent"), st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)),
    st.tuples(st.just("amount"), st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=4)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(REALMS)),
    drawn=lines,
    customer_pick=st.integers(min_value=0, max_value=1_000),
    quote_currency=st.sampled_from(["USD", "GBP", "EUR", "PLN"]),
    drawn_discount=discounts,
)
def test_review_subtotal_discount_tax_and_total_equal_the_invoice_qbo_books(
    companies, name, drawn, customer_pick, quote_currency, drawn_discount
):
    company = companies[name]
    customer = company.customers[customer_pick % len(company.customers)]
    currency = (customer.get("CurrencyRef") or {}).get("value", company.home)
    if not company.multicurrency:  # a quote in another currency is refused there (tested with the wizard)
        quote_currency = company.home
    rates = {c: company.exchange_rate(c) for c in {currency, quote_currency} - {company.home}}
    codes = sorted(company.codes) if company.setup.regime == "per_line_codes" else [None]
    review_lines, body_lines = [], []
    for qty, quote_price, pick in drawn:
        item = company.items[pick % len(company.items)]
        price = convert_price(quote_price, quote_currency, currency, company.home, rates) if rates else quote_price
        code = codes[pick % len(codes)]
        review_lines.append(TotalsLine(quantity=qty, unit_price=price, tax_code=code))
        detail: dict[str, Any] = {"ItemRef": {"value": item["Id"]}, "Qty": qty, "UnitPrice": price}
        if code:
            detail["TaxCodeRef"] = {"value": code}
        body_lines.append({"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail})
    discount = None
    if drawn_discount is not None:
        kind, value = drawn_discount
        subtotal = sum((round_money(ln.quantity * ln.unit_price) for ln in review_lines), Decimal(0))
        discount = Discount(percent=value) if kind == "percent" else Discount(amount=round_money(subtotal * value))
    review = invoice_totals(review_lines, company.setup, company.codes, discount)
    for body_line, amount in zip(body_lines, review.line_amounts, strict=True):
        body_line["Amount"] = amount  # QBO refuses an Amount other than Qty * UnitPrice as it rounds it
    if discount is not None:
        detail = {"PercentBased": True, "DiscountPercent": discount.percent} if discount.percent is not None else {}
        body_lines.append({"DetailType": "DiscountLineDetail", "Amount": review.discount, "DiscountLineDetail": detail})
    body: dict[str, Any] = {"CustomerRef": {"value": customer["Id"]}, "Line": body_lines}
    if currency != company.home:
        body["CurrencyRef"] = {"value": currency}

    booked = company.create(body)

    booked_lines = [to_decimal(ln["Amount"]) for ln in booked["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    booked_tax = to_decimal((booked.get("TxnTaxDetail") or {}).get("TotalTax"), Decimal(0))
    assert booked["CurrencyRef"]["value"] == currency
    assert tuple(booked_lines) == review.line_amounts
    booked_discount = sum(
        (to_decimal(ln["Amount"]) for ln in booked["Line"] if ln["DetailType"] == "DiscountLineDetail"), Decimal(0)
    )
    assert booked_discount == review.discount
    if review.tax_by_quickbooks:  # US automated sales tax: known only once QBO saved the invoice
        assert to_decimal(booked["TotalAmt"]) == review.subtotal - review.discount + booked_tax
    else:
        assert booked_tax == review.tax
        assert to_decimal(booked["TotalAmt"]) == review.total
        booked_rates = {
            t["TaxLineDetail"]["TaxRateRef"]["value"]: to_decimal(t["Amount"])
            for t in (booked.get("TxnTaxDetail") or {}).get("TaxLine") or []
        }
        assert booked_rates == {t.rate_id: t.amount for t in review.tax_lines}
