""" "Sync existing records" per tab: a preview (counts only) or a run, through SQS in chunks of
`CHUNK_SIZE` QBO rows, each chunk applied by the sync engine like a batch of changes and counted once.

A part that hits a 429, 5xx or timeout (either API) raises, so it is retried through the queue like
any change (backoff, then the dead-letter queue after its attempts); the worker records each failed
attempt (`part_failed`), the status shows the parts retrying and the parts failed, and the run stays
running (never `done`) until every part is counted: a failed part succeeds on a retry, on a replay of
the dead-letter queue, or when the run is resumed."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from hubqbo.domain import qbo_query as q
from hubqbo.domain.mappings import RecordContext, Tab
from hubqbo.domain.text import N_, Text
from hubqbo.errors import BadInput, Conflict, NotFound
from hubqbo.messages import SyncBackfillMessage
from hubqbo.observability import logger
from hubqbo.services.sync_engine import Batch, SyncPorts, open_batch, sync_records
from hubqbo.store.dynamo import AlreadyRunning
from hubqbo.store.settings import BackfillRun, PartFault
from hubqbo.store.sync_log import SyncLogEntry

CHUNK_SIZE = 500  # QBO rows per backfill message (a query page; QBO allows 1000)


def _select_page(tab: Tab, start: int, size: int) -> str:
    extra = ("Sku",) if tab == Tab.PRODUCTS else ()
    return q.select(tab.entity, extra_fields=extra, order_by="Id", start=start, max_results=size)


_TURN_ON = {
    Tab.CONTACTS: N_("Turn on the Contacts sync before syncing existing records."),
    Tab.PRODUCTS: N_("Turn on the Products sync before syncing existing records."),
    Tab.INVOICES: N_("Turn on the Invoices sync before syncing existing records."),
}


def start_backfill(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, mode: str) -> BackfillRun:
    """Counts the tab's QBO records and queues one message per chunk; the run as stored."""
    if mode not in ("preview", "run"):
        raise BadInput("mode must be preview or run")
    settings = ports.settings.tab(portal_id, realm_id, tab)
    if mode == "run" and not settings.enabled:
        raise Conflict(Text.of(_TURN_ON[tab]))
    if ports.queue is None:
        raise Conflict("No queue to run the backfill on")
    client = ports.qbo_client(portal_id, realm_id)  # NotFound for another portal's company
    total = client.query_count(f"SELECT COUNT(*) FROM {tab.entity}")  # noqa: S608 - a fixed entity name
    chunks = math.ceil(total / CHUNK_SIZE)
    run = BackfillRun(
        run_id=uuid.uuid4().hex[:16],
        tab=tab,
        mode=mode,
        status="running" if chunks else "done",
        total=total,
        chunks=chunks,
        chunk_size=CHUNK_SIZE,
        started_at=ports.clock(),
        finished_at=None if chunks else ports.clock(),
    )
    previous = ports.settings.backfill(portal_id, realm_id, tab)
    try:
        ports.settings.start_backfill(portal_id, realm_id, run)
    except AlreadyRunning:
        assert previous is not None
        failed = len([f for f in ports.settings.part_faults(portal_id, realm_id, tab, previous.run_id) if f.final])
        failures = f", {failed} failed" if failed else ""
        raise Conflict(
            f"A {previous.mode} of existing records is running "
            f"({previous.chunks_done} of {previous.chunks} parts done{failures}): wait for it or resume it."
        ) from None
    _queue_chunks(ports, portal_id, realm_id, run, range(chunks))
    logger.info(
        "Backfill started",
        extra={
            "portal_id": portal_id,
            "realm_id": realm_id,
            "tab": str(tab),
            "mode": mode,
            "total": total,
            "chunks": chunks,
        },
    )
    return run


def _queue_chunks(ports: SyncPorts, portal_id: int, realm_id: str, run: BackfillRun, chunks: Iterable[int]) -> int:
    messages = [
        SyncBackfillMessage(
            portal_id=portal_id,
            realm_id=realm_id,
            tab=run.tab.value,
            run_id=run.run_id,
            mode=run.mode,
            chunk=n,
            start=1 + n * run.chunk_size,
            size=run.chunk_size,
        )
        for n in chunks
    ]
    if messages:
        assert ports.queue is not None
        ports.queue().send(messages)
    return len(messages)


def resume_backfill(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab) -> tuple[BackfillRun, int]:
    """Queues again the chunks of the running backfill that have not finished; (run, chunks queued)."""
    run = ports.settings.backfill(portal_id, realm_id, tab)
    if run is None:
        raise NotFound(Text.of(N_("No backfill has been started for this tab.")))
    if run.status == "done":
        raise Conflict(Text.of(N_("The last backfill finished; start a new one instead.")))
    done = ports.settings.chunks_done(portal_id, realm_id, tab, run.run_id)
    left = [n for n in range(run.chunks) if n not in done]
    queued = _queue_chunks(ports, portal_id, realm_id, run, left)
    ports.settings.clear_part_faults(portal_id, realm_id, tab, run.run_id, left)  # queued afresh
    logger.info("Backfill resumed", extra={"portal_id": portal_id, "tab": str(tab), "requeued": queued})
    return run, queued


