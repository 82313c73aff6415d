"""Invoicing: through the same JSON API the wizard pages use, create a draft invoice from a published
quote for the US company and one from scratch (with UK VAT codes) for the UK company, then print the
deal properties and the card. Needs the connections step first."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import signed_get

US, UK = demo_accounts.PORTAL_US, demo_accounts.PORTAL_UK


def _card(demo: Demo, portal_id: int, deal_id: str) -> dict[str, Any]:
    query = {"portalId": portal_id, "userId": "5000001", "associatedObjectId": deal_id,
             "associatedObjectType": "DEAL", "userLocale": "en-us"}  # fmt: skip
    reply = signed_get(f"{demo.gateway}/invoices/card?{urlencode(query)}")
    check(reply.status_code == 200, f"the card answered {reply.status_code}")
    return reply.json()


def _token(card: dict[str, Any]) -> str:
    href = next(a["href"] for a in card["actions"] if a["href"].startswith("/invoices/wizard"))
    return parse_qs(urlsplit(href).query)["token"][0]


def _api(demo: Demo, token: str, method: str, path: str, body: Any = None, **params: Any) -> dict[str, Any]:
    reply = requests.request(method, f"{demo.gateway}/invoices/api/{path}", params=params or None, json=body,
                             headers={"X-Hubqbo-Token": token}, timeout=60)  # fmt: skip
    check(reply.status_code in (200, 201), f"{method} {path} answered {reply.status_code}: {reply.text[:300]}")
    return reply.json()


def _calls(demo: Demo) -> dict[str, int]:
    totals = {}
    for name in ("hubspot", "qbo"):
        calls = requests.get(demo.stack.urls[name] + "/_emulator/calls", timeout=10).json()["calls"]
        totals[name] = sum(n for k, n in calls.items() if "oauth" not in k)
    return totals


def _clear_calls(demo: Demo) -> None:
    for name in ("hubspot", "qbo"):
        requests.delete(demo.stack.urls[name] + "/_emulator/calls", timeout=10)


def _show_deal(demo: Demo, portal_id: int, deal_id: str) -> dict[str, str]:
    objects = requests.get(f"{demo.stack.urls['hubspot']}/_emulator/portals/{portal_id}/objects/deals", timeout=10)
    deal = next(o for o in objects.json()["results"] if o["id"] == deal_id)
    props = {k: v for k, v in sorted(deal["properties"].items()) if k.startswith("hubqbo_")}
    demo.say(f"deal {deal_id} ({deal['properties'].get('dealname')}) properties:")
    for name, value in props.items():
        demo.say(f"    {name:<28} {value}")
    return props


def us_invoice_from_a_quote(demo: Demo) -> None:
    deal = demo.stack.hubspot.last_seed["portals"][str(US)]["ids"]["deals"]["website_redesign"]
    token = _token(_card(demo, US, deal))
    realm = demo_accounts.REALM_US.realm_id
    companies = _api(demo, token, "GET", "companies")["companies"]
    demo.say("companies to choose from: " + ", ".join(c["name"] for c in companies))
    quotes = _api(demo, token, "GET", "sources", realm=realm)["quotes"]
    for q in quotes:
        demo.say(f"quote {q['title']}: {'usable' if q['usable'] else 'disabled (' + q['reason'] + ')'}")
    quote = next(q for q in quotes if q["usable"])
    _clear_calls(demo)
    key = uuid.uuid4().hex
    prep = _api(demo, token, "POST", "prepare", {"realm_id": realm, "source": "quote", "quote_id": quote["id"],
                                                 "idempotency_key": key})  # fmt: skip
    best = prep["customer"]["best"]
    demo.say(f"customer matched by {prep['customer']['method']}: {best['name']}")
    demo.say("lines: " + "; ".join(f"{ln['name']} x{ln['quantity']} → {ln['item']['name']} (by {ln['method']})"
                                   for ln in prep["lines"]))  # fmt: skip
    net30 = next(t["id"] for t in prep["terms"] if t["name"] == "Net 30")
    body = {
        "idempotency_key": key, "realm_id": realm, "quote_id": quote["id"], "customer_id": best["id"],
        "currency": prep["currency"], "term_id": net30, "invoice_date": prep["invoice_date"],
        "bill_email": best["email"], "customer_message": "Thank you for choosing Craig's Design.",
        "lines": [{"item_id": ln["item"]["id"], "quantity": ln["quantity"], "unit_price": ln["price"],
                   "description": ln["name"]} for ln in prep["lines"]],
    }  # fmt: skip
    created = _api(demo, token, "POST", "create", body)["invoice"]
    calls = _calls(demo)
    again = _api(demo, token, "POST", "create", body)["invoice"]  # a second click: the same invoice
    check(again["id"] == created["id"], "a second submission created another invoice")
    demo.say(f"created invoice {created['number']} ({created['total']} {created['currency']}, "
             f"due {created['due_date']}, {created['status']}); API calls for prepare + create: {calls}")  # fmt: skip
    props = _show_deal(demo, US, deal)
    check(props.get("hubqbo_invoice_number") == created["number"], "the deal does not show the new invoice")
    card = _card(demo, US, deal)
    demo.say("card: " + "; ".join(s["title"] for s in card["sections"]))


def uk_invoice_from_scratch(demo: Demo) -> None:
    hubspot = demo.stack.urls["hubspot"]
    contacts = requests.get(f"{hubspot}/_emulator/portals/{UK}/objects/contacts", timeout=10).json()["results"]
    oliver = next(c for c in contacts if c["properties"].get("email") == "oliver@smithandsons.example")
    company = (oliver.get("associations") or {}).get("companies", [None])[0]
    links = [{"type": "contacts", "id": oliver["id"]}] + ([{"type": "companies", "id": company}] if company else [])
    made = requests.post(f"{hubspot}/_emulator/portals/{UK}/objects/deals", timeout=10, json={
        "properties": {"dealname": "Garden pumps - spring order", "deal_currency_code": "GBP", "pipeline": "default",
                       "dealstage": "contractsent"}, "associations": links})  # fmt: skip
    check(made.status_code == 201, f"could not create the UK deal: {made.text[:200]}")
    deal = made.json()["id"]
    token = _token(_card(demo, UK, deal))
    realm = demo_accounts.REALM_UK.realm_id
    _clear_calls(demo)
    key = uuid.uuid4().hex
    prep = _api(demo, token, "POST", "prepare", {"realm_id": realm, "source": "scratch", "idempotency_key": key})
    check(prep["tax"]["per_line"], "the UK company should need a tax code per line")
    codes = {c["name"]: c["id"] for c in prep["tax"]["codes"]}
    demo.say(f"customer: {prep['customer']['best']['name']}; tax codes: {', '.join(codes)}")
    items = {i["sku"]: i for i in _api(demo, token, "GET", "items", realm=realm, q="")["items"]}
    lines = [
        {"item_id": items["PUMP-001"]["id"], "quantity": "20", "unit_price": "15.00", "tax_code": codes["20.0% S"]},
        {"item_id": items["CONSULT-001"]["id"], "quantity": "2", "unit_price": "120.00", "tax_code": codes["0.0% Z"]},
    ]
    best = prep["customer"]["best"]
    net15 = next(t["id"] for t in prep["terms"] if t["name"] == "Net 15")
    body = {"idempotency_key": key, "realm_id": realm, "customer_id": best["id"], "currency": "GBP", "lines": lines,
            "invoice_date": prep["invoice_date"], "term_id": net15, "bill_email": best["email"]}  # fmt: skip
    created = _api(demo, token, "POST", "create", body)["invoice"]
    demo.say(f"created invoice {created['number']} ({created['total']} {created['currency']} incl. VAT, "
             f"due {created['due_date']}); API calls for prepare + items + create: {_calls(demo)}")  # fmt: skip
    props = _show_deal(demo, UK, deal)
    check(props.get("hubqbo_invoice_amount") == created["total"] or props.get("hubqbo_invoice_number"),
          "the UK deal's properties were not set")  # fmt: skip


STEPS: list[Step] = [
    ("Invoice from a published quote (US company)", us_invoice_from_a_quote),
    ("Invoice from scratch with VAT codes (UK company)", uk_invoice_from_scratch),
]
