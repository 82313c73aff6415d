"""The drift report: someone edits an invoiced deal's invoice amount and a synced contact's company in
HubSpot's UI (behind the integration's back: no QBO change, so no webhook), the report started from
the settings page's "Run now" finds both with the rule and both records' links, and "Fix" writes
QuickBooks' values back (QuickBooks is the source of truth)."""

from __future__ import annotations

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.demo_steps.sync import REALM, US, _api

DRIFT = f"/settings/companies/{REALM}/drift"


def _hubspot_edit(demo: Demo, object_type: str, object_id: str, **properties: str) -> None:
    url = f"{demo.stack.urls['hubspot']}/_emulator/portals/{US}/objects/{object_type}/{object_id}"
    reply = requests.patch(url, json={"properties": properties}, timeout=10)
    check(reply.ok, f"editing {object_type} {object_id} in HubSpot answered {reply.status_code}: {reply.text[:200]}")


def _properties(demo: Demo, object_type: str, object_id: str) -> dict[str, str]:
    reply = requests.get(f"{demo.stack.urls['hubspot']}/_emulator/portals/{US}/objects/{object_type}", timeout=10)
    return next(o for o in reply.json()["results"] if o["id"] == object_id)["properties"]


def drift_found_and_fixed(demo: Demo) -> None:
    from hubqbo import wiring

    deals = [link for link in wiring.invoice_store().links_in_realm(US, REALM) if link.object_type == "deals"]
    check(bool(deals), "no invoiced deal of the US company to drift (the invoicing steps make them)")
    deal_id = deals[0].object_id
    before = _properties(demo, "deals", deal_id)["hubqbo_invoice_amount"]
    _hubspot_edit(demo, "deals", deal_id, hubqbo_invoice_amount="1.00")
    demo.say(f"in HubSpot, a user types 1.00 over deal {deal_id}'s invoice amount ({before}); QBO sends no event")
    contacts = requests.get(f"{demo.stack.urls['hubspot']}/_emulator/portals/{US}/objects/contacts", timeout=10)
    synced = [c for c in contacts.json()["results"] if (c["properties"].get("hubqbo_qbo_customer_id") or "")]
    if synced:
        _hubspot_edit(demo, "contacts", synced[0]["id"], company="Typed In HubSpot Ltd")
        demo.say(f"and changes synced contact {synced[0]['id']}'s company to “Typed In HubSpot Ltd”")

    report = _api(demo, "POST", DRIFT)["report"]
    calls = report["api_calls"]
    demo.say(
        f"Run now: {report['total_rows']} differences, complete {report['complete']}, "
        f"{calls.get('hubspot', 0)} HubSpot and {calls.get('qbo', 0)} QuickBooks calls"
    )
    for row in report["rows"][:6]:
        demo.say(
            f"  {row['qbo_label']} ↔ {row['hubspot_label']}: {row['field'] or '-'} "
            f"QuickBooks “{row['qbo_value']}” / HubSpot “{row['hubspot_value']}” — {row['rule_text']}"
        )
    [amount] = [r for r in report["rows"] if r["hubspot_id"] == deal_id and r["field"] == "hubqbo_invoice_amount"]
    demo.say(f"  links: {amount['qbo_url']} and {amount['hubspot_url']}")

    fixed = _api(demo, "POST", DRIFT + "/fix", {"rows": [amount["id"]]})
    after = _properties(demo, "deals", deal_id)["hubqbo_invoice_amount"]
    demo.say(f"Fix on that row: fixed {fixed['result']['fixed']}; deal {deal_id}'s invoice amount is {after} again")
    check(after == before, f"the deal's amount is {after}, QuickBooks says {before}")
    rest = _api(demo, "POST", DRIFT + "/fix", {"all": True})
    demo.say(f"Fix all: fixed {rest['result']['fixed']} more; the report counts {rest['report']['fixed']} fixed")
    again = _api(demo, "POST", DRIFT)["report"]
    left = [r for r in again["rows"] if r["fixable"]]
    demo.say(f"Run now again: {len(left)} differences that can be fixed are left")
    check(not left, f"differences left after Fix all: {left[:3]}")


STEPS: list[Step] = [
    ("Drift report: a difference made behind the integration's back is found and fixed", drift_found_and_fixed),
]
