"""The sync worker: one SQS batch of queued changes, applied with partial failures.

For each record of a batch (`SyncBatch.handle`, the Powertools `BatchProcessor`'s record handler):

1. Parse the envelope (`messages.QueueMessage`). A webhook delivery (`qbo.delivery`, queued whole by
   the intake) is read (from the table when it was too large for SQS), coalesced and fanned out here
   to every portal holding its realms (one GSI query per realm and batch); a change of a realm no
   portal holds is logged as skipped in the realm's log. Each portal's copy of each change is then
   run like a queued change; one that fails leaves the others applied, and only what did not apply is
   queued again (below).
   A `qbo.change` without a portal is fanned out the same way.
2. De-duplicate: Powertools idempotency in the table, keyed by the change's version (portal, realm,
   entity, id, operation, lastUpdated): a redelivered event id, the CDC record of a webhook's change
   and a replay of an applied message all run once. A failure deletes the record, so retries run.
3. Read the current objects from QBO, batched for the whole SQS batch (`BatchReads`: one
   `Id IN (...)` query per portal, realm and entity; the invoices a payment pays join the same read).
4. Apply through the dispatch table (`services.apply`) and write the sync log; record the QBO version
   applied (`store.versions`), which the catch-up compares before queueing a change again.

Failures become waits on the queue rather than work in the Lambda:
- `RateLimited` (429, or the shared rate budget spent): the message waits what the service asks (QBO
  60 s, HubSpot's 10-second window), and the batch's other records for the same company or portal wait
  the same way without calling the API, so they come back once instead of failing every few seconds. A
  wait is not a failed attempt: a change is queued again with SQS's DelaySeconds (a new message, so its
  receive count starts again) carrying the failures it had (`failures`) and how often it waited
  (`deferrals`, at most `MAX_DEFERRALS`, then it waits through its visibility like any retry). Otherwise
  SQS counts every receive, and a change that only waited its turn would reach the dead-letter queue.
  Any other message (a recheck, a backfill part) that only waited on its last receive is queued again
  as it is.
- any other error: exponential backoff with jitter through the visibility timeout (20 s, 40 s, ...),
  a `failed` sync-log entry for each attempt; the 5th failed attempt says the message goes to the DLQ
  (SQS moves it on its 5th receive; one that carries earlier failures is sent there by the worker).
  A backfill part's attempt is also recorded with its run, so the run's status shows it.
- a webhook delivery whose changes did not all apply is split: what failed or waited is queued again
  as one message per change, and the delivery is done. Each change then has its own attempts, and
  the applied ones are not read again; retrying the whole delivery instead spends its five receives
  on a different failure each time, and a delivery of a hundred changes under a 10 % fault rate
  reaches the dead-letter queue with most of them unapplied.
- `ReconnectNeeded`: the message is parked with the connection (`park_for_reconnect`) and deleted from
  the queue; reconnecting re-queues it.
"""

from __future__ import annotations

import math
import random
import traceback
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse  # noqa: F401 - documented return
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError
from pydantic import ValidationError

from hubqbo import clock as product_clock
from hubqbo.clients.errors import RateLimited, ReconnectNeeded
from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.clients.qbo import QboClient
from hubqbo.domain.changes import ChangeEvent, coalesce
from hubqbo.domain.connections import ConnectionStatus
from hubqbo.messages import QboChangeMessage, QboDeliveryMessage, QboRecheckMessage, QueueMessage, SyncBackfillMessage
from hubqbo.observability import MetricUnit, logger, metrics
from hubqbo.services import connections as connection_services
from hubqbo.services.apply import ApplyContext, Reads, apply_change, entities_to_read
from hubqbo.services.connections import ConnectionPorts
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.store.connections import Connection
from hubqbo.store.deliveries import DeliveryStore
from hubqbo.store.invoices import InvoiceStore
from hubqbo.store.payment_events import PaymentEvents
from hubqbo.store.sync_log import Outcome, SyncLog, SyncLogEntry
from hubqbo.store.versions import AppliedVersions, Version

