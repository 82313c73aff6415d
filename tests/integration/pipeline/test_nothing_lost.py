"""Nothing lost, counted: how the worker retries what did not apply, with the test driving each receive.

- a webhook delivery whose changes did not all apply is split: each unapplied change is queued again as a
  message of its own (carrying its failed attempts), the delivery is done, the applied ones are not read again;
- a change that must wait (429) is queued again as a new message with a delay, counting the wait in
  `deferrals` and not in the receives that send a message to the dead-letter queue;
- a re-queued change whose attempts are spent (its receive count restarted) is dead-lettered by the worker;
- any other message (a recheck, a backfill part) that only waited on its 5th receive is queued again as it is.

Webhooks are sent by the test, the worker runs only when the test polls, faults come from the emulators."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from hubqbo.clients import hubspot_paths
from tests.integration.pipeline.conftest import REALM_UK, UK, Pipeline, cloud_event, stop_pipeline_stack
from tests.integration.pipeline.test_pipeline_controlled import calls, depth, drain, poller, waiting
from tests.integration.sync.conftest import SyncFlows
from tests.support.stack import start_local_stack

BACKFILL = "BackfillQueue"

CONTACTS_UPSERT = hubspot_paths.crm_objects("contacts", "batch", "upsert") + "$"
PRODUCTS = r"/crm/objects/[^/]+/products"  # whatever the sync engine calls to write a product
DEAL_UPDATE = hubspot_paths.crm_objects("deals", "batch", "update")


class Flows(Pipeline):
    api = SyncFlows.api  # the settings API, signed as hubspot.fetch signs


@pytest.fixture(scope="module")
def ctl(capture) -> Iterator[Flows]:
    import os

    os.environ["RETRY_DELAY_SCALE"] = "0.01"  # 20 s of backoff, 10 s of HubSpot's window → 1 s here
    stack = start_local_stack(run_poller=False, webhook_interval=None, log_level="WARNING")
    flows = Flows(stack, capture)
    try:
        flows.ready(UK, REALM_UK)
        for tab in ("contacts", "products"):
            reply = flows.api("PUT", f"/settings/companies/{REALM_UK}/tabs/{tab}", {"enabled": True}, portal_id=UK)
            assert reply.status_code == 200, reply.text
        # the test sends each delivery itself; QBO's own webhooks would add deliveries of their own
        requests.post(flows.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10).raise_for_status()
        yield flows
    finally:
        stop_pipeline_stack(flows)


@pytest.fixture(autouse=True)
def clean(ctl) -> Iterator[None]:
    ctl.clear_faults()
    yield
    ctl.clear_faults()
    drain(ctl)
    sqs, url = ctl.stack.client("sqs"), ctl.stack.physical("SyncDeadLetterQueue")
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)]
        )


# -- helpers ----------------------------------------------------------------------------------------
def customer(ctl: Flows) -> dict:
    tag = uuid.uuid4().hex[:8]
    body = {"DisplayName": f"Robin Vale {tag}", "GivenName": "Robin", "FamilyName": f"Vale{tag}"}
    return ctl.qbo_ui(REALM_UK, "customer", body | {"PrimaryEmailAddr": {"Address": f"robin.{tag}@example.com"}})


def item(ctl: Flows) -> dict:
    tag = uuid.uuid4().hex[:8]
    with ctl.stack.qbo.lock:
        income = next(a for a in ctl.stack.qbo.realms[REALM_UK].all("Account") if a["AccountType"] == "Income")
    body = {"Name": f"Widget {tag}", "Sku": f"W-{tag}", "Type": "Service", "UnitPrice": "12.50"}
    body |= {"IncomeAccountRef": {"value": income["Id"]}}
    return ctl.qbo_ui(REALM_UK, "item", body)


def send_delivery(ctl: Flows, *objects: tuple[str, str]) -> None:
    """One signed webhook delivery with a change for each (entity, id), in that order."""
    now = datetime.now(UTC).isoformat()
    events = [cloud_event(REALM_UK, entity, object_id, "updated", now) for entity, object_id in objects]
    reply = ctl.webhook(json.dumps(events).encode())
    assert reply.status_code == 200 and reply.json()["queued"] == len(objects), reply.text


def poll_when_visible(ctl: Flows, timeout: float = 10.0, queue: str = "SyncQueue") -> int:
    """Wait for a message to become visible (a delay or a visibility timeout ends), then run one batch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = poller(ctl, queue).poll_once()
        if received:
            return received
        time.sleep(0.1)
    raise AssertionError(f"nothing became visible: {depth(ctl, queue)}, waiting {waiting(ctl, queue)}")


