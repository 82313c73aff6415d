"""The change pipeline through the local stack: helpers to link a QBO invoice to a deal, pay it in
the QBO "product UI", send signed webhooks, and read what reached HubSpot and the sync log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests

from infra.local.demo_steps.uk_company import invoice_line
from infra.local.emulators import demo_accounts
from infra.local.waiting import wait_for
from tests.integration.invoices.conftest import Invoicing
from tests.support.stack import start_local_stack

UK, US = demo_accounts.PORTAL_UK, demo_accounts.PORTAL_US
REALM_UK, REALM_US = demo_accounts.REALM_UK.realm_id, demo_accounts.REALM_US.realm_id


@dataclass
class Pipeline(Invoicing):
    # -- QBO "product UI" ------------------------------------------------------------------------
    def qbo_ui(self, realm: str, path: str, body: dict | None = None) -> dict:
        reply = requests.post(f"{self.qbo}/_emulator/qbo/{realm}/ui/{path}", json=body or {}, timeout=10)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def new_invoice(self, realm: str = REALM_UK, amount: str = "1250.00", due: str | None = None) -> dict:
        body: dict[str, Any] = {"CustomerRef": {"value": "1"}, "Line": [invoice_line(amount)]}
        if due:
            body["DueDate"] = due
        return self.qbo_ui(realm, "invoice", body)

    def pay(self, realm: str, invoice_id: str, amount: str | None = None) -> dict:
        reply = self.qbo_ui(realm, f"invoice/{invoice_id}/payment", {"amount": amount} if amount else {})
        return reply.get("Payment", reply)

    # -- linking through the invoicing feature's public service ------------------------------------
    def link(self, portal_id: int, realm: str, raw_invoice: dict, deal_id: str) -> None:
        from hubqbo import wiring
        from hubqbo.services.invoice_links import link_invoices

        ports = wiring.invoice_ports()
        connection = ports.connections.get_connection(portal_id, realm)
        assert connection is not None
        link_invoices(ports, portal_id, connection, [raw_invoice], "deals", deal_id, source="attached")

    def linked_deal(self, portal_id: int = UK, realm: str = REALM_UK, amount: str = "1250.00", due=None):
        invoice = self.new_invoice(realm, amount, due)
        deal = self.new_deal(portal_id, f"Pipeline deal {uuid.uuid4().hex[:6]}", "GBP", None, None)
        self.link(portal_id, realm, invoice, deal)
        return invoice, deal

    # -- HubSpot -------------------------------------------------------------------------------------
    def deal_notes(self, portal_id: int, deal_id: str) -> list[str]:
        notes = self.hubspot_objects(portal_id, "notes").values()
        return [
            n["properties"].get("hs_note_body", "")
            for n in notes
            if deal_id in n.get("associations", {}).get("deals", [])
        ]

    def timeline_events(self, portal_id: int) -> list[dict]:
        reply = requests.get(f"{self.hubspot}/_emulator/portals/{portal_id}/timeline-events", timeout=10)
        return reply.json()["results"]

    def status(self, portal_id: int, deal_id: str) -> str | None:
        return self.deal_properties(portal_id, deal_id).get("hubqbo_invoice_status")

    # -- our side ------------------------------------------------------------------------------------
    def sync_log(self, portal_id: int, limit: int = 200) -> list[dict]:
        from hubqbo import wiring

        return [e.model_dump(mode="json") for e in wiring.sync_log().recent(f"portal:{portal_id}", limit)]

    def entries_for(self, portal_id: int, entity: str, qbo_id: str) -> list[dict]:
        return [e for e in self.sync_log(portal_id) if e["entity"] == entity and e["qbo_id"] == qbo_id]

    def webhook(self, body: bytes, signature: str | None = "auto") -> requests.Response:
        headers = {"content-type": "application/cloudevents+json"}
        if signature == "auto":
            digest = hmac.new(demo_accounts.QBO_WEBHOOK_VERIFIER_TOKEN.encode(), body, hashlib.sha256).digest()
            headers["intuit-signature"] = base64.b64encode(digest).decode()
        elif signature is not None:
            headers["intuit-signature"] = signature
        return requests.post(self.gateway + "/webhooks/qbo", data=body, headers=headers, timeout=10)

    def set_env(self, **values: str) -> None:
        """Change a function setting (the stack's functions read the process environment)."""
        from hubqbo.config import get_settings

        for name, value in values.items():
            os.environ[name] = value
        get_settings.cache_clear()

    def faults(self, base: str, *specs: dict) -> None:
        for spec in specs:
            requests.post(base + "/_emulator/faults", json=spec, timeout=10).raise_for_status()

    def clear_faults(self) -> None:
        for base in (self.hubspot, self.qbo):
            requests.delete(base + "/_emulator/faults", timeout=10).raise_for_status()


def cloud_event(realm: str, entity: str, object_id: str, verb: str = "updated", at: str | None = None, event_id=None):
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": "intuit.test",
        "type": f"qbo.{entity.lower()}.{verb}.v1",
        "time": at or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "intuitentityid": object_id,
        "intuitaccountid": realm,
        "data": {},
    }


def start_pipeline_stack(capture, **config: Any) -> Pipeline:
    os.environ["RETRY_DELAY_SCALE"] = config.pop("retry_delay_scale", "0.05")
    stack = start_local_stack(**config)
    flows = Pipeline(stack, capture)
    assert flows.install(UK).status_code == 200
    assert flows.connect(UK, REALM_UK).status_code == 200
    return flows


def stop_pipeline_stack(flows: Pipeline) -> None:
    flows.stack.stop()
    for name in ("RETRY_DELAY_SCALE", "PAYMENT_TIMELINE_TEMPLATE_ID"):
        os.environ.pop(name, None)


@pytest.fixture(scope="session")
def capture():
    from tests.integration.connections.conftest import Capture

    yield Capture()


@pytest.fixture(scope="module")
def pipe(capture) -> Iterator[Pipeline]:
    """The whole stack running by itself: QBO delivers webhooks every second, the poller feeds the worker."""
    flows = start_pipeline_stack(capture)
    try:
        yield flows
    finally:
        stop_pipeline_stack(flows)


def money(value: str) -> Decimal:
    return Decimal(value)


__all__ = ["REALM_UK", "UK", "Pipeline", "cloud_event", "json", "wait_for"]
