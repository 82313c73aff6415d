"""Add existing invoice, the pipeline's entry point, and refused input (signatures, tokens, other
portals, malformed bodies, inactive customers and products)."""

from __future__ import annotations

import json
import time

import requests

from infra.local.emulators.hubspot.signing import sign_request
from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US


def _seeded_invoices(inv, realm: str) -> list[dict]:
    return sorted(inv.qbo_invoices(realm).values(), key=lambda i: int(i["Id"]))[:4]


def test_existing_invoices_are_found_ticked_and_linked_and_the_most_recently_updated_one_sets_the_deal(inv):
    deal = inv.seeded_id(US, "deals", "no_line_items")
    token = inv.token(US, deal, action=1)  # "Add existing invoice"
    found = inv.ok(token, "GET", "invoices", realm=REALM_US, customer="Melton")["invoices"]
    seeded = {i["DocNumber"] for i in _seeded_invoices(inv, REALM_US)}
    assert seeded <= {i["number"] for i in found}
    by_status = inv.ok(token, "GET", "invoices", realm=REALM_US, status="paid_in_full")["invoices"]
    assert by_status and {i["status"] for i in by_status} == {"paid_in_full"}
    by_number = inv.ok(token, "GET", "invoices", realm=REALM_US, number="1002")["invoices"]
    assert [i["number"] for i in by_number] == ["1002"]

    first, second = _seeded_invoices(inv, REALM_US)[:2]
    requests.post(f"{inv.qbo}/_emulator/clock", json={"advance_seconds": 5}, timeout=10).raise_for_status()
    paid = requests.post(
        f"{inv.qbo}/_emulator/qbo/{REALM_US}/ui/invoice/{first['Id']}/payment", json={"amount": "10.00"}, timeout=10
    )
    assert paid.status_code == 200, paid.text
    linked = inv.ok(token, "POST", "attach", {"realm_id": REALM_US, "invoice_ids": [first["Id"], second["Id"]]})
    assert len(linked["linked"]) == 2 and linked["deal_properties_updated"] is True
    props = inv.deal_properties(US, deal)
    assert props["hubqbo_invoice_number"] == first["DocNumber"]  # updated last in QBO: it speaks for the deal
    assert props["hubqbo_invoice_status"] == "partial_payment" and props["hubqbo_last_payment_date"]
    assert {s["invoiceId"] for s in inv.card_json(US, deal)["sections"]} == {first["Id"], second["Id"]}
    again = inv.ok(token, "GET", "invoices", realm=REALM_US, number=first["DocNumber"])["invoices"]
    assert again[0]["linked"] is True


def test_invoices_can_be_added_to_a_contact_and_a_company_without_touching_any_deal(inv):
    contacts = inv.hubspot_objects(US, "contacts")
    amy = next(i for i, c in contacts.items() if c["properties"]["email"] == "amy@amysbirds.example")
    token = inv.token(US, amy, "CONTACT", action=0)
    card = inv.card_json(US, amy, "CONTACT")
    assert [a["label"] for a in card["actions"]] == ["Add existing invoice"]  # no "Create invoice" off a deal
    invoice = _seeded_invoices(inv, REALM_US)[2]
    result = inv.ok(token, "POST", "attach", {"realm_id": REALM_US, "invoice_ids": [invoice["Id"]]})
    assert result["deal_properties_updated"] is False
    assert [s["invoiceId"] for s in inv.card_json(US, amy, "CONTACT")["sections"]] == [invoice["Id"]]


def test_the_pipeline_entry_point_rewrites_linked_deals_and_unlinks_a_deleted_invoice(inv):
    from hubqbo import wiring
    from hubqbo.services.invoice_links import apply_invoice_change, links_for_invoice

    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US)
    created = inv.ok(token, "POST", "create", inv.submission(key, prep))["invoice"]
    ports = wiring.invoice_ports()
    assert [(link.object_type, link.object_id) for link in links_for_invoice(ports, US, REALM_US, created["id"])] == [
        ("deals", deal)
    ]
    sent = requests.post(f"{inv.qbo}/_emulator/qbo/{REALM_US}/ui/invoice/{created['id']}/send", json={}, timeout=10)
    assert sent.status_code == 200, sent.text
    assert apply_invoice_change(ports, US, REALM_US, sent.json(), invoice_id=created["id"]) == [deal]
    assert inv.deal_properties(US, deal)["hubqbo_invoice_status"] == "sent_to_customer"
    assert apply_invoice_change(ports, US, REALM_US, sent.json(), invoice_id="999999") == []  # not linked here
    assert apply_invoice_change(ports, UK, REALM_US, sent.json(), invoice_id=created["id"]) == []  # other portal

    apply_invoice_change(ports, US, REALM_US, None, invoice_id=created["id"])
    assert links_for_invoice(ports, US, REALM_US, created["id"]) == []
    assert created["id"] not in {s["invoiceId"] for s in inv.card_json(US, deal)["sections"]}