def take_and_put_back(ctl: Flows, timeout: float = 10.0, queue: str = "SyncQueue") -> list[dict[str, Any]]:
    """Every message on the sync queue once it is visible, as the worker would read it, put back unchanged
    as new messages (a receive of our own would otherwise count as an attempt). Each is first received
    here: the worker queued it as a new message (a receive count of 1), not one that waited its visibility."""
    sqs, url = ctl.stack.client("sqs"), ctl.stack.physical(queue)
    bodies: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
        for message in got:
            assert message["Attributes"]["ApproximateReceiveCount"] == "1", message
            bodies.append(json.loads(message["Body"]))
            sqs.send_message(QueueUrl=url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if bodies and waiting(ctl, queue) == 0 and depth(ctl, queue)["visible"] == len(bodies):
            return bodies
        time.sleep(0.1)
    raise AssertionError(f"expected messages on {queue}: {depth(ctl, queue)}, waiting {waiting(ctl, queue)}, {bodies}")


def on_queue(ctl: Flows, queue: str = "SyncQueue") -> int:
    return depth(ctl, queue)["visible"] + waiting(ctl, queue)


def dead_lettered(ctl: Flows) -> list[dict[str, Any]]:
    sqs, url = ctl.stack.client("sqs"), ctl.stack.physical("SyncDeadLetterQueue")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in got]


def log_of(ctl: Flows, entity: str, object_id: str) -> list[dict]:
    return [e for e in ctl.sync_log(UK, limit=500) if e["entity"] == entity and e["qbo_id"] == object_id]


def qbo_queries(ctl: Flows) -> int:
    counted = calls(ctl, ctl.qbo)
    return counted.get("GET api_query_get", 0) + counted.get("POST api_query", 0)


def product_exists(ctl: Flows, item_id: str) -> bool:
    products = ctl.hubspot_objects(UK, "products").values()
    return any(p["properties"].get("hubqbo_qbo_item_id") == f"{REALM_UK}:{item_id}" for p in products)


# -- a delivery whose changes did not all apply ------------------------------------------------------
def test_a_delivery_whose_second_change_hubspot_refuses_is_split_into_that_change_alone(ctl):
    first, widget, last = customer(ctl), item(ctl), customer(ctl)
    send_delivery(ctl, ("Customer", first["Id"]), ("Item", widget["Id"]), ("Customer", last["Id"]))
    # the client's three tries of the product's write, all refused: that change's attempt fails
    ctl.faults(ctl.hubspot, {"path": PRODUCTS, "method": "POST", "kind": "500", "count": 3})
    upserts_before = calls(ctl, ctl.hubspot).get("POST crm_batch_upsert", 0)

    assert poller(ctl).poll_once() == 1  # the delivery
    queued = take_and_put_back(ctl)  # the delivery is done: what is left is the unapplied change alone
    assert [(m["kind"], m["change"]["entity"], m["change"]["entity_id"]) for m in queued] == [
        ("qbo.change", "Item", widget["Id"])
    ]
    assert (queued[0]["failures"], queued[0]["deferrals"]) == (1, 0)
    assert [e["outcome"] for e in log_of(ctl, "Customer", first["Id"])] == ["applied"]
    assert [e["outcome"] for e in log_of(ctl, "Customer", last["Id"])] == ["applied"]
    upserts_applied = calls(ctl, ctl.hubspot).get("POST crm_batch_upsert", 0)

    queries_before = qbo_queries(ctl)
    assert poll_when_visible(ctl) == 1
    assert qbo_queries(ctl) == queries_before + 1  # the item alone: the customers are not read again
    assert calls(ctl, ctl.hubspot).get("POST crm_batch_upsert", 0) - upserts_applied <= 1  # no contact rewritten
    assert upserts_applied > upserts_before
    assert on_queue(ctl) == 0 and dead_lettered(ctl) == []
    assert product_exists(ctl, widget["Id"])
    logged = log_of(ctl, "Item", widget["Id"])
    assert [e["outcome"] for e in reversed(logged)] == ["failed", "applied"]
    assert "Attempt 1 of 5" in logged[-1]["reason"]
    for customer_id in (first["Id"], last["Id"]):  # applied once, never again (not even as a duplicate)
        assert [e["outcome"] for e in log_of(ctl, "Customer", customer_id)] == ["applied"]


# -- waits ---------------------------------------------------------------------------------------------
def test_a_change_answered_429_five_times_waits_as_new_messages_and_is_applied_without_a_failure(ctl):
    widget = item(ctl)
    send_delivery(ctl, ("Item", widget["Id"]))
    ctl.faults(ctl.hubspot, {"path": PRODUCTS, "method": "POST", "kind": "429", "count": 5})
    assert poller(ctl).poll_once() == 1  # 429: the delivery is split into its one change, waiting
    seen = []
    for _ in range(4):  # four more receives, each answered 429
        (message,) = take_and_put_back(ctl)
        seen.append((message["kind"], message["failures"], message["deferrals"]))
        assert poll_when_visible(ctl) == 1
    (message,) = take_and_put_back(ctl)
    seen.append((message["kind"], message["failures"], message["deferrals"]))
    assert poll_when_visible(ctl) == 1  # the 6th try is applied
    # every wait was a new message (its receive count started again) and counted as a deferral, none as a failure
    assert seen == [("qbo.change", 0, n) for n in range(5)]
    assert requests.get(ctl.hubspot + "/_emulator/faults", timeout=10).json()["injected"].get("429") == 5
    assert on_queue(ctl) == 0 and dead_lettered(ctl) == []
    assert product_exists(ctl, widget["Id"])
    logged = log_of(ctl, "Item", widget["Id"])
    assert [e["outcome"] for e in logged] == ["applied"]  # no `failed` entry for the waits