def backfill_status(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab) -> BackfillRun | None:
    """The run with its parts that failed (retrying, or in the dead-letter queue) while it runs."""
    run = ports.settings.backfill(portal_id, realm_id, tab)
    if run is None or run.status == "done":
        return run
    return run.model_copy(update={"part_faults": ports.settings.part_faults(portal_id, realm_id, tab, run.run_id)})


def part_failed(ports: SyncPorts, message: SyncBackfillMessage, attempt: int, reason: str, *, final: bool) -> None:
    """The worker's record of a part's failed attempt (`final`: it goes to the dead-letter queue)."""
    fault = PartFault(chunk=message.chunk, attempt=attempt, reason=reason[:500], final=final, at=ports.clock())
    ports.settings.record_part_fault(message.portal_id, message.realm_id, Tab(message.tab), message.run_id, fault)


def run_backfill_chunk(ports: SyncPorts, message: SyncBackfillMessage) -> list[SyncLogEntry]:
    """One chunk: read its QBO page, decide (preview) or write (run), count it once, log every record."""
    tab = Tab(message.tab)
    run = ports.settings.backfill(message.portal_id, message.realm_id, tab)
    if run is None or run.run_id != message.run_id or run.status == "done":
        logger.info("Stale backfill chunk dropped", extra={"run_id": message.run_id, "chunk": message.chunk})
        return []
    dry_run = message.mode == "preview"
    qbo = ports.qbo_client(message.portal_id, message.realm_id)
    rows = qbo.query(_select_page(tab, message.start, message.size))
    batch = _chunk_batch(ports, message, tab, rows, dry_run)
    if not dry_run:
        ports.sync_log.record_many(batch.entries)
    counts = {**batch.counts.as_dict(), "done": len(rows)}
    finished = ports.settings.finish_chunk(
        message.portal_id, message.realm_id, tab, message.run_id, message.chunk, counts, batch.errors[:5]
    )
    logger.info(
        "Backfill chunk applied",
        extra={
            "run_id": message.run_id,
            "chunk": message.chunk,
            "rows": len(rows),
            "counted": finished is not None,
            "counts": counts,
        },
    )
    # Each record's entry is in the log already (one BatchWriteItem per 25); the worker logs this summary.
    return [_chunk_summary(ports, message, tab, len(rows), batch)]


def _chunk_batch(
    ports: SyncPorts, message: SyncBackfillMessage, tab: Tab, rows: list[dict[str, Any]], dry_run: bool
) -> Batch:
    """The chunk's rows decided (and written, for a run); skipped when the tab was turned off meanwhile."""
    settings = ports.settings.tab(message.portal_id, message.realm_id, tab)
    event_id = f"backfill:{message.run_id}:{message.chunk}"
    if dry_run or settings.enabled:
        batch = open_batch(
            ports,
            message.portal_id,
            message.realm_id,
            tab,
            settings,
            dry_run=dry_run,
            event_id=event_id,
            source="backfill",
        )
        return sync_records(batch, rows, [])
    batch = Batch(
        ports,
        message.portal_id,
        message.realm_id,
        tab,
        settings,
        None,  # type: ignore[arg-type]  # a preview reads through its own client and never writes
        None,  # type: ignore[arg-type]
        {},
        RecordContext(realm_id=message.realm_id),
        event_id=event_id,
        source="backfill",
    )
    for raw in rows:
        batch.entry("skipped", f"The {tab.value.title()} sync was turned off during the backfill", str(raw.get("Id")))
        batch.counts.not_allowed += 1
    return batch


def _chunk_summary(ports: SyncPorts, message: SyncBackfillMessage, tab: Tab, rows: int, batch: Batch) -> SyncLogEntry:
    c, dry_run = batch.counts, message.mode == "preview"
    if dry_run:
        summary = f"would create {c.created}, update {c.updated}, skip {c.skipped}"
    else:
        summary = (
            f"created {c.created}, updated {c.updated}, skipped {c.skipped}, archived {c.archived}, failed {c.failed}"
        )
    what = "Preview" if dry_run else "Sync of existing records"
    return SyncLogEntry(
        scope=SyncLogEntry.portal_scope(message.portal_id),
        outcome="applied",
        reason=f"{what}, part {message.chunk + 1} ({rows} {tab.entity} rows): {summary}",
        entity=tab.entity,
        realm_id=message.realm_id,
        event_id=f"backfill:{message.run_id}:{message.chunk}",
        source="backfill",
        at=datetime.fromtimestamp(ports.clock(), UTC),
    )
