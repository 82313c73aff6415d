"""Through the wizard's own API: for random lines, quantities, rates, discounts (percent or amount), tax codes
and currencies on the US, UK and multicurrency companies, the review's subtotal, discount, tax and total equal
those of the invoice QBO creates."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.invoices.conftest import REALM_MULTI, REALM_UK, REALM_US, UK, US

COMPANIES = {"US": (US, REALM_US, "USD"), "UK": (UK, REALM_UK, "GBP"), "MULTI": (US, REALM_MULTI, "EUR")}
_wizards: dict[str, dict] = {}


def wizard(inv, name: str) -> dict:
    """One deal per company (in the currency named above), its token, items, tax codes and customers."""
    if name not in _wizards:
        portal, realm, currency = COMPANIES[name]
        deal = inv.new_deal(portal, f"Property deal {name}", currency, None, None)
        token = inv.token(portal, deal)
        items = [i for i in inv.ok(token, "GET", "items", realm=realm, q="")["items"] if i["active"]]
        customers = sorted(c["Id"] for c in inv.qbo_customers(realm).values() if c.get("Active", True))
        _wizards[name] = {"token": token, "realm": realm, "items": items, "customers": customers}
    return _wizards[name]


money = st.decimals(min_value=Decimal("0"), max_value=Decimal("25000"), places=2)
quantity = st.one_of(
    st.integers(min_value=1, max_value=500).map(Decimal),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("250"), places=2),
    st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("20"), places=4),
)
lines = st.lists(
    st.tuples(quantity, money, st.integers(min_value=0, max_value=1_000), st.booleans()), min_size=1, max_size=6
)
# None, a percentage (0 to 100) or an amount given as a share of the subtotal (0 to all of it)
discounts = st.one_of(
    st.none(),
    st.tuples(st.just("percent"), st.decimals(min_value=Decimal(0), max_value=Decimal(100), places=2)),
    st.tuples(st.just("amount"), st.decimals(min_value=Decimal(0), max_value=Decimal(1), places=4)),
)


def _discount(drawn, chosen: list[dict], converting: bool) -> dict | None:
    """The discount as the wizard sends it; an amount is in the prices' currency, at most their subtotal."""
    if drawn is None:
        return None
    kind, value = drawn
    if kind == "percent":
        return {"percent": str(value)}
    if converting:  # converted separately from the lines, a whole-subtotal amount could pass it by a cent
        value *= Decimal("0.9")
    subtotal = sum(Decimal(ln["quantity"]) * Decimal(ln["unit_price"]) for ln in chosen)
    return {"amount": str((subtotal * value).quantize(Decimal("0.01"), rounding=ROUND_DOWN))}


@settings(max_examples=36, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(sorted(COMPANIES)),
    drawn=lines,
    pick=st.integers(min_value=0, max_value=1_000),
    drawn_discount=discounts,
)
def test_the_reviews_subtotal_discount_tax_and_total_equal_the_invoice_qbo_creates(
    inv, name, drawn, pick, drawn_discount
):
    w = wizard(inv, name)
    token, realm = w["token"], w["realm"]
    key, prep = inv.prepare(token, realm)
    customer_id = w["customers"][pick % len(w["customers"])]
    customer = inv.qbo_customers(realm)[customer_id]
    home = prep["company"]["home_currency"]
    currency = (customer.get("CurrencyRef") or {}).get("value", home)
    codes = [c["id"] for c in prep["tax"]["codes"]] if prep["tax"]["per_line"] else [None]
    chosen = []
    for qty, price, n, item_priced in drawn:
        item = w["items"][n % len(w["items"])]
        chosen.append(
            {
                "item_id": item["id"],
                "quantity": str(qty),
                "unit_price": str(price),
                # the deal's price, or (multicurrency) the item's own price, which is in the home currency
                "price_currency": home if item_priced and name == "MULTI" else prep["currency"],
                "tax_code": codes[n % len(codes)],
            }
        )
    body = inv.submission(
        key,
        prep,
        customer_id=customer_id,
        customer_currency=None,
        currency=currency,
        convert_prices=currency != prep["currency"],
        lines=chosen,
        discount=_discount(drawn_discount, chosen, currency != prep["currency"] or name == "MULTI"),
        bill_email=None,
    )

    figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
    created = inv.ok(token, "POST", "create", body)

    booked = inv.qbo_invoices(realm)[created["invoice"]["id"]]
    sales = [ln for ln in booked["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    booked_tax = Decimal(str((booked.get("TxnTaxDetail") or {}).get("TotalTax") or 0))
    assert booked["CurrencyRef"]["value"] == figures["currency"] == currency
    assert [Decimal(str(ln["Amount"])) for ln in sales] == [Decimal(ln["amount"]) for ln in figures["lines"]]
    assert [Decimal(str(ln["SalesItemLineDetail"]["UnitPrice"])) for ln in sales] == [
        Decimal(ln["unit_price"]) for ln in figures["lines"]
    ]
    booked_discount = sum(
        (Decimal(str(ln["Amount"])) for ln in booked["Line"] if ln["DetailType"] == "DiscountLineDetail"), Decimal(0)
    )
    assert booked_discount == Decimal((figures["discount"] or {}).get("amount") or 0)
    assert Decimal(str(booked["TotalAmt"])) - booked_tax == Decimal(figures["subtotal"]) - booked_discount
    if figures["tax_by_quickbooks"]:  # US automated sales tax: QBO computes it when it saves the invoice
        assert figures["tax"] is None and figures["total"] is None
    else:
        assert booked_tax == Decimal(figures["tax"])
        assert Decimal(str(booked["TotalAmt"])) == Decimal(figures["total"])
        booked_rates = sorted(Decimal(str(t["Amount"])) for t in booked["TxnTaxDetail"].get("TaxLine") or [])
        assert booked_rates == sorted(Decimal(t["amount"]) for t in figures["tax_lines"])
