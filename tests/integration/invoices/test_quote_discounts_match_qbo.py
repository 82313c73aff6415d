"""From a HubSpot quote with random line discounts (an amount off each unit or a percentage off the line) and a
random quote discount (percent or fixed), on the US and UK companies: the invoice QBO books has the quote's
line amounts and discount, and the review's subtotal, discount, tax and total equal QBO's to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US

COMPANIES = {
    "US": (US, REALM_US, "USD", "john@meltonjohnson.example"),
    "UK": (UK, REALM_UK, "GBP", "oliver@smithandsons.example"),
}
SKUS = ("DESIGN-001", "INSTALL-001", "PUMP-001", "CONSULT-001")
CENT = Decimal("0.01")

price = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
line_discount = st.one_of(
    st.none(),
    st.tuples(st.just("discount"), st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=2)),
    st.tuples(
        st.just("hs_discount_percentage"), st.decimals(min_value=Decimal("0.5"), max_value=Decimal(100), places=1)
    ),
)
lines = st.lists(
    st.tuples(st.sampled_from(SKUS), st.integers(min_value=1, max_value=40), price, line_discount),
    min_size=1,
    max_size=4,
)
quote_discount = st.one_of(
    st.none(),
    st.tuples(st.just("PERCENT"), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2)),
    st.tuples(st.just("FIXED"), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(1), places=2)),
)


def quote_with(inv, name: str, drawn_lines, drawn_discount) -> tuple[str, str, str, list[Decimal]]:
    """A deal with a published quote holding the drawn lines and discount; HubSpot's net amount of each line."""
    portal, _, currency, email = COMPANIES[name]
    contacts = inv.hubspot_objects(portal, "contacts")
    contact = next(i for i, c in contacts.items() if c["properties"]["email"] == email)
    deal = inv.new_deal(portal, f"Discounts {name}", currency, contact, None)
    expires = (date.today() + timedelta(days=30)).isoformat()
    quote = inv.hubspot_create(
        portal,
        "quotes",
        {"hs_title": "Discounts", "hs_status": "APPROVED", "hs_expiration_date": expires, "hs_currency": currency},
        [("deals", deal), ("contacts", contact)],
    )
    nets = []
    for position, (sku, quantity, unit, discount) in enumerate(drawn_lines):
        props = {"name": sku, "hs_sku": sku, "price": str(unit), "quantity": str(quantity)}
        props |= {"hs_line_item_currency_code": currency, "hs_position_on_quote": str(position)}
        if discount is not None:
            kind, value = discount
            props[kind] = str((value * unit).quantize(CENT, ROUND_DOWN) if kind == "discount" else value)
        item = inv.hubspot_create(portal, "line_items", props, [("quotes", quote)])
        nets.append(Decimal(inv.hubspot_objects(portal, "line_items")[item]["properties"]["amount"]))
    if drawn_discount is not None:
        kind, value = drawn_discount
        if kind == "FIXED":  # at most the lines' total
            value = (sum(nets, Decimal(0)) * value).quantize(CENT, ROUND_DOWN)
        discount = {"hs_label": "Offer", "hs_type": kind, "hs_value": str(value)}
        inv.hubspot_create(portal, "discounts", discount, [("quotes", quote)])
    return deal, quote, contact, nets


def half_cent(drawn) -> bool:
    """HubSpot rounds a percentage's discount, QuickBooks the discounted line: exactly on half a cent they part."""
    _, quantity, unit, discount = drawn
    if discount is None or discount[0] != "hs_discount_percentage":
        return False
    off = quantity * unit * discount[1] / 100
    return (off * 100) % 1 == Decimal("0.5")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(sorted(COMPANIES)), drawn=lines, drawn_discount=quote_discount)
def test_a_quotes_line_and_quote_discounts_are_booked_as_the_review_says(inv, name, drawn, drawn_discount):
    portal, realm, _, _ = COMPANIES[name]
    deal, quote, _, nets = quote_with(inv, name, drawn, drawn_discount)
    token = inv.token(portal, deal)
    key, prep = inv.prepare(token, realm, "quote", quote)
    codes = [c["id"] for c in prep["tax"]["codes"]] if prep["tax"]["per_line"] else [None]
    body = inv.submission(key, prep, discount=prep["discount"], bill_email=None)
    for n, line in enumerate(body["lines"]):
        line["tax_code"] = codes[n % len(codes)]

    figures = inv.ok(token, "POST", "review", {**body, "step": "review"})
    created = inv.ok(token, "POST", "create", body)

    booked = inv.qbo_invoices(realm)[created["invoice"]["id"]]
    sales = [Decimal(str(ln["Amount"])) for ln in booked["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    assert sales == [Decimal(ln["amount"]) for ln in figures["lines"]]
    for amount, net, line in zip(sales, nets, drawn, strict=True):  # each line as the quote shows it
        expected = net.quantize(CENT, ROUND_HALF_UP)
        assert amount == expected or (half_cent(line) and abs(amount - expected) == CENT)
    discounts = [ln for ln in booked["Line"] if ln["DetailType"] == "DiscountLineDetail"]
    booked_discount = sum((Decimal(str(ln["Amount"])) for ln in discounts), Decimal(0))
    assert booked_discount == Decimal((figures["discount"] or {}).get("amount") or 0)
    if drawn_discount is not None and drawn_discount[0] == "PERCENT":  # QBO computes it on the subtotal
        assert Decimal(str(discounts[0]["DiscountLineDetail"]["DiscountPercent"])) == drawn_discount[1]
    booked_tax = Decimal(str((booked.get("TxnTaxDetail") or {}).get("TotalTax") or 0))
    total = Decimal(str(booked["TotalAmt"]))
    assert total - booked_tax == Decimal(figures["subtotal"]) - booked_discount
    if not figures["tax_by_quickbooks"]:
        assert (booked_tax, total) == (Decimal(figures["tax"]), Decimal(figures["total"]))
