"""The sync queue: every message goes through SendMessageBatch, and none is silently dropped.

Backfill parts go on the backfill queue when the deployment has one (`BACKFILL_QUEUE_URL`), whoever sends
them (the backfill's start or resume, the worker re-queueing a part that waited, a dead-letter replay): the
worker reads that queue through an event source of its own with a lower concurrency, so one portal's bulk
work never holds every worker that other portals' changes need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from hubqbo.errors import QueueUnavailable
from hubqbo.messages import SyncBackfillMessage
from hubqbo.observability import logger

SQS_BATCH_LIMIT = 10
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds limit
# The queue's MaximumMessageSize (template.yaml leaves SQS's default, 256 KiB):
# https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html
MAX_MESSAGE_BYTES = 262_144


def is_backfill_part(message: BaseModel) -> bool:
    """A backfill part, bare or inside the `QueueMessage` union (as a replay reads it)."""
    return isinstance(getattr(message, "root", message), SyncBackfillMessage)


class SyncQueue:
    def __init__(self, sqs: Any, queue_url: str, attempts: int = 3, backfill_url: str | None = None) -> None:
        self._sqs, self._url, self._attempts = sqs, queue_url, attempts
        self._backfill_url = backfill_url

    def send(self, messages: Sequence[BaseModel], delay_seconds: int = 0) -> int:
        """Queue every message or raise QueueUnavailable; failed entries are retried first.

        `delay_seconds` (0-900, SQS's DelaySeconds) keeps the messages invisible that long."""
        if self._backfill_url is None:
            return self._send_to(self._url, messages, delay_seconds)
        parts = [m for m in messages if is_backfill_part(m)]
        changes = [m for m in messages if not is_backfill_part(m)]
        return self._send_to(self._url, changes, delay_seconds) + self._send_to(
            self._backfill_url, parts, delay_seconds
        )

    def _send_to(self, url: str, messages: Sequence[BaseModel], delay_seconds: int) -> int:
        for start in range(0, len(messages), SQS_BATCH_LIMIT):
            chunk = messages[start : start + SQS_BATCH_LIMIT]
            pending = {str(i): m.model_dump_json() for i, m in enumerate(chunk)}
            for _attempt in range(self._attempts):
                pending = self._send_entries(url, pending, delay_seconds)
                if not pending:
                    break
            if pending:
                raise QueueUnavailable(f"{len(pending)} message(s) could not be queued")
        return len(messages)

    def _send_entries(self, url: str, entries: dict[str, str], delay_seconds: int = 0) -> dict[str, str]:
        """Send one batch; return the entries that failed and may be retried."""
        delay = {"DelaySeconds": delay_seconds} if delay_seconds else {}
        try:
            response = self._sqs.send_message_batch(
                QueueUrl=url,
                Entries=[{"Id": entry_id, "MessageBody": body, **delay} for entry_id, body in entries.items()],
            )
        except (ClientError, BotoCoreError) as exc:
            logger.warning("SendMessageBatch failed", extra={"error": str(exc), "entries": len(entries)})
            return entries
        failed = response.get("Failed", [])
        if failed:
            logger.warning("SendMessageBatch partially failed", extra={"failed": [f.get("Code") for f in failed]})
        return {f["Id"]: entries[f["Id"]] for f in failed}
