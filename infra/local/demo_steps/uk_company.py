"""The UK portal and its QuickBooks company, as the pipeline and reminder steps use them: connected on
demand, and changed through QBO's "product UI"."""

from __future__ import annotations

from typing import Any

import requests

from infra.local.demo_steps import Demo, check
from infra.local.demo_steps import connections as connection_steps
from infra.local.emulators import demo_accounts

UK = demo_accounts.PORTAL_UK
REALM = demo_accounts.REALM_UK.realm_id


def qbo_ui(demo: Demo, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """POST to the UK company's product UI; the invoice or payment it answers with."""
    reply = requests.post(f"{demo.stack.urls['qbo']}/_emulator/qbo/{REALM}/ui/{path}", json=body or {}, timeout=10)
    check(reply.status_code == 200, f"QBO refused {path}: {reply.text[:200]}")
    answer = reply.json()
    return next((v for k, v in answer.items() if k in ("Invoice", "Payment")), answer)


def ensure_connected(demo: Demo) -> None:
    """Installs the app in the UK portal and connects its company, unless that is done (a step run alone)."""
    from hubqbo import wiring

    connection = wiring.connection_ports().connections.get_connection(UK, REALM)
    if connection is None or connection.status != "active":
        connection_steps.install(demo, UK)
        connection_steps.connect(demo, UK, REALM)


def invoice_line(amount: str) -> dict[str, Any]:
    """One invoice line of the UK company: one of item 4 at `amount`, with tax code 3."""
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": {
            "ItemRef": {"value": "4"},
            "Qty": 1,
            "UnitPrice": amount,
            "TaxCodeRef": {"value": "3"},
        },
    }
