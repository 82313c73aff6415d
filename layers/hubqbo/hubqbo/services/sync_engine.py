"""The sync engine: QBO customers → HubSpot contacts, items → products, invoices → HubSpot invoices.

Entry points
------------
- `apply_changes(ports, portal_id, realm_id, entity, raw_objects, deleted_ids)`: what the worker
  calls for Customer, Item and Invoice changes (the objects already read from QBO). Returns the
  sync-log entries; the worker writes them.
- `start_backfill` / `resume_backfill` / `run_backfill_chunk`: "Sync existing records" per tab, with
  a preview (counts only) and a run, both through SQS in chunks of `CHUNK_SIZE` QBO rows.

What one batch does (≤ 100 records per HubSpot call)
----------------------------------------------------
1. The tab's settings decide: off → every record skipped; "do nothing" → changes skipped; deleted
   records (inactive customers and items, deleted or voided invoices) are archived or skipped.
2. Matching before creating: a batch read on hubqbo's unique link property (`<realm>:<QBO id>`)
   finds linked records; a contact is then matched by email (batch read on `email`), a product by
   SKU (one search). A matched record is updated and linked, never duplicated. With "update existing
   only", an unmatched record is skipped.
3. Values come from the mappings (`domain.mappings.record_values`). A linked record whose values did
   not change is skipped as unchanged; otherwise only the changed properties are written: creates and
   linked updates in one batch upsert on the link property, matched records in one batch update.
   Each input carries an `objectWriteTraceId`, so one bad record fails alone (207); a property HubSpot
   refuses is dropped for that record and the record is written again without it.
4. Invoices are written as tracking-only HubSpot invoices (`hs_invoice_billable` false), then
   associated in batches to the contact (by the customer's link), to the deals the invoicing feature
   linked, and to line items mirrored from the QBO lines.
5. Each mapped property's status (synced / failing, last error, record) is stored for the settings page.

Echo-free: this engine only writes HubSpot and never QBO, so nothing it does fires a QBO webhook.
HubSpot webhooks are not subscribed today; if they are added for the other direction, two guards
keep our own writes from looping back: a HubSpot event whose `sourceId` is this app's id (HubSpot
stamps the writing app) must be dropped at intake, and even an event that slipped through is
harmless because this engine writes nothing when the values already match (a second pass over the
same record is "unchanged", so no loop can keep itself going).
"""

from __future__ import annotations

import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hubqbo.clients.errors import ApiError
from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_query as q
from hubqbo.domain.dates import local_today, zone_or_utc
from hubqbo.domain.field_types import HubSpotProperty, comparable
from hubqbo.domain.mappings import (
    GROUP_LABEL,
    GROUP_NAME,
    LINE_LINK_PROPERTY,
    SYNCED_ITEM_TYPES,
    PropertyProblem,
    RecordContext,
    Tab,
    email_of,
    is_deleted,
    link_definitions,
    link_value,
    record_values,
)
from hubqbo.domain.money import to_decimal
from hubqbo.errors import BadInput, Conflict, NotFound
from hubqbo.messages import SyncBackfillMessage
from hubqbo.observability import logger
from hubqbo.store.connections import Connection, ConnectionStore
from hubqbo.store.dynamo import AlreadyRunning
from hubqbo.store.queue import SyncQueue
from hubqbo.store.settings import BackfillRun, MappingStatus, SettingsStore, TabSettings
from hubqbo.store.sync_log import SyncLog, SyncLogEntry

BATCH = 100  # HubSpot batch inputs
CHUNK_SIZE = 500  # QBO rows per backfill message (a query page; QBO allows 1000)
SCHEMA_VERSION = 1  # bump when link_definitions change
PROPERTY_CACHE_SECONDS = 300
HUBSPOT_BUDGET = (100, 10.0)  # calls per window per portal: under the public-app limit of 110 / 10 s
SEARCH_BUDGET = (4, 1.0)  # CRM search: 5 / s per portal
INVOICE_TO_CONTACT, INVOICE_TO_DEAL, LINE_ITEM_TO_INVOICE = 177, 175, 410


