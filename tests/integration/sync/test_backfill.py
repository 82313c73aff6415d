""" "Sync existing records": preview counts, the run through SQS in chunks with progress, a second run
that duplicates nothing, and a restart after the queued chunks were lost. The chunks go on the backfill
queue, not the sync queue. The queues are drained by calling the local pollers directly (their threads are
stopped for this module), so every step is deterministic (QBO's webhooks are switched off for this module)."""

from __future__ import annotations

import time

import pytest
import requests

from hubqbo.services import sync_backfill
from tests.integration.sync.conftest import REALM, US

TAB = f"/settings/companies/{REALM}/tabs/contacts"


@pytest.fixture(scope="module")
def stack(sync):
    for poller in sync.stack.pollers:
        poller.stop()
    # QBO UI edits here must not also arrive as webhook changes racing the backfill's own parts
    requests.post(f"{sync.qbo}/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10).raise_for_status()
    sync.reset_tab("contacts")
    return sync


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(sync_backfill, "CHUNK_SIZE", 4)  # several chunks from the seeded company


def drain(sync, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        depth = sync.stack.queue_depths()
        queued = sum(
            d["visible"] + d["in_flight"] for name, d in depth.items() if "Dead" not in name and "DLQ" not in name
        )
        if not queued:
            return
        for poller in sync.stack.pollers:
            poller.poll_once(wait_seconds=0)
    raise AssertionError(f"the queue did not drain: {sync.stack.queue_depths()}")


def backfill(sync, action: str) -> dict:
    reply = sync.api("POST", f"{TAB}/backfill", {"action": action})
    assert reply.status_code == 202, reply.text
    return reply.json()


def status(sync) -> dict:
    return sync.api("GET", f"{TAB}/backfill").json()["backfill"]


def linked_contacts(sync) -> list[dict]:
    return [
        c
        for c in sync.hubspot_objects("contacts")
        if (c["properties"].get("hubqbo_qbo_customer_id") or "").startswith(REALM)
    ]


def active_customers(sync) -> list[dict]:
    from hubqbo import wiring

    return wiring.sync_ports().qbo(US, REALM).query("SELECT * FROM Customer MAXRESULTS 1000")


def test_backfill_preview_run_second_run_and_restart(stack):
    sync = stack
    customers = active_customers(sync)
    total = len(customers)
    assert total >= 5
    contacts_before = len(sync.hubspot_objects("contacts"))

    # a run needs the sync on; a preview does not
    refused = sync.api("POST", f"{TAB}/backfill", {"action": "run"})
    assert refused.status_code == 409 and "Turn on" in refused.json()["message"]

    started = backfill(sync, "preview")["backfill"]
    assert (started["mode"], started["status"], started["total"]) == ("preview", "running", total)
    assert started["chunks"] == -(-total // 4)
    assert sync.api("POST", f"{TAB}/backfill", {"action": "run"}).status_code == 409  # one at a time
    queued = sync.stack.queue_depths()
    assert (queued["BackfillQueue"]["visible"], queued["SyncQueue"]["visible"]) == (started["chunks"], 0)
    drain(sync)
    preview = status(sync)
    assert preview["status"] == "done" and preview["done"] == total
    matched_by_email = {
        p.email for p in __import__("infra.local.emulators.demo_accounts", fromlist=["x"]).SHARED_PEOPLE
    }
    emails = {(c.get("PrimaryEmailAddr") or {}).get("Address", "").lower() for c in customers}
    assert preview["updated"] >= len(matched_by_email & emails)
    assert preview["created"] + preview["updated"] + preview["skipped"] == total
    assert len(sync.hubspot_objects("contacts")) == contacts_before  # a preview writes nothing

    sync.set_tab("contacts", enabled=True)
    backfill(sync, "run")
    drain(sync)
    first = status(sync)
    assert (first["status"], first["done"], first["failed"]) == ("done", total, 0), first["errors"]
    assert first["created"] == preview["created"] and first["updated"] == preview["updated"]
    linked = linked_contacts(sync)
    assert len(linked) == first["created"] + first["updated"]
    assert len(sync.hubspot_objects("contacts")) == contacts_before + first["created"]

    backfill(sync, "run")
    drain(sync)
    second = status(sync)
    assert (second["created"], second["updated"], second["skipped"]) == (0, 0, total)
    # every record the first run wrote is now up to date; what it skipped is skipped for the same reason
    assert (second["up_to_date"], second["not_allowed"]) == (total - first["skipped"], 0)
    assert len(linked_contacts(sync)) == len(linked)  # no duplicates on a second run

    # a restart: the queued chunks are lost (say, purged), the run resumes from what is not done
    sync.qbo_ui("Customer", {"Id": customers[0]["Id"], "Notes": "resumed", "CompanyName": "Resumed Co"})
    backfill(sync, "run")
    sqs = sync.stack.client("sqs")
    sqs.purge_queue(QueueUrl=sync.stack.physical("BackfillQueue"))
    stuck = status(sync)
    assert stuck["status"] == "running" and stuck["chunks_done"] == 0
    resumed = backfill(sync, "resume")
    assert resumed["requeued"] == stuck["chunks"]
    drain(sync)
    third = status(sync)
    assert (third["status"], third["done"], third["updated"], third["created"]) == ("done", total, 1, 0)
    assert sync.api("POST", f"{TAB}/backfill", {"action": "resume"}).status_code == 409  # nothing left to resume
    assert len(linked_contacts(sync)) == len(linked)

    log = sync.api("GET", f"/settings/companies/{REALM}/log").json()["entries"]
    assert any(e.get("source") == "backfill" for e in log)
