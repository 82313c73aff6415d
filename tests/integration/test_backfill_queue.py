"""Backfill parts travel on their own queue, whoever sends them: the backfill's start (the settings
function), the worker re-queueing a part that waited, and a replay of the dead-letter queue they share
with the sync queue. Changes stay on the sync queue."""

from __future__ import annotations

import json
from datetime import date

from hubqbo.messages import QboRecheckMessage, SyncBackfillMessage

PART = SyncBackfillMessage(
    portal_id=1, realm_id="9130000000000001", tab="contacts", run_id="r1", mode="run", chunk=0, start=1, size=500
)
RECHECK = QboRecheckMessage(portal_id=1, realm_id="9130000000000001", entity_ids=("42",), day=date(2026, 12, 3))


def kinds(deployed, queue: str) -> list[str]:
    return sorted(json.loads(m["Body"])["kind"] for m in deployed.receive_all(queue))


def test_the_sync_queue_adapter_puts_parts_on_the_backfill_queue_and_changes_on_the_sync_queue(deployed):
    from hubqbo import wiring

    assert wiring.sync_queue().send([PART, RECHECK, PART]) == 3
    assert kinds(deployed, "BackfillQueue") == ["sync.backfill", "sync.backfill"]
    assert kinds(deployed, "SyncQueue") == ["qbo.recheck"]


def test_a_replayed_dead_letter_goes_back_to_the_queue_its_kind_belongs_on(deployed):
    from hubqbo import wiring
    from hubqbo.services.pipeline_replay import replay_dead_letters

    sqs = deployed.client("sqs")
    for message in (PART, RECHECK):
        sqs.send_message(QueueUrl=deployed.physical("SyncDeadLetterQueue"), MessageBody=message.model_dump_json())
    assert replay_dead_letters(wiring.dead_letters()).replayed == 2
    assert kinds(deployed, "BackfillQueue") == ["sync.backfill"]
    assert kinds(deployed, "SyncQueue") == ["qbo.recheck"]


def test_the_worker_makes_a_part_wait_on_the_queue_it_came_from(deployed):
    from hubqbo import wiring

    sqs = deployed.client("sqs")
    wiring.sync_queue().send([PART])
    url = deployed.physical("BackfillQueue")
    [received] = sqs.receive_message(QueueUrl=url, VisibilityTimeout=600)["Messages"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    wiring.pipeline_ports().change_visibility(received["ReceiptHandle"], 0, arn)  # visible again at once
    assert [m["MessageId"] for m in sqs.receive_message(QueueUrl=url).get("Messages", [])] == [received["MessageId"]]
