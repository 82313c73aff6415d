"""Prices move to the invoice's currency at QBO's exchange rate for the invoice date when the user chooses a
customer billed in another currency than the deal's; the review says which rate was used, or asks for one."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.invoices.conftest import REALM_MULTI, US


def eur_deal_for_zofia(inv) -> str:
    """A US-portal EUR deal with Zofia (matched to "Nowak Sp. z o.o.", billed in PLN): 1 x Design at EUR 120.00."""
    contacts = inv.hubspot_objects(US, "contacts")
    zofia = next((i for i, c in contacts.items() if c["properties"].get("email") == "zofia@nowak.example"), None)
    zofia = zofia or inv.hubspot_create(
        US, "contacts", {"email": "zofia@nowak.example", "firstname": "Zofia", "lastname": "Nowak"}
    )
    deal = inv.new_deal(US, "Euros for Nowak", "EUR", zofia, None)
    line = {"name": "Design", "hs_sku": "DESIGN-001", "price": "120.00", "quantity": "1"}
    inv.hubspot_create(US, "line_items", {**line, "hs_line_item_currency_code": "EUR"}, [("deals", deal)])
    return deal


def review(inv, token: str, body: dict, step: str = "review"):
    return inv.api(token, "POST", "review", {**body, "step": step})


def test_an_eur_deal_for_a_pln_customer_is_converted_at_qbos_rate_and_the_review_says_so(inv):
    deal = eur_deal_for_zofia(inv)
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_MULTI)
    best = prep["customer"]["best"]
    assert prep["currency"] == "EUR" and best["name"] == "Nowak Sp. z o.o." and best["currency"] == "PLN"
    design = next(i for i in inv.ok(token, "GET", "items", realm=REALM_MULTI, q="Design")["items"])
    lines = [
        {**inv.submission(key, prep)["lines"][0]},  # the deal's line, priced in EUR
        {"item_id": design["id"], "quantity": "1", "unit_price": design["price"], "price_currency": "USD"},
    ]
    body = inv.submission(key, prep, currency="PLN", lines=lines)

    asked = review(inv, token, body, "customer")  # billed in PLN, priced in EUR: not without the user's choice
    assert asked.status_code == 400 and asked.json()["errors"][0]["field"] == "customer_id"
    assert "convert the prices to PLN" in asked.json()["errors"][0]["message"]

    body["convert_prices"] = True
    figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
    assert figures["currency"] == "PLN" and figures["priced_in"] == "EUR"
    assert {(r["currency"], r["rate"], r["source"]) for r in figures["rates"]} == {
        ("EUR", "1.08", "quickbooks"),  # USD per EUR, as QBO keeps it
        ("PLN", "0.25", "quickbooks"),
    }
    assert {r["as_of"] for r in figures["rates"]} == {prep["invoice_date"]}
    assert [(ln["price"], ln["price_currency"], ln["unit_price"]) for ln in figures["lines"]] == [
        ("120.00", "EUR", "518.40"),  # 120 x 1.08 / 0.25
        (design["price"], "USD", "300.00"),  # the item's home-currency price, converted as QBO converts it
    ]
    assert figures["subtotal"] == "818.40" and figures["customer"]["currency"] == "PLN"

    inv.reset_calls()
    created = inv.ok(token, "POST", "create", body)
    assert inv.calls(inv.qbo) == {"POST api_write": 1}  # the rates the review used were kept for create
    stored = inv.qbo_invoices(REALM_MULTI)[created["invoice"]["id"]]
    assert stored["CurrencyRef"] == {"value": "PLN"} and stored["TotalAmt"] == Decimal("818.40")
    prices = [ln["SalesItemLineDetail"]["UnitPrice"] for ln in stored["Line"] if ln.get("SalesItemLineDetail")]
    assert prices == [Decimal("518.40"), Decimal("300.00")]


def test_without_a_qbo_rate_the_user_is_asked_for_one_and_it_is_booked(inv):
    deal = eur_deal_for_zofia(inv)
    token = inv.token(US, deal)
    realm = inv.stack.qbo.realms[REALM_MULTI]
    saved = realm.exchange_rates.pop("PLN")
    try:
        key, prep = inv.prepare(token, REALM_MULTI)
        body = inv.submission(key, prep, currency="PLN", convert_prices=True)
        asked = review(inv, token, body, "customer")
        assert asked.status_code == 400, asked.text
        [error] = asked.json()["errors"]
        assert error["field"] == "exchange_rates.PLN" and "no exchange rate for PLN" in error["message"]
        for wrong in ("-1", "abc", "1e-30"):
            assert review(inv, token, {**body, "exchange_rates": {"PLN": wrong}}, "customer").status_code == 400

        body["exchange_rates"] = {"PLN": "0.24"}
        figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
        assert {(r["currency"], r["rate"], r["source"]) for r in figures["rates"]} == {
            ("EUR", "1.08", "quickbooks"),
            ("PLN", "0.24", "entered"),
        }
        assert figures["lines"][0]["unit_price"] == "540.00"  # 120 x 1.08 / 0.24
        created = inv.ok(token, "POST", "create", body)
    finally:
        realm.exchange_rates["PLN"] = saved
    stored = inv.qbo_invoices(REALM_MULTI)[created["invoice"]["id"]]
    assert stored["ExchangeRate"] == Decimal("0.24") and stored["TotalAmt"] == Decimal("540.00")
