"""The reminders job through the local stack: the change pipeline's stack and helpers (QBO "product UI",
linked deals, webhooks → worker), plus the emulator clock, the scheduler function and HubSpot's tasks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request
from tests.integration.pipeline.conftest import (
    REALM_UK,
    UK,
    Pipeline,
    start_pipeline_stack,
    stop_pipeline_stack,
    wait_for,
)

__all__ = ["REALM_UK", "UK", "Reminders", "wait_for"]


@dataclass
class Reminders(Pipeline):
    # -- time: QBO's clock is the one that moves; our job is told the same instant -----------------------
    def qbo_now(self) -> datetime:
        reply = requests.get(self.qbo + "/_emulator/clock", timeout=10).json()
        return datetime.fromisoformat(reply["now"])

    def qbo_today(self) -> date:
        from hubqbo.domain.dates import local_today

        return local_today(self.qbo_now(), "Europe/London")  # the UK portal's time zone

    def days_pass(self, days: int) -> datetime:
        self.advance_qbo_clock(days * 86400)
        return self.qbo_now()

    def run(self, now: datetime | None = None) -> dict[str, Any]:
        """The scheduler function with the `reminders` job, as the schedule would invoke it."""
        event = {"job": "reminders", "scheduled_at": (now or self.qbo_now()).isoformat()}
        result = self.stack.functions["SchedulerFunction"].invoke(event)
        assert result["status"] == "done", result
        return result["detail"]

    # -- invoices on deals with an owner ----------------------------------------------------------------
    def owner_id(self, portal_id: int = UK) -> str:
        return self.stack.hubspot.portals[portal_id].users[0].owner_id

    def owned_deal(self, portal_id: int = UK) -> str:
        props = {
            "dealname": f"Reminder deal {uuid.uuid4().hex[:6]}",
            "deal_currency_code": "GBP",
            "pipeline": "default",
            "dealstage": "contractsent",
            "hubspot_owner_id": self.owner_id(portal_id),
        }
        return self.hubspot_create(portal_id, "deals", props)

    def invoice_on_deal(self, due: date, source: str = "attached", amount: str = "1250.00") -> tuple[dict, str]:
        invoice = self.new_invoice(REALM_UK, amount, due.isoformat())
        # a customer email, so that QBO can send it (the wizard fills BillEmail the same way)
        invoice = self.qbo_ui(REALM_UK, "invoice", {"Id": invoice["Id"], "BillEmail": {"Address": "ap@example.com"}})
        invoice = invoice.get("Invoice", invoice)
        deal = self.owned_deal()
        from hubqbo import wiring
        from hubqbo.services.invoice_links import link_invoices

        ports = wiring.invoice_ports()
        ports.clock = self.qbo_now().timestamp  # "created" on QBO's day, the day the job will judge by
        connection = ports.connections.get_connection(UK, REALM_UK)
        assert connection is not None
        link_invoices(ports, UK, connection, [invoice], "deals", deal, source=source)
        return invoice, deal

    # -- HubSpot tasks --------------------------------------------------------------------------------------
    def tasks_on(self, deal_id: str, portal_id: int = UK) -> list[dict]:
        tasks = self.hubspot_objects(portal_id, "tasks").values()
        return [t for t in tasks if deal_id in t.get("associations", {}).get("deals", [])]

    # -- our side -----------------------------------------------------------------------------------------
    def reminder_settings(self, change: dict | None = None, realm: str = REALM_UK, portal_id: int = UK):
        method = "GET" if change is None else "PUT"
        return self.settings_api(method, f"/settings/companies/{realm}/reminders", change, portal_id)

    def settings_api(self, method: str, path: str, body: Any = None, portal_id: int = UK) -> requests.Response:
        """The settings API signed as HubSpot's `hubspot.fetch` signs it."""
        url = f"{self.gateway}{path}?portalId={portal_id}&userId=5000001"
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
        }
        return requests.request(method, url, data=raw or None, headers=headers, timeout=30)

    def reminder_log(self, invoice_id: str) -> list[dict]:
        return [e for e in self.sync_log(UK) if e.get("source") == "reminders" and e["qbo_id"] == invoice_id]


@pytest.fixture(scope="session")
def capture():
    from tests.integration.connections.conftest import Capture

    yield Capture()


@pytest.fixture(scope="module")
def rem(capture) -> Iterator[Reminders]:
    """The whole stack, the UK portal installed and its company connected; QBO delivers webhooks every
    second and the poller feeds the worker, so a payment in QBO reaches the card's snapshot by itself."""
    flows = start_pipeline_stack(capture)
    reminders = Reminders(flows.stack, flows.capture)
    try:
        yield reminders
    finally:
        stop_pipeline_stack(reminders)


def later(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)