# -- rate limiting ---------------------------------------------------------------------------------
class Limiter:
    """A sliding-window limiter: `wait()` blocks until one more call fits the window."""

    def __init__(self, calls: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.calls, self.seconds, self._clock = calls, seconds, clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def wait(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                while self._sent and now - self._sent[0] >= self.seconds:
                    self._sent.popleft()
                if len(self._sent) < self.calls:
                    self._sent.append(now)
                    return
                delay = self.seconds - (now - self._sent[0]) + 0.01
            time.sleep(delay)


_limiters: dict[tuple[str, int], Limiter] = {}
_limiters_lock = threading.Lock()


def limiter(kind: str, portal_id: int) -> Limiter:
    """One limiter per portal and kind in this process (a warm Lambda keeps it across invocations)."""
    with _limiters_lock:
        key = (kind, portal_id)
        if key not in _limiters:
            calls, seconds = SEARCH_BUDGET if kind == "search" else HUBSPOT_BUDGET
            _limiters[key] = Limiter(calls, seconds)
        return _limiters[key]


# -- ports -----------------------------------------------------------------------------------------
@dataclass
class SyncPorts:
    settings: SettingsStore
    connections: ConnectionStore
    sync_log: SyncLog
    hubspot: Callable[[int], HubSpotClient]
    qbo: Callable[[int, str], QboClient]
    queue: Callable[[], SyncQueue] | None = None
    # (portal, realm, invoice id) -> the invoicing feature's links (objects with object_type/object_id)
    invoice_links: Callable[[int, str, str], list[Any]] | None = None
    clock: Callable[[], float] = time.time
    api_calls: dict[str, int] = field(default_factory=dict)
    _clients: list[Any] = field(default_factory=list)

    def hubspot_client(self, portal_id: int) -> HubSpotClient:
        client = self.hubspot(portal_id)
        self._clients.append(client)
        return client

    def qbo_client(self, portal_id: int, realm_id: str) -> QboClient:
        client = self.qbo(portal_id, realm_id)
        self._clients.append(client)
        return client

    def calls(self) -> dict[str, int]:
        totals = dict(self.api_calls)
        for client in self._clients:
            totals[client.provider] = totals.get(client.provider, 0) + client.calls
        return totals


# -- HubSpot property definitions (cached per process) -----------------------------------------------
_property_cache: dict[tuple[int, str], tuple[float, dict[str, HubSpotProperty]]] = {}


def hubspot_properties(
    ports: SyncPorts, client: HubSpotClient, portal_id: int, object_type: str, *, fresh: bool = False
) -> dict[str, HubSpotProperty]:
    key = (portal_id, object_type)
    cached = _property_cache.get(key)
    if not fresh and cached and time.monotonic() - cached[0] < PROPERTY_CACHE_SECONDS:
        return cached[1]
    limiter("api", portal_id).wait()
    found = {p["name"]: HubSpotProperty.from_api(p) for p in client.list_properties(object_type)}
    _property_cache[key] = (time.monotonic(), found)
    return found


def forget_properties(portal_id: int, object_type: str | None = None) -> None:
    for key in list(_property_cache):
        if key[0] == portal_id and (object_type is None or key[1] == object_type):
            _property_cache.pop(key, None)


def ensure_schema(ports: SyncPorts, client: HubSpotClient, portal_id: int, tab: Tab) -> None:
    """hubqbo's group and link properties exist (created once per portal and tab, then remembered)."""
    if ports.settings.schema_version(portal_id, tab) >= SCHEMA_VERSION:
        return
    for object_type, definition in link_definitions(tab):
        for create, body in (
            (client.create_property_group, {"name": GROUP_NAME, "label": GROUP_LABEL, "displayOrder": -1}),
            (client.create_property, definition),
        ):
            limiter("api", portal_id).wait()
            try:
                create(object_type, body)
            except ApiError as exc:
                if exc.http_status != 409:  # already there: fine
                    raise
        forget_properties(portal_id, object_type)
    ports.settings.set_schema_version(portal_id, tab, SCHEMA_VERSION)
    logger.info("HubSpot link properties ready", extra={"portal_id": portal_id, "tab": str(tab)})


# -- one batch's working state -------------------------------------------------------------------------
@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    archived: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if v}


@dataclass
class Batch:
    ports: SyncPorts
    portal_id: int
    realm_id: str
    tab: Tab
    settings: TabSettings
    connection: Connection
    client: HubSpotClient
    properties: dict[str, HubSpotProperty]
    ctx: RecordContext
    dry_run: bool = False
    event_id: str | None = None
    source: str = "webhook"
    entries: list[SyncLogEntry] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    problems: dict[str, tuple[PropertyProblem, str]] = field(default_factory=dict)  # property -> (problem, qbo id)
    written_properties: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    @property
    def noun(self) -> str:
        return self.tab.singular

    def call(self, fn: Callable[..., Any], *args: Any, search: bool = False) -> Any:
        limiter("search" if search else "api", self.portal_id).wait()
        return fn(*args)

    def entry(self, outcome: str, reason: str, qbo_id: str | None, hubspot_id: str | None = None) -> SyncLogEntry:
        entry = SyncLogEntry(
            scope=SyncLogEntry.portal_scope(self.portal_id),
            outcome=outcome,  # type: ignore[arg-type]
            reason=reason,
            entity=self.tab.entity,
            qbo_id=qbo_id,
            hubspot_id=hubspot_id,
            hubspot_type=self.tab.object_type if hubspot_id else None,
            realm_id=self.realm_id,
            event_id=self.event_id,
            source=self.source,
            at=datetime.fromtimestamp(self.ports.clock(), UTC),
        )
        self.entries.append(entry)
        if outcome == "failed":
            self.counts.failed += 1
            self.errors.append(f"{self.tab.entity} {qbo_id}: {reason}")
        elif outcome == "skipped":
            self.counts.skipped += 1
        return entry

    def problem(self, problem: PropertyProblem, qbo_id: str) -> None:
        self.problems[problem.hubspot_property] = (problem, qbo_id)


def _context(ports: SyncPorts, portal_id: int, connection: Connection) -> RecordContext:
    portal = ports.connections.get_portal(portal_id)
    zone = zone_or_utc(portal.time_zone if portal else None)
    return RecordContext(
        realm_id=connection.realm_id,
        home_currency=connection.home_currency,
        zone=zone.key,
        today=local_today(datetime.fromtimestamp(ports.clock(), UTC), zone),
        sandbox=str(connection.environment) == "sandbox",
    )


def _open_batch(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, settings: TabSettings, **kw: Any) -> Batch:
    connection = ports.connections.get_connection(portal_id, realm_id)
    if connection is None:
        raise NotFound(f"No QuickBooks company {realm_id} is connected to this HubSpot account.")
    client = ports.hubspot_client(portal_id)
    ensure_schema(ports, client, portal_id, tab)  # a preview needs the link property to read by, too
    properties = hubspot_properties(ports, client, portal_id, tab.object_type)
    return Batch(
        ports=ports,
        portal_id=portal_id,
        realm_id=realm_id,
        tab=tab,
        settings=settings,
        connection=connection,
        client=client,
        properties=properties,
        ctx=_context(ports, portal_id, connection),
        **kw,
    )


# -- entry point for the worker -----------------------------------------------------------------------
def apply_changes(
    ports: SyncPorts,
    portal_id: int,
    realm_id: str,
    entity: str,
    raw_objects: list[dict[str, Any]],
    deleted_ids: list[str],
    *,
    event_id: str | None = None,
    source: str = "webhook",
) -> list[SyncLogEntry]:
    """Apply current QBO objects (and deletions) of one entity to HubSpot; the sync-log entries."""
    tab = Tab.for_entity(entity)
    settings = ports.settings.tab(portal_id, realm_id, tab)
    if not settings.enabled:
        scope = SyncLogEntry.portal_scope(portal_id)
        ids = [str(r.get("Id")) for r in raw_objects] + [str(i) for i in deleted_ids]
        reason = f"The {tab.value.title()} sync is off for this QuickBooks company"
        return [
            SyncLogEntry(
                scope=scope,
                outcome="skipped",
                reason=reason,
                entity=entity,
                qbo_id=i,
                realm_id=realm_id,
                event_id=event_id,
                source=source,
                at=datetime.fromtimestamp(ports.clock(), UTC),
            )
            for i in ids
        ]
    batch = _open_batch(ports, portal_id, realm_id, tab, settings, event_id=event_id, source=source)
    sync_records(batch, raw_objects, deleted_ids)
    return batch.entries


def sync_records(batch: Batch, raw_objects: list[dict[str, Any]], deleted_ids: Iterable[str]) -> Batch:
    """Decide (and, unless a dry run, write) every record; fills the batch's entries and counts."""
    live = [r for r in raw_objects if not is_deleted(batch.tab, r)]
    gone = list(
        dict.fromkeys([str(i) for i in deleted_ids] + [str(r["Id"]) for r in raw_objects if is_deleted(batch.tab, r)])
    )
    if gone:
        _deletions(batch, gone)
    if batch.tab == Tab.PRODUCTS:
        for raw in [r for r in live if r.get("Type") and r.get("Type") not in SYNCED_ITEM_TYPES]:
            batch.entry("skipped", f"QuickBooks {raw.get('Type')} items are not products", str(raw["Id"]))
        live = [r for r in live if not r.get("Type") or r.get("Type") in SYNCED_ITEM_TYPES]
    if live:
        if batch.settings.on_change == "do_nothing":
            for raw in live:
                batch.entry("skipped", "Changes in QuickBooks are set to do nothing for this tab", str(raw["Id"]))
        else:
            for start in range(0, len(live), BATCH):
                _upsert_chunk(batch, live[start : start + BATCH])
    _save_mapping_status(batch)
    return batch


# -- deletions -------------------------------------------------------------------------------------------
def _read_by(batch: Batch, id_property: str, values: list[str], properties: list[str]) -> dict[str, dict[str, Any]]:
    """Records whose `id_property` is one of `values`, keyed by that value (≤ 100 values per call)."""
    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(v for v in values if v))
    for start in range(0, len(unique), BATCH):
        body = {
            "inputs": [{"id": v} for v in unique[start : start + BATCH]],
            "idProperty": id_property,
            "properties": sorted(set(properties) | {id_property}),
        }
        answer = batch.call(batch.client.crm_batch, batch.tab.object_type, "read", body)
        for record in answer.get("results", []):
            value = (record.get("properties") or {}).get(id_property)
            if value:
                found[value.lower() if id_property == "email" else value] = record
    return found


