"""CDC catch-up: find the changes webhooks did not bring, and queue them like webhook changes.

Every 15 minutes (by default), for each active connection: `cdc` since the connection's cursor for
Invoice, Payment, Customer and Item; queue one `qbo.change` message (source `cdc`) per object; move
the cursor only after everything is queued, to the server's time of the answer minus a minute of
overlap (the worker de-duplicates what is queued twice). CDC only looks 30 days back and answers at
most 1000 objects: a cursor older than that, or a full answer, falls back to a query-based resync by
`MetaData.LastUpdatedTime` (source `resync`), paged 1000 at a time.

Before queueing, each object's version (SyncToken, else MetaData.LastUpdatedTime) is compared with the
version the worker recorded when it applied that object (`store.versions`): what webhooks already
brought is not queued again, so a bulk import does not come back through the queue a second time.

The job holds a lease so that two runs do not overlap; the cursor moves with a conditional write, so
even two runs at once only queue some changes twice (harmless) and never move a cursor backwards.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel

from hubqbo import clock as product_clock
from hubqbo.clients.errors import ApiError, ReconnectNeeded
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_query as q
from hubqbo.domain.changes import ChangeEvent
from hubqbo.domain.connections import ConnectionStatus
from hubqbo.domain.dates import parse_instant
from hubqbo.errors import QueueUnavailable
from hubqbo.messages import ChangeSource, QboChangeMessage
from hubqbo.observability import logger
from hubqbo.services import connections as connection_services
from hubqbo.services.connections import ConnectionPorts
from hubqbo.store.connections import Connection
from hubqbo.store.cursors import Cursors, JobLeases
from hubqbo.store.queue import SyncQueue
from hubqbo.store.sync_log import SyncLog
from hubqbo.store.versions import AppliedVersions, Version

CDC_ENTITIES = ("Invoice", "Payment", "Customer", "Item")
CDC_MAX_AGE = timedelta(days=30) - timedelta(hours=1)  # a little inside Intuit's 30 days
CDC_MAX_OBJECTS = 1000
OVERLAP = timedelta(seconds=60)
LEASE_SECONDS = 300.0
MAX_RESYNC_PAGES = 50
Found = list[tuple[str, dict[str, Any], ChangeSource]]  # (entity, QBO object, source)


@dataclass
class SchedulerPorts:
    connections: ConnectionPorts
    cursors: Cursors
    leases: JobLeases
    queue: SyncQueue
    sync_log: SyncLog
    versions: AppliedVersions | None = None
    clock: Any = product_clock.now


class CatchUpResult(BaseModel):
    busy: bool = False  # another run holds the lease; this one did nothing
    connections: int = 0
    queued: int = 0
    already_applied: int = 0  # found by CDC or resync, but the worker applied that version already
    resynced: int = 0  # connections caught up by query instead of CDC
    reconnect_needed: int = 0
    failed: int = 0
    api_calls: int = 0


def active_connections(ports: ConnectionPorts) -> list[Connection]:
    """Every active QBO connection of every portal (from the token index, as the keep-alive job)."""
    found = []
    for key, _meta in ports.tokens.qbo_keys():
        assert key.realm_id is not None
        connection = ports.connections.get_connection(key.portal_id, key.realm_id)
        if connection is not None and connection.status == ConnectionStatus.ACTIVE:
            found.append(connection)
    return found


def catch_up(ports: SchedulerPorts, now: datetime | None = None) -> CatchUpResult:
    moment = now or datetime.fromtimestamp(ports.clock(), UTC)
    owner = uuid.uuid4().hex
    if not ports.leases.acquire("cdc-catch-up", owner, ports.clock(), LEASE_SECONDS):
        logger.info("CDC catch-up already running elsewhere")
        return CatchUpResult(busy=True)
    result = CatchUpResult()
    try:
        for connection in active_connections(ports.connections):
            result.connections += 1
            try:
                client = connection_services.qbo_client(ports.connections, connection.portal_id, connection.realm_id)
                try:
                    queued, resynced = catch_up_connection(ports, connection, client, moment, result)
                finally:
                    result.api_calls += client.calls
                result.queued += queued
                result.resynced += int(resynced)
            except ReconnectNeeded:
                result.reconnect_needed += 1
            except (ApiError, QueueUnavailable) as exc:
                result.failed += 1
                logger.warning(
                    "CDC catch-up failed for a connection; its cursor stays",
                    extra={"portal_id": connection.portal_id, "realm_id": connection.realm_id, "error": str(exc)[:300]},
                )
    finally:
        ports.leases.release("cdc-catch-up", owner)
    logger.info("CDC catch-up finished", extra=result.model_dump())
    return result


def catch_up_connection(
    ports: SchedulerPorts, connection: Connection, client: QboClient, now: datetime, result: CatchUpResult | None = None
) -> tuple[int, bool]:
    """Queue this connection's changes since its cursor (less those applied already), then move the
    cursor. (queued, resynced)."""
    portal_id, realm_id = connection.portal_id, connection.realm_id
    cursor = ports.cursors.get(portal_id, realm_id)
    # the first run looks back from the connection with the same overlap: QBO stamps whole seconds, so
    # a change in the second the company was connected is older than the sub-second connection time
    since = cursor.cdc_since or datetime.fromtimestamp(connection.connected_at, UTC) - OVERLAP
    resync = now - since > CDC_MAX_AGE
    server_time: datetime | None = None
    if not resync:
        answer = client.cdc(list(CDC_ENTITIES), since.astimezone(UTC).isoformat())
        server_time = parse_instant(answer.get("time"))
        objects = answer["entities"]
        if sum(len(v) for v in objects.values()) >= CDC_MAX_OBJECTS:
            resync = True  # CDC answered its maximum: some changes may be missing from it
        else:
            found: Found = [(entity, raw, "cdc") for entity, raws in objects.items() for raw in raws]
    if resync:
        found, server_time = _resync(client, since)
    fresh = _not_applied(ports, portal_id, realm_id, found)
    if result is not None:
        result.already_applied += len(found) - len(fresh)
    messages = [_message(portal_id, realm_id, entity, raw, source) for entity, raw, source in fresh]
    ports.queue.send(messages)  # raises QueueUnavailable: the cursor then stays where it was
    moved_to = max(since, (server_time or now) - OVERLAP)
    if not ports.cursors.move_cdc(portal_id, realm_id, moved_to, cursor.cdc_since, ports.clock()):
        logger.info("Cursor moved by a concurrent run", extra={"portal_id": portal_id, "realm_id": realm_id})
    ports.connections.connections.update_connection(portal_id, realm_id, last_sync_at=ports.clock())
    if messages:
        logger.info(
            "Changes queued by catch-up",
            extra={"portal_id": portal_id, "realm_id": realm_id, "count": len(messages), "resync": resync},
        )
    return len(messages), resync


def _not_applied(ports: SchedulerPorts, portal_id: int, realm_id: str, found: Found) -> Found:
    """The objects whose version the worker has not applied yet (all of them without a version store)."""
    if ports.versions is None or not found:
        return found
    applied = ports.versions.applied(portal_id, realm_id, [(e, str(raw["Id"])) for e, raw, _ in found])
    return [
        (entity, raw, source)
        for entity, raw, source in found
        if (done := applied.get((entity, str(raw["Id"])))) is None or not done.covers(Version.of(raw))
    ]


def _resync(client: QboClient, since: datetime) -> tuple[Found, datetime | None]:
    """Everything updated since `since`, by query (deleted objects cannot be found this way)."""
    messages: Found = []
    server_time: datetime | None = None
    for entity in CDC_ENTITIES:
        for page in range(MAX_RESYNC_PAGES):
            statement = q.select(
                entity,
                q.gte("MetaData.LastUpdatedTime", since.astimezone(UTC)),
                order_by="MetaData.LastUpdatedTime",
                start=1 + page * q.MAX_RESULTS,
                max_results=q.MAX_RESULTS,
            )
            answer = client.query_page(statement)
            if server_time is None:
                server_time = parse_instant(answer.get("time"))
            rows = answer["QueryResponse"].get(entity) or []
            messages += [(entity, raw, "resync") for raw in rows]
            if len(rows) < q.MAX_RESULTS:
                break
    return messages, server_time


def _message(portal_id: int, realm_id: str, entity: str, raw: dict[str, Any], source: ChangeSource) -> QboChangeMessage:
    updated = parse_instant((raw.get("MetaData") or {}).get("LastUpdatedTime")) or product_clock.now_utc()
    deleted = str(raw.get("status", "")).lower() == "deleted"
    object_id = str(raw["Id"])
    identity = f"{realm_id}|{entity}|{object_id}|{updated.isoformat()}"
    return QboChangeMessage(
        change=ChangeEvent(
            event_id=f"{source}-" + hashlib.sha256(identity.encode()).hexdigest()[:32],
            realm_id=realm_id,
            entity=entity,
            entity_id=object_id,
            operation="Delete" if deleted else "Update",
            occurred_at=updated,
        ),
        portal_id=portal_id,
        source=source,
    )
