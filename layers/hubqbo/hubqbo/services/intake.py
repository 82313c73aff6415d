"""Webhook intake: verify, read, coalesce and queue QBO change notifications.

Runs inside Intuit's 3-second budget, so it calls neither QBO nor HubSpot: the worker does that.
"""

from __future__ import annotations

from pydantic import BaseModel

from hubqbo.domain.changes import ChangeEvent, parse_webhook
from hubqbo.errors import Unauthorized
from hubqbo.messages import QboChangeMessage
from hubqbo.security import verify_intuit_signature
from hubqbo.store.queue import SyncQueue


class IntakeResult(BaseModel):
    received: int
    queued: int


def coalesce(events: list[ChangeEvent]) -> list[ChangeEvent]:
    """Drop repeats inside one delivery: same event id, or same object at the same instant."""
    seen: set[object] = set()
    unique = []
    for event in events:
        keys = (event.event_id, (*event.object_key, event.occurred_at))
        if any(key in seen for key in keys):
            continue
        seen.update(keys)
        unique.append(event)
    return unique


def accept_qbo_webhook(raw_body: bytes, signature: str | None, verifier_token: str, queue: SyncQueue) -> IntakeResult:
    """Queue every change of a signed delivery; raises before parsing when the signature is wrong."""
    if not verify_intuit_signature(raw_body, signature, verifier_token):
        raise Unauthorized("Missing or invalid intuit-signature")
    events = parse_webhook(raw_body)
    unique = coalesce(events)
    queue.send([QboChangeMessage(change=event) for event in unique])
    return IntakeResult(received=len(events), queued=len(unique))