def _deletions(batch: Batch, qbo_ids: list[str]) -> None:
    what = {
        Tab.CONTACTS: "inactive in QuickBooks",
        Tab.PRODUCTS: "inactive in QuickBooks",
        Tab.INVOICES: "deleted or voided in QuickBooks",
    }[batch.tab]
    if batch.settings.on_delete != "archive":
        for qbo_id in qbo_ids:
            batch.entry("skipped", f"The {batch.tab.entity.lower()} is {what}; deletions are set to do nothing", qbo_id)
        return
    keys = {link_value(batch.realm_id, i): i for i in qbo_ids}
    linked = _read_by(batch, batch.tab.link_property, list(keys), [])
    to_archive = []
    for key, qbo_id in keys.items():
        record = linked.get(key)
        if record is None:
            batch.entry(
                "skipped", f"The {batch.tab.entity.lower()} is {what}, but no HubSpot {batch.noun} is linked", qbo_id
            )
        else:
            to_archive.append((qbo_id, record["id"]))
    if batch.dry_run:
        batch.counts.archived += len(to_archive)
        return
    for start in range(0, len(to_archive), BATCH):
        chunk = to_archive[start : start + BATCH]
        try:
            batch.call(
                batch.client.crm_batch, batch.tab.object_type, "archive", {"inputs": [{"id": h} for _, h in chunk]}
            )
        except ApiError as exc:
            for qbo_id, hubspot_id in chunk:
                batch.entry("failed", f"Could not archive the HubSpot {batch.noun}: {exc.message}", qbo_id, hubspot_id)
            continue
        for qbo_id, hubspot_id in chunk:
            batch.counts.archived += 1
            batch.entry(
                "applied",
                f"Archived {batch.noun} {hubspot_id}: the {batch.tab.entity.lower()} is {what}",
                qbo_id,
                hubspot_id,
            )


