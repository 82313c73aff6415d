"""The reconciliation (drift) report: compare HubSpot with QBO for one portal's company, and fix from QBO.

Run (`run_report`), daily from the schedule (`run_scheduled`) and on demand from the settings page:

1. Invoices: every invoice link of the company (one paged DynamoDB query) → the invoices from QBO
   (`Id IN (...)`, up to 1000 per query) → the linked deals, contacts and companies from HubSpot (batch
   reads, 100 per call) → each deal's amount, balance, status and due date against the values
   `deal_properties` makes of the invoices now; with the Invoices tab on, the synced HubSpot invoices
   (batch read on hubqbo's link property) against the tab's mappings. Links whose QBO invoice was
   deleted, or whose HubSpot record was deleted, are rows too.
2. Contacts and products (each tab that is on): every customer / item of the company, active or not
   (query pages of 1000), the HubSpot records linked to them (batch read on the link property, 100 per
   call), compared under the tab's current mappings (`mappings.record_values`, the engine's own
   code). An inactive QBO record whose HubSpot record is still there while deletions archive is a row.
3. Unattached invoices: the QBO invoices of the linked invoices' customers (`CustomerRef IN (...)`,
   pages of 1000) that no HubSpot record is linked to.

Why queries and not CDC: CDC answers what changed in the last 30 days, at most 1000 objects
(https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/change-data-capture);
a drift comparison needs the current state of every linked record, changed or not, so it reads by id
and by page. Drift made in HubSpot changes nothing in QBO, which CDC could never see.

Cost: every call goes through the clients, so through the shared rate budget; the calls are counted
per provider and stored with the report. A part that hits a rate limit or an outage after the
clients' retries is named in `incomplete_parts`: the rest of the report is still stored and shown,
never a 5xx.

Fix (`fix_rows`): QBO is the source of truth, so a fix re-applies the current QBO objects through
the same paths a change takes (`invoice_links.apply_invoice_change` for deals and links,
`sync_engine.apply_changes` for HubSpot invoices, contacts and products); a link to a deleted HubSpot
record is removed. Each row the paths applied without a failure is marked fixed and counted.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hubqbo import clock as product_clock
from hubqbo.clients.errors import ApiError, RateLimited, ReconnectNeeded, Unavailable
from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import drift
from hubqbo.domain import qbo_query as q
from hubqbo.domain.batching import batched
from hubqbo.domain.dates import local_today, zone_or_utc
from hubqbo.domain.deal_properties import LinkedInvoice, deal_property_values
from hubqbo.domain.drift import DriftRow
from hubqbo.domain.mappings import SYNCED_ITEM_TYPES, Tab, is_deleted, link_value, record_values
from hubqbo.domain.qbo_invoice import QboInvoice, read_invoice
from hubqbo.domain.sync_plan import read_properties
from hubqbo.errors import Conflict, NotFound
from hubqbo.observability import logger
from hubqbo.services import invoice_links
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.services.sync_engine import SyncPorts, apply_changes
from hubqbo.services.sync_engine import _context as record_context
from hubqbo.store.connections import Connection
from hubqbo.store.cursors import JobLeases
from hubqbo.store.drift import DriftReport, DriftReports, Gap
from hubqbo.store.invoices import InvoiceLink

CUSTOMERS_PER_QUERY = 100  # `CustomerRef IN (...)` values per statement: keeps the statement short
RUN_LEASE_SECONDS = 600.0
MIN_SCHEDULED_SECONDS = 10.0  # a company is not started with less time left than this
FIX_ROWS_PER_CALL = 200  # a request's share of "Fix all": the page asks again while rows are left
LINKED_TYPES = ("deals", "contacts", "companies")


@dataclass
class DriftPorts:
    invoices: InvoicePorts
    sync: SyncPorts
    reports: DriftReports
    leases: JobLeases
    clock: Callable[[], float] = product_clock.now
    # Seconds a run may read for: what is left unread then is named in `incomplete_parts`, so a request
    # answers before its function's timeout (a timeout would be a 5xx); None for no limit.
    time_budget: float | None = None


RowId = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


class FixRequest(BaseModel):
    """Rows to fix by id, or every fixable row (`all`)."""

    model_config = ConfigDict(extra="forbid")

    rows: list[RowId] = Field(default_factory=list, max_length=500, description="Row ids from the report")
    all: bool = Field(default=False, description="Fix every fixable row that is not fixed yet")

    @model_validator(mode="after")
    def _something(self) -> FixRequest:
        if not self.rows and not self.all:
            raise ValueError("name the rows to fix, or set all")
        return self


class FixResult(BaseModel):
    fixed: int = 0
    failed: int = 0  # applied, but a path reported a failure for the record (the sync log says why)
    left: int = 0  # fixable rows still open: beyond this call's share, or not reached in time
    interrupted: str | None = None  # a rate limit or an outage stopped the fix; what was done is kept
    calls: dict[str, int] = Field(default_factory=dict)


# -- the run -----------------------------------------------------------------------------------------
class _OutOfTime(Exception):
    """The run's time budget is spent: the part stops where it is."""


