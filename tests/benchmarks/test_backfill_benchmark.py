"""Backfill benchmark: "Sync existing records" of 10,000 QBO customers into HubSpot contacts, on the
local stack, with both emulators' real rate limits on (HubSpot 110 requests / 10 s per portal; QBO
500 / minute and 10 concurrent per company).

The customers are seeded straight into the QBO emulator's state (creating 10,000 through its API
would measure the seeding, and fire 10,000 webhooks). The backfill itself runs the product's path:
the settings API starts it, SQS carries its chunks, the worker runs them. Printed: records per
second, API calls per record on each side (the emulators' counters), and the share of HubSpot's
rate limit used. Asserted: counts only (every record created, none failed, calls per record).

`HUBQBO_BACKFILL_RECORDS` changes the number of customers (default 10,000).
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator

import pytest
import requests

from infra.local.stack import LocalStack
from tests.integration.sync.conftest import REALM, SyncFlows, sync_stack

RECORDS = int(os.environ.get("HUBQBO_BACKFILL_RECORDS", "10000"))
HUBSPOT_BURST, HUBSPOT_WINDOW = 110, 10.0


@pytest.fixture(scope="module")
def bench() -> Iterator[SyncFlows]:
    yield from sync_stack(queue_visibility_timeout=30, log_level="WARNING", webhook_interval=None)


def seed_customers(stack: LocalStack, count: int, realm: str = REALM) -> None:
    """`count` active customers with distinct emails, written into the emulator's state (no webhooks)."""
    qbo = stack.qbo
    with qbo.lock:
        state = qbo.realms[realm]
        stamp = state.stamp(qbo.clock.now())
        table = state.table("Customer")
        for n in range(count):
            object_id = state.new_id("Customer")
            table[object_id] = {
                "Id": object_id,
                "SyncToken": "0",
                "domain": "QBO",
                "sparse": False,
                "Active": True,
                "DisplayName": f"Bench Customer {n:05d}",
                "GivenName": "Bench",
                "FamilyName": f"Customer{n:05d}",
                "FullyQualifiedName": f"Bench Customer {n:05d}",
                "PrimaryEmailAddr": {"Address": f"bench{n:05d}@example.com"},
                "PrimaryPhone": {"FreeFormNumber": f"(555) {n:07d}"},
                "BillAddr": {"Line1": f"{n} Bench St", "City": "Springfield", "CountrySubDivisionCode": "IL"},
                "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
            }


def calls(base: str) -> dict[str, int]:
    return requests.get(base + "/_emulator/calls", timeout=10).json()["calls"]


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


@pytest.mark.timeout(900)  # 10,000 records can pass the default 120 s on a loaded machine (it waits up to 540 s)
def test_backfill_10000_customers_into_contacts_within_the_rate_limits(bench):
    sync = bench
    limits = requests.get(sync.hubspot + "/_emulator/rate-limits", timeout=10).json()
    assert limits["enabled"] and limits["burst"] == HUBSPOT_BURST
    assert requests.get(sync.qbo + "/_emulator/qbo/rate-limits", timeout=10).json()["enabled"]
    seed_customers(sync.stack, RECORDS)
    sync.set_tab("contacts", enabled=True)
    existing = sync.api("GET", f"/settings/companies/{REALM}/tabs/contacts").json()  # warm the property cache
    assert existing["enabled"]
    hubspot_before, qbo_before = calls(sync.hubspot), calls(sync.qbo)

    started_at = time.monotonic()
    reply = sync.api("POST", f"/settings/companies/{REALM}/tabs/contacts/backfill", {"action": "run"})
    assert reply.status_code == 202, reply.text
    total = reply.json()["backfill"]["total"]
    status = {}
    deadline = started_at + 540
    while time.monotonic() < deadline:
        status = sync.api("GET", f"/settings/companies/{REALM}/tabs/contacts/backfill").json()["backfill"]
        if status["status"] == "done":
            break
        time.sleep(1)
    elapsed = time.monotonic() - started_at
    assert status["status"] == "done", status

    hubspot = delta(calls(sync.hubspot), hubspot_before)
    qbo = delta(calls(sync.qbo), qbo_before)
    hubspot_total, qbo_total = sum(hubspot.values()), sum(qbo.values())
    rate_429 = sum(v for k, v in hubspot.items() if "429" in k)
    share = hubspot_total / (HUBSPOT_BURST * elapsed / HUBSPOT_WINDOW)
    print(
        f"\nbackfill of {total} QBO customers into contacts ({status['created']} created, {status['updated']} updated, "
        f"{status['skipped']} skipped, {status['failed']} failed) in {elapsed:.1f} s"
        f"\n  records per second:          {total / elapsed:,.0f}"
        f"\n  HubSpot calls per record:    {hubspot_total / total:.4f} ({hubspot_total} calls: {hubspot})"
        f"\n  QBO calls per record:        {qbo_total / total:.4f} ({qbo_total} calls: {qbo})"
        f"\n  HubSpot rate limit used:     {share:.0%} of {HUBSPOT_BURST} / {HUBSPOT_WINDOW:.0f} s (429s: {rate_429})"
    )
    assert total >= RECORDS
    assert status["failed"] == 0 and status["done"] == total
    assert status["created"] + status["updated"] + status["skipped"] == total
    linked = [c for c in sync.hubspot_objects("contacts") if (c["properties"].get("hubqbo_qbo_customer_id") or "")]
    link_ids = [c["properties"]["hubqbo_qbo_customer_id"] for c in linked]
    assert len(link_ids) == len(set(link_ids)), "one contact per QBO customer, never two"
    # A part that spent the shared rate budget half-way is retried; what its first attempt wrote is then
    # "already up to date" (skipped), so the links are at least the records counted as written.
    assert status["created"] + status["updated"] <= len(linked) <= total
    batches = math.ceil(total / 100)
    # per 100 records one upsert on the link id, and no read: hubqbo never linked these customers (a part the
    # shared budget sent back reads its links again, as it wrote some) and no contact holds their emails
    upserts = sum(v for k, v in hubspot.items() if "upsert" in k)
    assert batches <= upserts <= batches + 10, hubspot
    assert hubspot_total / total <= 0.02, f"{hubspot_total / total:.4f} HubSpot calls per record: {hubspot}"
    # one COUNT, one page per chunk, and a page again for a part the shared budget sent back to the queue
    assert qbo_total <= 2 * math.ceil(total / 500) + 2, qbo
