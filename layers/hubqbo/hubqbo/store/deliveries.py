"""Webhook deliveries too large for one SQS message, kept in the table until the worker reads them.

A delivery is queued whole (one SQS call per delivery). SQS takes at most 256 KiB per message, the
queue's default `MaximumMessageSize` (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html),
and the table is the only other store of the stack, so a larger delivery's changes are written here
in parts (an item holds at most 400 KB,
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html) with one
BatchWriteItem, and the queued message is the pointer.

Keys: `pk = DELIVERY#<delivery id>`, `sk = PART#<n>`; `expires_at` is longer than the queue keeps a
message, so a message retried up to its last receive still finds its changes. Intuit redelivers the
same bytes, which have the same id: the parts are simply written again.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from hubqbo import clock as product_clock
from hubqbo.domain.changes import ChangeEvent
from hubqbo.errors import QueueUnavailable

PART_CHARS = 90_000  # at most 4 bytes a character in UTF-8: under DynamoDB's 400 KB item
RETENTION_SECONDS = 5 * 24 * 3600  # the queue keeps a message 4 days
_CHANGES = TypeAdapter(tuple[ChangeEvent, ...])


class DeliveryMissing(Exception):
    """A queued pointer whose parts are not (all) in the table: retried, then dead-lettered."""


class DeliveryStore:
    def __init__(self, table: Any, clock: Any = product_clock.now, part_chars: int = PART_CHARS) -> None:
        self._table, self._clock, self._part_chars = table, clock, part_chars

    @staticmethod
    def _pk(delivery_id: str) -> str:
        return f"DELIVERY#{delivery_id}"

    def put(self, delivery_id: str, changes: tuple[ChangeEvent, ...]) -> int:
        """Store the changes in parts; return how many. QueueUnavailable if the table refuses
        (the webhook answers 500 and Intuit redelivers)."""
        text = _CHANGES.dump_json(changes).decode()
        size = self._part_chars
        parts = [text[i : i + size] for i in range(0, len(text), size)] or ["[]"]
        expires = int(self._clock()) + RETENTION_SECONDS
        try:
            with self._table.batch_writer() as batch:
                for n, part in enumerate(parts):
                    batch.put_item(
                        Item={"pk": self._pk(delivery_id), "sk": f"PART#{n:04d}", "body": part, "expires_at": expires}
                    )
        except Exception as exc:  # botocore's ClientError / BotoCoreError: not stored, not queued
            raise QueueUnavailable(f"The delivery could not be stored: {type(exc).__name__}") from exc
        return len(parts)

    def get(self, delivery_id: str, parts: int) -> tuple[ChangeEvent, ...]:
        from boto3.dynamodb.conditions import Key

        items: list[dict[str, Any]] = []
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(self._pk(delivery_id)),
            "ConsistentRead": True,
        }
        while True:
            page = self._table.query(**query)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        if len(items) != parts:
            raise DeliveryMissing(f"Delivery {delivery_id}: {len(items)} of {parts} stored parts found")
        text = "".join(str(item["body"]) for item in sorted(items, key=lambda i: i["sk"]))
        return _CHANGES.validate_json(text)