# -- creates and updates -----------------------------------------------------------------------------------
@dataclass
class Planned:
    qbo_id: str
    key: str  # the link value
    action: str  # "create" | "update" | "link" (update a matched record by id)
    hubspot_id: str | None
    properties: dict[str, str]


def _matches(batch: Batch, unlinked: list[dict[str, Any]], wanted: list[str]) -> dict[str, dict[str, Any]]:
    """Unlinked QBO id -> the HubSpot record it matches (contacts by email, products by SKU)."""
    out: dict[str, dict[str, Any]] = {}
    if batch.tab == Tab.CONTACTS:
        emails = {str(r["Id"]): email_of(r) for r in unlinked if email_of(r)}
        if emails:
            found = _read_by(batch, "email", list(emails.values()), wanted)
            out = {qbo_id: found[email] for qbo_id, email in emails.items() if email in found}
    elif batch.tab == Tab.PRODUCTS:
        skus = {str(r["Id"]): str(r.get("Sku")).strip() for r in unlinked if str(r.get("Sku") or "").strip()}
        if skus:
            body = {
                "filterGroups": [
                    {"filters": [{"propertyName": "hs_sku", "operator": "IN", "values": sorted(set(skus.values()))}]}
                ],
                "properties": sorted(set(wanted) | {"hs_sku"}),
                "limit": 200,
            }
            answer = batch.call(batch.client.crm_search, "products", body, search=True)
            by_sku: dict[str, dict[str, Any]] = {}
            for record in answer.get("results", []):
                sku = (record.get("properties") or {}).get("hs_sku")
                if sku and sku not in by_sku:  # several products with one SKU: the oldest wins
                    by_sku[sku] = record
            out = {qbo_id: by_sku[sku] for qbo_id, sku in skus.items() if sku in by_sku}
    return out


def _changed(batch: Batch, values: dict[str, str], current: dict[str, Any]) -> dict[str, str]:
    changed = {}
    for name, value in values.items():
        prop = batch.properties.get(name)
        now = current.get(name)
        if prop is None:
            if (now or "") != value:
                changed[name] = value
        elif comparable(prop, value) != comparable(prop, now):
            changed[name] = value
    return changed


