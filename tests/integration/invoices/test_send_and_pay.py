"""Sending an invoice by QBO's e-mail from the card, and its pay-online link on the card and the deal."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import requests

from tests.integration.invoices.conftest import REALM_MULTI, REALM_US, UK, US


def _new_invoice(inv, realm: str = REALM_US) -> tuple[str, str, dict]:
    """A fresh deal of John Melton's with one invoice created by the wizard: (deal id, card token, invoice).
    In another company than Craig's the invoice goes to a new customer (John is Craig's customer)."""
    contacts = inv.hubspot_objects(US, "contacts")
    john = next(i for i, c in contacts.items() if c["properties"]["email"] == "john@meltonjohnson.example")
    deal = inv.new_deal(US, f"Send test {realm}", "USD", john, None)
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, realm)
    body = inv.submission(key, prep, lines=[{"item_id": "1", "quantity": "2", "unit_price": "100.00"}])
    if realm != REALM_US:
        new_customer = {"display_name": f"Melton {key[:6]}", "email": "john@meltonjohnson.example"}
        body |= {"customer_id": None, "customer_currency": None, "new_customer": new_customer}
        body["bill_email"] = new_customer["email"]
    created = inv.ok(token, "POST", "create", body)["invoice"]
    return deal, token, created


def _section(inv, deal: str, invoice_id: str) -> dict:
    card = inv.card_json(US, deal)
    return next(s for s in card["sections"] if s["invoiceId"] == invoice_id)


def _items(section: dict) -> dict[str, dict]:
    return {item["key"]: item for item in section["items"]}


def test_a_sent_invoice_shows_when_and_to_whom_and_its_pay_link_on_the_card_and_the_deal(inv):
    deal, token, invoice = _new_invoice(inv)
    send_href = _items(_section(inv, deal, invoice["id"]))["send"]["href"]
    page = requests.get(inv.gateway + send_href, timeout=10)
    assert page.status_code == 200 and "Send invoice" in page.text
    form = inv.ok(token, "GET", "send", realm=REALM_US, invoice=invoice["id"])
    assert form["to"] and form["invoice"]["sent_at"] is None

    sent = inv.ok(token, "POST", "send", {"realm_id": REALM_US, "invoice_id": invoice["id"], "to": "ap@melton.example"})
    assert sent["sent_to"] == "ap@melton.example"
    assert sent["invoice"]["status"] == "sent_to_customer" and sent["invoice"]["sent_at"]
    stored = inv.qbo_invoices(REALM_US)[invoice["id"]]
    assert stored["EmailStatus"] == "EmailSent" and stored["BillEmail"] == {"Address": "ap@melton.example"}

    items = _items(_section(inv, deal, invoice["id"]))
    assert "ap@melton.example" in items["sent"]["value"]
    link = items["pay"]["href"]
    assert link == sent["invoice"]["payment_link"] and link.startswith(inv.qbo)
    props = inv.deal_properties(US, deal)
    assert props["hubqbo_invoice_status"] == "sent_to_customer"
    assert props["hubqbo_invoice_sent"].endswith("Z") and props["hubqbo_invoice_payment_link"] == link

    # The customer pays through the link; QBO records the payment against the invoice.
    assert "Pay now" in requests.get(link, timeout=10).text
    assert requests.post(link, timeout=10).status_code == 200
    assert inv.qbo_invoices(REALM_US)[invoice["id"]]["Balance"] == Decimal("0")
    assert requests.post(link, timeout=10).status_code == 409  # nothing left to pay


def test_a_company_without_online_payments_gets_no_pay_link(inv):
    deal, token, invoice = _new_invoice(inv, REALM_MULTI)
    sent = inv.ok(token, "POST", "send", {"realm_id": REALM_MULTI, "invoice_id": invoice["id"]})
    assert sent["invoice"]["status"] == "sent_to_customer" and sent["invoice"]["payment_link"] is None
    assert "pay" not in _items(_section(inv, deal, invoice["id"]))
    assert inv.deal_properties(US, deal).get("hubqbo_invoice_payment_link", "") == ""  # "" clears: not listed


def test_a_bad_address_is_refused_next_to_its_field_in_the_users_language(inv):
    deal, token, invoice = _new_invoice(inv)
    body = {"realm_id": REALM_US, "invoice_id": invoice["id"], "to": "not an address"}
    refused = inv.api(token, "POST", "send", body)
    assert refused.status_code == 400
    assert [(e["field"], e["message"]) for e in refused.json()["errors"]] == [
        ("to", "Enter one e-mail address, like name@example.com.")
    ]
    assert inv.qbo_invoices(REALM_US)[invoice["id"]]["EmailStatus"] == "NotSet"
    # The card's token carries the user's locale: a Polish user reads the refusal in Polish.
    polish_href = next(a["href"] for a in inv.card(US, deal, locale="pl-pl").json()["actions"])
    polish = inv.api(parse_qs(urlsplit(polish_href).query)["token"][0], "POST", "send", body)
    assert polish.status_code == 400 and polish.json()["errors"][0]["message"].startswith("Wpisz jeden adres e-mail")


def test_another_records_or_portals_invoice_cannot_be_sent(inv):
    _, _, invoice = _new_invoice(inv)
    other_deal = inv.new_deal(US, "Unrelated", "USD", None, None)
    other_token = inv.token(US, other_deal)
    body = {"realm_id": REALM_US, "invoice_id": invoice["id"]}
    assert inv.api(other_token, "POST", "send", body).status_code == 404
    uk_deal = inv.new_deal(UK, "Another portal", "GBP", None, None)
    assert inv.api(inv.token(UK, uk_deal), "POST", "send", body).status_code == 404
    assert inv.qbo_invoices(REALM_US)[invoice["id"]]["EmailStatus"] == "NotSet"


def test_a_voided_invoice_offers_no_send_and_refuses_one(inv):
    deal, token, invoice = _new_invoice(inv)
    voided = requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_US}/ui/invoice/{invoice['id']}/void", json={}, timeout=10)
    from hubqbo import wiring
    from hubqbo.services.invoice_links import apply_invoice_change

    apply_invoice_change(wiring.invoice_ports(), US, REALM_US, voided.json(), invoice_id=invoice["id"])
    assert "send" not in _items(_section(inv, deal, invoice["id"]))
    refused = inv.api(token, "POST", "send", {"realm_id": REALM_US, "invoice_id": invoice["id"]})
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "form"


def test_when_qbo_does_not_answer_the_user_is_told_to_check_before_sending_again_and_nothing_is_retried(inv):
    deal, token, invoice = _new_invoice(inv)
    fault = {"path": f"/v3/company/{REALM_US}/invoice/{invoice['id']}/send", "kind": "503", "count": 5}
    requests.post(inv.qbo + "/_emulator/faults", json=fault, timeout=10).raise_for_status()
    inv.reset_calls()
    try:
        failed = inv.api(token, "POST", "send", {"realm_id": REALM_US, "invoice_id": invoice["id"]})
    finally:
        requests.delete(inv.qbo + "/_emulator/faults", timeout=10)
    assert failed.status_code == 503 and "check the card" in failed.json()["message"]
    assert inv.calls(inv.qbo).get("POST api_send") == 1  # a second call could send a second e-mail
    assert _section(inv, deal, invoice["id"])["status"] == "waiting_to_be_sent"
