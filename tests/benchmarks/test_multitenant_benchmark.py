"""Multi-tenant benchmark: many portals and companies on one deployment, a steady stream of payments, and
one large backfill at the same time (the local stack, the worker at the template's concurrency, both
emulators' real rate limits on).

`HUBQBO_TENANT_PORTALS` portals (default 50), each connected to two QBO companies (100). Portal 0's first
company holds `200 x portals` extra customers (10,000) to sync into contacts. The stream pays one linked
invoice every `STREAM_INTERVAL` seconds, round-robin over the portals, and QBO delivers its webhook at once;
a watcher records when each deal shows "Paid in full" in HubSpot. The stream runs twice in the same run:
first alone (the baseline), then while the backfill runs. Printed: per-portal p95 change -> HubSpot latency
in both phases, 429s per portal, the share of each portal's HubSpot limit used, and fairness (the other
portals' p95 during the backfill against their p95 without it). Asserted: counts only (every payment
applied, the backfill done with nothing failed, nothing in the dead-letter queue).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from infra.local.demo_steps.uk_company import invoice_line
from infra.local.emulators.demo_accounts import Realm
from infra.local.emulators.hubspot.seed import ROLES, _users
from infra.local.emulators.hubspot.store import Portal
from infra.local.emulators.qbo.seed import seed_realm
from tests.benchmarks.test_backfill_benchmark import seed_customers
from tests.integration.connections.conftest import Capture
from tests.integration.pipeline.conftest import Pipeline, start_pipeline_stack, stop_pipeline_stack, wait_for
from tests.integration.sync.conftest import SyncFlows

PORTALS = int(os.environ.get("HUBQBO_TENANT_PORTALS", "50"))
COMPANIES_PER_PORTAL = 2
BACKFILL_RECORDS = 200 * PORTALS
PAYMENTS_PER_PORTAL = 2  # per phase
# Seconds between payments: a rate the local stack sustains (every function, moto and both emulators share one
# Python process), so that a latency measures the pipeline, not a queue of payments waiting for the CPU.
STREAM_INTERVAL = float(os.environ.get("HUBQBO_TENANT_INTERVAL", "1.0"))
HUBSPOT_BURST, HUBSPOT_WINDOW = 110, 10.0
FIRST_PORTAL = 700_001


def realm_id(portal: int, n: int) -> str:
    return f"9140{portal:06d}{n:02d}"


@dataclass
class Phase:
    name: str
    latencies: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    started: float = 0.0
    elapsed: float = 0.0


class PortalTraffic:
    """Counts each portal's HubSpot API calls and 429s at the emulator's door."""

    def __init__(self, hubspot: Any) -> None:
        self.calls: dict[int, int] = defaultdict(int)
        self.limited: dict[int, int] = defaultdict(int)
        self._lock = threading.Lock()
        original = hubspot.before_route

        def counting(request: Any, route_name: str) -> Any:
            response = original(request, route_name)
            grant = getattr(request, "grant", None)
            if grant is not None:
                with self._lock:
                    self.calls[grant.portal_id] += 1
                    if response is not None and response.status == 429:
                        self.limited[grant.portal_id] += 1
            return response

        hubspot.before_route = counting

    def snapshot(self) -> tuple[dict[int, int], dict[int, int]]:
        with self._lock:
            return dict(self.calls), dict(self.limited)


def percentile(samples: list[float], p: float) -> float:
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[int(p) - 1]


@pytest.fixture(scope="module")
def tenants() -> Iterator[tuple[Pipeline, list[int]]]:
    flows = start_pipeline_stack(Capture(), webhook_interval=None, log_level="WARNING")
    try:
        portals = [FIRST_PORTAL + n for n in range(PORTALS)]
        hubspot, qbo = flows.stack.hubspot, flows.stack.qbo
        requests.post(flows.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
        now = hubspot.clock.now()
        for n, portal_id in enumerate(portals):
            with hubspot.lock:
                hubspot.portals[portal_id] = Portal(
                    portal_id, f"Tenant {n}", "GBP", "Europe/London", created_at=now, users=_users(), roles=ROLES
                )
            for k in range(COMPANIES_PER_PORTAL):
                realm = Realm(realm_id(n, k), f"Tenant {n} company {k}", "GB", "GBP")
                with qbo.lock:
                    qbo.realms[realm.realm_id] = seed_realm(realm, qbo.clock.now())
                flows.qbo_ui(realm.realm_id, "customer", {"DisplayName": f"Tenant {n}.{k} customer"})
            assert flows.install(portal_id).status_code == 200
            for k in range(COMPANIES_PER_PORTAL):
                assert flows.connect(portal_id, realm_id(n, k)).status_code == 200
        yield flows, portals
    finally:
        stop_pipeline_stack(flows)


def linked_invoices(flows: Pipeline, portals: list[int]) -> list[tuple[int, str, str, str]]:
    """(portal, realm, invoice id, deal id) per payment to come, made before any phase starts."""
    out = []
    for n, portal_id in enumerate(portals):
        for p in range(PAYMENTS_PER_PORTAL):
            realm = realm_id(n, p % COMPANIES_PER_PORTAL)
            invoice = flows.qbo_ui(realm, "invoice", {"CustomerRef": {"value": "1"}, "Line": [invoice_line("80.00")]})
            invoice = invoice.get("Invoice", invoice)
            deal = flows.new_deal(portal_id, f"Tenant deal {n}.{p}", "GBP", None, None)
            flows.link(portal_id, realm, invoice, deal)
            out.append((portal_id, realm, invoice["Id"], deal))
    return out


def paid(flows: Pipeline, portal_id: int, deal_id: str) -> bool:
    deal = flows.stack.hubspot.portals[portal_id].objects["deals"].get(deal_id)
    return deal is not None and deal.properties.get("hubqbo_invoice_status") == "paid_in_full"


def run_stream(flows: Pipeline, payments: list[tuple[int, str, str, str]], phase: Phase) -> None:
    """Pay each invoice in turn (round-robin over the portals), deliver the webhook at once, and record when
    each deal shows it in HubSpot."""
    order = [payments[n] for k in range(PAYMENTS_PER_PORTAL) for n in range(k, len(payments), PAYMENTS_PER_PORTAL)]
    pending: dict[tuple[int, str], float] = {}
    lock, done = threading.Lock(), threading.Event()

    def watch() -> None:
        while not done.is_set() or pending:
            with lock:
                items = list(pending.items())
            for (portal_id, deal), started in items:
                if paid(flows, portal_id, deal):
                    phase.latencies[portal_id].append((time.perf_counter() - started) * 1000)
                    with lock:
                        pending.pop((portal_id, deal), None)
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    phase.started = time.perf_counter()
    watcher.start()
    for portal_id, realm, invoice_id, deal in order:
        tick = time.perf_counter()
        flows.pay(realm, invoice_id)
        with lock:
            pending[(portal_id, deal)] = tick
        requests.post(flows.qbo + "/_emulator/qbo/webhooks/flush", timeout=30).raise_for_status()
        time.sleep(max(0.0, STREAM_INTERVAL - (time.perf_counter() - tick)))
    done.set()
    watcher.join(timeout=300)
    phase.elapsed = time.perf_counter() - phase.started


@pytest.mark.timeout(1800)  # the full size takes minutes; the small one (`make test`) well under the default
def test_fifty_portals_stream_payments_while_one_portal_backfills(tenants):
    flows, portals = tenants
    backfill_portal, backfill_realm = portals[0], realm_id(0, 0)
    seed_customers(flows.stack, BACKFILL_RECORDS, realm=backfill_realm)
    quiet = linked_invoices(flows, portals)
    busy = linked_invoices(flows, portals)
    requests.post(flows.qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)
    traffic = PortalTraffic(flows.stack.hubspot)

    alone = Phase("without the backfill")
    run_stream(flows, quiet, alone)
    calls_alone, _ = traffic.snapshot()

    tab = f"/settings/companies/{backfill_realm}/tabs/contacts"
    assert SyncFlows.api(flows, "PUT", tab, {"enabled": True}, portal_id=backfill_portal).status_code == 200  # type: ignore[arg-type]
    started = time.perf_counter()
    reply = SyncFlows.api(flows, "POST", f"{tab}/backfill", {"action": "run"}, portal_id=backfill_portal)  # type: ignore[arg-type]
    assert reply.status_code == 202, reply.text
    during = Phase("during the backfill")
    run_stream(flows, busy, during)
    calls_during, _ = traffic.snapshot()

    def status() -> dict:
        reply = SyncFlows.api(flows, "GET", f"{tab}/backfill", portal_id=backfill_portal)  # type: ignore[arg-type]
        return reply.json()["backfill"]

    overlap = status()["done"] / BACKFILL_RECORDS  # how much of the backfill ran during the stream
    print(f"\n{overlap:.0%} of the backfill ran while the second stream ran")
    calls_all, limited = traffic.snapshot()
    report(portals, backfill_portal, (alone, during), (calls_alone, calls_during), limited)
    run = wait_for("the backfill done", lambda: (s := status())["status"] == "done" and s, timeout=900, every=1)
    backfill_seconds = time.perf_counter() - started
    calls_all, limited = traffic.snapshot()
    share = (calls_all.get(backfill_portal, 0) - calls_alone.get(backfill_portal, 0)) / (
        HUBSPOT_BURST * backfill_seconds / HUBSPOT_WINDOW
    )
    print(
        f"backfill of {run['total']} customers in portal {backfill_portal}: {backfill_seconds:.1f} s "
        f"({run['total'] / backfill_seconds:,.0f} records/s, {run['created']} created, {run['failed']} failed), "
        f"{share:.0%} of that portal's {HUBSPOT_BURST} / {HUBSPOT_WINDOW:.0f} s; 429s in all: {sum(limited.values())}"
    )

    sync_worker, backfill_worker = flows.stack.poller("SyncQueue"), flows.stack.poller("BackfillQueue")
    print(
        f"workers: sync queue {sync_worker.batches} batches, at most {sync_worker.most_running} of "
        f"{sync_worker.concurrency} at once; backfill queue {backfill_worker.batches} batches, at most "
        f"{backfill_worker.most_running} of {backfill_worker.concurrency} at once"
    )
    dead = flows.stack.queue_depths()["SyncDeadLetterQueue"]
    if dead["visible"]:
        sqs = flows.stack.client("sqs")
        url = flows.stack.physical("SyncDeadLetterQueue")
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", []):
            print("in the dead-letter queue:", m["Body"][:300])
    assert all(paid(flows, p, deal) for p, _, _, deal in quiet + busy), "every payment reached its deal"
    assert sum(len(v) for v in alone.latencies.values()) == len(quiet)
    assert sum(len(v) for v in during.latencies.values()) == len(busy)
    assert run["failed"] == 0 and run["done"] == run["total"] >= BACKFILL_RECORDS, run
    assert dead == {"visible": 0, "in_flight": 0}, "no 429 (nor anything else) reached the dead-letter queue"


def report(
    portals: list[int],
    backfill_portal: int,
    phases: tuple[Phase, Phase],
    calls: tuple[dict[int, int], dict[int, int]],
    limited: dict[int, int],
) -> None:
    (alone, during), (calls_alone, calls_during) = phases, calls
    limit_alone = HUBSPOT_BURST * alone.elapsed / HUBSPOT_WINDOW
    limit_during = HUBSPOT_BURST * during.elapsed / HUBSPOT_WINDOW
    lines = [
        f"{len(portals)} portals, {len(portals) * COMPANIES_PER_PORTAL} companies; {len(portals)}"
        f" x {PAYMENTS_PER_PORTAL} payments per phase, one every {STREAM_INTERVAL:.2f} s; a backfill of "
        f"{BACKFILL_RECORDS} customers in portal {backfill_portal} during the second phase",
        f"{'portal':>8} {'p95 alone':>10} {'p95 during':>11} {'429s':>5} {'limit used alone':>17} "
        f"{'limit used during':>18}",
    ]
    for portal_id in portals:
        a, d = alone.latencies.get(portal_id, []), during.latencies.get(portal_id, [])
        p95_alone, p95_during = (percentile(x, 95) if x else float("nan") for x in (a, d))
        before = calls_alone.get(portal_id, 0)
        used_during = calls_during.get(portal_id, 0) - before
        lines.append(
            f"{portal_id:>8} {p95_alone:>8.0f}ms {p95_during:>9.0f}ms "
            f"{limited.get(portal_id, 0):>5} {before / limit_alone:>16.1%} {used_during / limit_during:>17.1%}"
            + ("  <- backfill" if portal_id == backfill_portal else "")
        )
    others = [p for p in portals if p != backfill_portal]
    other_alone = [x for p in others for x in alone.latencies.get(p, [])]
    other_during = [x for p in others for x in during.latencies.get(p, [])]
    per_portal_alone = [percentile(alone.latencies[p], 95) for p in others if alone.latencies.get(p)]
    per_portal_during = [percentile(during.latencies[p], 95) for p in others if during.latencies.get(p)]
    base, busy = percentile(other_alone, 95), percentile(other_during, 95)
    backfill_calls = calls_during.get(backfill_portal, 0) - calls_alone.get(backfill_portal, 0)
    lines += [
        f"fairness, the {len(others)} other portals' payments: p95 {base:.0f} ms without the backfill, "
        f"{busy:.0f} ms during it (x {busy / base:.2f}); median of the per-portal p95s "
        f"{statistics.median(per_portal_alone):.0f} -> {statistics.median(per_portal_during):.0f} ms, "
        f"worst {max(per_portal_alone):.0f} -> {max(per_portal_during):.0f} ms",
        f"the backfill's portal used {backfill_calls / limit_during:.0%} of its {HUBSPOT_BURST} / "
        f"{HUBSPOT_WINDOW:.0f} s during the second phase; 429s so far: {sum(limited.values())}",
    ]
    print("\n".join(lines))