def _upsert_chunk(batch: Batch, raws: list[dict[str, Any]]) -> None:
    tab, mappings = batch.tab, batch.settings.mappings
    wanted = sorted(
        {m.hubspot_property for m in mappings if m.hubspot_property in batch.properties} | {tab.link_property}
    )
    if tab == Tab.INVOICES:
        wanted.append("hs_invoice_billable")
    keys = {str(r["Id"]): link_value(batch.realm_id, str(r["Id"])) for r in raws}
    linked = _read_by(batch, tab.link_property, list(keys.values()), wanted)
    unlinked = [r for r in raws if keys[str(r["Id"])] not in linked]
    matched = _matches(batch, unlinked, wanted) if unlinked else {}
    claimed: set[str] = set()
    new_emails: dict[str, str] = {}  # email -> the QBO id that creates its contact in this batch
    plans: list[Planned] = []
    for raw in raws:
        qbo_id = str(raw["Id"])
        key = keys[qbo_id]
        values, problems = record_values(tab, raw, mappings, batch.properties, batch.ctx)
        for problem in problems:
            batch.problem(problem, qbo_id)
        record = linked.get(key)
        if record is not None:
            changed = _changed(batch, values, record.get("properties") or {})
            if not changed:
                batch.entry(
                    "skipped", f"{batch.noun.title()} {record['id']} is already up to date", qbo_id, record["id"]
                )
                continue
            plans.append(Planned(qbo_id, key, "update", record["id"], changed))
            continue
        match = matched.get(qbo_id)
        if match is not None:
            other = (match.get("properties") or {}).get(tab.link_property)
            how = "email" if tab == Tab.CONTACTS else "SKU"
            if other and other != key:
                batch.entry(
                    "skipped",
                    f"{batch.noun.title()} {match['id']} has the same {how} "
                    f"but mirrors another QuickBooks record ({other})",
                    qbo_id,
                    match["id"],
                )
                continue
            if match["id"] in claimed:
                batch.entry(
                    "skipped",
                    f"{batch.noun.title()} {match['id']} already matched another record of this batch by {how}",
                    qbo_id,
                    match["id"],
                )
                continue
            claimed.add(match["id"])
            changed = _changed(batch, values, match.get("properties") or {})
            plans.append(Planned(qbo_id, key, "link", match["id"], {**changed, tab.link_property: key}))
            continue
        if batch.settings.on_change == "update_only":
            batch.entry(
                "skipped",
                f"No matching HubSpot {batch.noun}, and the tab is set to update existing records only",
                qbo_id,
            )
            continue
        email = email_of(raw) if tab == Tab.CONTACTS else None
        if email and email in new_emails:
            batch.entry(
                "skipped",
                f"QuickBooks customer {new_emails[email]} has the same email and gets the contact "
                "(HubSpot allows one contact per email)",
                qbo_id,
            )
            continue
        if email:
            new_emails[email] = qbo_id
        plans.append(Planned(qbo_id, key, "create", None, {k: v for k, v in values.items() if v != ""}))
    if batch.dry_run:
        for plan in plans:
            if plan.action == "create":
                batch.counts.created += 1
            else:
                batch.counts.updated += 1
        return
    written = _write(batch, plans)
    if tab == Tab.INVOICES and written:
        _invoice_associations(batch, {str(r["Id"]): r for r in raws}, written)


def _write(batch: Batch, plans: list[Planned]) -> dict[str, tuple[str, bool]]:
    """Writes the plans; qbo id -> (HubSpot id, created?) of each record written."""
    tab = batch.tab
    written: dict[str, tuple[str, bool]] = {}
    by_key = {p.key: p for p in plans}
    upserts = [p for p in plans if p.action in ("create", "update")]
    links = [p for p in plans if p.action == "link"]
    for action, group in (("upsert", upserts), ("update", links)):
        pending = group
        for attempt in range(2):
            if not pending:
                break
            inputs = [
                {"id": p.key, "idProperty": tab.link_property, "properties": p.properties, "objectWriteTraceId": p.key}
                if action == "upsert"
                else {"id": p.hubspot_id, "properties": p.properties, "objectWriteTraceId": p.key}
                for p in pending
            ]
            try:
                answer = batch.call(batch.client.crm_batch, tab.object_type, action, {"inputs": inputs})
            except ApiError as exc:
                for p in pending:
                    batch.entry("failed", f"HubSpot refused the batch: {exc.message}", p.qbo_id, p.hubspot_id)
                break
            for result in answer.get("results", []):
                trace = result.get("objectWriteTraceId") or (result.get("properties") or {}).get(tab.link_property)
                plan = by_key.get(str(trace))
                if plan is None:
                    continue
                created = bool(result.get("new")) if action == "upsert" else False
                written[plan.qbo_id] = (str(result["id"]), created)
                batch.written_properties.update(plan.properties)
                verb = "Created" if created else ("Linked and updated" if plan.action == "link" else "Updated")
                if created:
                    batch.counts.created += 1
                else:
                    batch.counts.updated += 1
                batch.entry("applied", f"{verb} {batch.noun} {result['id']}", plan.qbo_id, str(result["id"]))
            retry: list[Planned] = []
            for error in answer.get("errors", []):
                for trace in (error.get("context") or {}).get("objectWriteTraceId", []) or []:
                    plan = by_key.get(str(trace))
                    if plan is None:
                        continue
                    refused = _refused_properties(error)
                    droppable = [n for n in refused if n in plan.properties and n != tab.link_property]
                    if attempt == 0 and droppable and error.get("category") == "VALIDATION_ERROR":
                        for name in droppable:
                            qbo_field = next(
                                (m.qbo_field for m in batch.settings.mappings if m.hubspot_property == name), ""
                            )
                            batch.problem(
                                PropertyProblem(
                                    hubspot_property=name,
                                    qbo_field=qbo_field,
                                    reason=f"HubSpot refused the value: {_short(error)}",
                                ),
                                plan.qbo_id,
                            )
                            plan.properties.pop(name, None)
                        retry.append(plan)
                    else:
                        batch.entry(
                            "failed", f"HubSpot refused the {batch.noun}: {_short(error)}", plan.qbo_id, plan.hubspot_id
                        )
                if (error.get("context") or {}).get("ids") and action == "update":
                    for missing in error["context"]["ids"]:
                        for plan in pending:
                            if plan.hubspot_id == str(missing):
                                batch.entry(
                                    "failed",
                                    f"HubSpot {batch.noun} {missing} no longer exists",
                                    plan.qbo_id,
                                    plan.hubspot_id,
                                )
            pending = retry
    return written


