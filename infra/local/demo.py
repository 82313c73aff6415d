"""`make demo`: start the local stack, run the product end to end against it, print what happened.

Each step prints its own lines and either passes or fails; the exit code is non-zero if any failed.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from infra.local.emulators import demo_accounts
from infra.local.stack import LocalStack, StackConfig, describe


class StepFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


@dataclass
class Demo:
    stack: LocalStack
    lines: list[str] = field(default_factory=list)

    @property
    def gateway(self) -> str:
        return self.stack.urls["gateway"]

    def say(self, text: str) -> None:
        print(f"      {text}", flush=True)

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = probe()
            if result:
                return result
            time.sleep(0.2)
        raise StepFailed(f"timed out waiting for {what}")

    def sync_log(self, scope: str) -> list[dict[str, Any]]:
        from hubqbo import wiring

        return [entry.model_dump(mode="json") for entry in wiring.sync_log().recent(scope)]


# -- the steps -------------------------------------------------------------------------------


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


STEPS: list[tuple[str, Callable[[Demo], None]]] = [
    ("Emulators seeded with the demo accounts", seeded_accounts),
    ("Every function answers through the gateway", routes_answer),
    ("A QBO webhook travels API -> SQS -> worker -> DynamoDB", webhook_reaches_the_table),
    ("The schedules fire on demand", schedules_fire),
]


def run(stack: LocalStack) -> int:
    demo = Demo(stack)
    print("hubqbo local stack:\n" + describe(stack) + "\n", flush=True)
    failures = 0
    for number, (title, step) in enumerate(STEPS, start=1):
        print(f"[{number}] {title}", flush=True)
        try:
            step(demo)
        except Exception as exc:
            failures += 1
            print(f"  FAILED: {exc}", flush=True)
            if not isinstance(exc, StepFailed):
                traceback.print_exc()
        else:
            print("  ok", flush=True)
    print(f"\n{len(STEPS) - failures} of {len(STEPS)} steps passed.", flush=True)
    return 1 if failures else 0


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    config = StackConfig.from_env()
    config.queue_visibility_timeout = 2  # a failed message comes back in seconds, not minutes
    config.run_schedules = False  # the demo fires them on demand
    config.log_level = "ERROR"  # the report is the output; the functions' JSON logs would drown it
    with LocalStack(config) as stack:
        return run(stack)


if __name__ == "__main__":
    sys.exit(main())
