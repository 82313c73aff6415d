"""The pipeline's unhappy paths, with the test driving each step: webhooks are delivered on flush,
and the worker runs only when the test polls the queue. Faults and rate limits come from the emulators."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import requests

from hubqbo.clients import hubspot_paths
from infra.local.poller import sqs_event
from tests.integration.pipeline.conftest import (
    REALM_UK,
    UK,
    Pipeline,
    cloud_event,
    start_pipeline_stack,
    stop_pipeline_stack,
)


@pytest.fixture(scope="module")
def ctl(capture) -> Iterator[Pipeline]:
    flows = start_pipeline_stack(capture, run_poller=False, webhook_interval=None, retry_delay_scale="0.01")
    try:
        yield flows
    finally:
        stop_pipeline_stack(flows)


@pytest.fixture(autouse=True)
def clean(ctl) -> Iterator[None]:
    ctl.clear_faults()
    ctl.set_env(RETRY_DELAY_SCALE="0.01")
    yield
    ctl.clear_faults()
    drain(ctl)


def poller(ctl: Pipeline, queue: str = "SyncQueue"):
    return ctl.stack.poller(queue)


def depth(ctl: Pipeline, queue: str = "SyncQueue") -> dict[str, int]:
    return ctl.stack.queue_depths()[queue]


def waiting(ctl: Pipeline, queue: str = "SyncQueue") -> int:
    """Messages on the queue that wait: invisible after a receive, or queued again with a delay."""
    attributes = ctl.stack.client("sqs").get_queue_attributes(
        QueueUrl=ctl.stack.physical(queue),
        AttributeNames=["ApproximateNumberOfMessagesNotVisible", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def deliver(ctl: Pipeline) -> list[dict]:
    """QBO sends what is pending now (signed, to our gateway)."""
    return requests.post(ctl.qbo + "/_emulator/qbo/webhooks/flush", timeout=30).json()["attempts"]


def drain(ctl: Pipeline, timeout: float = 30.0) -> int:
    """Poll until the queue is empty (messages waiting on a visibility timeout or a delay included)."""
    received = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received += poller(ctl).poll_once()
        d = depth(ctl)
        if d["visible"] == 0 and waiting(ctl) == 0:
            return received
        time.sleep(0.2)
    raise AssertionError(f"queue did not drain: {depth(ctl)}")


def last_delivery_body(ctl: Pipeline) -> bytes:
    deliveries = requests.get(ctl.qbo + "/_emulator/qbo/webhooks", timeout=10).json()["deliveries"]
    return json.dumps(deliveries[-1]["body"]).encode()


def peek_changes(ctl: Pipeline) -> list[dict]:
    """The changes of every delivery waiting on the queue, left there (visibility 0)."""
    sqs, url = ctl.stack.client("sqs"), ctl.stack.physical("SyncQueue")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [c for m in messages for c in json.loads(m["Body"]).get("changes", [])]


def calls(ctl: Pipeline, base: str) -> dict[str, int]:
    return requests.get(base + "/_emulator/calls", timeout=10).json()["calls"]


# -- intake -------------------------------------------------------------------------------------------
def test_badly_signed_malformed_and_huge_webhooks_are_refused_and_queue_nothing(ctl):
    body = json.dumps([cloud_event(REALM_UK, "Invoice", "1")]).encode()
    assert ctl.webhook(body, signature=None).status_code == 401
    assert ctl.webhook(body, signature="Zm9yZ2Vk").status_code == 401
    assert ctl.webhook(b'[{"specversion": "1.0", "id": ', signature="auto").status_code == 400
    assert ctl.webhook(b'{"neither": "format"}').status_code == 400
    huge = ctl.webhook(b"[" + b" " * (3 * 1024 * 1024) + b"]")
    assert huge.status_code == 413
    assert depth(ctl) == {"visible": 0, "in_flight": 0}


def test_unknown_entity_and_unknown_realm_are_counted_skips_and_answered_200(ctl):
    body = json.dumps(
        [
            cloud_event(REALM_UK, "Vendor", "7"),
            cloud_event("9999999999", "Invoice", "8"),
            cloud_event(REALM_UK, "Invoice", "9"),
        ]
    ).encode()
    reply = ctl.webhook(body)
    assert reply.status_code == 200
    # the intake reads nothing: the unknown realm's change is queued and the worker finds no portal for it
    assert reply.json() == {"received": 3, "queued": 2, "skipped_entity": 1, "stored": False}
    assert depth(ctl)["visible"] == 1  # the whole delivery is one message
    from hubqbo import wiring

    drain(ctl)
    (logged,) = wiring.sync_log().recent("realm:9999999999")
    assert logged.outcome == "skipped" and "No HubSpot account" in logged.reason
    assert [e["qbo_id"] for e in ctl.entries_for(UK, "Invoice", "9")] == ["9"]  # the known realm's change ran


def test_one_event_fans_out_in_the_worker_to_every_portal_connected_to_the_realm(ctl):
    from hubqbo.services.intake import accept_qbo_webhook  # noqa: F401 - the route under test
    from tests.integration.pipeline.conftest import US

    assert ctl.install(US).status_code == 200
    assert ctl.connect(US, REALM_UK).status_code == 200
    try:
        reply = ctl.webhook(json.dumps([cloud_event(REALM_UK, "Invoice", "1")]).encode())
        assert reply.json()["queued"] == 1
        assert depth(ctl)["visible"] == 1
        drain(ctl)
        assert ctl.entries_for(US, "Invoice", "1") and ctl.entries_for(UK, "Invoice", "1")
    finally:
        assert ctl.disconnect(US, REALM_UK).status_code == 200


def test_a_delivery_larger_than_sqs_takes_is_stored_and_queued_as_a_pointer(ctl):
    from tests.integration.pipeline.conftest import US

    assert ctl.install(US).status_code == 200
    assert ctl.connect(US, REALM_UK).status_code == 200
    ctl.set_env(QUEUE_MESSAGE_MAX_BYTES="4096")  # 30 changes make more than that: the table holds them
    try:
        events = [cloud_event(REALM_UK, "Invoice", str(9000 + n)) for n in range(30)]
        reply = ctl.webhook(json.dumps(events).encode())
        assert reply.status_code == 200
        assert reply.json() == {"received": 30, "queued": 30, "skipped_entity": 0, "stored": True}
        (message,) = (
            ctl.stack.client("sqs")
            .receive_message(QueueUrl=ctl.stack.physical("SyncQueue"), MaxNumberOfMessages=10, VisibilityTimeout=0)
            .get("Messages", [])
        )
        pointer = json.loads(message["Body"])
        assert pointer["kind"] == "qbo.delivery" and pointer["changes"] == [] and pointer["stored_parts"] >= 1
        drain(ctl)
        for portal in (UK, US):  # every stored change reached every portal holding the realm
            assert {e["qbo_id"] for e in ctl.sync_log(portal, limit=500) if e["qbo_id"].startswith("90")} >= {
                str(9000 + n) for n in range(30)
            }
    finally:
        ctl.set_env(QUEUE_MESSAGE_MAX_BYTES="262144")
        assert ctl.disconnect(US, REALM_UK).status_code == 200


# -- duplicates, order, crashes ------------------------------------------------------------------------
def test_duplicate_deliveries_and_a_cdc_copy_of_the_same_change_post_one_note(ctl):
    invoice, deal = ctl.linked_deal(amount="400.00")
    ctl.pay(REALM_UK, invoice["Id"], "100.00")
    deliver(ctl)
    body = last_delivery_body(ctl)
    assert ctl.webhook(body).status_code == 200  # Intuit redelivers the same events
    ctl.stack.scheduler.fire("CdcCatchUp")  # and catch-up finds the same change again
    drain(ctl)
    assert ctl.status(UK, deal) == "partial_payment"
    assert len(ctl.deal_notes(UK, deal)) == 1
    duplicates = [e for e in ctl.sync_log(UK) if e["reason"].startswith("Duplicate")]
    assert duplicates


def test_reordered_events_end_in_the_current_state(ctl):
    invoice, deal = ctl.linked_deal(amount="400.00")
    first = ctl.pay(REALM_UK, invoice["Id"], "100.00")
    second = ctl.pay(REALM_UK, invoice["Id"])
    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)  # we send them ourselves
    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)
    now = datetime.now(UTC)
    late_first = [
        cloud_event(REALM_UK, "Payment", second["Id"], "created", (now + timedelta(seconds=2)).isoformat()),
        cloud_event(REALM_UK, "Invoice", invoice["Id"], "updated", (now + timedelta(seconds=2)).isoformat()),
        cloud_event(REALM_UK, "Payment", first["Id"], "created", now.isoformat()),
    ]
    for event in late_first:  # one delivery each, newest first
        assert ctl.webhook(json.dumps([event]).encode()).status_code == 200
    drain(ctl)
    assert ctl.status(UK, deal) == "paid_in_full"
    assert ctl.deal_properties(UK, deal)["hubqbo_invoice_balance"] == "0.00"
    assert len(ctl.deal_notes(UK, deal)) == 2


def test_worker_crash_mid_batch_applies_each_change_once(ctl):
    invoice, deal = ctl.linked_deal(amount="900.00")
    for amount in ("100.00", "200.00", "300.00"):
        ctl.pay(REALM_UK, invoice["Id"], amount)
    deliver(ctl)
    sqs, url = ctl.stack.client("sqs"), ctl.stack.physical("SyncQueue")
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])[
        "Messages"
    ]  # the delivery is one message
    delivery = json.loads(message["Body"])
    assert len(delivery["changes"]) >= 3
    worker = ctl.stack.functions["WorkerFunction"]
    # the worker applies the first changes of the delivery ... and then it died:
    first = {**delivery, "changes": delivery["changes"][: len(delivery["changes"]) // 2 + 1]}
    worker.invoke(sqs_event([{**message, "Body": json.dumps(first)}], poller(ctl).queue_arn))
    # nothing was deleted, the whole delivery comes back after the visibility timeout
    time.sleep(1.2)
    drain(ctl)
    notes = ctl.deal_notes(UK, deal)
    assert sorted(n.split(" received")[0] for n in notes) == [
        "<p>Payment of 100.00 GBP",
        "<p>Payment of 200.00 GBP",
        "<p>Payment of 300.00 GBP",
    ]
    assert ctl.status(UK, deal) == "partial_payment"


# -- rate limits and failures --------------------------------------------------------------------------
def test_hubspot_429_makes_the_message_wait_on_the_queue_without_retrying_in_the_lambda(ctl):
    invoice, deal = ctl.linked_deal(amount="250.00")
    ctl.pay(REALM_UK, invoice["Id"])
    deliver(ctl)
    ctl.set_env(RETRY_DELAY_SCALE="0.2")  # HubSpot's 10-second window → about 2 s here
    ctl.faults(ctl.hubspot, {"path": hubspot_paths.crm_objects("deals", "batch", "update"), "kind": "429", "count": 1})
    before = calls(ctl, ctl.hubspot).get("POST crm_batch_update", 0)
    assert poller(ctl).poll_once() >= 1
    assert calls(ctl, ctl.hubspot).get("POST crm_batch_update", 0) == before + 1  # one try, no sleep-and-retry
    time.sleep(1.2)  # longer than the queue's own 1-second visibility timeout
    assert poller(ctl).poll_once() == 0  # still waiting as HubSpot asked
    assert waiting(ctl) >= 1
    drain(ctl)
    assert ctl.status(UK, deal) == "paid_in_full"
    assert len(ctl.deal_notes(UK, deal)) == 1


def test_a_change_still_rate_limited_on_its_last_receive_is_queued_again_not_dead_lettered(ctl):
    invoice, deal = ctl.linked_deal(amount="250.00")
    ctl.pay(REALM_UK, invoice["Id"])
    deliver(ctl)
    ctl.faults(ctl.hubspot, {"path": hubspot_paths.crm_objects("deals", "batch", "update"), "kind": "429", "count": 5})
    for _ in range(5):  # five receives, each one answered 429: every one a wait (1 s here), none a failure
        deadline = time.monotonic() + 5
        while poller(ctl).poll_once() == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
    assert depth(ctl, "SyncDeadLetterQueue")["visible"] == 0
    time.sleep(1.5)  # the copy is delayed by the wait HubSpot asked for
    assert depth(ctl)["visible"] >= 1  # the waiting changes, queued again as new messages
    drain(ctl)
    assert ctl.status(UK, deal) == "paid_in_full"
    assert depth(ctl, "SyncDeadLetterQueue")["visible"] == 0
    assert [e for e in ctl.sync_log(UK) if e["outcome"] == "failed" and e["qbo_id"] == invoice["Id"]] == []


def test_qbo_429_storm_defers_the_whole_batch_for_that_company(ctl):
    invoice, deal = ctl.linked_deal(amount="250.00")
    ctl.pay(REALM_UK, invoice["Id"])
    deliver(ctl)
    ctl.set_env(RETRY_DELAY_SCALE="0.05")  # QBO's 60 seconds → about 3 s here
    ctl.faults(ctl.qbo, {"path": "/query", "kind": "429", "count": 1})
    before = sum(calls(ctl, ctl.qbo).values())
    assert len(peek_changes(ctl)) >= 2  # the payment and the invoice change, in one delivery
    received = poller(ctl).poll_once()
    assert received == 1
    assert sum(calls(ctl, ctl.qbo).values()) == before + 1  # the first 429 stopped the batch's other reads
    time.sleep(1.5)
    assert poller(ctl).poll_once() == 0
    drain(ctl)
    assert ctl.status(UK, deal) == "paid_in_full"


def test_5xx_is_retried_with_backoff_inside_one_attempt(ctl):
    invoice, deal = ctl.linked_deal(amount="250.00")
    ctl.pay(REALM_UK, invoice["Id"])
    deliver(ctl)
    ctl.faults(ctl.hubspot, {"path": hubspot_paths.crm_objects("deals", "batch", "update"), "kind": "503", "count": 2})
    before = calls(ctl, ctl.hubspot).get("POST crm_batch_update", 0)
    drain(ctl)
    assert ctl.status(UK, deal) == "paid_in_full"
    assert calls(ctl, ctl.hubspot).get("POST crm_batch_update", 0) >= before + 3  # two 503s, then success
    assert [e for e in ctl.sync_log(UK) if e["outcome"] == "failed" and e["qbo_id"] == invoice["Id"]] == []


def test_a_failure_waits_with_backoff_and_is_recorded_with_its_attempt(ctl):
    invoice, deal = ctl.linked_deal(amount="250.00")
    ctl.pay(REALM_UK, invoice["Id"])
    deliver(ctl)
    ctl.faults(ctl.hubspot, {"path": hubspot_paths.crm_objects("deals", "batch", "update"), "kind": "503", "count": 3})
    poller(ctl).poll_once()  # three 503s: the client gives up, the record fails
    failed = [e for e in ctl.sync_log(UK) if e["outcome"] == "failed"]
    assert failed and failed[0]["attempt"] == 1 and "Attempt 1 of 5; retrying in" in failed[0]["reason"]
    drain(ctl)
    assert ctl.status(UK, deal) == "paid_in_full"


def test_after_five_failures_the_message_is_dead_lettered_with_its_reason_and_replays_after_the_fix(ctl):
    from hubqbo import wiring
    from hubqbo.services.pipeline_replay import replay_dead_letters

    invoice, deal = ctl.linked_deal(amount="250.00")
    payment = ctl.pay(REALM_UK, invoice["Id"])
    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)
    ctl.webhook(json.dumps([cloud_event(REALM_UK, "Payment", payment["Id"], "created")]).encode())
    ctl.faults(ctl.hubspot, {"path": hubspot_paths.crm_objects("notes"), "kind": "500", "count": 1000})
    deadline = time.monotonic() + 30
    while depth(ctl, "SyncDeadLetterQueue")["visible"] == 0 and time.monotonic() < deadline:
        poller(ctl).poll_once()
        time.sleep(0.3)
    assert depth(ctl, "SyncDeadLetterQueue")["visible"] == 1
    failures = wiring.sync_log().recent_failures(f"portal:{UK}")
    attempts = sorted(e.attempt for e in failures if e.qbo_id == payment["Id"])
    assert attempts == [1, 2, 3, 4, 5]
    final = next(e for e in failures if e.qbo_id == payment["Id"] and e.attempt == 5)
    assert "dead-letter queue" in final.reason and "500" in final.reason
    assert ctl.deal_notes(UK, deal) == []

    ctl.clear_faults()  # the fix
    result = replay_dead_letters(wiring.dead_letters())
    assert result.replayed == 1
    drain(ctl)
    assert len(ctl.deal_notes(UK, deal)) == 1
    assert depth(ctl, "SyncDeadLetterQueue")["visible"] == 0


# -- reconnect, catch-up, overdue ----------------------------------------------------------------------
def test_changes_of_a_connection_that_needs_reconnecting_are_parked_and_applied_on_reconnect(ctl):
    from hubqbo import wiring
    from hubqbo.domain.connections import ConnectionStatus

    invoice, deal = ctl.linked_deal(amount="250.00")
    store = wiring.connection_ports().connections
    store.update_connection(UK, REALM_UK, status=ConnectionStatus.RECONNECT_NEEDED.value, status_reason="test")
    ctl.pay(REALM_UK, invoice["Id"])
    deliver(ctl)
    drain(ctl)
    assert ctl.status(UK, deal) == "waiting_to_be_sent"
    assert len(store.parked(UK, REALM_UK)) >= 1
    assert any(e["reason"].startswith("Waiting for the QuickBooks company to be reconnected") for e in ctl.sync_log(UK))

    assert ctl.connect(UK, REALM_UK).status_code == 200  # re-queues the parked messages
    drain(ctl)
    assert store.parked(UK, REALM_UK) == []
    assert ctl.status(UK, deal) == "paid_in_full"
    assert len(ctl.deal_notes(UK, deal)) == 1


def test_catch_up_finds_changes_whose_webhooks_were_lost_and_moves_its_cursor(ctl):
    from hubqbo import wiring

    drain(ctl)
    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
    try:
        invoice, deal = ctl.linked_deal(amount="250.00")
        before = wiring.scheduler_ports().cursors.get(UK, REALM_UK).cdc_since
        ctl.pay(REALM_UK, invoice["Id"], "50.00")
        assert deliver(ctl) == []  # QBO lost them
        result = ctl.stack.scheduler.fire("CdcCatchUp")
        assert result["status"] == "done" and result["detail"]["queued"] >= 2
        drain(ctl)
        assert ctl.status(UK, deal) == "partial_payment"
        assert len(ctl.deal_notes(UK, deal)) == 1
        after = wiring.scheduler_ports().cursors.get(UK, REALM_UK).cdc_since
        assert after is not None and (before is None or after >= before)  # forwards only (a minute of overlap)
    finally:
        requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)


def test_catch_up_after_a_bulk_import_applied_through_webhooks_queues_only_the_change_that_was_missed(ctl):
    drain(ctl)
    ctl.stack.scheduler.fire("CdcCatchUp")  # whatever earlier tests left is caught up first
    drain(ctl)
    imported = [
        ctl.qbo_ui(REALM_UK, "customer", {"DisplayName": f"Imported {n} {time.monotonic_ns()}"}) for n in range(25)
    ]
    deliver(ctl)
    drain(ctl)  # every change applied through its webhook
    first = ctl.stack.scheduler.fire("CdcCatchUp")["detail"]
    assert first["queued"] == 0 and first["already_applied"] >= len(imported), first
    assert depth(ctl)["visible"] == 0

    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
    try:
        missed = ctl.qbo_ui(REALM_UK, "customer", {"Id": imported[0]["Id"], "CompanyName": "Missed Ltd"})
        assert deliver(ctl) == []  # QBO lost the webhook
        second = ctl.stack.scheduler.fire("CdcCatchUp")["detail"]
        assert second["queued"] == 1, second  # the missed change, and nothing the webhooks applied
        drain(ctl)
        assert missed["Id"] in {e["qbo_id"] for e in ctl.sync_log(UK) if e["source"] == "cdc"}
    finally:
        requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)


def test_two_catch_ups_at_once_run_one_and_the_other_says_busy(ctl):
    results: list[dict] = []
    runs = [threading.Thread(target=lambda: results.append(ctl.stack.scheduler.fire("CdcCatchUp"))) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    statuses = sorted(r["status"] for r in results)
    assert statuses in (["busy", "done"], ["done", "done"])  # "done" twice only if they did not overlap


def test_catch_up_with_a_cursor_older_than_30_days_resyncs_by_query(ctl):
    from hubqbo import wiring

    drain(ctl)
    ports = wiring.scheduler_ports()
    seen = ports.cursors.get(UK, REALM_UK).cdc_since
    old = datetime.now(UTC) - timedelta(days=40)
    assert ports.cursors.move_cdc(UK, REALM_UK, old, seen, time.time()) or seen is None
    result = ctl.stack.scheduler.fire("CdcCatchUp")
    assert result["detail"]["resynced"] == 1
    assert ports.cursors.get(UK, REALM_UK).cdc_since > old
    drain(ctl)


def test_overdue_sweep_turns_past_due_invoices_overdue_once_per_local_day(ctl):
    from hubqbo import wiring
    from hubqbo.services.overdue import overdue_sweep

    soon = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    invoice, deal = ctl.linked_deal(amount="250.00", due=soon)
    assert ctl.status(UK, deal) == "waiting_to_be_sent"
    # time passes: the due date is behind us, and QBO sends no event for that
    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": False}, timeout=10)
    past = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    ctl.qbo_ui(REALM_UK, "invoice", {"Id": invoice["Id"], "DueDate": past})
    requests.post(ctl.qbo + "/_emulator/qbo/webhooks", json={"enabled": True}, timeout=10)
    ports = wiring.scheduler_ports()
    ports.cursors._table.update_item(  # a company never swept before
        Key={"pk": f"PORTAL#{UK}", "sk": f"CURSOR#{REALM_UK}"}, UpdateExpression="REMOVE swept_day"
    )
    first = overdue_sweep(ports)
    assert first.swept == 1 and first.invoices_queued >= 1
    again = overdue_sweep(ports)  # the same local day: nothing twice
    assert again.swept == 0 and again.already_swept == 1
    drain(ctl)
    assert ctl.status(UK, deal) == "overdue"
    assert any(e["source"] == "overdue-sweep" and e["hubspot_id"] == deal for e in ctl.sync_log(UK))
    tomorrow = overdue_sweep(ports, now=datetime.now(UTC) + timedelta(days=1))
    assert tomorrow.swept == 1  # the next local day, only invoices due since the last sweep
    assert date.fromisoformat(past) < datetime.now(UTC).date()
    drain(ctl)
