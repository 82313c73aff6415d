"""Fairness between portals: one portal's large backfill does not hold the workers another portal's payment
needs. The backfill's parts go on their own queue, read by the worker through an event source of its own
(`MaximumConcurrency` 2), so the sync queue's five workers stay free for changes.

The backfill here is made slow on purpose (QBO answers its page queries seconds late), so that while the
payment is applied every backfill worker is busy and most parts are still queued. Counts only: how many
parts had finished when the deal showed the payment, how many ran at once, what the sync queue received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from hubqbo.services import sync_backfill
from tests.benchmarks.test_backfill_benchmark import seed_customers
from tests.integration.connections.conftest import Capture
from tests.integration.pipeline.conftest import (
    REALM_UK,
    UK,
    Pipeline,
    start_pipeline_stack,
    stop_pipeline_stack,
    wait_for,
)
from tests.integration.sync.conftest import SyncFlows

PARTS = 50  # more than the sync queue's five workers could hold in batches of ten
CHUNK_ROWS = 2
SLOW_PAGE_SECONDS = 3.0  # each backfill part's QBO page query answers this late


@pytest.fixture(scope="module")
def fair() -> Iterator[tuple[Pipeline, int, str]]:
    from infra.local.emulators import demo_accounts

    flows = start_pipeline_stack(Capture(), webhook_interval=None, log_level="WARNING")
    try:
        portal, realm = demo_accounts.PORTAL_US, demo_accounts.REALM_US.realm_id
        assert flows.install(portal).status_code == 200
        assert flows.connect(portal, realm).status_code == 200
        yield flows, portal, realm
    finally:
        stop_pipeline_stack(flows)


def api(flows: Pipeline, method: str, path: str, body: dict | None = None, portal_id: int = UK) -> requests.Response:
    return SyncFlows.api(flows, method, path, body, portal_id=portal_id)  # type: ignore[arg-type]


def slow_pages_asked(flows: Pipeline) -> int:
    """Backfill page queries QBO has started answering (late)."""
    return int(requests.get(flows.qbo + "/_emulator/faults", timeout=10).json()["injected"].get("slow", 0))


def test_a_payment_is_applied_while_another_portals_backfill_holds_its_workers(fair, monkeypatch):
    flows, portal, realm = fair
    monkeypatch.setattr(sync_backfill, "CHUNK_SIZE", CHUNK_ROWS)
    seed_customers(flows.stack, PARTS * CHUNK_ROWS, realm=realm)
    invoice, deal = flows.linked_deal(UK, REALM_UK, "80.00")
    backfill_worker, sync_worker = flows.stack.poller("BackfillQueue"), flows.stack.poller("SyncQueue")
    tab = f"/settings/companies/{realm}/tabs/contacts"
    assert api(flows, "PUT", tab, {"enabled": True}, portal_id=portal).status_code == 200
    slow_pages = {"path": f"/v3/company/{realm}/query", "kind": "slow", "delay_seconds": SLOW_PAGE_SECONDS}
    flows.faults(flows.qbo, {**slow_pages, "count": 10_000})
    received_before = sync_worker.received
    try:
        started = api(flows, "POST", f"{tab}/backfill", {"action": "run"}, portal_id=portal)
        assert started.status_code == 202, started.text
        parts = started.json()["backfill"]["chunks"]
        assert parts >= PARTS
        wait_for("two backfill parts in hand", lambda: slow_pages_asked(flows) >= 2, 60, every=0.05)

        flows.pay(REALM_UK, invoice["Id"])
        requests.post(flows.qbo + "/_emulator/qbo/webhooks/flush", timeout=30).raise_for_status()
        wait_for("the payment in HubSpot", lambda: flows.status(UK, deal) == "paid_in_full", 60, every=0.05)
        run = api(flows, "GET", f"{tab}/backfill", portal_id=portal).json()["backfill"]
        still_queued = flows.stack.queue_depths()["BackfillQueue"]
    finally:
        flows.clear_faults()
    print(f"\n{run['chunks_done']} of {parts} parts done when the payment was applied; queued then: {still_queued}")

    # the payment did not wait for the backfill: at most the parts in hand (and the next ones) had finished
    assert run["status"] == "running" and run["chunks_done"] <= 2 * backfill_worker.concurrency, run
    assert still_queued["visible"] + still_queued["in_flight"] >= parts - 2 * backfill_worker.concurrency
    # the backfill never ran wider than its own event source allows, and none of its parts took a sync worker
    assert backfill_worker.concurrency == 2 and backfill_worker.most_running <= 2
    assert sync_worker.received - received_before < parts

    def done() -> dict | None:
        status = api(flows, "GET", f"{tab}/backfill", portal_id=portal).json()["backfill"]
        return status if status["status"] == "done" else None

    finished = wait_for("the backfill done", done, 300, every=0.5)
    assert finished["failed"] == 0 and finished["done"] == finished["total"]
    assert flows.stack.queue_depths()["SyncDeadLetterQueue"] == {"visible": 0, "in_flight": 0}
