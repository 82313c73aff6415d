"""The worker's use case: apply one queued message through one dispatch table.

Entities without a handler yet are recorded in the sync log as skipped, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable

from hubqbo.messages import QboChangeMessage, QueueMessage
from hubqbo.store.sync_log import SyncLog, SyncLogEntry

ChangeHandler = Callable[[QboChangeMessage, SyncLog], SyncLogEntry]

# Entity name -> handler. Invoice, Payment, Customer and Item join as their features land.
CHANGE_HANDLERS: dict[str, ChangeHandler] = {}


def apply_message(message: QueueMessage, sync_log: SyncLog) -> SyncLogEntry:
    change = message.change
    handler = CHANGE_HANDLERS.get(change.entity)
    if handler is None:
        entry = SyncLogEntry(
            scope=f"realm:{change.realm_id}",
            outcome="skipped",
            reason=f"No handler for {change.entity} changes yet",
            entity=change.entity,
            qbo_id=change.entity_id,
            event_id=change.event_id,
        )
    else:
        entry = handler(message, sync_log)
    sync_log.record(entry)
    return entry