MAX_RECEIVES = 5  # the queue's maxReceiveCount (template.yaml)
IDEMPOTENCY_SECONDS = 7 * 24 * 3600  # longer than the queue keeps a message (4 days)
BACKOFF_BASE_SECONDS = 20
BACKOFF_CAP_SECONDS = 900
MIN_REMAINING_MS = 8_000  # a record started with less time left could be cut off mid-write
MAX_VISIBILITY_SECONDS = 43_200
MAX_DELAY_SECONDS = 900  # SQS's DelaySeconds limit: a longer wait stays on the message's visibility
MAX_DEFERRALS = 20  # waits re-queued per change before they count as receives again
IN_PROGRESS_WAIT_SECONDS = 30  # the worker's timeout (template.yaml), when the invocation has no context


@dataclass
class PipelinePorts:
    connections: ConnectionPorts  # built with clients that raise RateLimited instead of sleeping
    invoice_store: InvoiceStore
    sync_log: SyncLog
    payments: PaymentEvents
    idempotency: Any  # a Powertools persistence layer (single-table mode)
    change_visibility: Callable[[str, int, str], None]  # (receipt handle, seconds, the ARN of its queue)
    # (messages, delay seconds) onto the sync queue, and one message into its dead-letter queue; raise if not sent
    requeue: Callable[[list[Any], int], None] | None = None
    dead_letter: Callable[[QboChangeMessage], None] | None = None
    signing_secret: str = ""
    payment_template_id: str = ""
    delay_scale: float = 1.0
    sync_engine_ports: Callable[[], Any] | None = None
    versions: AppliedVersions | None = None  # the QBO version of each change applied (for the catch-up)
    deliveries: DeliveryStore | None = None  # webhook deliveries too large for SQS (the queued pointer's target)
    clock: Callable[[], float] = product_clock.now
    jitter: Callable[[], float] = random.random
    # (portal, realm) → `en`/`pl`: the language of what hubqbo writes in that company's HubSpot
    writing_language: Callable[[int, str], str] = lambda portal_id, realm_id: "en"
    api_calls: dict[str, int] = field(default_factory=dict)


@dataclass
class Fanout:
    """A delivery's changes as the worker runs them: one message per portal and change, and the
    changes of realms no portal holds."""

    messages: list[QboChangeMessage] = field(default_factory=list)
    unplaced: list[QboChangeMessage] = field(default_factory=list)


class Deferred(Exception):
    """The record was not attempted now; it comes back after the visibility timeout set for it."""


