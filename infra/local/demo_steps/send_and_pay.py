"""Send and get paid from HubSpot: the card's "Send invoice" has QBO e-mail the US invoice, the card and
the deal show when and the pay-online link; the customer pays through that link, and the webhook ->
worker path marks the deal paid in full. Then a HubSpot workflow does it without anyone: a deal moved to
"Closed won" gets its invoice created and sent by the "Create QuickBooks invoice" action.
Needs the invoicing steps first (the website-redesign deal)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.demo_steps.invoicing import US, _api, _card
from infra.local.emulators import demo_accounts

REALM = demo_accounts.REALM_US.realm_id


def _deal_properties(demo: Demo, deal_id: str) -> dict[str, str]:
    objects = requests.get(f"{demo.stack.urls['hubspot']}/_emulator/portals/{US}/objects/deals", timeout=10).json()
    deal = next(o for o in objects["results"] if o["id"] == deal_id)
    return {k: v for k, v in deal["properties"].items() if k.startswith("hubqbo_")}


def _items(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in section["items"]}


def send_from_the_card(demo: Demo) -> None:
    deal = demo.stack.hubspot.last_seed["portals"][str(US)]["ids"]["deals"]["website_redesign"]
    section = next(s for s in _card(demo, US, deal)["sections"] if s["realmId"] == REALM)
    send = _items(section)["send"]["href"]
    token = parse_qs(urlsplit(send).query)["token"][0]
    page = requests.get(demo.gateway + send, timeout=10)
    check(page.status_code == 200, f"the send page answered {page.status_code}")
    form = _api(demo, token, "GET", "send", realm=REALM, invoice=section["invoiceId"])
    demo.say(f"card → Send invoice {form['invoice']['number']}: QuickBooks will e-mail {form['to']}")
    sent = _api(demo, token, "POST", "send", {"realm_id": REALM, "invoice_id": section["invoiceId"]})
    items = _items(next(s for s in _card(demo, US, deal)["sections"] if s["invoiceId"] == section["invoiceId"]))
    demo.say(
        f"card: {section['title']} · {items['status']['value']} · {items['sent']['label']} {items['sent']['value']}"
    )
    link = sent["invoice"]["payment_link"]
    check(bool(link) and items.get("pay", {}).get("href") == link, "the card shows no pay-online link")
    props = _deal_properties(demo, deal)
    demo.say(f"deal: invoice sent {props['hubqbo_invoice_sent']}, payment link {props['hubqbo_invoice_payment_link']}")
    check(props["hubqbo_invoice_status"] == "sent_to_customer", f"the deal shows {props['hubqbo_invoice_status']}")

    paid = requests.post(link, timeout=10)
    check(paid.status_code == 200, f"the pay page answered {paid.status_code}")
    demo.say("the customer opens the link and pays the whole balance online")
    demo.wait_for(
        "the deal paid in full", lambda: _deal_properties(demo, deal).get("hubqbo_invoice_status") == "paid_in_full"
    )
    after = _deal_properties(demo, deal)
    demo.say(
        f"webhook → SQS → worker: deal now paid in full, balance {after['hubqbo_invoice_balance']}, "
        f"payment link {after.get('hubqbo_invoice_payment_link') or '(cleared: nothing is owed)'}"
    )
    check(not after.get("hubqbo_invoice_payment_link"), "a paid invoice still offers its pay link")


def workflow_on_closed_won(demo: Demo) -> None:
    hubspot = demo.stack.urls["hubspot"]
    portal = f"{hubspot}/_emulator/portals/{US}"
    workflow = {
        "objectType": "deals",
        "trigger": {"property": "dealstage", "value": "closedwon"},
        "action": "hubqbo_create_invoice",
        "inputFields": {"source": "line_items", "send": "send", "realm_id": REALM, "terms": "Net 30"},
    }
    created = requests.post(f"{portal}/workflows", json=workflow, timeout=10)
    check(created.status_code == 201, f"the workflow was not created: {created.text[:200]}")
    demo.say("workflow: when a deal's stage becomes Closed won → Create QuickBooks invoice (line items, send now)")
    contacts = requests.get(f"{portal}/objects/contacts", timeout=10).json()["results"]
    john = next(c["id"] for c in contacts if c["properties"].get("email") == "john@meltonjohnson.example")
    body = {
        "properties": {"dealname": "Garden lighting", "deal_currency_code": "USD", "pipeline": "default",
                       "dealstage": "contractsent"},
        "associations": [{"type": "contacts", "id": john}],
    }  # fmt: skip
    deal = requests.post(f"{portal}/objects/deals", json=body, timeout=10).json()["id"]
    line = {"properties": {"name": "Consulting hour", "hs_sku": "CONSULT-001", "quantity": "3", "price": "120.00"},
            "associations": [{"type": "deals", "id": deal}]}  # fmt: skip
    requests.post(f"{portal}/objects/line_items", json=line, timeout=10).raise_for_status()
    requests.patch(f"{portal}/objects/deals/{deal}", json={"properties": {"dealstage": "closedwon"}}, timeout=10)
    demo.say(f"a rep moves deal {deal} (Garden lighting, 3 Consulting hours) to Closed won")

    def finished() -> dict[str, Any] | None:
        runs = requests.get(f"{portal}/workflows/executions", timeout=10).json()["results"]
        return next((r for r in runs if r["object_id"] == int(deal) and r["state"] != "PENDING"), None)

    run = demo.wait_for("the workflow's action", finished, timeout=30)
    out = run["output_fields"]
    demo.say(
        f"workflow history: {run['state']}: invoice {out.get('invoice_number')} "
        f"({out.get('invoice_amount')} {out.get('invoice_currency')}), {out.get('invoice_status')}"
    )
    check(run["state"] == "SUCCESS" and out.get("invoice_status") == "sent_to_customer", f"the action ended {run}")
    props = _deal_properties(demo, deal)
    demo.say(f"deal: {props['hubqbo_invoice_status']}, pay online at {props.get('hubqbo_invoice_payment_link')}")


STEPS: list[Step] = [
    ("Send and get paid: the card sends the invoice, the customer pays through its link", send_from_the_card),
    ("Workflow: a deal moved to Closed won gets its QuickBooks invoice created and sent", workflow_on_closed_won),
]
