"""Foundation: the emulators are seeded, every function answers, a QBO change travels the real path
(QBO webhook -> gateway -> SQS -> worker -> DynamoDB), and the schedules fire."""

from __future__ import annotations

import time
from typing import Any

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.emulators import demo_accounts


def seeded_accounts(demo: Demo) -> None:
    hubspot, qbo = demo.stack.seeded.get("hubspot", {}), demo.stack.seeded.get("qbo", {})
    check(bool(hubspot.get("portals")) and bool(qbo.get("realms")), "the emulators were not seeded")
    flags_of = {r.realm_id: r for r in demo_accounts.REALMS}
    for realm in qbo["realms"]:
        spec = flags_of[realm["realm_id"]]
        flags = [spec.country, spec.currency]
        flags += [
            f
            for f, on in (
                ("multicurrency", spec.multicurrency),
                ("custom numbers", spec.custom_txn_numbers),
                ("sandbox", spec.sandbox),
            )
            if on
        ]
        counts = ", ".join(f"{n} {k}" for k, n in realm["counts"].items() if k in ("Customer", "Item", "Invoice"))
        demo.say(f"QBO {realm['realm_id']}  {realm['name']} ({', '.join(flags)}): {counts}")
    for portal_id, portal in hubspot["portals"].items():
        counts = ", ".join(f"{n} {k}" for k, n in portal["counts"].items() if n)
        demo.say(f"HubSpot portal {portal_id} ({portal['companyCurrency']}, {portal['timeZone']}): {counts}")


def routes_answer(demo: Demo) -> None:
    for route in demo.stack.app.routes:
        if not route.path.endswith("/health"):
            continue
        response = requests.get(demo.gateway + route.path, timeout=10)
        demo.say(f"{route.route_key:<24} -> {response.status_code} {response.json()}")
        check(response.status_code == 200, f"{route.route_key} answered {response.status_code}")


def webhook_reaches_the_table(demo: Demo) -> None:
    realm = demo_accounts.REALM_US.realm_id
    forged = requests.post(
        demo.gateway + "/webhooks/qbo",
        data=b'[{"specversion": "1.0"}]',
        timeout=10,
        headers={"intuit-signature": "Zm9yZ2Vk"},
    )
    demo.say(f"forged webhook                    -> {forged.status_code} (refused before parsing, nothing queued)")
    check(forged.status_code == 401, "a forged webhook was accepted")
    created = requests.post(
        f"{demo.stack.urls['qbo']}/_emulator/qbo/{realm}/ui/customer",
        timeout=10,
        json={"DisplayName": f"Demo Garden Co {time.strftime('%H%M%S')}"},
    ).json()
    customer = created.get("Customer", created)
    demo.say(f"in QBO, a user creates customer {customer['Id']} ({customer['DisplayName']})")

    def logged() -> list[dict[str, Any]]:
        return [e for e in demo.sync_log(f"realm:{realm}") if e.get("qbo_id") == customer["Id"]]

    entry = demo.wait_for("QBO's webhook to reach the sync log", logged)[0]
    delivery = requests.get(f"{demo.stack.urls['qbo']}/_emulator/qbo/webhooks", timeout=10).json()["deliveries"][-1]
    demo.say(f"QBO signed and delivered it: {delivery['attempts'][-1]['status']} from our intake")
    demo.say(
        f"webhook -> SQS -> worker -> DynamoDB: sync log says {entry['outcome']} {entry['entity']} "
        f"{entry['qbo_id']} ({entry['reason']})"
    )


def schedules_fire(demo: Demo) -> None:
    for schedule in requests.get(demo.gateway + "/_local/schedules", timeout=10).json():
        fired = requests.post(f"{demo.gateway}/_local/schedules/{schedule['name']}", timeout=60).json()
        result = fired["result"]
        demo.say(f"{schedule['name']:<16} {schedule['expression']:<18} -> {result['status']}")


STEPS: list[Step] = [
    ("Emulators seeded with the demo accounts", seeded_accounts),
    ("Every function answers through the gateway", routes_answer),
    ("A QBO change travels webhook -> SQS -> worker -> DynamoDB", webhook_reaches_the_table),
    ("The schedules fire on demand", schedules_fire),
]
