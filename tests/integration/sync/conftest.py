"""One local stack per test module for the sync settings tests: the US portal installed and the US
company connected through the real OAuth flows (the connection tests' `Flows`), plus helpers that
call the settings API the way HubSpot's `hubspot.fetch` does (v3-signed) and make QBO changes
through the emulator's product UI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import sign_request
from infra.local.waiting import wait_for
from tests.integration.connections.conftest import Flows
from tests.support.stack import start_local_stack

US, UK = demo_accounts.PORTAL_US, demo_accounts.PORTAL_UK
REALM = demo_accounts.REALM_US.realm_id
REALM_UK = demo_accounts.REALM_UK.realm_id


@dataclass
class SyncFlows(Flows):
    # -- the settings API, signed like hubspot.fetch -------------------------------------------------
    def api(self, method: str, path: str, body: Any = None, portal_id: int = US, **kw: Any) -> requests.Response:
        sep = "&" if "?" in path else "?"
        url = f"{self.gateway}{path}{sep}portalId={portal_id}&userId=5000001"
        raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
        }
        headers.update(kw.pop("headers", {}))
        return requests.request(method, url, data=raw or None, headers=headers, timeout=60, **kw)

    def tab(self, tab: str, realm: str = REALM, portal_id: int = US) -> dict:
        reply = self.api("GET", f"/settings/companies/{realm}/tabs/{tab}", portal_id=portal_id)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def set_tab(self, tab: str, realm: str = REALM, **change: Any) -> dict:
        reply = self.api("PUT", f"/settings/companies/{realm}/tabs/{tab}", change)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def reset_tab(self, tab: str, realm: str = REALM) -> None:
        """Back to the defaults: off, create and update, do nothing on delete, default mappings."""
        self.set_tab(tab, realm, enabled=False, on_change="create_and_update", on_delete="do_nothing")
        assert self.api("POST", f"/settings/companies/{realm}/tabs/{tab}/defaults").status_code == 200

    # -- QBO through its product UI ---------------------------------------------------------------------
    def qbo_ui(self, entity: str, body: dict, realm: str = REALM) -> dict:
        reply = requests.post(f"{self.qbo}/_emulator/qbo/{realm}/ui/{entity.lower()}", json=body, timeout=10)
        assert reply.status_code == 200, reply.text
        data = reply.json()
        return data.get(entity, data)

    def qbo_action(
        self, entity: str, object_id: str, action: str, realm: str = REALM, body: dict | None = None
    ) -> dict:
        reply = requests.post(
            f"{self.qbo}/_emulator/qbo/{realm}/ui/{entity.lower()}/{object_id}/{action}", json=body or {}, timeout=10
        )
        assert reply.status_code == 200, reply.text
        return reply.json()

    def qbo_read(self, entity: str, object_id: str, realm: str = REALM) -> dict:
        reply = requests.get(f"{self.qbo}/_emulator/qbo/{realm}/ui/{entity.lower()}/{object_id}", timeout=10)
        assert reply.status_code == 200, reply.text
        data = reply.json()
        return data.get(entity, data)

    # -- HubSpot state ------------------------------------------------------------------------------
    def hubspot_objects(self, object_type: str, portal_id: int = US, archived: bool = False) -> list[dict]:
        reply = requests.get(
            f"{self.hubspot}/_emulator/portals/{portal_id}/objects/{object_type}",
            params={"archived": "true" if archived else "false"},
            timeout=10,
        )
        return reply.json()["results"]

    def find(self, object_type: str, prop: str, value: str, portal_id: int = US, archived: bool = False) -> list[dict]:
        return [o for o in self.hubspot_objects(object_type, portal_id, archived) if o["properties"].get(prop) == value]

    def hubspot_calls(self) -> dict[str, int]:
        return requests.get(self.hubspot + "/_emulator/calls", timeout=10).json()["calls"]

    # -- the engine, as the worker calls it ---------------------------------------------------------------
    def apply(self, entity: str, raws: list[dict], deleted: list[str] = (), portal_id: int = US, realm: str = REALM):
        from hubqbo import wiring
        from hubqbo.services.sync_engine import apply_changes

        return apply_changes(wiring.sync_ports(), portal_id, realm, entity, raws, list(deleted))

    def wait_for(self, what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
        return wait_for(what, probe, timeout)


def sync_stack(**config: Any) -> Iterator[SyncFlows]:
    """A stack (see `start_local_stack` for `config`) with the US portal installed and its company connected."""
    stack = start_local_stack(**config)
    try:
        flows = SyncFlows(stack, None)  # type: ignore[arg-type]
        flows.ready(US, REALM)
        yield flows
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def sync() -> Iterator[SyncFlows]:
    yield from sync_stack(log_level="WARNING")