def test_an_unsigned_or_stale_card_request_is_refused(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    url = f"{inv.gateway}/invoices/card?portalId={US}&associatedObjectId={deal}&associatedObjectType=DEAL"
    assert requests.get(url, timeout=10).status_code == 401
    stale = sign_request("GET", url, "", "hubqbo-local-hubspot-secret", int((time.time() - 600) * 1000))
    assert requests.get(url, headers=stale, timeout=10).status_code == 401
    forged = sign_request("GET", url, "", "not-the-secret")
    assert requests.get(url, headers=forged, timeout=10).status_code == 401


def test_wizard_pages_and_api_calls_need_a_genuine_token(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    assert requests.get(f"{inv.gateway}/invoices/wizard?token={token}", timeout=10).status_code == 200
    for bad in ("", "garbage", token[:-3] + "abc"):
        assert requests.get(f"{inv.gateway}/invoices/wizard?token={bad}", timeout=10).status_code == 401
        assert inv.api(bad, "GET", "companies").status_code == 401
    assert requests.get(f"{inv.gateway}/invoices/api/companies", timeout=10).status_code == 401


def test_another_portals_invoice_or_company_is_not_found(inv):
    us_deal = inv.seeded_id(US, "deals", "website_redesign")
    us_token = inv.token(US, us_deal)
    key, prep = inv.prepare(us_token, REALM_US)
    created = inv.ok(us_token, "POST", "create", inv.submission(key, prep))["invoice"]
    uk_company = next(iter(inv.hubspot_objects(UK, "companies")))
    uk_token = inv.token(UK, uk_company, "COMPANY")
    pdf = requests.get(
        f"{inv.gateway}/invoices/pdf?token={uk_token}&realm={REALM_US}&invoice={created['id']}", timeout=10
    )
    assert pdf.status_code == 404 and b"PDF" not in pdf.content
    assert inv.api(uk_token, "GET", "invoices", realm=REALM_US).status_code == 404
    assert (
        inv.api(uk_token, "POST", "attach", {"realm_id": REALM_US, "invoice_ids": [created["id"]]}).status_code == 404
    )
    assert inv.api(us_token, "GET", "sources", realm=REALM_UK).status_code in (200, 404)
    assert inv.api(us_token, "GET", "customers", realm=REALM_UK, q="Smith").status_code == 404
    missing = inv.api(us_token, "POST", "attach", {"realm_id": REALM_US, "invoice_ids": ["987654"]})
    assert missing.status_code == 404


def test_malformed_bodies_are_refused_with_the_fields_at_fault(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    reply = requests.post(
        f"{inv.gateway}/invoices/api/create", data=b"{not json", headers={"X-Hubqbo-Token": token}, timeout=10
    )
    assert reply.status_code == 400
    reply = inv.api(token, "POST", "create", {"idempotency_key": "short", "realm_id": "x"})
    assert reply.status_code == 400
    assert {"idempotency_key", "realm_id"} <= {e["field"] for e in reply.json()["errors"]}
    reply = inv.api(token, "POST", "prepare", {"realm_id": REALM_US, "source": "magic", "idempotency_key": "k" * 16})
    assert reply.status_code == 400 and reply.json()["errors"][0]["field"] == "source"


def test_an_inactive_customer_or_product_is_explained_next_to_its_field(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US)
    customers = inv.qbo_customers(REALM_US)
    old_client = next(c["Id"] for c in customers.values() if c["DisplayName"] == "Old Client LLC")
    reply = inv.api(token, "POST", "create", inv.submission(key, prep, customer_id=old_client))
    assert reply.status_code == 400
    [error] = reply.json()["errors"]
    assert error["field"] == "customer_id" and "inactive" in error["message"]
    widget = next(
        i["Id"] for i in inv.stack.qbo.realms[REALM_US].table("Item").values() if i["Name"] == "Discontinued Widget"
    )
    lines = [
        {"item_id": "1", "quantity": "1", "unit_price": "1"},
        {"item_id": widget, "quantity": "1", "unit_price": "1"},
    ]
    reply = inv.api(token, "POST", "create", inv.submission(key, prep, lines=lines))
    assert reply.status_code == 400
    assert [e["field"] for e in reply.json()["errors"]] == ["lines[1].item_id"]
    fixed = inv.ok(token, "POST", "create", inv.submission(key, prep))  # chose again: same wizard, now created
    assert fixed["invoice"]["id"]


HUGE_LINES = {
    "a price of 1e999999": [{"item_id": "1", "quantity": "1", "unit_price": "1e999999"}],
    "a JSON price of 1e999999": "RAW",
    "250 lines of 1e20": [{"item_id": "1", "quantity": "1e20", "unit_price": "1e20"}] * 250,
    "251 lines": [{"item_id": "1", "quantity": "1", "unit_price": "1"}] * 251,
}


def test_huge_numbers_or_too_many_lines_are_a_400_naming_the_field_and_nothing_is_written(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    token = inv.token(US, deal)
    key, prep = inv.prepare(token, REALM_US)
    before = len(inv.qbo_invoices(REALM_US))
    for (case, lines), path in [(c, p) for c in HUGE_LINES.items() for p in ("review", "create")]:
        if lines == "RAW":  # a JSON number no float holds: json reads it as inf
            body = inv.submission(key, prep, lines=[{"item_id": "1", "quantity": 1, "unit_price": 0}])
            raw = json.dumps(body).replace('"unit_price": 0', '"unit_price": 1e999999').encode()
            reply = requests.post(
                f"{inv.gateway}/invoices/api/{path}",
                data=raw,
                headers={"X-Hubqbo-Token": token, "content-type": "application/json"},
                timeout=30,
            )
        else:
            reply = inv.api(token, "POST", path, inv.submission(key, prep, lines=lines))
        assert reply.status_code == 400, (path, case, reply.status_code, reply.text[:300])
        answer = reply.json()
        assert answer["message"] and answer["errors"], (case, answer)
        assert all(e["field"].startswith("lines") for e in answer["errors"]), (case, answer["errors"][:3])
    assert len(inv.qbo_invoices(REALM_US)) == before
