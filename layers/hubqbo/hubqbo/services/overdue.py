"""The overdue sweep: invoices whose due date passed with a balance now show "Overdue".

QBO sends no event when a day passes, so once a day per company the sweep finds the invoices that
became past due since its last sweep and queues them for the worker (`qbo.recheck`), which re-reads
and applies the linked ones exactly like a change.

When: the schedule runs hourly; a company is swept by the first run after midnight in the zone that
judges its due dates (the HubSpot account's time zone, the same one the invoice status uses). A
claim on the company's cursor item (`swept_day`, with a lease) makes it once per local day, also
when two runs overlap; a failed sweep gives the claim back and the next hour tries again.

What: `Balance > 0 AND DueDate < today`, and `DueDate >= <last swept day>` after the first sweep, so
a missed day is caught up and nothing is swept twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hubqbo.clients.qbo import QboClient

import uuid
from datetime import UTC, date, datetime

from pydantic import BaseModel

from hubqbo.clients.errors import ApiError, ReconnectNeeded
from hubqbo.domain import qbo_query as q
from hubqbo.domain.dates import local_today, zone_or_utc
from hubqbo.errors import QueueUnavailable
from hubqbo.messages import QboRecheckMessage
from hubqbo.observability import logger
from hubqbo.services import connections as connection_services
from hubqbo.services.catch_up import SchedulerPorts, active_connections

IDS_PER_MESSAGE = 30
SWEEP_LEASE_SECONDS = 600.0
MAX_PAGES = 20


class SweepResult(BaseModel):
    connections: int = 0
    swept: int = 0
    already_swept: int = 0
    invoices_queued: int = 0
    reconnect_needed: int = 0
    failed: int = 0
    api_calls: int = 0


def overdue_sweep(ports: SchedulerPorts, now: datetime | None = None) -> SweepResult:
    moment = now or datetime.fromtimestamp(ports.clock(), UTC)
    result = SweepResult()
    for connection in active_connections(ports.connections):
        result.connections += 1
        portal_id, realm_id = connection.portal_id, connection.realm_id
        portal = ports.connections.connections.get_portal(portal_id)
        today = local_today(moment, zone_or_utc(portal.time_zone if portal else None))
        previous = ports.cursors.get(portal_id, realm_id).swept_day
        owner = uuid.uuid4().hex
        if not ports.cursors.claim_sweep(portal_id, realm_id, today, owner, ports.clock(), SWEEP_LEASE_SECONDS):
            result.already_swept += 1
            continue
        client = None
        try:
            client = connection_services.qbo_client(ports.connections, portal_id, realm_id)
            ids = _past_due_ids(client, today, previous)
            messages = [
                QboRecheckMessage(
                    portal_id=portal_id, realm_id=realm_id, entity_ids=tuple(ids[n : n + IDS_PER_MESSAGE]), day=today
                )
                for n in range(0, len(ids), IDS_PER_MESSAGE)
            ]
            ports.queue.send(messages)
            ports.cursors.finish_sweep(portal_id, realm_id, today, owner)
            result.swept += 1
            result.invoices_queued += len(ids)
        except ReconnectNeeded:
            ports.cursors.release_sweep(portal_id, realm_id, owner)
            result.reconnect_needed += 1
        except (ApiError, QueueUnavailable) as exc:
            ports.cursors.release_sweep(portal_id, realm_id, owner)
            result.failed += 1
            logger.warning(
                "Overdue sweep failed for a connection", extra={"realm_id": realm_id, "error": str(exc)[:300]}
            )
        finally:
            if client is not None:
                result.api_calls += client.calls
    logger.info("Overdue sweep finished", extra=result.model_dump())
    return result


def _past_due_ids(client: QboClient, today: date, since: date | None) -> list[str]:
    conditions = [q.gt("Balance", 0), q.lt("DueDate", today)]
    if since is not None:
        conditions.append(q.gte("DueDate", since))
    ids: list[str] = []
    for page in range(MAX_PAGES):
        statement = q.select("Invoice", *conditions, start=1 + page * q.MAX_RESULTS, max_results=q.MAX_RESULTS)
        rows = client.query_page(statement)["QueryResponse"].get("Invoice") or []
        ids += [str(r["Id"]) for r in rows]
        if len(rows) < q.MAX_RESULTS:
            break
    return ids
