"""Sync settings: turn on the contact and product sync for the US company through the settings API
(signed as HubSpot's settings extension signs it), then create and edit a customer and an item in
QBO's UI and watch them arrive in HubSpot through the real path: QBO webhook -> gateway -> SQS ->
worker -> sync engine -> HubSpot batch upsert."""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request

US, REALM = demo_accounts.PORTAL_US, demo_accounts.REALM_US.realm_id


def _api(demo: Demo, method: str, path: str, body: Any = None) -> dict[str, Any]:
    url = f"{demo.gateway}{path}?portalId={US}&userId=5000001"
    raw = b"" if body is None else json.dumps(body).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
    }
    reply = requests.request(method, url, data=raw or None, headers=headers, timeout=30)
    check(reply.ok, f"{method} {path} answered {reply.status_code}: {reply.text[:200]}")
    return reply.json()


def _qbo_ui(demo: Demo, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = requests.post(f"{demo.stack.urls['qbo']}/_emulator/qbo/{REALM}/ui/{entity.lower()}", json=body, timeout=10)
    check(reply.ok, f"QBO UI {entity} answered {reply.status_code}")
    data = reply.json()
    return data.get(entity, data)


def _linked(demo: Demo, object_type: str, prop: str, qbo_id: str) -> dict[str, Any] | None:
    reply = requests.get(f"{demo.stack.urls['hubspot']}/_emulator/portals/{US}/objects/{object_type}", timeout=10)
    found = [o for o in reply.json()["results"] if o["properties"].get(prop) == f"{REALM}:{qbo_id}"]
    return found[0] if found else None


def turn_on_contacts_and_products(demo: Demo) -> None:
    for tab in ("contacts", "products"):
        view = _api(demo, "PUT", f"/settings/companies/{REALM}/tabs/{tab}", {"enabled": True})
        mapped = ", ".join(f"{m['hubspot_property']}←{m['qbo_field']}" for m in view["mappings"])
        demo.say(f"{tab}: sync on, {view['on_change']}, on delete {view['on_delete']}; mappings {mapped}")
    refused = requests.put(
        f"{demo.gateway}/settings/companies/{REALM}/tabs/contacts", json={"enabled": False}, timeout=10
    )
    demo.say(f"an unsigned change of the settings -> {refused.status_code}")
    check(refused.status_code == 401, "an unsigned settings change was accepted")


def customer_and_item_reach_hubspot(demo: Demo) -> None:
    stamp = time.strftime("%H%M%S")
    customer = _qbo_ui(
        demo,
        "Customer",
        {
            "DisplayName": f"Iris Moreno {stamp}",
            "GivenName": "Iris",
            "FamilyName": "Moreno",
            "CompanyName": "Moreno Landscapes",
            "PrimaryEmailAddr": {"Address": f"iris.{stamp}@morenolandscapes.example"},
            "PrimaryPhone": {"FreeFormNumber": "(650) 555-0142"},
            "BillAddr": {
                "Line1": "12 Fern Way",
                "City": "Palo Alto",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94301",
            },
        },
    )
    demo.say(f"in QBO, a user creates customer {customer['Id']} ({customer['DisplayName']})")
    contact = demo.wait_for(
        "the contact", lambda: _linked(demo, "contacts", "hubqbo_qbo_customer_id", customer["Id"]), 40
    )
    p = contact["properties"]
    demo.say(
        f"HubSpot contact {contact['id']}: {p.get('firstname')} {p.get('lastname')} <{p.get('email')}>, "
        f"{p.get('company')}, {p.get('city')} {p.get('state')}"
    )
    _qbo_ui(
        demo,
        "Customer",
        {"Id": customer["Id"], "CompanyName": "Moreno Gardens", "PrimaryPhone": {"FreeFormNumber": "(650) 555-0199"}},
    )
    demo.say("in QBO, the user renames the company to Moreno Gardens and changes the phone")
    edited = demo.wait_for(
        "the contact's update",
        lambda: (
            (c := _linked(demo, "contacts", "hubqbo_qbo_customer_id", customer["Id"]))
            and c["properties"].get("company") == "Moreno Gardens"
            and c
        ),
        40,
    )
    demo.say(
        f"HubSpot contact {edited['id']} now: {edited['properties']['company']}, "
        f"{edited['properties']['phone']} (same record)"
    )

    item = _qbo_ui(
        demo,
        "Item",
        {
            "Name": f"Lawn care visit {stamp}",
            "Type": "Service",
            "UnitPrice": 65,
            "Sku": f"LAWN-{stamp}",
            "Description": "One visit",
            "IncomeAccountRef": {"value": "1"},
        },
    )
    demo.say(f"in QBO, a user creates item {item['Id']} ({item['Name']}, 65.00, SKU {item.get('Sku')})")
    product = demo.wait_for("the product", lambda: _linked(demo, "products", "hubqbo_qbo_item_id", item["Id"]), 40)
    pp = product["properties"]
    demo.say(
        f"HubSpot product {product['id']}: {pp.get('name')}, price {pp.get('price')}, "
        f"SKU {pp.get('hs_sku')}, type {pp.get('hs_product_type')}"
    )
    _qbo_ui(demo, "Item", {"Id": item["Id"], "UnitPrice": 72.5})
    demo.say("in QBO, the user raises the price to 72.50")
    repriced = demo.wait_for(
        "the product's update",
        lambda: (
            (p := _linked(demo, "products", "hubqbo_qbo_item_id", item["Id"]))
            and p["properties"].get("price") in ("72.5", "72.50")
            and p
        ),
        40,
    )
    demo.say(f"HubSpot product {repriced['id']} now costs {repriced['properties']['price']} (same record)")
    contacts = _api(demo, "GET", f"/settings/companies/{REALM}/tabs/contacts")
    states = ", ".join(f"{m['hubspot_property']} {m['state']}" for m in contacts["mappings"][:5])
    demo.say(f"mapping status on the settings page: {states}, …")
    log = _api(demo, "GET", f"/settings/companies/{REALM}/log")["entries"]
    for entry in [e for e in log if e.get("qbo_id") in (customer["Id"], item["Id"])][:4]:
        demo.say(f"sync log: {entry['entity']} {entry['qbo_id']} {entry['outcome']}: {entry['reason']}")


STEPS: list[Step] = [
    ("Sync settings: contact and product sync on for the US company", turn_on_contacts_and_products),
    ("A customer and an item created and edited in QBO reach HubSpot", customer_and_item_reach_hubspot),
]