@dataclass
class _Run:
    ports: DriftPorts
    connection: Connection
    report: DriftReport
    qbo: QboClient
    hubspot: HubSpotClient
    started: float = field(default_factory=time.monotonic)

    def in_time(self) -> None:
        budget = self.ports.time_budget
        if budget is not None and time.monotonic() - self.started > budget:
            raise _OutOfTime

    @property
    def portal_id(self) -> int:
        return self.connection.portal_id

    @property
    def realm_id(self) -> str:
        return self.connection.realm_id

    def add(self, rows: Iterable[DriftRow]) -> None:
        self.report.rows.extend(rows)

    def part(self, name: str, step: Callable[[], None]) -> None:
        """Run one part; an API that stays unavailable or rate limited makes the report incomplete."""
        try:
            self.in_time()
            step()
        except _OutOfTime:
            self.report.complete = False
            self.report.incomplete_parts.append(f"{name}: time budget spent")
            self.report.gaps.append(Gap(part=name, reason="time"))
        except ReconnectNeeded:
            raise
        except ApiError as exc:
            self.report.complete = False
            self.report.incomplete_parts.append(f"{name}: {type(exc).__name__} ({exc.provider})")
            reason = (
                "rate_limited"
                if isinstance(exc, RateLimited)
                else "unavailable"
                if isinstance(exc, Unavailable)
                else "refused"
            )
            self.report.gaps.append(Gap(part=name, reason=reason, provider=exc.provider))
            logger.warning(
                "Drift report part could not be read",
                extra={"part": name, "provider": exc.provider, "error_type": type(exc).__name__},
            )


def run_report(ports: DriftPorts, portal_id: int, realm_id: str, *, source: str = "manual") -> DriftReport:
    """Compare the company's linked records on both sides and store the report (returned)."""
    connection = ports.sync.connections.get_connection(portal_id, realm_id)
    if connection is None:
        raise NotFound(f"No QuickBooks company {realm_id} is connected to this HubSpot account.")
    job, owner = f"drift:{portal_id}:{realm_id}", uuid.uuid4().hex
    if not ports.leases.acquire(job, owner, ports.clock(), RUN_LEASE_SECONDS):
        raise Conflict("A drift report for this company is running already; try again in a few minutes.")
    try:
        previous = ports.reports.last(portal_id, realm_id)
        report = DriftReport(
            portal_id=portal_id,
            realm_id=realm_id,
            started_at=ports.clock(),
            source=source,
            version=previous.version if previous else 0,
        )
        before = ports.sync.calls()
        run = _Run(
            ports,
            connection,
            report,
            ports.sync.qbo_client(portal_id, realm_id),
            ports.sync.hubspot_client(portal_id),
        )
        linked: dict[str, dict[str, Any]] = {}
        links = ports.invoices.invoices.links_in_realm(portal_id, realm_id)
        run.part("invoices", lambda: linked.update(_invoices(run, links)))
        run.part("hubspot_invoices", lambda: _hubspot_invoices(run, linked))
        for tab in (Tab.CONTACTS, Tab.PRODUCTS):
            run.part(tab.value, functools.partial(_records, run, tab))
        run.part("unattached", lambda: _unattached(run, links, linked))
        after = ports.sync.calls()
        report.api_calls = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
        report.total_rows = len(report.rows)
        report.finished_at = ports.clock()
        stored = ports.reports.save(report)
        if stored is None:  # a fix of the previous report was saved meanwhile: this newer run replaces it
            latest = ports.reports.last(portal_id, realm_id)
            stored = ports.reports.save(report.model_copy(update={"version": latest.version if latest else 0}))
        logger.info(
            "Drift report finished",
            extra={
                "portal_id": portal_id,
                "rows": report.total_rows,
                "complete": report.complete,
                "calls": report.api_calls,
            },
        )
        return stored or report
    finally:
        ports.leases.release(job, owner)