def _refused_properties(error: dict[str, Any]) -> list[str]:
    names: list[str] = list((error.get("context") or {}).get("propertyName", []) or [])
    for detail in error.get("errors") or []:
        names += (detail.get("context") or {}).get("propertyName", []) or []
    return list(dict.fromkeys(names))


def _short(error: dict[str, Any]) -> str:
    details = [d.get("message") for d in error.get("errors") or [] if d.get("message")]
    text = "; ".join(details) if details else str(error.get("message") or error.get("category") or "error")
    return text[:300]


# -- invoices: associations and line items ---------------------------------------------------------------
def _invoice_associations(batch: Batch, raws: dict[str, dict[str, Any]], written: dict[str, tuple[str, bool]]) -> None:
    notes: dict[str, list[str]] = {}
    try:
        _associate_contacts(batch, raws, written, notes)
        _associate_deals(batch, written, notes)
        _sync_line_items(batch, raws, written, notes)
    except ApiError as exc:
        for qbo_id in written:
            notes.setdefault(qbo_id, []).append(f"associations failed: {exc.message}")
    for entry in batch.entries:
        if entry.qbo_id in notes and entry.outcome == "applied" and entry.entity == "Invoice":
            entry.reason += " (" + "; ".join(notes[entry.qbo_id]) + ")"


def _associate(batch: Batch, to_type: str, type_id: int, pairs: list[tuple[str, str]]) -> None:
    for start in range(0, len(pairs), BATCH):
        inputs = [
            {
                "from": {"id": f},
                "to": {"id": t},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
            }
            for f, t in pairs[start : start + BATCH]
        ]
        batch.call(batch.client.associations_batch, "invoices", to_type, "create", inputs)


def _associate_contacts(
    batch: Batch, raws: dict[str, dict[str, Any]], written: dict[str, tuple[str, bool]], notes: dict[str, list[str]]
) -> None:
    customer_of = {qbo_id: str((raws[qbo_id].get("CustomerRef") or {}).get("value") or "") for qbo_id in written}
    keys = {c: link_value(batch.realm_id, c) for c in customer_of.values() if c}
    contacts = _read_by_type(batch, "contacts", Tab.CONTACTS.link_property, list(keys.values()))
    pairs = []
    for qbo_id, (invoice_id, _) in written.items():
        contact = contacts.get(keys.get(customer_of[qbo_id], ""))
        if contact is None:
            notes.setdefault(qbo_id, []).append(f"customer {customer_of[qbo_id]} has no synced contact")
        else:
            pairs.append((invoice_id, contact["id"]))
            notes.setdefault(qbo_id, []).append(f"contact {contact['id']}")
    _associate(batch, "contacts", INVOICE_TO_CONTACT, pairs)


def _read_by_type(batch: Batch, object_type: str, id_property: str, values: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(v for v in values if v))
    for start in range(0, len(unique), BATCH):
        body = {
            "inputs": [{"id": v} for v in unique[start : start + BATCH]],
            "idProperty": id_property,
            "properties": [id_property],
        }
        try:
            answer = batch.call(batch.client.crm_batch, object_type, "read", body)
        except ApiError as exc:
            if exc.http_status == 400:  # the link property does not exist yet: nothing is linked
                return found
            raise
        for record in answer.get("results", []):
            value = (record.get("properties") or {}).get(id_property)
            if value:
                found[value] = record
    return found


def _associate_deals(batch: Batch, written: dict[str, tuple[str, bool]], notes: dict[str, list[str]]) -> None:
    if batch.ports.invoice_links is None:
        return
    pairs = []
    for qbo_id, (invoice_id, _) in written.items():
        for link in batch.ports.invoice_links(batch.portal_id, batch.realm_id, qbo_id):
            if getattr(link, "object_type", None) == "deals":
                pairs.append((invoice_id, str(link.object_id)))
                notes.setdefault(qbo_id, []).append(f"deal {link.object_id}")
    _associate(batch, "deals", INVOICE_TO_DEAL, pairs)


