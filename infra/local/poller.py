"""Feed SQS batches to a function as Lambda's event source mapping does.

Messages the function reports in `batchItemFailures` (or all of them, if it raises) stay on the
queue, reappear after the visibility timeout and, after maxReceiveCount receives, land in the DLQ.
Like the mapping's `ScalingConfig.MaximumConcurrency`, up to `concurrency` batches run at once, each
in its own thread with its own execution environment (one `LocalFunction` each; a second event source of
the same function, such as the worker's backfill queue, numbers its environments from `first_environment`
so that the two never share one, as Lambda runs one invocation per environment at a time). A thread
receives a batch only when its environment is free, as Lambda's poller does: a batch received but waiting
for a busy environment would sit out its visibility timeout, be received again, and spend receives
(towards the DLQ's maxReceiveCount) on attempts that never ran.

`kill(batches, after_seconds)` stands for an execution environment that dies mid-batch (a crash, an
out-of-memory kill, the function's timeout): the next batches that are still running `after_seconds`
into their invocation are stopped where they are, by an exception no handler of ours catches
(`WorkerKilled`, a BaseException, raised in the batch's thread), so nothing after that point runs:
no partial-failure report, no delete. Their messages come back after the queue's visibility timeout.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import threading
from typing import Any

from infra.local.lambdas import LocalFunction
from infra.local.resources import REGION

log = logging.getLogger("hubqbo.local")


class WorkerKilled(BaseException):
    """The execution environment died in the middle of an invocation."""


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


KILLED: set[str] = set()  # `_invoke`'s answer for a killed invocation (compared by identity)


class QueuePoller:
    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        function: LocalFunction,
        batch_size: int,
        reports_item_failures: bool,
        concurrency: int = 1,
        first_environment: int = 0,
        hold_seconds: int | None = None,
        queue: str = "",
    ) -> None:
        self.sqs, self.queue_url, self.queue_arn = sqs, queue_url, queue_arn
        self.queue = queue  # the queue's logical id in the template
        self.function, self.batch_size, self.reports_item_failures = function, batch_size, reports_item_failures
        self.concurrency = max(1, concurrency)
        self.hold_seconds = hold_seconds  # a receive's visibility timeout, when the queue's is shorter
        self.environments = [function] if first_environment == 0 else []
        while len(self.environments) < self.concurrency:  # an environment per concurrent batch
            number = first_environment + len(self.environments)
            self.environments.append(LocalFunction(function.spec, environment=number))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._count = threading.Lock()
        self.batches = 0
        self.received = 0  # messages received (each receive of a message counts)
        self.redelivered = 0  # receives of a message that had been received before: the retries
        self.running = 0  # batches being handled right now
        self.most_running = 0  # the highest concurrency reached (benchmarks print it)
        self.kills_armed = 0
        self.kill_after_seconds = 0.0
        self.killed = 0  # invocations stopped mid-batch by `kill`
        self._killing = threading.Lock()
        self._targets: set[int] = set()  # threads whose invocation may still be killed

    def kill(self, batches: int = 1, after_seconds: float = 0.05) -> None:
        """Stop the next `batches` invocations that are still running `after_seconds` after they start."""
        with self._killing:
            self.kills_armed += batches
            self.kill_after_seconds = after_seconds

    def poll_once(self, wait_seconds: int = 0, environment: int = 0) -> int:
        """Receive one batch, invoke the function (in execution environment `environment`), delete what
        succeeded; return the batch size."""
        hold = {"VisibilityTimeout": self.hold_seconds} if self.hold_seconds else {}
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
            **hold,
        ).get("Messages", [])
        if not messages:
            return 0
        with self._count:
            self.received += len(messages)
            self.redelivered += sum(
                int(m.get("Attributes", {}).get("ApproximateReceiveCount", "1")) > 1 for m in messages
            )
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            failed = self._invoke(messages, self.environments[environment])
        finally:
            with self._count:
                self.running -= 1
        if failed is KILLED:
            return len(messages)  # a dead environment deletes nothing
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        with self._count:
            self.batches += 1
        log.info("%s: batch of %d, %d failed", self.function.name, len(messages), len(failed))
        return len(messages)

    def _invoke(self, messages: list[dict[str, Any]], function: LocalFunction) -> set[str]:
        every_id = {m["MessageId"] for m in messages}
        thread = threading.get_ident()
        timer = None
        with self._killing:
            if self.kills_armed > 0:
                self._targets.add(thread)
                timer = threading.Timer(self.kill_after_seconds, self._kill_thread, args=(thread,))
                timer.daemon = True
                timer.start()
        try:
            try:
                result = function.invoke(sqs_event(messages, self.queue_arn))
            finally:
                if timer is not None:
                    timer.cancel()
                    with self._killing:
                        self._targets.discard(thread)
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), None)  # clear a late kill
        except WorkerKilled:
            log.warning("%s killed mid-batch; %d messages come back", self.function.name, len(messages))
            return KILLED
        except Exception:
            log.exception("%s raised; the whole batch will be retried", self.function.name)
            return every_id
        if not self.reports_item_failures:
            return set()
        failures = (result or {}).get("batchItemFailures", [])
        return {f["itemIdentifier"] for f in failures}

    def _kill_thread(self, thread: int) -> None:
        with self._killing:
            if thread not in self._targets or self.kills_armed <= 0:
                return
            self._targets.discard(thread)
            self.kills_armed -= 1
            self.killed += 1
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(WorkerKilled))

    def start(self) -> None:
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"local-sqs-poller-{n}", daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, environment: int) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once(wait_seconds=1, environment=environment)
            except Exception:
                log.exception("poller error")
                self._stop.wait(1)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