def _linked_invoice(run: _Run, raw: dict[str, Any]) -> QboInvoice | None:
    parsed = read_invoice(raw, home_currency=run.connection.home_currency)
    return parsed if isinstance(parsed, QboInvoice) else None


def _invoices(run: _Run, links: list[InvoiceLink]) -> dict[str, dict[str, Any]]:
    """Deals against their invoices, links against both sides, HubSpot invoices against the mappings.
    Returns the live linked invoices by id (for the unattached part)."""
    ids = list(dict.fromkeys(link.invoice_id for link in links))
    run.report.checked["invoices"] = len(ids)
    if not ids:
        return {}
    # `Id IN (...)`, up to 1000 ids per query (Intuit's MAXRESULTS limit):
    # https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
    raws = run.qbo.read_many("Invoice", ids)
    live = {i: r for i, r in raws.items() if str(r.get("status", "")).lower() != "deleted"}
    for link in links:
        if link.invoice_id not in live:
            run.add(
                [
                    drift.row(
                        "missing_in_qbo",
                        "qbo_invoice_deleted",
                        "Invoice",
                        link.invoice_id,
                        link.object_type,
                        link.object_id,
                    )
                ]
            )
    existing = _existing_records(run, links)
    for link in links:
        if link.object_id not in existing.get(link.object_type, {}):
            run.add(
                [
                    drift.row(
                        "missing_in_hubspot",
                        "hubspot_record_deleted",
                        "Invoice",
                        link.invoice_id,
                        link.object_type,
                        link.object_id,
                    )
                ]
            )
    _deals(run, links, live, existing.get("deals", {}))
    return live


def _existing_records(run: _Run, links: list[InvoiceLink]) -> dict[str, dict[str, dict[str, Any]]]:
    """The linked HubSpot records that still exist, per type (deals with their invoice properties).
    Batch read by id, 100 per call; ids that do not exist are left out of the answer:
    https://developers.hubspot.com/docs/api-reference/latest/crm/objects/objects/batch/get-objects"""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for object_type in LINKED_TYPES:
        wanted = [link.object_id for link in links if link.object_type == object_type]
        if not wanted:
            continue
        properties = list(drift.DEAL_FIELDS) if object_type == "deals" else []
        found[object_type] = {}
        for chunk in batched(dict.fromkeys(wanted), 100):
            run.in_time()
            records = run.hubspot.crm_batch_read(object_type, list(chunk), properties)
            found[object_type].update({str(r["id"]): r.get("properties") or {} for r in records})
    return found


def _deals(
    run: _Run, links: list[InvoiceLink], live: dict[str, dict[str, Any]], deals: dict[str, dict[str, Any]]
) -> None:
    portal = run.ports.sync.connections.get_portal(run.portal_id)
    currency = (portal.company_currency if portal else None) or "USD"
    today = local_today(
        datetime.fromtimestamp(run.ports.clock(), UTC), zone_or_utc(portal.time_zone if portal else None)
    )
    by_deal: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.object_type == "deals" and link.object_id in deals:
            by_deal[link.object_id].append(link.invoice_id)
    run.report.checked["deals"] = len(by_deal)
    for deal_id, invoice_ids in by_deal.items():
        invoices = [inv for i in invoice_ids if i in live and (inv := _linked_invoice(run, live[i])) is not None]
        linked = [LinkedInvoice(invoice=inv, company_name=run.connection.company_name) for inv in invoices]
        values = deal_property_values(linked, portal_currency=currency, today=today)
        if values.properties is None or values.source_invoice_id is None:
            continue  # invoices in another currency never write the deal: nothing to compare
        run.add(drift.compare_deal(deal_id, values.source_invoice_id, values.properties, deals[deal_id]))