def _line_values(
    batch: Batch, raw: dict[str, Any], line: dict[str, Any], products: dict[str, dict[str, Any]]
) -> dict[str, str]:
    detail = line.get("SalesItemLineDetail") or {}
    item = detail.get("ItemRef") or {}
    qty = to_decimal(detail.get("Qty"), to_decimal(1))
    amount = to_decimal(line.get("Amount"), to_decimal(0))
    price = to_decimal(detail.get("UnitPrice"), amount / qty if qty else amount)
    currency = ((raw.get("CurrencyRef") or {}).get("value") or batch.connection.home_currency or "").upper()
    values = {
        "name": str(item.get("name") or line.get("Description") or f"Line {line.get('LineNum') or line.get('Id')}")[
            :500
        ],
        "description": str(line.get("Description") or ""),
        "quantity": format(qty.normalize(), "f"),
        "price": format(price.normalize(), "f"),
        LINE_LINK_PROPERTY: f"{batch.realm_id}:{raw['Id']}:{line.get('Id')}",
    }
    if currency:
        values["hs_line_item_currency_code"] = currency
    product = products.get(link_value(batch.realm_id, str(item.get("value")))) if item.get("value") else None
    if product is not None:
        values["hs_product_id"] = product["id"]
    return values


def _sync_line_items(
    batch: Batch, raws: dict[str, dict[str, Any]], written: dict[str, tuple[str, bool]], notes: dict[str, list[str]]
) -> None:
    lines = {
        qbo_id: [line for line in raws[qbo_id].get("Line") or [] if line.get("DetailType") == "SalesItemLineDetail"]
        for qbo_id in written
    }
    item_keys = [
        link_value(batch.realm_id, str((line.get("SalesItemLineDetail") or {}).get("ItemRef", {}).get("value")))
        for found in lines.values()
        for line in found
        if (line.get("SalesItemLineDetail") or {}).get("ItemRef", {}).get("value")
    ]
    products = _read_by_type(batch, "products", Tab.PRODUCTS.link_property, item_keys) if item_keys else {}
    existing_ids: dict[str, list[str]] = {}
    updated_invoices = [invoice_id for invoice_id, created in written.values() if not created]
    if updated_invoices:
        answer = batch.call(
            batch.client.associations_batch, "invoices", "line_items", "read", [{"id": i} for i in updated_invoices]
        )
        for result in answer.get("results", []):
            existing_ids[str(result["from"]["id"])] = [str(t["toObjectId"]) for t in result.get("to") or []]
    all_existing = [i for ids in existing_ids.values() for i in ids]
    props = [
        "name",
        "description",
        "quantity",
        "price",
        "hs_line_item_currency_code",
        "hs_product_id",
        LINE_LINK_PROPERTY,
    ]
    current: dict[str, dict[str, Any]] = {}
    for start in range(0, len(all_existing), BATCH):
        body = {"inputs": [{"id": i} for i in all_existing[start : start + BATCH]], "properties": props}
        for record in batch.call(batch.client.crm_batch, "line_items", "read", body).get("results", []):
            current[record["id"]] = record.get("properties") or {}
    creates, updates, archives = [], [], []
    line_props = hubspot_properties(batch.ports, batch.client, batch.portal_id, "line_items")
    for qbo_id, (invoice_id, _) in written.items():
        by_key = {current[i].get(LINE_LINK_PROPERTY): i for i in existing_ids.get(invoice_id, []) if i in current}
        wanted_keys = set()
        for line in lines[qbo_id]:
            values = _line_values(batch, raws[qbo_id], line, products)
            key = values[LINE_LINK_PROPERTY]
            wanted_keys.add(key)
            if key in by_key:
                changed = {
                    k: v
                    for k, v in values.items()
                    if k not in line_props
                    or comparable(line_props[k], v) != comparable(line_props[k], current[by_key[key]].get(k))
                }
                if changed:
                    updates.append({"id": by_key[key], "properties": changed})
            else:
                creates.append(
                    {
                        "properties": values,
                        "associations": [
                            {
                                "to": {"id": invoice_id},
                                "types": [
                                    {
                                        "associationCategory": "HUBSPOT_DEFINED",
                                        "associationTypeId": LINE_ITEM_TO_INVOICE,
                                    }
                                ],
                            }
                        ],
                    }
                )
        archives += [{"id": line_id} for key, line_id in by_key.items() if key not in wanted_keys]
        notes.setdefault(qbo_id, []).append(f"{len(lines[qbo_id])} line item{'s' if len(lines[qbo_id]) != 1 else ''}")
    for action, inputs in (("create", creates), ("update", updates), ("archive", archives)):
        for start in range(0, len(inputs), BATCH):
            batch.call(batch.client.crm_batch, "line_items", action, {"inputs": inputs[start : start + BATCH]})


# -- mapping status ----------------------------------------------------------------------------------------
def _save_mapping_status(batch: Batch) -> None:
    if batch.dry_run:
        return
    now = batch.ports.clock()
    statuses = []
    for mapping in batch.settings.mappings:
        name = mapping.hubspot_property
        if name in batch.problems:
            problem, qbo_id = batch.problems[name]
            statuses.append(
                MappingStatus(
                    hubspot_property=name,
                    qbo_field=mapping.qbo_field,
                    state="failing",
                    last_error=problem.reason,
                    record=qbo_id,
                    at=now,
                )
            )
        elif name in batch.written_properties:
            statuses.append(MappingStatus(hubspot_property=name, qbo_field=mapping.qbo_field, state="synced", at=now))
    if statuses:
        batch.ports.settings.record_mapping_status(batch.portal_id, batch.realm_id, batch.tab, statuses)


