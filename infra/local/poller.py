"""Feed SQS batches to a function as Lambda's event source mapping does.

Messages the function reports in `batchItemFailures` (or all of them, if it raises) stay on the
queue, reappear after the visibility timeout and, after maxReceiveCount receives, land in the DLQ.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

from infra.local.lambdas import LocalFunction
from infra.local.resources import REGION

log = logging.getLogger("hubqbo.local")


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),  # noqa: S324
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for m in messages
        ]
    }


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: LocalFunction,
        batch_size: int,
        reports_item_failures: bool,
    ) -> None:
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.function, self.batch_size, self.reports_item_failures = function, batch_size, reports_item_failures
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch, invoke the function, delete what succeeded; return the batch size."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        failed = self._invoke(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        self.batches += 1
        log.info("%s: batch of %d, %d failed", self.function.name, len(messages), len(failed))
        return len(messages)

    def _invoke(self, messages: list[dict[str, Any]]) -> set[str]:
        every_id = {m["MessageId"] for m in messages}
        try:
            result = self.function.invoke(sqs_event(messages, self.queue_arn))
        except Exception:
            log.exception("%s raised; the whole batch will be retried", self.function.name)
            return every_id
        if not self.reports_item_failures:
            return set()
        failures = (result or {}).get("batchItemFailures", [])
        return {f["itemIdentifier"] for f in failures}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="local-sqs-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:
                log.exception("poller error")
                self._stop.wait(1)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
