"""Replay the dead-letter queue: after a fix, put its messages back on the sync queue.

`replay_dead_letters` receives from the DLQ, sends each message it can read to the sync queue
(SendMessageBatch, retried; nothing is deleted before it is queued) and deletes it from the DLQ.
`portal_id` limits the replay to one portal's messages (the settings route); the others are made
visible again at once. A message the worker cannot read is left in the DLQ and counted.
The worker's idempotency records of failed attempts were deleted when they failed, so a replayed
change runs again; one that had been applied meanwhile (by CDC, say) is a duplicate and skipped.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from hubqbo.messages import QboChangeMessage, QueueMessage
from hubqbo.observability import logger
from hubqbo.store.queue import SyncQueue

RECEIVE_WAIT_SECONDS = 0
HIDE_WHILE_REPLAYING = 60


class ReplayResult(BaseModel):
    replayed: int = 0
    left_for_other_portals: int = 0
    unreadable: int = 0
    dry_run: bool = False


class DeadLetters:
    """The DLQ and the queue its messages go back to."""

    def __init__(self, sqs: Any, dlq_url: str, queue: SyncQueue) -> None:
        self.sqs, self.dlq_url, self.queue = sqs, dlq_url, queue

    def depth(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.dlq_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def replay_dead_letters(
    dead: DeadLetters, *, portal_id: int | None = None, limit: int = 1000, dry_run: bool = False
) -> ReplayResult:
    """Re-queue up to `limit` DLQ messages (of one portal, if given); see the module docstring."""
    result = ReplayResult(dry_run=dry_run)
    seen: set[str] = set()
    skipped: list[str] = []  # receipt handles to make visible again
    while result.replayed < limit:
        batch = dead.sqs.receive_message(
            QueueUrl=dead.dlq_url,
            MaxNumberOfMessages=min(10, limit - result.replayed),
            WaitTimeSeconds=RECEIVE_WAIT_SECONDS,
            VisibilityTimeout=HIDE_WHILE_REPLAYING,
        ).get("Messages", [])
        fresh = [m for m in batch if m["MessageId"] not in seen]
        if not fresh:
            break
        replay: list[tuple[dict[str, Any], QueueMessage]] = []
        for message in fresh:
            seen.add(message["MessageId"])
            try:
                parsed = QueueMessage.model_validate_json(message["Body"])
            except (ValidationError, ValueError):
                result.unreadable += 1
                skipped.append(message["ReceiptHandle"])
                continue
            if portal_id is not None and parsed.root.portal_id not in (portal_id, None):
                result.left_for_other_portals += 1
                skipped.append(message["ReceiptHandle"])
                continue
            replay.append((message, parsed))
        if dry_run:
            result.replayed += len(replay)
            skipped += [m["ReceiptHandle"] for m, _ in replay]
            continue
        if replay:
            dead.queue.send([_fresh(parsed) for _, parsed in replay])  # raises QueueUnavailable: nothing deleted
            dead.sqs.delete_message_batch(
                QueueUrl=dead.dlq_url,
                Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, (m, _) in enumerate(replay)],
            )
            result.replayed += len(replay)
    for handle in skipped:  # the messages we did not take are visible again for the next replay
        dead.sqs.change_message_visibility(QueueUrl=dead.dlq_url, ReceiptHandle=handle, VisibilityTimeout=0)
    logger.info("Dead letters replayed", extra=result.model_dump())
    return result


def _fresh(parsed: QueueMessage) -> BaseModel:
    """A replayed change starts its attempts again (the fix it waited for is in)."""
    message = parsed.root
    if isinstance(message, QboChangeMessage) and (message.failures or message.deferrals):
        return message.model_copy(update={"failures": 0, "deferrals": 0})
    return parsed
