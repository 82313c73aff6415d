"""One local stack for the invoice tests (module scope), the install/connect flows of the connection
tests, and helpers that drive the card and the wizard's JSON API the way the pages do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import signed_get
from tests.integration.connections.conftest import Flows
from tests.support.stack import start_local_stack

US, UK = demo_accounts.PORTAL_US, demo_accounts.PORTAL_UK
REALM_US, REALM_UK = demo_accounts.REALM_US.realm_id, demo_accounts.REALM_UK.realm_id
REALM_MULTI, REALM_NUMBERS = demo_accounts.REALM_MULTI.realm_id, demo_accounts.REALM_CUSTOM_NUMBERS.realm_id


@dataclass
class Invoicing(Flows):
    """Flows plus the card, the wizard API and emulator shortcuts."""

    # -- HubSpot side -------------------------------------------------------------------------
    def seeded_id(self, portal_id: int, object_type: str, key: str) -> str:
        return self.stack.hubspot.last_seed["portals"][str(portal_id)]["ids"][object_type][key]

    def hubspot_create(self, portal_id: int, object_type: str, properties: dict, associations=()) -> str:
        body = {"properties": properties, "associations": [{"type": t, "id": i} for t, i in associations]}
        reply = requests.post(
            f"{self.hubspot}/_emulator/portals/{portal_id}/objects/{object_type}", json=body, timeout=10
        )
        assert reply.status_code == 201, reply.text
        return reply.json()["id"]

    def hubspot_objects(self, portal_id: int, object_type: str) -> dict[str, dict]:
        reply = requests.get(f"{self.hubspot}/_emulator/portals/{portal_id}/objects/{object_type}", timeout=10)
        return {o["id"]: o for o in reply.json()["results"]}

    def deal_properties(self, portal_id: int, deal_id: str) -> dict[str, str]:
        props = self.hubspot_objects(portal_id, "deals")[deal_id]["properties"]
        return {k: v for k, v in props.items() if k.startswith("hubqbo_")}

    def new_deal(self, portal_id: int, name: str, currency: str, contact_id: str | None, company_id: str | None) -> str:
        links = [("contacts", contact_id)] if contact_id else []
        links += [("companies", company_id)] if company_id else []
        props = {"dealname": name, "deal_currency_code": currency, "pipeline": "default", "dealstage": "contractsent"}
        return self.hubspot_create(portal_id, "deals", props, links)

    def uk_contact(self) -> str:
        """Oliver of Smith & Sons, the UK portal's seeded contact (his email matches a UK QBO customer)."""
        people = self.hubspot_objects(UK, "contacts")
        return next(i for i, c in people.items() if c["properties"]["email"] == "oliver@smithandsons.example")

    def uk_deal(self, name: str, with_contact: bool = True) -> str:
        """A new GBP deal in the UK portal, with Oliver as its contact unless told otherwise."""
        return self.new_deal(UK, name, "GBP", self.uk_contact() if with_contact else None, None)

    # -- the card -------------------------------------------------------------------------------
    def card(
        self, portal_id: int, object_id: str, object_type: str = "DEAL", locale: str = "en-us"
    ) -> requests.Response:
        query = {
            "portalId": portal_id,
            "userId": "5000001",
            "userEmail": demo_accounts.SUPER_ADMIN_EMAIL,
            "associatedObjectId": object_id,
            "associatedObjectType": object_type,
            "userLocale": locale,
        }
        return signed_get(f"{self.gateway}/invoices/card?" + "&".join(f"{k}={v}" for k, v in query.items()))

    def card_json(self, portal_id: int, object_id: str, object_type: str = "DEAL") -> dict:
        reply = self.card(portal_id, object_id, object_type)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def token(self, portal_id: int, object_id: str, object_type: str = "DEAL", action: int = 0) -> str:
        href = self.card_json(portal_id, object_id, object_type)["actions"][action]["href"]
        return parse_qs(urlsplit(href).query)["token"][0]

    # -- the wizard API -------------------------------------------------------------------------
    def api(self, token: str, method: str, path: str, body: Any = None, **params: Any) -> requests.Response:
        return requests.request(
            method,
            f"{self.gateway}/invoices/api/{path}",
            params=params or None,
            json=body,
            headers={"X-Hubqbo-Token": token},
            timeout=60,
        )

    def ok(self, token: str, method: str, path: str, body: Any = None, **params: Any) -> dict:
        reply = self.api(token, method, path, body, **params)
        assert reply.status_code in (200, 201), reply.text
        return reply.json()

    def prepare(self, token: str, realm: str, source: str = "scratch", quote_id: str | None = None) -> tuple[str, dict]:
        key = uuid.uuid4().hex
        body = {"realm_id": realm, "source": source, "quote_id": quote_id, "idempotency_key": key}
        return key, self.ok(token, "POST", "prepare", body)

    @staticmethod
    def submission(key: str, prep: dict, **overrides: Any) -> dict:
        best = prep["customer"]["best"]
        lines = [
            {
                "item_id": line["item"]["id"] if line["item"] else None,
                "quantity": line["quantity"],
                "unit_price": line["price"],
                "description": line["description"] or line["name"],
                "tax_code": line["tax_code"],
            }
            for line in prep["lines"]
        ]
        body = {
            "idempotency_key": key,
            "realm_id": prep["realm_id"],
            "quote_id": prep["quote_id"],
            "customer_id": best["id"] if best else None,
            "customer_currency": best["currency"] if best else None,
            "currency": prep["currency"],
            "lines": lines,
            "term_id": next((t["id"] for t in prep["terms"] if t["name"] == "Net 30"), None),
            "invoice_date": prep["invoice_date"],
            "customer_message": "Thank you for your business.",
            "doc_number": prep["doc_number"],
            "bill_email": best["email"] if best else None,
        }
        return {**body, **overrides}

    # -- QBO side --------------------------------------------------------------------------------
    def qbo_invoices(self, realm: str) -> dict[str, dict]:
        return dict(self.stack.qbo.realms[realm].table("Invoice"))

    def qbo_customers(self, realm: str) -> dict[str, dict]:
        return dict(self.stack.qbo.realms[realm].table("Customer"))

    def reset_calls(self) -> None:
        for base in (self.hubspot, self.qbo):
            requests.delete(base + "/_emulator/calls", timeout=10).raise_for_status()

    def calls(self, base: str) -> dict[str, int]:
        return requests.get(base + "/_emulator/calls", timeout=10).json()["calls"]


@pytest.fixture(scope="module")
def inv(capture) -> Iterator[Invoicing]:
    """One stack per module: the US portal with the US, multicurrency and custom-numbers companies,
    the UK portal with the UK company."""
    stack = start_local_stack()
    try:
        flows = Invoicing(stack, capture)
        assert flows.install(US).status_code == 200
        for realm in (REALM_US, REALM_MULTI, REALM_NUMBERS):
            assert flows.connect(US, realm).status_code == 200
        assert flows.install(UK).status_code == 200
        assert flows.connect(UK, REALM_UK).status_code == 200
        # These tests drive the wizard and count its API calls: QBO's webhook for the invoice just created
        # would make the worker read it at the same moment (the pipeline's tests cover that path).
        requests.post(f"{stack.urls['qbo']}/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
        yield flows
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def capture():
    from tests.integration.connections.conftest import Capture

    yield Capture()
