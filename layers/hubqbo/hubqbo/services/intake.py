"""Webhook intake: verify, read and queue a QBO delivery whole, in one SQS call.

Runs inside Intuit's 3-second budget, so it calls neither QBO nor HubSpot, and it reads nothing
either: which portals hold a realm (the fan-out) and the realm's "no portal holds it" log are the
worker's (`services.pipeline`), which has the time.

- A body over `MAX_BODY_BYTES` is refused (413) before the signature is even computed; Intuit sends
  at most 100 events, about 1 MB.
- Missing or wrong `intuit-signature` → 401 before parsing; malformed JSON or an unknown shape → 400.
- One event out of bounds (`domain/changes.py`) among valid ones is a counted, logged skip
  (`skipped_invalid`): the valid events are queued, and Intuit has no reason to redeliver.
- An entity we do not sync is a counted skip (200); repeats inside the delivery are dropped. Both are
  pure and shrink the message; the worker coalesces again across everything in its batch.
- The delivery is one `qbo.delivery` message; one larger than SQS allows goes to the table
  (`store.deliveries`) and the message is its pointer. If it cannot be queued: QueueUnavailable (500),
  and Intuit redelivers the whole delivery (the worker de-duplicates each change by its version).
  A delivery lost anyway is found by the CDC catch-up.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel

from hubqbo.domain.changes import ChangeEvent, coalesce, read_delivery
from hubqbo.errors import PayloadTooLarge, Unauthorized
from hubqbo.messages import QboDeliveryMessage
from hubqbo.observability import logger
from hubqbo.security import verify_intuit_signature
from hubqbo.store.deliveries import DeliveryStore
from hubqbo.store.queue import MAX_MESSAGE_BYTES, SyncQueue

__all__ = ["IntakeResult", "accept_qbo_webhook", "coalesce"]

MAX_BODY_BYTES = 2 * 1024 * 1024
SYNCED_ENTITIES = frozenset({"Invoice", "Payment", "Customer", "Item"})


class IntakeResult(BaseModel):
    received: int
    queued: int
    skipped_entity: int = 0
    stored: bool = False  # the delivery was too large for SQS: its changes are in the table
    skipped_invalid: int = 0  # events out of bounds or malformed, next to valid ones

    def answer(self) -> dict[str, int | bool]:
        """The webhook's answer (`skipped_invalid` only when there were any)."""
        return self.model_dump(exclude=None if self.skipped_invalid else {"skipped_invalid"})


def accept_qbo_webhook(
    raw_body: bytes,
    signature: str | None,
    verifier_token: str,
    queue: SyncQueue,
    deliveries: DeliveryStore,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> IntakeResult:
    """Queue every change of a signed delivery as one message.

    Raises PayloadTooLarge, Unauthorized (before parsing) or BadInput; QueueUnavailable if queueing failed.
    """
    if len(raw_body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The webhook body is larger than {MAX_BODY_BYTES} bytes")
    if not verify_intuit_signature(raw_body, signature, verifier_token):
        raise Unauthorized("Missing or invalid intuit-signature")
    delivery = read_delivery(raw_body)
    events = delivery.events
    if delivery.refused:
        logger.warning("Webhook events skipped: out of bounds or malformed", extra={"count": delivery.refused})
    unique = coalesce(events)
    changes = tuple(e for e in unique if e.entity in SYNCED_ENTITIES)
    skipped: list[ChangeEvent] = [e for e in unique if e.entity not in SYNCED_ENTITIES]
    stored = False
    if changes:
        # Intuit redelivers the same bytes: the same id, so a stored delivery is overwritten, not doubled.
        delivery_id = hashlib.sha256(raw_body).hexdigest()[:32]
        message = QboDeliveryMessage(delivery_id=delivery_id, changes=changes)
        if len(message.model_dump_json().encode()) > max_message_bytes:
            parts = deliveries.put(delivery_id, changes)
            message = QboDeliveryMessage(delivery_id=delivery_id, stored_parts=parts)
            stored = True
        queue.send([message])
    if skipped:
        logger.info(
            "Webhook events skipped: entity not synced",
            extra={"count": len(skipped), "entities": sorted({e.entity for e in skipped})},
        )
    return IntakeResult(
        received=len(events),
        queued=len(changes),
        skipped_entity=len(skipped),
        stored=stored,
        skipped_invalid=delivery.refused,
    )
