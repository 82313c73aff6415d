"""Drift report benchmark: the reconciliation of N linked invoices (each linked to a deal and synced to
a HubSpot invoice) over N/10 customers synced to contacts, on the local stack with both emulators'
real rate limits on (HubSpot 110 requests / 10 s per portal; QBO 500 / minute per company).

The linked records are seeded straight into the emulators' state and the table (creating 10,000 through
the APIs would measure the seeding); each side holds exactly what the product's own code makes of the
QBO record (`deal_property_values`, `record_values`), so the report finds only the drift the benchmark
makes: every 100th deal's amount and every 100th HubSpot invoice's billed amount edited in HubSpot.

The baseline is measured in the same run: the same report over the company before the seeding (two
linked invoices): what a run costs whatever its size. Printed: time and API calls per record on each
side, beyond the baseline. Asserted: counts only (the rows found, calls per batch of records).

`HUBQBO_DRIFT_RECORDS` sets N (default 500, so `make test` stays quick; `make bench` runs 10,000).
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

from infra.local.emulators.hubspot import catalog
from tests.integration.sync.conftest import REALM, US, SyncFlows, sync_stack

RECORDS = int(os.environ.get("HUBQBO_DRIFT_RECORDS", "500"))
INVOICES_PER_CUSTOMER = 10
DRIFT_EVERY = 100


@pytest.fixture(scope="module")
def bench() -> Iterator[SyncFlows]:
    yield from sync_stack(queue_visibility_timeout=30, log_level="WARNING", webhook_interval=None)


def _calls(base: str) -> dict[str, int]:
    return requests.get(base + "/_emulator/calls", timeout=10).json()["calls"]


def _delta(after: dict[str, int], before: dict[str, int]) -> int:
    return sum(v - before.get(k, 0) for k, v in after.items())


def _line(item_id: str, amount: int) -> dict:
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": amount,
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 1, "UnitPrice": amount},
    }


def _template(sync: SyncFlows) -> dict:
    """One invoice linked and synced through the product's own paths: the shapes every seeded copy takes,
    and the HubSpot properties (link properties, the deals' QuickBooks group) created as in production."""
    from hubqbo import wiring
    from hubqbo.services.invoice_links import link_invoices

    sync.set_tab("contacts", enabled=True)
    sync.set_tab("invoices", enabled=True)
    customer = sync.qbo_ui(
        "Customer",
        {
            "DisplayName": "Bench Drift 0",
            "GivenName": "Bench",
            "FamilyName": "Drift0",
            "PrimaryEmailAddr": {"Address": "bench.drift.0@example.com"},
            "CompanyName": "Bench Drift Co",
        },
    )
    items = wiring.sync_ports().qbo(US, REALM).query("SELECT * FROM Item MAXRESULTS 1000")
    item = next(i for i in items if i.get("Type") == "Service")
    created = [
        sync.qbo_ui("Invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [_line(item["Id"], 100 + n)]})
        for n in range(2)
    ]
    invoices = [sync.qbo_read("Invoice", c["Id"]) for c in created]
    sync.apply("Customer", [sync.qbo_read("Customer", customer["Id"])])
    sync.apply("Invoice", invoices)
    ports = wiring.invoice_ports()
    connection = ports.connections.get_connection(US, REALM)
    for n, invoice in enumerate(invoices):
        body = {"properties": {"dealname": f"Bench deal {n}", "pipeline": "default", "dealstage": "contractsent"}}
        deal = requests.post(f"{sync.hubspot}/_emulator/portals/{US}/objects/deals", json=body, timeout=10).json()
        link_invoices(ports, US, connection, [invoice], "deals", deal["id"], source="attached")
    return {"customer": sync.qbo_read("Customer", customer["Id"]), "invoice": invoices[0], "item": item}


def _seed(sync: SyncFlows, template: dict, count: int) -> tuple[int, int]:
    """`count` linked invoices over count/10 customers, in step on both sides; (deals drifted, HubSpot
    invoices drifted)."""
    from hubqbo import wiring
    from hubqbo.domain.deal_properties import LinkedInvoice, deal_property_values
    from hubqbo.domain.mappings import Tab, link_value, record_values
    from hubqbo.domain.qbo_invoice import read_invoice
    from hubqbo.services.sync_engine import _context as record_context
    from hubqbo.store.invoices import InvoiceLink

    ports = wiring.drift_ports()
    connection = ports.sync.connections.get_connection(US, REALM)
    client = ports.sync.hubspot_client(US)
    ctx = record_context(ports.sync, US, connection)
    tabs = {tab: ports.sync.settings.tab(US, REALM, tab) for tab in (Tab.CONTACTS, Tab.INVOICES)}
    props = {tab: ports.sync.properties.get(client, US, tab.object_type) for tab in tabs}
    qbo, hubspot = sync.stack.qbo, sync.stack.hubspot
    now = qbo.clock.now()
    today = ctx.today
    assert today is not None
    links: list[InvoiceLink] = []
    drifted = [0, 0]
    with qbo.lock, hubspot.lock:
        state, portal = qbo.realms[REALM], hubspot.portals[US]
        types = {name: catalog.object_type(name) for name in ("contacts", "deals", "invoices")}
        customers: list[dict] = []
        for n in range(max(1, count // INVOICES_PER_CUSTOMER)):
            raw = copy.deepcopy(template["customer"])
            raw.update(
                Id=state.new_id("Customer"),
                DisplayName=f"Bench Drift {n + 1:05d}",
                FamilyName=f"Drift{n + 1:05d}",
                PrimaryEmailAddr={"Address": f"bench.drift.{n + 1}@example.com"},
            )
            state.table("Customer")[raw["Id"]] = raw
            values, _ = record_values(Tab.CONTACTS, raw, tabs[Tab.CONTACTS].mappings, props[Tab.CONTACTS], ctx)
            portal.create(types["contacts"], values, now)
            customers.append(raw)
        for n in range(count):
            customer = customers[n % len(customers)]
            raw = copy.deepcopy(template["invoice"])
            amount = 100 + n % 900
            stamp = state.stamp(now - timedelta(seconds=count - n))
            raw.update(
                Id=state.new_id("Invoice"),
                DocNumber=f"BENCH-{n:05d}",
                TotalAmt=amount,
                Balance=amount,
                Line=[_line(template["item"]["Id"], amount)],
                CustomerRef={"value": customer["Id"], "name": customer["DisplayName"]},
                MetaData={**raw["MetaData"], "LastUpdatedTime": stamp},
            )
            state.table("Invoice")[raw["Id"]] = raw
            linked = [
                LinkedInvoice(
                    invoice=read_invoice(raw, home_currency=connection.home_currency),
                    company_name=connection.company_name,
                )
            ]
            deal_values = deal_property_values(linked, portal_currency="USD", today=today).properties or {}
            if n % DRIFT_EVERY == 0:
                deal_values = {**deal_values, "hubqbo_invoice_amount": "1.00"}
                drifted[0] += 1
            deal = portal.create(types["deals"], {"dealname": f"Bench deal {n}", **deal_values}, now)
            values, _ = record_values(Tab.INVOICES, raw, tabs[Tab.INVOICES].mappings, props[Tab.INVOICES], ctx)
            if n % DRIFT_EVERY == 1:
                values = {**values, "hs_amount_billed": "0.01"}
                drifted[1] += 1
            assert values[Tab.INVOICES.link_property] == link_value(REALM, raw["Id"])
            portal.create(types["invoices"], values, now)
            links.append(
                InvoiceLink(
                    portal_id=US,
                    realm_id=REALM,
                    invoice_id=raw["Id"],
                    object_type="deals",
                    object_id=deal.id,
                    linked_at=now.timestamp(),
                )
            )
    _write_links(ports.invoices.invoices.table, links)
    assert len(ports.invoices.invoices.links_in_realm(US, REALM)) == count + 2
    return drifted[0], drifted[1]


def _write_links(table, links) -> None:
    """Both items of each link as `InvoiceStore.link` writes them, in batches: moto copies the table for
    every transaction, which would make 10,000 links quadratic (the store's own reads check the keys)."""
    with table.batch_writer() as batch:
        for link in links:
            base = {
                "pk": f"PORTAL#{link.portal_id}",
                "realm_id": link.realm_id,
                "invoice_id": link.invoice_id,
                "object_type": link.object_type,
                "object_id": link.object_id,
                "portal_id": link.portal_id,
                "linked_at": int(link.linked_at),
                "source": link.source,
            }
            forward = f"INVLINK#{link.realm_id}#{link.invoice_id}#{link.object_type}#{link.object_id}"
            backward = f"RECLINK#{link.object_type}#{link.object_id}#{link.realm_id}#{link.invoice_id}"
            for sk in (forward, backward):
                batch.put_item(Item={**base, "sk": sk})


def _report(sync: SyncFlows) -> tuple[dict, float, int, int]:
    from hubqbo import wiring
    from hubqbo.services.drift import run_report

    hubspot_before, qbo_before = _calls(sync.hubspot), _calls(sync.qbo)
    started = time.monotonic()
    report = run_report(wiring.drift_ports(), US, REALM)  # as the daily job runs it (no HTTP timeout)
    elapsed = time.monotonic() - started
    hubspot, qbo = _delta(_calls(sync.hubspot), hubspot_before), _delta(_calls(sync.qbo), qbo_before)
    return report.model_dump(), elapsed, hubspot, qbo


@pytest.mark.timeout(1800)  # 10,000 records are seeded record by record before the run is timed
def test_drift_report_of_linked_records_costs_a_few_batched_calls_per_hundred_records(bench):
    sync = bench
    assert requests.get(sync.hubspot + "/_emulator/rate-limits", timeout=10).json()["enabled"]
    template = _template(sync)
    base, base_time, base_hubspot, base_qbo = _report(sync)
    assert base["complete"] and base["total_rows"] == 0, base["rows"]

    seeding = time.monotonic()
    deals_drifted, invoices_drifted = _seed(sync, template, RECORDS)
    seeding = time.monotonic() - seeding
    report, elapsed, hubspot, qbo = _report(sync)
    extra_hubspot, extra_qbo = hubspot - base_hubspot, qbo - base_qbo
    customers = max(1, RECORDS // INVOICES_PER_CUSTOMER)
    rules = {}
    for row in report["rows"]:
        rules[(row["rule"], row["field"])] = rules.get((row["rule"], row["field"]), 0) + 1
    print(
        f"\ndrift report of {RECORDS} linked invoices (+ deals, HubSpot invoices) and {customers} contacts"
        f"\n  baseline (2 linked invoices): {base_time:.2f} s, HubSpot {base_hubspot} calls, QBO {base_qbo} calls"
        f"\n  this run:                     {elapsed:.2f} s, HubSpot {hubspot} calls, QBO {qbo} calls"
        f"\n  beyond the baseline:          {elapsed - base_time:.2f} s,"
        f" {(elapsed - base_time) / RECORDS * 1000:.2f} ms per record"
        f"\n  HubSpot calls per record:     {extra_hubspot / RECORDS:.4f}"
        f"\n  QBO calls per record:         {extra_qbo / RECORDS:.4f}"
        f"\n  rows: {report['total_rows']} {rules} (complete: {report['complete']}; seeding took {seeding:.0f} s)"
    )
    assert report["complete"], report["incomplete_parts"]
    assert rules == {
        ("deal_property", "hubqbo_invoice_amount"): deals_drifted,
        ("mapped_field", "hs_amount_billed"): invoices_drifted,
    }
    hundreds, thousands = math.ceil((RECORDS + 2) / 100), math.ceil((RECORDS + 2) / 1000)
    # per 100 invoices: one batch read of deals, one of HubSpot invoices; per 100 customers: one of contacts
    assert hubspot <= 2 * hundreds + math.ceil((customers + 1) / 100) + 4, hubspot
    # per 1000 invoices: one `Id IN` read; per 1000 customers one page; per 100 customers their invoices
    # (a page of up to 1000, and the next page when it is full)
    assert qbo <= thousands + math.ceil((customers + 1) / 1000) + 1 + 2 * math.ceil((customers + 1) / 100), qbo
    assert report["api_calls"] == {"hubspot": hubspot, "qbo": qbo}