class BatchReads:
    """QBO reads shared by the records of one SQS batch: one `Id IN (...)` query per group.

    `want` registers ids before they are needed; the first `get` of a group reads every wanted id of
    that group at once. Reading payments registers the invoices they pay, so those come in one query.
    """

    def __init__(self, client_for: Callable[[int, str], QboClient]) -> None:
        self._client_for = client_for
        self._wanted: dict[tuple[int, str, str], set[str]] = defaultdict(set)
        self._fetched: dict[tuple[int, str, str], set[str]] = defaultdict(set)
        self._objects: dict[tuple[int, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
        self.queries = 0

    def want(self, portal_id: int, realm_id: str, entity: str, ids: list[str]) -> None:
        self._wanted[(portal_id, realm_id, entity)].update(str(i) for i in ids)

    def get(self, portal_id: int, realm_id: str, entity: str, object_id: str) -> dict[str, Any] | None:
        group = (portal_id, realm_id, entity)
        if object_id not in self._fetched[group]:
            ids = sorted((self._wanted[group] | {object_id}) - self._fetched[group])
            found = self._client_for(portal_id, realm_id).read_many(entity, ids)
            self.queries += 1
            self._objects[group].update(found)
            self._fetched[group].update(ids)
            if entity == "Payment":
                from hubqbo.services.payments import linked_invoice_ids

                for raw in found.values():
                    self.want(portal_id, realm_id, "Invoice", linked_invoice_ids(raw))
        return self._objects[group].get(object_id)

    def scoped(self, portal_id: int, realm_id: str) -> Reads:
        reads = self

        class _Scoped(Reads):
            def get(self, entity: str, object_id: str) -> dict[str, Any] | None:
                return reads.get(portal_id, realm_id, entity, object_id)

            def want(self, entity: str, ids: list[str]) -> None:
                reads.want(portal_id, realm_id, entity, ids)

        return _Scoped()


def parse_message(body: str) -> QboChangeMessage | QboDeliveryMessage | QboRecheckMessage | SyncBackfillMessage:
    return QueueMessage.model_validate_json(body).root


def _parsed(body: str) -> QboChangeMessage | QboDeliveryMessage | QboRecheckMessage | SyncBackfillMessage | None:
    try:
        return parse_message(body)
    except (ValidationError, ValueError):
        return None


class SyncBatch:
    """One invocation of the worker. `handle` is the BatchProcessor's record handler."""

    def __init__(self, ports: PipelinePorts, event: dict[str, Any], context: Any) -> None:
        self.ports = ports
        self.context = context
        self.config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)
        # Powertools' in-progress record expires with the invocation holding it, at most the function's timeout
        # after it began: this invocation's remaining time at its start is that timeout.
        self.in_progress_wait = IN_PROGRESS_WAIT_SECONDS
        if context is not None:
            self.config.register_lambda_context(context)
            self.in_progress_wait = max(1, math.ceil(context.get_remaining_time_in_millis() / 1000))
        self._qbo_clients: dict[tuple[int, str], QboClient] = {}
        self._hubspot_clients: dict[int, HubSpotClient] = {}
        self._connections: dict[tuple[int, str], Connection | None] = {}
        self.reads = BatchReads(self._qbo)
        self.invoices = InvoicePorts(
            invoices=ports.invoice_store,
            connections=ports.connections.connections,
            qbo=self._qbo,
            hubspot=self._hubspot,
            clock=ports.clock,
            signing_secret=ports.signing_secret,
        )
        self._sync_ports: Any = None
        self.shared: dict[str, Any] = {}  # what the records of this batch share (invoices applied)
        self.throttled: dict[str, float] = {}  # "qbo:<portal>:<realm>" / "hubspot:<portal>" → seconds to wait
        self.outcomes: dict[str, int] = defaultdict(int)
        self._portals: dict[str, list[int]] = {}
        self._fanned_out: dict[str, Fanout] = {}  # SQS message id → its delivery's per-portal changes
        self._applied_here: set[str] = set()  # version keys applied by this batch's deliveries
        self._collected_waits: list[int] | None = None  # while a delivery runs: the waits its changes ask
        self._record_wait = 0  # the longest wait the current record asked for
        self._record_failed = False  # whether the current record failed (not only waited)
        self._plan(event.get("Records") or [])
        self._apply_once = self._idempotent()

    # -- clients, shared by every record of the batch ---------------------------------------------
    def _qbo(self, portal_id: int, realm_id: str) -> QboClient:
        key = (portal_id, realm_id)
        if key not in self._qbo_clients:
            self._qbo_clients[key] = connection_services.qbo_client(self.ports.connections, portal_id, realm_id)
        return self._qbo_clients[key]

    def _hubspot(self, portal_id: int) -> HubSpotClient:
        if portal_id not in self._hubspot_clients:
            self._hubspot_clients[portal_id] = connection_services.hubspot_client(self.ports.connections, portal_id)
        return self._hubspot_clients[portal_id]

    def api_calls(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for client in [*self._qbo_clients.values(), *self._hubspot_clients.values()]:
            totals[client.provider] += client.calls
        return dict(totals)

    def _sync_engine_ports(self) -> Any:
        """The sync engine's ports, built once per batch (its clients are then shared by the batch)."""
        if self._sync_ports is None:
            assert self.ports.sync_engine_ports is not None
            self._sync_ports = self.ports.sync_engine_ports()
        return self._sync_ports

    def _connection(self, portal_id: int, realm_id: str) -> Connection | None:
        key = (portal_id, realm_id)
        if key not in self._connections:
            self._connections[key] = self.ports.connections.connections.get_connection(portal_id, realm_id)
        return self._connections[key]

    # -- the batch's reads, planned before the first record runs ------------------------------------
    def _plan(self, records: list[dict[str, Any]]) -> None:
        readable = entities_to_read()
        for record in records:
            try:
                message = parse_message(record.get("body") or "")
            except (ValidationError, ValueError):
                continue
            if isinstance(message, QboRecheckMessage):
                self.reads.want(message.portal_id, message.realm_id, message.entity, list(message.entity_ids))
            elif isinstance(message, QboDeliveryMessage):
                try:
                    fanout = self._fan_out(message)
                except Exception as exc:  # the record's own handling retries and reports it
                    logger.info("Delivery not read while planning the batch", extra={"error": type(exc).__name__})
                    continue
                self._fanned_out[record.get("messageId") or ""] = fanout
                for change_message in fanout.messages:
                    if change_message.change.entity in readable:
                        change = change_message.change
                        assert change_message.portal_id is not None
                        self.reads.want(change_message.portal_id, change.realm_id, change.entity, [change.entity_id])
            elif (
                isinstance(message, QboChangeMessage)
                and message.portal_id is not None
                and message.change.entity in readable
            ):
                change = message.change
                self.reads.want(message.portal_id, change.realm_id, change.entity, [change.entity_id])

    # -- one record ----------------------------------------------------------------------------
    def handle(self, record: SQSRecord) -> None:
        receives = int(record.attributes.approximate_receive_count or "1")
        self._record_wait, self._record_failed = 0, False
        try:
            self._handle(record, receives)
        except (RateLimited, Deferred, IdempotencyAlreadyInProgressError) as exc:
            message = _parsed(record.body)
            if receives < MAX_RECEIVES or self._record_failed or not self._requeued_after_waiting(message):
                raise
            self._requeue_as_it_is(record, message, exc)

    def _requeued_after_waiting(self, message: object) -> bool:
        """Whether a message that only waited on its last receive is queued again rather than dead-lettered:
        a change counts its waits itself (`deferrals`, `_requeue`); other messages are queued as they are."""
        return self.ports.requeue is not None and message is not None and not isinstance(message, QboChangeMessage)

    def _requeue_as_it_is(self, record: SQSRecord, message: Any, exc: Exception) -> None:
        """The record only waited, on its last receive: send it again as a new message (delayed by the wait)
        and let this one be deleted, so waiting never sends it to the DLQ. What it applied is a duplicate."""
        assert self.ports.requeue is not None
        delay = min(self._record_wait, MAX_DELAY_SECONDS)
        self.ports.requeue([message], delay)
        self.outcomes["requeued"] += 1
        metrics.add_metric(name="RequeuedAfterWaiting", unit=MetricUnit.Count, value=1)
        logger.info(
            "Waited on its last receive; queued again",
            extra={"message_id": record.message_id, "delay": delay, "why": type(exc).__name__},
        )

    def _handle(self, record: SQSRecord, receives: int) -> None:
        try:
            message = parse_message(record.body)
        except (ValidationError, ValueError) as exc:
            self._record_failed = True
            self._failed(record, receives, None, "The queued message is not a sync message this worker reads", exc)
            raise
        if isinstance(message, QboDeliveryMessage):
            self._delivery(record, receives, message)
            return
        if message.portal_id is None:  # queued before intake fanned out: fan out here
            portals = self._portals_of(message.realm_id)
            if not portals:
                reason = f"No HubSpot account is connected to QuickBooks company {message.realm_id}"
                self.ports.sync_log.record(_entry(message, "skipped", reason))
                self.outcomes["skipped"] += 1
                return
            for portal_id in portals:
                self._one(record, receives, message.model_copy(update={"portal_id": portal_id}))
            return
        self._one(record, receives, message)  # type: ignore[arg-type]  # a backfill part runs the same path

    def _portals_of(self, realm_id: str) -> list[int]:
        if realm_id not in self._portals:
            connections = self.ports.connections.connections.portals_for_realm(realm_id)
            self._portals[realm_id] = sorted(
                {c.portal_id for c in connections if c.status != ConnectionStatus.DISCONNECTED}
            )
        return self._portals[realm_id]

    # -- a whole webhook delivery -------------------------------------------------------------------
    def _fan_out(self, message: QboDeliveryMessage) -> Fanout:
        changes: tuple[ChangeEvent, ...] = message.changes
        if message.stored_parts:
            if self.ports.deliveries is None:
                raise RuntimeError("A stored delivery was queued but this worker has no delivery store")
            changes = self.ports.deliveries.get(message.delivery_id, message.stored_parts)
        fanout = Fanout()
        for change in coalesce(list(changes)):
            portals = self._portals_of(change.realm_id)
            if not portals:
                fanout.unplaced.append(QboChangeMessage(change=change, source=message.source))
            fanout.messages.extend(message.for_portal(change, portal) for portal in portals)
        return fanout

    def _delivery(self, record: SQSRecord, receives: int, message: QboDeliveryMessage) -> None:
        """Run every portal's copy of every change; if any did not apply, split the delivery (`_split`), or
        when that cannot be done raise the first failure, with the visibility the longest wait asked for."""
        try:
            fanout = self._fanned_out.pop(record.message_id, None) or self._fan_out(message)
        except Exception as exc:
            self._record_failed = True
            waited = self._wait(record, self._backoff(receives))
            self._failed(record, receives, None, f"The webhook delivery could not be read: {_reason(exc)}", exc, waited)
            raise
        for unplaced in fanout.unplaced:
            reason = f"No HubSpot account is connected to QuickBooks company {unplaced.realm_id}"
            self.ports.sync_log.record(_entry(unplaced, "skipped", reason, now=self.ports.clock()))
            self.outcomes["skipped"] += 1
        first_failure: Exception | None = None
        unapplied: list[tuple[QboChangeMessage, bool]] = []  # (change, whether it failed rather than waited)
        self._collected_waits = []
        try:
            for change_message in fanout.messages:
                key = change_message.version_key()
                if key in self._applied_here:  # the same change in another delivery of this batch
                    self.outcomes["duplicate"] += 1
                    reason = "Duplicate: this change was applied already"
                    self.ports.sync_log.record(_entry(change_message, "skipped", reason, now=self.ports.clock()))
                    continue
                try:
                    self._one(record, receives, change_message)
                except Exception as exc:  # raised below, once the other changes ran
                    first_failure = first_failure or exc
                    waited = isinstance(exc, Deferred | RateLimited | IdempotencyAlreadyInProgressError)
                    unapplied.append((change_message, not waited))
                    continue
                self._applied_here.add(key)
        finally:
            waits, self._collected_waits = self._collected_waits, None
        if first_failure is not None:
            wait = max(waits) if waits else self._scaled(self._backoff(receives))
            if self._split(record, receives, unapplied, wait):
                return
            self._set_visibility(record, wait)
            raise first_failure

    def _split(
        self, record: SQSRecord, receives: int, unapplied: list[tuple[QboChangeMessage, bool]], wait: int
    ) -> bool:
        """Queue the delivery's unapplied changes again, one message each, after `wait` seconds; each
        carries the attempts it failed (this receive's, if it failed rather than waited)."""
        if self.ports.requeue is None or wait > MAX_DELAY_SECONDS:
            return False
        again = [m.model_copy(update={"failures": receives - 1 + failed}) for m, failed in unapplied]
        try:
            self.ports.requeue(again, wait)
        except Exception as exc:  # the delivery is retried whole instead
            logger.warning("Could not split the delivery", extra={"error": type(exc).__name__})
            return False
        self.outcomes["requeued"] += len(again)
        logger.info("Delivery split", extra={"message_id": record.message_id, "changes": len(again), "wait": wait})
        return True

    def _one(self, record: SQSRecord, receives: int, message: QboChangeMessage | QboRecheckMessage) -> None:
        portal_id, realm_id = message.portal_id, message.realm_id
        assert portal_id is not None
        for key in (f"qbo:{portal_id}:{realm_id}", f"hubspot:{portal_id}"):
            if key in self.throttled:
                if self._requeue(receives, message, self.throttled[key]):
                    return
                self._wait(record, self.throttled[key])
                raise Deferred(f"{key} is rate limited for this batch")
        if self.context is not None and self.context.get_remaining_time_in_millis() < MIN_REMAINING_MS:
            if self._requeue(receives, message, 1):
                return
            self._wait(record, 1)
            raise Deferred("too little time left in this invocation")
        attempt = receives + (message.failures if isinstance(message, QboChangeMessage) else 0)
        self._ran = False
        try:
            self._apply_once(key={"version": message.version_key()}, message=message)
        except ReconnectNeeded as exc:
            self._park(message, exc)
            return
        except RateLimited as exc:
            provider_key = f"qbo:{portal_id}:{realm_id}" if exc.provider == "qbo" else f"hubspot:{portal_id}"
            self.throttled[provider_key] = exc.retry_after
            metrics.add_metric(name="RateLimited", unit=MetricUnit.Count, value=1)
            if self._requeue(receives, message, exc.retry_after):
                return
            waited = self._wait(record, exc.retry_after)
            logger.info("Rate limited; the message waits", extra={"provider": exc.provider, "seconds": waited})
            if receives >= MAX_RECEIVES and not self._requeued_after_waiting(message):
                self._failed(record, attempt, message, f"{exc.provider} kept answering 429 (rate limited)", exc)
            raise
        except IdempotencyAlreadyInProgressError:
            # Another worker is applying the same change right now, or one died doing it: Powertools'
            # record expires with that invocation's time, in real seconds (so this wait is not scaled).
            if self._requeue(receives, message, self.in_progress_wait, scale=False):
                return
            self._wait(record, self.in_progress_wait, scale=False)
            raise
        except Exception as exc:
            self._record_failed = True
            if self._dead_letter(record, receives, attempt, message, exc):
                return
            waited = self._wait(record, self._backoff(attempt))
            self._failed(record, attempt, message, _reason(exc), exc, retry_in=waited)
            raise
        if not self._ran:  # Powertools answered from the record: this change was applied already
            self.outcomes["duplicate"] += 1
            reason = "Duplicate: this change was applied already"
            self.ports.sync_log.record(_entry(message, "skipped", reason, now=self.ports.clock()))

    def _idempotent(self) -> Callable[..., Any]:
        @idempotent_function(  # type: ignore[untyped-decorator]  # Powertools' decorator is untyped
            data_keyword_argument="key", config=self.config, persistence_store=self.ports.idempotency
        )
        def apply_once(key: dict[str, str], message: QboChangeMessage | QboRecheckMessage) -> dict[str, int]:
            entries = self._apply(message)
            return {"entries": len(entries)}

        return cast("Callable[..., Any]", apply_once)

    def _apply(self, message: QboChangeMessage | QboRecheckMessage) -> list[SyncLogEntry]:
        self._ran = True
        portal_id, realm_id = message.portal_id, message.realm_id
        assert portal_id is not None
        connection = self._connection(portal_id, realm_id)
        if connection is None or connection.status == ConnectionStatus.DISCONNECTED:
            reason = f"QuickBooks company {realm_id} is not connected to this HubSpot account"
            entries = [_entry(message, "skipped", reason, now=self.ports.clock())]
        else:
            if connection.status != ConnectionStatus.ACTIVE:
                raise ReconnectNeeded(f"qbo:{portal_id}:{realm_id}", connection.status_reason or connection.status)
            if self._stale(message):
                reason = f"Not applied: a newer version of this {_entity(message).lower()} was applied already"
                entries = [_entry(message, "skipped", reason, now=self.ports.clock())]
                for entry in entries:
                    self.ports.sync_log.record(entry)
                    self.outcomes["stale"] += 1
                return entries
            ctx = ApplyContext(
                portal_id=portal_id,
                realm_id=realm_id,
                connection=connection,
                message=message,
                reads=self.reads.scoped(portal_id, realm_id),
                invoices=self.invoices,
                payments=self.ports.payments,
                payment_template_id=self.ports.payment_template_id,
                sync_engine_ports=self._sync_engine_ports if self.ports.sync_engine_ports else None,
                clock=self.ports.clock,
                extra=self.shared,
                writing_language=lambda: self.ports.writing_language(portal_id, realm_id),
            )
            entries = apply_change(ctx)
            self._applied_version(message)
        for entry in entries:
            self.ports.sync_log.record(entry)
            self.outcomes[entry.outcome] += 1
        return entries

    def _stale(self, message: QboChangeMessage | QboRecheckMessage) -> bool:
        """Whether the object this batch read is older than one another worker applied since: concurrent
        workers each read QBO at the start of their batch, so a slow batch holding an old read (the invoice
        before its payment) must not write it over the newer one."""
        if self.ports.versions is None or not isinstance(message, QboChangeMessage):
            return False
        change, portal_id = message.change, message.portal_id
        if change.entity not in entities_to_read() or portal_id is None:
            return False
        raw = self.reads.get(portal_id, change.realm_id, change.entity, change.entity_id)
        if raw is None:
            return False
        mine = Version.of(raw)
        stored = self.ports.versions.applied(portal_id, change.realm_id, [(change.entity, change.entity_id)])
        newer = stored.get((change.entity, change.entity_id))
        return newer is not None and newer.covers(mine) and not mine.covers(newer)

    def _applied_version(self, message: QboChangeMessage | QboRecheckMessage) -> None:
        """The version of the object just applied (the one read from QBO), so the catch-up can tell a
        change it finds from one already applied."""
        if self.ports.versions is None or not isinstance(message, QboChangeMessage):
            return
        change, portal_id = message.change, message.portal_id
        if change.entity not in entities_to_read() or portal_id is None:
            return
        raw = self.reads.get(portal_id, change.realm_id, change.entity, change.entity_id)
        version = Version.of(raw, deleted_at=change.occurred_at)
        self.ports.versions.record(portal_id, change.realm_id, change.entity, change.entity_id, version)

    # -- waits, parking, failures ----------------------------------------------------------------
    def _backoff(self, receives: int) -> float:
        return float(min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (max(receives, 1) - 1)))

    def _scaled(self, seconds: float, scale: bool = True) -> int:
        """`seconds` scaled (the local stack's `delay_scale`), with up to 20% jitter, in whole seconds and never
        rounded down to 0: a message made visible at once is received again at once, by one of the
        concurrent workers, and spends a receive towards the DLQ without having waited."""
        scaled = seconds * (self.ports.delay_scale if scale else 1.0) * (1 + 0.2 * self.ports.jitter())
        return int(min(MAX_VISIBILITY_SECONDS, max(0, math.ceil(scaled))))

    def _requeue(
        self, receives: int, message: QboChangeMessage | QboRecheckMessage, seconds: float, scale: bool = True
    ) -> bool:
        """A change that must wait (not a failure) queued again as a new message, delayed `seconds`.

        The receives before this one all failed (a wait never stays on the message), so they are carried
        as `failures`. Not for a delivery's changes (the delivery splits), nor past `MAX_DEFERRALS`."""
        if (
            self._collected_waits is not None
            or self.ports.requeue is None
            or not isinstance(message, QboChangeMessage)
            or message.deferrals >= MAX_DEFERRALS
        ):
            return False
        delay = self._scaled(seconds, scale)
        if delay > MAX_DELAY_SECONDS:
            return False
        again = message.model_copy(
            update={"failures": message.failures + receives - 1, "deferrals": message.deferrals + 1}
        )
        try:
            self.ports.requeue([again], delay)
        except Exception as exc:  # the message waits on its visibility instead
            logger.warning("Could not queue the change again", extra={"error": type(exc).__name__})
            return False
        self.outcomes["requeued"] += 1
        return True

    def _dead_letter(
        self,
        record: SQSRecord,
        receives: int,
        attempt: int,
        message: QboChangeMessage | QboRecheckMessage,
        exc: Exception,
    ) -> bool:
        """The last of a re-queued change's attempts failed: SQS would not move it yet (its receive count
        started again), so the worker puts it in the dead-letter queue itself."""
        if (
            attempt < MAX_RECEIVES
            or receives >= MAX_RECEIVES
            or self._collected_waits is not None
            or self.ports.dead_letter is None
            or not isinstance(message, QboChangeMessage)
        ):
            return False
        try:
            self.ports.dead_letter(message)
        except Exception as send_error:  # it is retried instead, and SQS moves it in the end
            logger.warning("Could not dead-letter the change", extra={"error": type(send_error).__name__})
            return False
        self._failed(record, attempt, message, _reason(exc), exc)
        return True

    def _wait(self, record: SQSRecord, seconds: float, scale: bool = True) -> int:
        """Make the message reappear after `seconds` (scaled, with up to 20% jitter)."""
        visibility = self._scaled(seconds, scale)
        self._record_wait = max(self._record_wait, visibility)
        if self._collected_waits is not None:  # a delivery's change: the delivery sets the longest once
            self._collected_waits.append(visibility)
            return visibility
        self._set_visibility(record, visibility)
        return visibility

    def _set_visibility(self, record: SQSRecord, visibility: int) -> None:
        try:
            self.ports.change_visibility(record.receipt_handle, visibility, record.event_source_arn)
        except Exception as exc:  # the message still comes back after the queue's own timeout
            logger.warning("ChangeMessageVisibility failed", extra={"error": type(exc).__name__})

    def _park(self, message: QboChangeMessage | QboRecheckMessage, exc: ReconnectNeeded) -> None:
        assert message.portal_id is not None
        connection_services.park_for_reconnect(self.ports.connections, message.portal_id, message.realm_id, message)
        entry = _entry(
            message,
            "skipped",
            "Waiting for the QuickBooks company to be reconnected; the change is kept and applied then",
            now=self.ports.clock(),
        )
        self.ports.sync_log.record(entry)
        self.outcomes["parked"] += 1
        logger.info("Change parked until reconnect", extra={"portal_id": message.portal_id, "why": exc.reason[:200]})

    def _failed(
        self,
        record: SQSRecord,
        receives: int,
        message: QboChangeMessage | QboRecheckMessage | None,
        reason: str,
        exc: BaseException,
        retry_in: int | None = None,
    ) -> None:
        final = receives >= MAX_RECEIVES
        if final:
            reason = f"{reason}. Gave up after {receives} attempts: the message is in the dead-letter queue"
        elif retry_in is not None:
            reason = f"{reason}. Attempt {receives} of {MAX_RECEIVES}; retrying in {retry_in} s"
        if message is None:  # not a message this worker reads: the entry names the SQS message
            entry = SyncLogEntry(
                scope="queue",
                outcome="failed",
                reason=reason[:1000],
                entity="message",
                event_id=record.message_id,
                attempt=receives,
                at=datetime.fromtimestamp(self.ports.clock(), UTC),
            )
        else:
            entry = _entry(message, "failed", reason[:1000], now=self.ports.clock(), attempt=receives)
        try:
            self.ports.sync_log.record(entry)
        except Exception:
            logger.exception("Could not write the failure to the sync log")
        if isinstance(message, SyncBackfillMessage) and self.ports.sync_engine_ports is not None:
            from hubqbo.services.sync_backfill import part_failed  # loaded with the sync engine, when used

            try:
                part_failed(self._sync_engine_ports(), message, receives, reason, final=final)
            except Exception:
                logger.exception("Could not record the backfill part's failure with its run")
        self.outcomes["failed"] += 1
        logger.warning(
            "Sync message failed",
            extra={
                "message_id": record.message_id,
                "attempt": receives,
                "dead_letter": final,
                "error_type": type(exc).__name__,
                "where": traceback.format_exception(exc)[-1][:300] if not isinstance(exc, ValidationError) else "",
            },
        )
        if final:
            metrics.add_metric(name="DeadLettered", unit=MetricUnit.Count, value=1)


# -- helpers ------------------------------------------------------------------------------------------
def _entity(message: QboChangeMessage | QboRecheckMessage) -> str:
    return message.change.entity if isinstance(message, QboChangeMessage) else message.entity


def _object_id(message: QboChangeMessage | QboRecheckMessage) -> str:
    return message.change.entity_id if isinstance(message, QboChangeMessage) else ",".join(message.entity_ids)


def _source(message: QboChangeMessage | QboRecheckMessage) -> str:
    return message.source if isinstance(message, QboChangeMessage) else message.reason


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


def _entry(
    message: QboChangeMessage | QboRecheckMessage,
    outcome: Outcome,
    reason: str,
    *,
    now: float | None = None,
    attempt: int | None = None,
) -> SyncLogEntry:
    """The sync-log entry about one queued change: in its portal's log, or its realm's before fan-out.

    `now` is the batch clock's time; without it the entry is stamped with the wall clock."""
    at = {} if now is None else {"at": datetime.fromtimestamp(now, UTC)}
    return SyncLogEntry(
        scope=SyncLogEntry.portal_scope(message.portal_id)
        if message.portal_id is not None
        else f"realm:{message.realm_id}",
        outcome=outcome,
        reason=reason,
        entity=_entity(message),
        qbo_id=_object_id(message),
        realm_id=message.realm_id,
        event_id=message.dedup_id,
        source=_source(message),
        attempt=attempt,
        **at,
    )
