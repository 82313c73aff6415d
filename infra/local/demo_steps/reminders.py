"""Reminders, and the product in Polish.

A UK invoice due today is linked to a deal owned by the portal's admin; QBO's clock moves three days
on and the `reminders` job runs (as the hourly schedule does, told the same instant): the deal gets a
"Payment reminder" task for its owner, due today. A second run creates nothing. The invoice is then
paid in QBO's product UI (webhook -> SQS -> worker) and the next run completes the task. Last, the
card of a deal is fetched as a Polish-speaking user and the wizard page it links to is printed.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from html import unescape
from typing import Any
from urllib.parse import urlencode

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.demo_steps.uk_company import REALM, UK, ensure_connected, invoice_line, qbo_ui
from infra.local.emulators.hubspot.signing import signed_get

STATE: dict[str, Any] = {}


def _qbo(demo: Demo) -> str:
    return demo.stack.urls["qbo"]


def _hubspot(demo: Demo) -> str:
    return demo.stack.urls["hubspot"]


def _qbo_now(demo: Demo) -> datetime:
    return datetime.fromisoformat(requests.get(f"{_qbo(demo)}/_emulator/clock", timeout=10).json()["now"])


def _run(demo: Demo) -> dict[str, int]:
    event = {"job": "reminders", "scheduled_at": _qbo_now(demo).isoformat()}
    result = demo.stack.functions["SchedulerFunction"].invoke(event)
    check(result["status"] == "done", f"the reminders job answered {result}")
    return result["detail"]


def _tasks(demo: Demo, deal_id: str) -> list[dict[str, Any]]:
    found = requests.get(f"{_hubspot(demo)}/_emulator/portals/{UK}/objects/tasks", timeout=10).json()["results"]
    return [t for t in found if deal_id in t.get("associations", {}).get("deals", [])]


def _status(demo: Demo, deal_id: str) -> str | None:
    deals = requests.get(f"{_hubspot(demo)}/_emulator/portals/{UK}/objects/deals", timeout=10).json()["results"]
    return next((d["properties"].get("hubqbo_invoice_status") for d in deals if d["id"] == deal_id), None)


def payment_reminder(demo: Demo) -> None:
    from hubqbo import wiring
    from hubqbo.domain.dates import local_today
    from hubqbo.services.invoice_links import link_invoices

    ensure_connected(demo)
    admin = demo.stack.hubspot.portals[UK].users[0]
    today = local_today(_qbo_now(demo), "Europe/London")
    line = invoice_line("1250.00")
    invoice = qbo_ui(demo, "invoice", {"CustomerRef": {"value": "1"}, "Line": [line], "DueDate": today.isoformat()})
    props = {
        "dealname": f"Annual support {uuid.uuid4().hex[:4]}",
        "deal_currency_code": "GBP",
        "pipeline": "default",
        "dealstage": "contractsent",
        "hubspot_owner_id": admin.owner_id,
    }
    deal = requests.post(
        f"{_hubspot(demo)}/_emulator/portals/{UK}/objects/deals", json={"properties": props}, timeout=10
    ).json()["id"]
    ports = wiring.invoice_ports()
    connection = ports.connections.get_connection(UK, REALM)
    check(connection is not None, "the UK company is not connected")
    link_invoices(ports, UK, connection, [invoice], "deals", deal, source="attached")
    demo.say(f"invoice {invoice['DocNumber']} (1,250.00 GBP, due {today}) linked to deal {deal}, owner {admin.email}")

    requests.post(f"{_qbo(demo)}/_emulator/clock", json={"advance_seconds": 3 * 86400}, timeout=10).raise_for_status()
    demo.say(f"three days pass on QBO's clock: today is {local_today(_qbo_now(demo), 'Europe/London')} in London")
    first = _run(demo)
    tasks = _tasks(demo, deal)
    check(len(tasks) == 1, f"expected one task on the deal, found {len(tasks)}")
    task = tasks[0]["properties"]
    owner = next(
        (u.email for u in demo.stack.hubspot.portals[UK].users if u.owner_id == task.get("hubspot_owner_id")), None
    )
    demo.say(f"task: {task['hs_task_subject']}")
    demo.say(
        f"      owner {owner} ({task.get('hubspot_owner_id')}), due {task['hs_timestamp']}, {task['hs_task_status']}"
    )
    demo.say(
        f"run: {first['created']} created, {first['closed']} closed; API calls: HubSpot {first['hubspot_calls']}, "
        f"QBO {first['qbo_calls']} (tokens aside)"
    )
    again = _run(demo)
    check(again["created"] == 0 and len(_tasks(demo, deal)) == 1, f"a rerun created tasks: {again}")
    demo.say(f"rerun the same day: {again['created']} created (company already checked today)")
    STATE.update(invoice=invoice, deal=deal)


def payment_closes_the_task(demo: Demo) -> None:
    invoice, deal = STATE["invoice"], STATE["deal"]
    qbo_ui(demo, f"invoice/{invoice['Id']}/payment")
    demo.say(f"in QBO, invoice {invoice['DocNumber']} is paid in full")
    demo.wait_for("the payment on the deal", lambda: _status(demo, deal) == "paid_in_full")
    result = _run(demo)
    [task] = _tasks(demo, deal)
    check(task["properties"]["hs_task_status"] == "COMPLETED", f"the task is {task['properties']['hs_task_status']}")
    demo.say(
        f"next hourly run: {result['closed']} closed; the task is {task['properties']['hs_task_status']} "
        f"(API calls: HubSpot {result['hubspot_calls']}, QBO {result['qbo_calls']})"
    )


def _text(html: str, pattern: str) -> list[str]:
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", m))).strip() for m in re.findall(pattern, html, re.S)]


def wizard_in_polish(demo: Demo) -> None:
    deal = STATE.get("deal")
    check(deal is not None, "no deal from the reminder step")
    query = {
        "portalId": UK,
        "userId": demo.stack.hubspot.portals[UK].users[0].id,
        "associatedObjectId": deal,
        "associatedObjectType": "DEAL",
        "userLocale": "pl-pl",
    }
    card = signed_get(f"{demo.gateway}/invoices/card?{urlencode(query)}")
    check(card.status_code == 200, f"the card answered {card.status_code}")
    body = card.json()
    items = {i["label"]: i["value"] for s in body["sections"] for i in s["items"]}
    demo.say(f"card (pl): {body['title']} · actions: {', '.join(a['label'] for a in body['actions'])}")
    demo.say(f"           {', '.join(f'{k}: {v}' for k, v in list(items.items())[:6])}")
    href = next(a["href"] for a in body["actions"] if "/invoices/wizard" in a["href"])
    page = requests.get(href if href.startswith("http") else demo.gateway + href, timeout=10)
    check(page.status_code == 200, f"the wizard page answered {page.status_code}")
    html = page.text
    check('<html lang="pl">' in html and "Utwórz fakturę" in html, "the wizard is not in Polish")
    headings = _text(html, r"<h2[^>]*>(.*?)</h2>")[:6]
    buttons = _text(html, r'<button[^>]*id="(?:previous|next)"[^>]*>(.*?)</button>')
    demo.say(f"wizard (pl): {_text(html, r'<h1[^>]*>(.*?)</h1>')[0]} · steps: {' | '.join(headings)}")
    demo.say(f"             buttons: {' / '.join(buttons)}")


STEPS: list[Step] = [
    ("Reminders: an invoice 3 days overdue gets one payment reminder task for the deal owner", payment_reminder),
    ("Reminders: paying the invoice in QBO completes the task", payment_closes_the_task),
    ("English and Polish: the card and one wizard page for a Polish-speaking user", wizard_in_polish),
]