def _hubspot_invoices(run: _Run, live: dict[str, dict[str, Any]]) -> None:
    tab = Tab.INVOICES
    settings = run.ports.sync.settings.tab(run.portal_id, run.realm_id, tab)
    if not settings.enabled or not live:
        return
    properties = run.ports.sync.properties.get(run.hubspot, run.portal_id, tab.object_type)
    wanted = read_properties(settings, properties)
    ctx = record_context(run.ports.sync, run.portal_id, run.connection)
    run.report.checked["hubspot_invoices"] = 0
    for chunk in batched(list(live), 100):  # one batch read per 100, the time budget checked between them
        run.in_time()
        keys = {invoice_id: link_value(run.realm_id, invoice_id) for invoice_id in chunk}
        records = run.hubspot.read_by(
            tab.object_type, keys.values(), wanted, id_property=tab.link_property, unknown_property_is_empty=True
        )
        by_key = {str(r.properties.get(tab.link_property)): r for r in records}
        run.report.checked["hubspot_invoices"] += len(by_key)
        for invoice_id in chunk:
            record = by_key.get(keys[invoice_id])
            if record is None:
                run.add([drift.row("missing_in_hubspot", "hubspot_invoice_missing", "Invoice", invoice_id, "invoices")])
                continue
            values, _problems = record_values(tab, live[invoice_id], settings.mappings, properties, ctx)
            run.add(drift.compare_record(tab, invoice_id, record, values, properties))


def _records(run: _Run, tab: Tab) -> None:
    """Linked contacts (products) against their customers (items) under the tab's current mappings."""
    settings = run.ports.sync.settings.tab(run.portal_id, run.realm_id, tab)
    if not settings.enabled:
        return  # nothing of this tab is synced: nothing can drift
    properties = run.ports.sync.properties.get(run.hubspot, run.portal_id, tab.object_type)
    wanted = read_properties(settings, properties)
    ctx = record_context(run.ports.sync, run.portal_id, run.connection)
    checked = 0
    for raws in _every(run.qbo, tab):
        run.in_time()
        keys = {str(r["Id"]): link_value(run.realm_id, str(r["Id"])) for r in raws}
        records = run.hubspot.read_by(
            tab.object_type, keys.values(), wanted, id_property=tab.link_property, unknown_property_is_empty=True
        )
        by_key = {str(r.properties.get(tab.link_property)): r for r in records}
        for raw in raws:
            qbo_id = str(raw["Id"])
            record = by_key.get(keys[qbo_id])
            if record is None:
                continue  # never synced: "Sync existing records" brings it, it is not drift
            checked += 1
            if is_deleted(tab, raw):
                if settings.on_delete == "archive":
                    run.add(
                        [
                            drift.row(
                                "missing_in_qbo", "qbo_record_inactive", tab.entity, qbo_id, tab.object_type, record.id
                            )
                        ]
                    )
                continue
            if tab == Tab.PRODUCTS and raw.get("Type") and raw.get("Type") not in SYNCED_ITEM_TYPES:
                continue
            values, _problems = record_values(tab, raw, settings.mappings, properties, ctx)
            run.add(drift.compare_record(tab, qbo_id, record, values, properties))
    run.report.checked[tab.value] = checked


def _every(client: QboClient, tab: Tab, page_size: int = q.MAX_RESULTS) -> Iterable[list[dict[str, Any]]]:
    """Every record of the tab's entity, active or not, a HubSpot batch (100) at a time, read in QBO
    query pages of 1000. A plain `SELECT` answers active records only; `Active IN (true, false)` asks
    for both (https://developer.intuit.com/hub/blog/2017/02/08/deep-dive-sql-queries/)."""
    extra = ("Sku",) if tab == Tab.PRODUCTS else ()
    start = 1
    while True:
        statement = q.select(
            tab.entity,
            q.in_("Active", [True, False]),
            extra_fields=extra,
            order_by="Id",
            start=start,
            max_results=page_size,
        )
        rows = client.query_page(statement)["QueryResponse"].get(tab.entity) or []
        yield from (list(chunk) for chunk in batched(rows, 100))
        if len(rows) < page_size:
            return
        start += page_size


def _unattached(run: _Run, links: list[InvoiceLink], live: dict[str, dict[str, Any]]) -> None:
    """QBO invoices of the linked invoices' customers that no HubSpot record is linked to."""
    deal_of_customer: dict[str, str] = {}
    for link in links:
        raw = live.get(link.invoice_id)
        customer = str(((raw or {}).get("CustomerRef") or {}).get("value") or "")
        if customer and link.object_type == "deals":
            deal_of_customer.setdefault(customer, link.object_id)
    customers = sorted({str((r.get("CustomerRef") or {}).get("value") or "") for r in live.values()} - {""})
    linked_ids = {link.invoice_id for link in links}
    found: list[dict[str, Any]] = []
    for chunk in batched(customers, CUSTOMERS_PER_QUERY):
        run.in_time()
        start = 1
        while True:
            statement = q.select("Invoice", q.in_("CustomerRef", list(chunk)), order_by="Id", start=start)
            rows = run.qbo.query_page(statement)["QueryResponse"].get("Invoice") or []
            found += rows
            if len(rows) < q.MAX_RESULTS:
                break
            start += q.MAX_RESULTS
    run.report.checked["customer_invoices"] = len(found)
    run.add(drift.unattached_invoices(found, linked_ids, deal_of_customer))


