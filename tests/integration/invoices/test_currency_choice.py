"""The invoice's currency is the one the user chose: a GBP quote never becomes a USD invoice with the same
numbers, and a customer billed in another currency than the deal's is an explicit choice."""

from __future__ import annotations

from datetime import date, timedelta

from tests.integration.invoices.conftest import REALM_MULTI, REALM_US, US


def gbp_quote_deal(inv, name: str, email: str) -> tuple[str, str]:
    """A US-portal deal in GBP with a published GBP quote: 2 x Design at 270.00 = GBP 540.00."""
    contact = inv.hubspot_create(US, "contacts", {"email": email, "firstname": "Gina", "lastname": name})
    deal = inv.new_deal(US, f"Pounds for {name}", "GBP", contact, None)
    expires = (date.today() + timedelta(days=30)).isoformat()
    quote = inv.hubspot_create(
        US,
        "quotes",
        {
            "hs_title": f"{name} quote",
            "hs_status": "APPROVED",
            "hs_expiration_date": expires,
            "hs_currency": "GBP",
            "hs_locked": "true",
        },
        [("deals", deal), ("contacts", contact)],
    )
    props = {"name": "Design", "hs_sku": "DESIGN-001", "price": "270.00", "quantity": "2"}
    inv.hubspot_create(US, "line_items", {**props, "hs_line_item_currency_code": "GBP"}, [("quotes", quote)])
    return deal, quote


def test_a_gbp_quote_for_a_usd_only_company_is_stopped_with_the_reason_and_books_nothing(inv):
    deal, quote = gbp_quote_deal(inv, "Pounds", "gina@pounds.example")
    token = inv.token(US, deal)
    melton = next(c for c in inv.qbo_customers(REALM_US).values() if c["DisplayName"] == "Melton Johnson")
    before = set(inv.qbo_invoices(REALM_US))

    key, prep = inv.prepare(token, REALM_US, "quote", quote)
    assert prep["currency"] == "GBP" and [line["price"] for line in prep["lines"]] == ["270.00"]
    choice = prep["currency_choice"]
    assert choice["priced_in"] == "GBP" and choice["can_convert"] is False
    assert "works only in USD" in choice["problem"]

    for currency in ("USD", "GBP"):  # booking the GBP figures as USD, or GBP where it cannot be held
        body = inv.submission(key, prep, customer_id=melton["Id"], customer_currency=None, currency=currency)
        refused = inv.api(token, "POST", "create", body)
        assert refused.status_code == 400, refused.text
        [error] = refused.json()["errors"]
        assert error["field"] == "currency" and "only in USD" in error["message"]
    stopped = inv.api(token, "POST", "review", {**body, "step": "customer"})  # the customer step says so too
    assert stopped.status_code == 400 and stopped.json()["errors"][0]["field"] == "currency"
    missing = inv.api(token, "POST", "create", {k: v for k, v in body.items() if k != "currency"})
    assert missing.status_code == 400 and [e["field"] for e in missing.json()["errors"]] == ["currency"]

    assert set(inv.qbo_invoices(REALM_US)) == before  # QBO got nothing
    assert inv.deal_properties(US, deal) == {}  # and the deal's properties were not written


def test_a_usd_customer_for_a_gbp_quote_is_an_explicit_choice_on_the_multicurrency_company(inv):
    deal, quote = gbp_quote_deal(inv, "Sterling", "gina@sterling.example")
    token = inv.token(US, deal)
    customers = inv.qbo_customers(REALM_MULTI)
    usd = next(c for c in customers.values() if c["CurrencyRef"]["value"] == "USD" and c.get("Active", True))
    london = next(c for c in customers.values() if c["DisplayName"] == "London Traders")
    before = set(inv.qbo_invoices(REALM_MULTI))
    key, prep = inv.prepare(token, REALM_MULTI, "quote", quote)
    assert prep["currency_choice"] == {"priced_in": "GBP", "problem": None, "can_convert": True}

    body = inv.submission(key, prep, customer_id=usd["Id"], customer_currency="GBP", currency="GBP")
    refused = inv.api(token, "POST", "create", body)  # the page's word for the customer's currency is not taken
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "customer_id" and "billed in USD" in refused.text
    silent = inv.api(token, "POST", "create", {**body, "currency": "USD"})  # GBP figures as USD: not without asking
    assert silent.status_code == 400
    [error] = silent.json()["errors"]
    assert error["field"] == "customer_id" and "convert the prices" in error["message"]
    assert set(inv.qbo_invoices(REALM_MULTI)) == before

    # The explicit ways on: another customer in GBP, or a new customer in GBP.
    created = inv.ok(token, "POST", "create", {**body, "customer_id": london["Id"], "customer_currency": None})
    stored = inv.qbo_invoices(REALM_MULTI)[created["invoice"]["id"]]
    assert stored["CurrencyRef"] == {"value": "GBP"} and str(stored["TotalAmt"]) == "540.00"

    key2, prep2 = inv.prepare(token, REALM_MULTI, "quote", quote)
    new = {"display_name": "Sterling Gina", "currency": "GBP", "email": "gina@sterling.example"}
    made = inv.ok(token, "POST", "create", inv.submission(key2, prep2, customer_id=None, new_customer=new))
    stored = inv.qbo_invoices(REALM_MULTI)[made["invoice"]["id"]]
    assert stored["CurrencyRef"] == {"value": "GBP"} and str(stored["TotalAmt"]) == "540.00"
    assert inv.qbo_customers(REALM_MULTI)[stored["CustomerRef"]["value"]]["CurrencyRef"] == {"value": "GBP"}