# -- backfill -----------------------------------------------------------------------------------------------
def _select_page(tab: Tab, start: int, size: int) -> str:
    extra = ("Sku",) if tab == Tab.PRODUCTS else ()
    return q.select(tab.entity, extra_fields=extra, order_by="Id", start=start, max_results=size)


def start_backfill(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, mode: str) -> BackfillRun:
    """Counts the tab's QBO records and queues one message per chunk; the run as stored."""
    if mode not in ("preview", "run"):
        raise BadInput("mode must be preview or run")
    settings = ports.settings.tab(portal_id, realm_id, tab)
    if mode == "run" and not settings.enabled:
        raise Conflict(f"Turn on the {tab.value.title()} sync before syncing existing records.")
    if ports.queue is None:
        raise Conflict("No queue to run the backfill on")
    client = ports.qbo_client(portal_id, realm_id)  # NotFound for another portal's company
    total = client.query_count(f"SELECT COUNT(*) FROM {tab.entity}")  # noqa: S608 - a fixed entity name
    chunks = math.ceil(total / CHUNK_SIZE)
    run = BackfillRun(
        run_id=uuid.uuid4().hex[:16],
        tab=tab,
        mode=mode,  # type: ignore[arg-type]
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
        raise Conflict(
            f"A {previous.mode} of existing records is running "
            f"({previous.chunks_done} of {previous.chunks} parts done): wait for it or resume it."
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
            tab=run.tab.value,  # type: ignore[arg-type]
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
        ports.queue().send(messages)  # type: ignore[arg-type]
    return len(messages)


def resume_backfill(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab) -> tuple[BackfillRun, int]:
    """Queues again the chunks of the running backfill that have not finished; (run, chunks queued)."""
    run = ports.settings.backfill(portal_id, realm_id, tab)
    if run is None:
        raise NotFound("No backfill has been started for this tab.")
    if run.status == "done":
        raise Conflict("The last backfill finished; start a new one instead.")
    done = ports.settings.chunks_done(portal_id, realm_id, tab, run.run_id)
    queued = _queue_chunks(ports, portal_id, realm_id, run, [n for n in range(run.chunks) if n not in done])
    logger.info("Backfill resumed", extra={"portal_id": portal_id, "tab": str(tab), "requeued": queued})
    return run, queued


def backfill_status(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab) -> BackfillRun | None:
    return ports.settings.backfill(portal_id, realm_id, tab)


def run_backfill_chunk(ports: SyncPorts, message: SyncBackfillMessage) -> list[SyncLogEntry]:
    """One chunk: read its QBO page, decide (preview) or write (run), count it once, log every record."""
    tab = Tab(message.tab)
    run = ports.settings.backfill(message.portal_id, message.realm_id, tab)
    if run is None or run.run_id != message.run_id or run.status == "done":
        logger.info("Stale backfill chunk dropped", extra={"run_id": message.run_id, "chunk": message.chunk})
        return []
    settings = ports.settings.tab(message.portal_id, message.realm_id, tab)
    dry_run = message.mode == "preview"
    qbo = ports.qbo_client(message.portal_id, message.realm_id)
    rows = qbo.query(_select_page(tab, message.start, message.size))
    event_id = f"backfill:{message.run_id}:{message.chunk}"
    if not dry_run and not settings.enabled:
        batch = Batch(
            ports,
            message.portal_id,
            message.realm_id,
            tab,
            settings,
            None,
            None,
            {},
            RecordContext(realm_id=message.realm_id),  # type: ignore[arg-type]
            event_id=event_id,
            source="backfill",
        )
        for raw in rows:
            batch.entry(
                "skipped", f"The {tab.value.title()} sync was turned off during the backfill", str(raw.get("Id"))
            )
    else:
        batch = _open_batch(
            ports,
            message.portal_id,
            message.realm_id,
            tab,
            settings,
            dry_run=dry_run,
            event_id=event_id,
            source="backfill",
        )
        sync_records(batch, rows, [])
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
    c = batch.counts
    if dry_run:
        summary = f"would create {c.created}, update {c.updated}, skip {c.skipped}"
    else:
        summary = (
            f"created {c.created}, updated {c.updated}, skipped {c.skipped}, archived {c.archived}, failed {c.failed}"
        )
    what = "Preview" if dry_run else "Sync of existing records"
    return [
        SyncLogEntry(
            scope=SyncLogEntry.portal_scope(message.portal_id),
            outcome="applied",
            reason=f"{what}, part {message.chunk + 1} ({len(rows)} {tab.entity} rows): {summary}",
            entity=tab.entity,
            realm_id=message.realm_id,
            event_id=event_id,
            source="backfill",
            at=datetime.fromtimestamp(ports.clock(), UTC),
        )
    ]
