"""The worker's SQS batch handling: partial failures report exactly the records that failed."""

import json

import pytest

from infra.local.poller import QueuePoller, sqs_event


@pytest.fixture(autouse=True)
def waits_are_instant(deployed, monkeypatch):
    """The worker's backoff (20 s, 40 s, ...) scaled to nothing, so each receive comes back at once."""
    from hubqbo.config import get_settings

    monkeypatch.setenv("RETRY_DELAY_SCALE", "0.001")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def change_message(event_id: str, entity: str = "Invoice") -> str:
    return json.dumps(
        {
            "kind": "qbo.change",
            "change": {
                "event_id": event_id,
                "realm_id": "9130000000000001",
                "entity": entity,
                "entity_id": "42",
                "operation": "Update",
                "occurred_at": "2026-11-29T10:00:00Z",
            },
        }
    )


def sqs_messages(*bodies):
    attributes = {
        "ApproximateReceiveCount": "1",
        "ApproximateFirstReceiveTimestamp": "1795965475189",
        "SenderId": "AIDAEXAMPLE",
        "SentTimestamp": "1795965475100",
    }
    return [
        {"MessageId": f"m-{n}", "ReceiptHandle": f"r-{n}", "Body": body, "Attributes": attributes}
        for n, body in enumerate(bodies)
    ]


def test_batch_with_one_bad_record_reports_exactly_that_record(deployed):
    event = sqs_event(sqs_messages(change_message("e-1"), "not json at all", change_message("e-3")), "arn:q")
    result = deployed.function("WorkerFunction").invoke(event)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    logged = sorted(
        (item["event_id"], item["outcome"]) for item in deployed.table_items() if item["pk"].startswith("SYNCLOG#")
    )
    assert logged == [("e-1", "skipped"), ("e-3", "skipped"), ("m-1", "failed")]  # the bad one by its SQS id


def test_record_of_unknown_kind_fails_alone(deployed):
    wrong_kind = json.dumps({"kind": "teleport", "change": {}})
    event = sqs_event(sqs_messages(change_message("e-1"), wrong_kind), "arn:q")
    assert deployed.function("WorkerFunction").invoke(event) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


def test_change_of_a_realm_no_portal_holds_is_recorded_as_skipped_with_its_reason(deployed):
    deployed.function("WorkerFunction").invoke(sqs_event(sqs_messages(change_message("e-7", "Customer")), "arn:q"))
    (entry,) = [item for item in deployed.table_items() if item["pk"].startswith("SYNCLOG#")]
    assert entry["pk"] == "SYNCLOG#realm:9130000000000001"
    assert entry["outcome"] == "skipped"
    assert entry["entity"] == "Customer"
    assert "No HubSpot account is connected" in entry["reason"]
    assert int(entry["expires_at"]) > 0


def test_poison_message_reaches_the_dead_letter_queue_after_five_receives(deployed):
    sqs = deployed.client("sqs")
    sqs.send_message(QueueUrl=deployed.physical("SyncQueue"), MessageBody="poison")
    sqs.send_message(QueueUrl=deployed.physical("SyncQueue"), MessageBody=change_message("e-ok"))
    poller = QueuePoller(
        sqs,
        deployed.physical("SyncQueue"),
        deployed.resolver.get_att("SyncQueue", "Arn"),
        deployed.function("WorkerFunction"),
        batch_size=10,
        reports_item_failures=True,
    )
    received = [poller.poll_once() for _ in range(7)]
    assert received[:5] == [2, 1, 1, 1, 1]  # the good message is deleted after the first batch
    assert received[5:] == [0, 0]  # the sixth receive moved the poison message to the DLQ
    (dead,) = deployed.receive_all("SyncDeadLetterQueue")
    assert dead["Body"] == "poison"


def delivery_message(delivery_id: str, *event_ids: str, stored_parts: int = 0) -> str:
    changes = [json.loads(change_message(event_id))["change"] for event_id in event_ids]
    return json.dumps(
        {"kind": "qbo.delivery", "delivery_id": delivery_id, "changes": changes, "stored_parts": stored_parts}
    )


def test_a_delivery_of_a_realm_no_portal_holds_is_fanned_out_in_the_worker_and_logged_once_per_change(deployed):
    event = sqs_event(sqs_messages(delivery_message("d-1", "e-1", "e-2", "e-1")), "arn:q")
    assert deployed.function("WorkerFunction").invoke(event) == {"batchItemFailures": []}
    logged = [item for item in deployed.table_items() if item["pk"].startswith("SYNCLOG#")]
    assert sorted(e["event_id"] for e in logged) == ["e-1"]  # e-2 is the same object at the same instant
    assert {e["pk"] for e in logged} == {"SYNCLOG#realm:9130000000000001"}
    assert all("No HubSpot account is connected" in e["reason"] for e in logged)


def test_a_pointer_to_a_delivery_missing_from_the_table_fails_alone_and_says_so(deployed):
    event = sqs_event(sqs_messages(change_message("e-1"), delivery_message("d-gone", stored_parts=2)), "arn:q")
    assert deployed.function("WorkerFunction").invoke(event) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    (failed,) = [i for i in deployed.table_items() if i["pk"].startswith("SYNCLOG#") and i["outcome"] == "failed"]
    assert failed["event_id"] == "m-1" and "could not be read" in failed["reason"]