# -- fixing ------------------------------------------------------------------------------------------------
def last_report(ports: DriftPorts, portal_id: int, realm_id: str) -> DriftReport | None:
    if ports.sync.connections.get_connection(portal_id, realm_id) is None:
        raise NotFound(f"No QuickBooks company {realm_id} is connected to this HubSpot account.")
    return ports.reports.last(portal_id, realm_id)


def fix_rows(ports: DriftPorts, portal_id: int, realm_id: str, request: FixRequest) -> tuple[DriftReport, FixResult]:
    """Re-apply the rows' QBO records to HubSpot; the report with the rows marked fixed, and the counts."""
    report = last_report(ports, portal_id, realm_id)
    if report is None:
        raise NotFound("No drift report has been run for this company yet.")
    by_id = {r.id: r for r in report.rows}
    unknown = [i for i in request.rows if i not in by_id]
    if unknown:
        raise NotFound(f"No row {unknown[0]} in the last drift report; run the report again.")
    wanted = [r for r in report.rows if r.fixable and not r.fixed and (request.all or r.id in request.rows)]
    chosen = wanted[:FIX_ROWS_PER_CALL]
    before_inv, before_sync = ports.invoices.calls(), ports.sync.calls()
    done: set[str] = set()
    tried: set[str] = set()
    result = FixResult()
    try:
        _apply(ports, portal_id, realm_id, chosen, done, tried)
    except (ApiError, _OutOfTime) as exc:
        result.interrupted = f"{type(exc).__name__} ({exc.provider})" if isinstance(exc, ApiError) else "time budget"
        logger.warning("Drift fix interrupted", extra={"portal_id": portal_id, "reason": result.interrupted})
    result.fixed = len(done)
    result.failed = len(tried - done)
    open_rows = sum(1 for r in report.rows if r.fixable and not r.fixed)
    result.left = open_rows - len(done)
    for provider in set(before_inv) | set(before_sync) | set(ports.invoices.calls()) | set(ports.sync.calls()):
        spent = ports.invoices.calls().get(provider, 0) - before_inv.get(provider, 0)
        spent += ports.sync.calls().get(provider, 0) - before_sync.get(provider, 0)
        if spent:
            result.calls[provider] = spent
    updated = report.model_copy(
        update={
            "rows": [r.model_copy(update={"fixed": True}) if r.id in done else r for r in report.rows],
            "fixed": report.fixed + len(done),
            "fix_calls": {
                k: report.fix_calls.get(k, 0) + result.calls.get(k, 0) for k in {*report.fix_calls, *result.calls}
            },
        }
    )
    saved = ports.reports.save(updated)
    if saved is None:
        raise Conflict("The drift report changed meanwhile (another run or fix); reload it and try again.")
    logger.info("Drift rows fixed", extra={"portal_id": portal_id, "fixed": result.fixed, "failed": result.failed})
    return saved, result


def _apply(
    ports: DriftPorts, portal_id: int, realm_id: str, rows: list[DriftRow], done: set[str], tried: set[str]
) -> None:
    """Apply from QBO, filling `done` (applied without a failure) and `tried` as it goes, so a rate
    limit half-way keeps what was fixed."""
    started = time.monotonic()
    qbo = ports.sync.qbo_client(portal_id, realm_id)
    # links to HubSpot records that are gone: nothing in QBO to re-apply, the link itself is wrong
    for r in (r for r in rows if r.rule == "hubspot_record_deleted" and r.hubspot_type and r.hubspot_id):
        ports.invoices.invoices.unlink(
            InvoiceLink(
                portal_id=portal_id,
                realm_id=realm_id,
                invoice_id=r.qbo_id,
                object_type=r.hubspot_type,
                object_id=r.hubspot_id,
            )
        )
        done.add(r.id)
        tried.add(r.id)
    rest = [r for r in rows if r.rule != "hubspot_record_deleted"]
    for entity in ("Invoice", "Customer", "Item"):
        mine = [r for r in rest if r.qbo_entity == entity]
        if not mine:
            continue
        ids = list(dict.fromkeys(r.qbo_id for r in mine))
        raws = qbo.read_many(entity, ids)
        if entity == "Invoice":
            _apply_invoices(ports, portal_id, realm_id, mine, raws, done, tried, started)
        else:
            tried.update(r.id for r in mine)
            done |= _apply_records(ports, portal_id, realm_id, entity, mine, raws)


