"""A transient HubSpot fault never drops a change: the whole path runs by itself (QBO UI change → webhook
→ SQS → worker → engine → HubSpot), the emulator answers 500 to the contacts' batch upsert, and the change
comes back through the queue's backoff until the fault clears, or ends in the dead-letter queue with its
reason once its five attempts are spent."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from tests.integration.sync.conftest import REALM, US, SyncFlows, sync_stack

UPSERT = r"/contacts/batch/upsert$"  # whatever version the client's path carries


@pytest.fixture(scope="module")
def live() -> Iterator[SyncFlows]:
    os.environ["RETRY_DELAY_SCALE"] = "0.01"  # the worker's 20 s, 40 s, ... backoff → 0.2 s, 0.4 s, ...
    try:
        yield from sync_stack(log_level="WARNING", queue_visibility_timeout=1)
    finally:
        os.environ.pop("RETRY_DELAY_SCALE", None)


@pytest.fixture(autouse=True)
def contacts_on(live) -> Iterator[None]:
    live.reset_tab("contacts")
    live.set_tab("contacts", enabled=True)
    yield
    requests.delete(live.hubspot + "/_emulator/faults", timeout=10).raise_for_status()


def _fault(live: SyncFlows, count: int) -> None:
    spec = {"path": UPSERT, "method": "POST", "kind": "500", "count": count}
    requests.post(live.hubspot + "/_emulator/faults", json=spec, timeout=10).raise_for_status()


def _customer(live: SyncFlows) -> dict:
    tag = uuid.uuid4().hex[:8]
    return live.qbo_ui(
        "Customer",
        {
            "DisplayName": f"Robin Vale {tag}",
            "GivenName": "Robin",
            "FamilyName": f"Vale{tag}",
            "PrimaryEmailAddr": {"Address": f"robin.{tag}@example.com"},
        },
    )


def _contact(live: SyncFlows, customer_id: str) -> list[dict]:
    return live.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer_id}")


def _failures(customer_id: str) -> list:
    from hubqbo import wiring

    return [e for e in wiring.sync_log().recent_failures(f"portal:{US}") if e.qbo_id == customer_id]


def _dlq(live: SyncFlows) -> int:
    return live.stack.queue_depths()["SyncDeadLetterQueue"]["visible"]


def test_a_hubspot_500_on_the_upsert_is_retried_and_the_contact_exists_once_the_fault_clears(live):
    _fault(live, 1000)
    customer = _customer(live)
    failed = live.wait_for("a failed attempt", lambda: _failures(customer["Id"]), 40)
    assert "Attempt" in failed[0].reason and "retrying in" in failed[0].reason and "500" in failed[0].reason
    assert _contact(live, customer["Id"]) == []
    requests.delete(live.hubspot + "/_emulator/faults", timeout=10).raise_for_status()  # the outage ends
    [contact] = live.wait_for("the contact after the retry", lambda: _contact(live, customer["Id"]), 40)
    assert contact["properties"]["lastname"] == customer["FamilyName"]
    assert _dlq(live) == 0


def test_a_fault_that_outlasts_five_attempts_leaves_the_change_in_the_dead_letter_queue_with_its_reason(live):
    from hubqbo import wiring
    from hubqbo.services.pipeline_replay import replay_dead_letters

    _fault(live, 15)  # 3 tries in the client, 5 receives
    customer = _customer(live)
    live.wait_for("the message in the dead-letter queue", lambda: _dlq(live) == 1, 60)
    attempts = sorted(e.attempt for e in _failures(customer["Id"]))
    assert attempts == [1, 2, 3, 4, 5]
    final = next(e for e in _failures(customer["Id"]) if e.attempt == 5)
    assert "dead-letter queue" in final.reason and "500" in final.reason
    assert _contact(live, customer["Id"]) == []

    assert replay_dead_letters(wiring.dead_letters()).replayed == 1  # the fault is spent: the replay applies it
    live.wait_for("the contact after the replay", lambda: _contact(live, customer["Id"]), 40)
    deadline = time.monotonic() + 10
    while _dlq(live) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _dlq(live) == 0


# -- "Sync existing records" under the same fault -------------------------------------------------------
TAB = f"/settings/companies/{REALM}/tabs/contacts"


@pytest.fixture
def quiet_qbo(live, monkeypatch) -> Iterator[None]:
    """Parts of 4 rows; new QBO customers reach HubSpot only through the backfill (no webhooks)."""
    from hubqbo.services import sync_backfill

    monkeypatch.setattr(sync_backfill, "CHUNK_SIZE", 4)
    hooks = f"{live.qbo}/_emulator/qbo/webhooks"
    requests.post(hooks, json={"enabled": False}, timeout=10).raise_for_status()
    yield
    requests.post(hooks, json={"enabled": True}, timeout=10).raise_for_status()


def _backfill(live: SyncFlows, action: str) -> requests.Response:
    return live.api("POST", f"{TAB}/backfill", {"action": action})


def _run(live: SyncFlows) -> dict:
    return live.api("GET", f"{TAB}/backfill").json()["backfill"]


def test_a_backfill_part_that_hits_a_fault_is_retried_not_counted_failed(live, quiet_qbo):
    customers = [_customer(live) for _ in range(5)]
    _fault(live, 1000)
    assert _backfill(live, "run").status_code == 202
    retrying = live.wait_for("a part retrying", lambda: (r := _run(live))["parts_retrying"] and r, 40)
    assert retrying["status"] == "running" and retrying["failed"] == 0
    requests.delete(live.hubspot + "/_emulator/faults", timeout=10).raise_for_status()
    done = live.wait_for("the run done", lambda: (r := _run(live))["status"] == "done" and r, 60)
    assert (done["done"], done["failed"], done["parts_failed"]) == (done["total"], 0, 0), done
    assert all(_contact(live, c["Id"]) for c in customers)
    assert _dlq(live) == 0


def test_a_backfill_whose_parts_spent_their_attempts_is_not_done_until_they_are_resumed(live, quiet_qbo):
    customers = [_customer(live) for _ in range(5)]
    _fault(live, 1000)
    assert _backfill(live, "run").status_code == 202

    def settled():
        run = _run(live)
        return run["parts_failed"] and run["chunks_done"] + run["parts_failed"] == run["chunks"] and run

    stuck = live.wait_for("every part counted or dead-lettered", settled, 90)
    assert stuck["status"] == "running" and stuck["done"] < stuck["total"]  # never "Done" with failed parts
    live.wait_for("the failed parts in the dead-letter queue", lambda: _dlq(live) == stuck["parts_failed"], 20)
    again = _backfill(live, "run")
    assert again.status_code == 409 and f"{stuck['parts_failed']} failed" in again.json()["message"]

    requests.delete(live.hubspot + "/_emulator/faults", timeout=10).raise_for_status()
    resumed = _backfill(live, "resume").json()
    assert resumed["requeued"] == stuck["parts_failed"]
    done = live.wait_for("the run done", lambda: (r := _run(live))["status"] == "done" and r, 60)
    assert (done["done"], done["failed"]) == (done["total"], 0), done
    assert all(_contact(live, c["Id"]) for c in customers)
    live.stack.client("sqs").purge_queue(QueueUrl=live.stack.physical("SyncDeadLetterQueue"))  # stale copies