# -- dead letters --------------------------------------------------------------------------------------
def test_a_requeued_change_failing_five_times_in_all_is_dead_lettered_once_with_its_reason(ctl):
    buyer, widget = customer(ctl), item(ctl)
    send_delivery(ctl, ("Customer", buyer["Id"]), ("Item", widget["Id"]))
    ctl.faults(ctl.hubspot, {"path": PRODUCTS, "method": "POST", "kind": "500", "count": 1000})
    assert poller(ctl).poll_once() == 1  # attempt 1: the customer applied, the item split off
    for _ in range(4):  # attempts 2..5, on receives 1..4 of the re-queued change
        assert poll_when_visible(ctl) == 1
    assert on_queue(ctl) == 0  # SQS would have waited for a 5th receive: the worker dead-lettered it
    letters = dead_lettered(ctl)
    assert [(m["kind"], m["change"]["entity_id"]) for m in letters] == [("qbo.change", widget["Id"])]
    time.sleep(1.5)  # nothing else reaches the dead-letter queue later
    assert len(dead_lettered(ctl)) == 1 and on_queue(ctl) == 0
    failed = [e for e in log_of(ctl, "Item", widget["Id"]) if e["outcome"] == "failed"]
    assert sorted(e["attempt"] for e in failed) == [1, 2, 3, 4, 5]
    final = [e for e in failed if "Gave up after 5 attempts" in e["reason"]]
    assert len(final) == 1 and final[0]["attempt"] == 5 and "500" in final[0]["reason"]
    assert "dead-letter queue" in final[0]["reason"]
    assert [e["outcome"] for e in log_of(ctl, "Customer", buyer["Id"])] == ["applied"]
    assert not product_exists(ctl, widget["Id"])


# -- other messages that only waited ----------------------------------------------------------------------
def _five_waiting_receives(ctl: Flows, queue: str = "SyncQueue") -> None:
    for n in range(5):
        assert poll_when_visible(ctl, queue=queue) == 1, f"receive {n + 1}"
        assert dead_lettered(ctl) == []


def test_a_recheck_rate_limited_on_its_fifth_receive_is_queued_again_not_dead_lettered(ctl):
    from hubqbo import wiring
    from hubqbo.messages import QboRecheckMessage

    invoice, deal = ctl.linked_deal(amount="250.00")
    ctl.qbo_ui(REALM_UK, f"invoice/{invoice['Id']}/payment", {})  # paid: only the recheck can tell the deal
    recheck = QboRecheckMessage(
        portal_id=UK, realm_id=REALM_UK, entity_ids=(invoice["Id"],), day=datetime.now(UTC).date()
    )
    wiring.sync_queue().send([recheck])
    ctl.faults(ctl.hubspot, {"path": DEAL_UPDATE, "kind": "429", "count": 5})
    _five_waiting_receives(ctl)  # each a wait on the message's visibility; the 5th queues a copy
    (again,) = take_and_put_back(ctl)
    assert again["kind"] == "qbo.recheck" and again["entity_ids"] == [invoice["Id"]]
    assert poll_when_visible(ctl) == 1
    assert on_queue(ctl) == 0 and dead_lettered(ctl) == []
    assert ctl.status(UK, deal) == "paid_in_full"
    assert not [e for e in ctl.sync_log(UK) if e["outcome"] == "failed" and e["qbo_id"] == invoice["Id"]]


def test_a_backfill_part_rate_limited_on_its_fifth_receive_is_queued_again_and_the_run_ends_done(ctl, monkeypatch):
    from hubqbo.services import sync_backfill

    monkeypatch.setattr(sync_backfill, "CHUNK_SIZE", 1000)  # one part for the whole run
    customers = [customer(ctl) for _ in range(3)]
    tab = f"/settings/companies/{REALM_UK}/tabs/contacts/backfill"
    ctl.faults(ctl.hubspot, {"path": CONTACTS_UPSERT, "method": "POST", "kind": "429", "count": 5})
    assert ctl.api("POST", tab, {"action": "run"}, portal_id=UK).status_code == 202
    _five_waiting_receives(ctl, BACKFILL)  # backfill parts have their own queue
    (again,) = take_and_put_back(ctl, queue=BACKFILL)
    assert again["kind"] == "sync.backfill" and again["chunk"] == 0
    assert poll_when_visible(ctl, queue=BACKFILL) == 1
    assert on_queue(ctl, BACKFILL) == 0 and on_queue(ctl) == 0 and dead_lettered(ctl) == []
    run = ctl.api("GET", tab, portal_id=UK).json()["backfill"]
    assert (run["status"], run["failed"], run["parts_failed"]) == ("done", 0, 0), run
    contacts = ctl.hubspot_objects(UK, "contacts").values()
    linked = {c["properties"].get("hubqbo_qbo_customer_id") for c in contacts}
    assert {f"{REALM_UK}:{c['Id']}" for c in customers} <= linked