def _apply_invoices(
    ports: DriftPorts,
    portal_id: int,
    realm_id: str,
    rows: list[DriftRow],
    raws: dict[str, dict[str, Any]],
    done: set[str],
    tried: set[str],
    started: float,
) -> None:
    deal_rows = [r for r in rows if r.hubspot_type != "invoices"]
    for invoice_id in dict.fromkeys(r.qbo_id for r in deal_rows):
        if ports.time_budget is not None and time.monotonic() - started > ports.time_budget:
            raise _OutOfTime
        tried.update(r.id for r in deal_rows if r.qbo_id == invoice_id)
        raw = raws.get(invoice_id)
        gone = raw is None or str(raw.get("status", "")).lower() == "deleted"
        written = set(
            invoice_links.apply_invoice_change(
                ports.invoices, portal_id, realm_id, None if gone else raw, invoice_id=invoice_id
            )
        )
        for r in deal_rows:
            if r.qbo_id == invoice_id and (gone or r.hubspot_type != "deals" or r.hubspot_id in written):
                done.add(r.id)
    synced = [r for r in rows if r.hubspot_type == "invoices"]
    if synced:
        tried.update(r.id for r in synced)
        done |= _apply_records(ports, portal_id, realm_id, "Invoice", synced, raws)


def _apply_records(
    ports: DriftPorts,
    portal_id: int,
    realm_id: str,
    entity: str,
    rows: list[DriftRow],
    raws: dict[str, dict[str, Any]],
) -> set[str]:
    """The sync engine writes what differs (`sync_engine.apply_changes`, the worker's own call)."""
    ids = list(dict.fromkeys(r.qbo_id for r in rows))
    live = [raws[i] for i in ids if i in raws]
    gone = [i for i in ids if i not in raws]
    entries = apply_changes(ports.sync, portal_id, realm_id, entity, live, gone, source="drift")
    ports.sync.sync_log.record_many(entries)  # the sync log shows what the fix wrote, as for any change
    failed = {e.qbo_id for e in entries if e.outcome == "failed"}
    answered = {e.qbo_id for e in entries}
    return {r.id for r in rows if r.qbo_id in answered and r.qbo_id not in failed}


# -- the schedule -------------------------------------------------------------------------------------
class DriftJobResult(BaseModel):
    connections: int = 0
    reports: int = 0
    incomplete: int = 0
    rows: int = 0
    reconnect_needed: int = 0
    busy: int = 0
    not_reached: int = 0  # the job's time ran out first; they go first next time (oldest report first)
    api_calls: int = 0


def run_scheduled(
    ports_for: Callable[[float | None], DriftPorts],
    connections: Iterable[Connection],
    total_budget: float | None = None,
) -> DriftJobResult:
    """The daily run: one report per active connection, the oldest report first (each with its own port
    set, so its calls count alone, and the time left of `total_budget`); a company that cannot be read
    is counted, the others still run."""
    result = DriftJobResult()
    started = time.monotonic()
    listed = list(connections)
    first = ports_for(None)
    ages = {}
    for c in listed:
        last = first.reports.last(c.portal_id, c.realm_id)
        ages[(c.portal_id, c.realm_id)] = (last.finished_at or last.started_at) if last else 0.0
    for connection in sorted(listed, key=lambda c: ages[(c.portal_id, c.realm_id)]):
        result.connections += 1
        left = None if total_budget is None else total_budget - (time.monotonic() - started)
        if left is not None and left < MIN_SCHEDULED_SECONDS:
            result.not_reached += 1
            continue
        try:
            report = run_report(ports_for(left), connection.portal_id, connection.realm_id, source="schedule")
        except ReconnectNeeded:
            result.reconnect_needed += 1
            continue
        except Conflict:
            result.busy += 1
            continue
        result.reports += 1
        result.incomplete += int(not report.complete)
        result.rows += report.total_rows
        result.api_calls += sum(report.api_calls.values())
    logger.info("Drift reports finished", extra=result.model_dump())
    return result
