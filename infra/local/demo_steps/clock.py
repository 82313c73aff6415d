"""One clock: days pass on the emulators' clock, and the product sees them pass.

The product reads "now" from one clock (`hubqbo.clock`); the local stack points it at the emulators'
shared clock. A UK invoice due today is linked to a deal, and the payment reminder is set to repeat every
M days. The clock then moves past the due date and the `OverdueSweep` and `Reminders` schedules fire with
their template inputs, as EventBridge sends them, telling the product no instant: the deal's status
becomes Overdue (sweep -> SQS -> worker) and its owner gets a payment reminder task. M days later on the
same clock, the next run creates the repeat reminder.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.demo_steps.reminders import _status, _tasks
from infra.local.demo_steps.uk_company import REALM, UK, ensure_connected, invoice_line, qbo_ui
from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request

REPEAT_EVERY_DAYS = 2  # M
DAYS_AFTER_DUE = 3  # the payment rule's default
STATE: dict[str, Any] = {}


def _today(demo: Demo) -> Any:
    from hubqbo import clock
    from hubqbo.domain.dates import local_today

    return local_today(clock.now_utc(), "Europe/London")  # the UK portal's zone judges due dates


def _move_clock(demo: Demo, days: int) -> None:
    """Days pass on the emulators' clock (QBO's admin API; HubSpot's emulator shares the clock)."""
    before = _today(demo)
    reply = requests.post(
        f"{demo.stack.urls['qbo']}/_emulator/clock", json={"advance_seconds": days * 86400}, timeout=10
    )
    check(reply.status_code == 200, f"the clock did not move: {reply.text[:200]}")
    span = "1 day" if days == 1 else f"{days} days"
    demo.say(f"the emulators' clock moves {span}: the product's today goes {before} -> {_today(demo)} (London)")


def _fire(demo: Demo, schedule: str) -> dict[str, int]:
    reply = requests.post(f"{demo.gateway}/_local/schedules/{schedule}", timeout=60)
    check(reply.status_code == 200, f"the {schedule} schedule answered {reply.status_code}")
    result = reply.json()["result"]
    check(result["status"] == "done", f"the {schedule} job answered {result}")
    return result["detail"]


def _reminder_settings(demo: Demo, change: dict[str, Any]) -> None:
    """The Reminders tab's save, signed as HubSpot's `hubspot.fetch` signs it."""
    admin = demo.stack.hubspot.portals[UK].users[0]
    url = f"{demo.gateway}/settings/companies/{REALM}/reminders?portalId={UK}&userId={admin.id}"
    body = json.dumps(change, separators=(",", ":")).encode()
    signed = sign_request("PUT", url, body, demo_accounts.HUBSPOT_CLIENT_SECRET)
    headers = {"Content-Type": "application/json", **signed}
    reply = requests.put(url, data=body, headers=headers, timeout=30)
    check(reply.status_code == 200, f"the reminder settings answered {reply.status_code}: {reply.text[:200]}")


def _subjects(demo: Demo, deal: str) -> list[str]:
    tasks = sorted(_tasks(demo, deal), key=lambda t: t["properties"]["hs_timestamp"])
    return [f"{t['properties']['hs_task_subject']} (due {t['properties']['hs_timestamp'][:10]})" for t in tasks]


def overdue_when_the_clock_passes_the_due_date(demo: Demo) -> None:
    from hubqbo import wiring
    from hubqbo.services.invoice_links import link_invoices

    ensure_connected(demo)
    _reminder_settings(demo, {"payment": {"repeat": True, "repeat_every_days": REPEAT_EVERY_DAYS}})
    demo.say(f"Reminders tab: payment reminder {DAYS_AFTER_DUE} days after due, repeated every {REPEAT_EVERY_DAYS}")
    admin = demo.stack.hubspot.portals[UK].users[0]
    due = _today(demo)
    line = invoice_line("480.00")
    invoice = qbo_ui(demo, "invoice", {"CustomerRef": {"value": "1"}, "Line": [line], "DueDate": str(due)})
    props = {
        "dealname": f"Retainer {uuid.uuid4().hex[:4]}",
        "deal_currency_code": "GBP",
        "pipeline": "default",
        "dealstage": "contractsent",
        "hubspot_owner_id": admin.owner_id,
    }
    deal = requests.post(
        f"{demo.stack.urls['hubspot']}/_emulator/portals/{UK}/objects/deals", json={"properties": props}, timeout=10
    ).json()["id"]
    ports = wiring.invoice_ports()
    connection = ports.connections.get_connection(UK, REALM)
    check(connection is not None, "the UK company is not connected")
    link_invoices(ports, UK, connection, [invoice], "deals", deal, source="attached")
    before = _status(demo, deal)
    demo.say(f"invoice {invoice['DocNumber']} (480.00 GBP, due {due}) linked to deal {deal}: {before}")

    _move_clock(demo, DAYS_AFTER_DUE)
    swept = _fire(demo, "OverdueSweep")
    demo.say(f"OverdueSweep fired: companies swept {swept['swept']}, invoices queued {swept['invoices_queued']}")

    def swept_entry() -> list[dict[str, Any]]:
        log = demo.sync_log(f"portal:{UK}")
        return [e for e in log if e.get("source") == "overdue-sweep" and e.get("hubspot_id") == deal]

    [entry, *_] = demo.wait_for("the sweep's change on the deal", swept_entry)
    status = _status(demo, deal)
    check(status == "overdue", f"the deal's status is {status}")
    demo.say(f"deal {deal}: hubqbo_invoice_status {before} -> {status}")
    demo.say(f"sync log at {entry['at'][:19]} (the product's clock): {entry['reason']}")

    created = _fire(demo, "Reminders")
    subjects = _subjects(demo, deal)
    check(len(subjects) == 1, f"expected one reminder task, found {subjects}")
    demo.say(f"Reminders schedule fired: {created['created']} created; task: {subjects[0]}")
    STATE.update(invoice=invoice, deal=deal)


def repeat_reminder_m_days_later(demo: Demo) -> None:
    deal = STATE.get("deal")
    check(deal is not None, "no deal from the overdue step")
    try:
        _move_clock(demo, REPEAT_EVERY_DAYS - 1)
        _fire(demo, "Reminders")
        check(len(_tasks(demo, deal)) == 1, "a repeat came before M days")
        demo.say("still one task: the same period until M days have passed")
        _move_clock(demo, 1)
        result = _fire(demo, "Reminders")
        subjects = _subjects(demo, deal)
        check(len(subjects) == 2, f"expected the repeat reminder, found {subjects}")
        demo.say(f"{REPEAT_EVERY_DAYS} days after the first: {result['created']} created; tasks on the deal:")
        for subject in subjects:
            demo.say(f"  - {subject}")
    finally:
        _reminder_settings(demo, {"payment": {"repeat": False}})


STEPS: list[Step] = [
    (
        "One clock: the emulators' clock passes a due date; the deal turns Overdue and gets a reminder",
        overdue_when_the_clock_passes_the_due_date,
    ),
    (f"One clock: {REPEAT_EVERY_DAYS} days later the repeat reminder follows", repeat_reminder_m_days_later),
]
