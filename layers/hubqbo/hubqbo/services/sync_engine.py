"""The sync engine: QBO customers → HubSpot contacts, items → products, invoices → HubSpot invoices.

Entry points
------------
- `apply_changes(ports, portal_id, realm_id, entity, raw_objects, deleted_ids)`: what the worker
  calls for Customer, Item and Invoice changes (the objects already read from QBO). Returns the
  sync-log entries; the worker writes them.
- `sync_records(batch, ...)`: the same for "Sync existing records" (`services.sync_backfill`), one
  chunk of QBO rows at a time.

Read → plan → write → log: the engine reads what HubSpot holds (batch reads through the client),
`domain.sync_plan` decides each record's action, the engine writes the actions through the client's
typed batch calls and turns the results into sync-log entries.

What one batch does (≤ 100 records per HubSpot call)
----------------------------------------------------
1. The tab's settings decide: off → every record skipped; "do nothing" → changes skipped; deleted
   records (inactive customers and items, deleted invoices) are archived or skipped; a voided
   invoice is a status change, written like any other (Voided, balance 0).
2. Matching: a batch read on hubqbo's unique link property (`<realm>:<QBO id>`) finds linked records
   (the one read per 100 records), for the QBO ids hubqbo has ever linked (`domain.linked_ids`, kept in
   the table and grown before each write); an id never linked cannot be held by any HubSpot record, so
   it is written without a read (an upsert on the link property cannot duplicate it). A product is then
   matched by SKU (one search). A contact is matched by email only where it must be: with "update
   existing only" (the plan cannot tell a create from a match without it), in a preview, and for the
   contacts HubSpot refuses to create because their email is taken (CONFLICT): those are read by email
   and planned again, so a matched record is updated and linked, never duplicated, and a contact
   mirroring another QBO customer is never taken over. A batch of new customers thus costs one upsert.
   With "update existing only", an unmatched record is skipped.
3. Values come from the mappings (`domain.mappings.record_values`). A linked record whose values did
   not change is skipped as unchanged; otherwise only the changed properties are written: creates and
   linked updates in one batch upsert on the link property, matched records in one batch update.
   One bad record fails alone, and a property HubSpot refuses is dropped for that record and the
   record written again without it (the client's `write_many`). A value the portal's own validation
   rules refuse (enforced from API version 2026-09) makes the record a final, logged skip that names
   the property and the rule's message. Only a refusal about what was sent (a 4xx) is final; a 429,
   5xx or timeout of either API raises, so the worker retries the change with backoff and, after its
   attempts, leaves it in the dead-letter queue with the reason.
4. Invoices are written as tracking-only HubSpot invoices (`hs_invoice_billable` false), then
   (`services.sync_invoices`) associated in batches to the contact (by the customer's link), to the
   deals the invoicing feature linked, and to line items mirrored from the QBO lines.
5. Reactivated records. HubSpot's CRM API has no call that restores an archived record (the
   contacts spec has none; the archive docs send people to the recycling bin in HubSpot's UI:
   https://knowledge.hubspot.com/records/restore-deleted-records). What HubSpot documents is that a
   deleted contact comes back when its email is used again
   (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/v1/delete-contacts-v1-contactvidcontact-id.md),
   so a customer made active again is upserted with its email and the archived contact returns with
   its id, history and associations ("Restored contact ..."); a product or a customer without an email
   has no such way back and is created anew.
6. Each mapped property's status (synced / failing, last error, record) is stored for the settings page.

Echo-free: this engine only writes HubSpot and never QBO, so nothing it does fires a QBO webhook.
HubSpot webhooks are not subscribed today; if they are added for the other direction, two guards
keep our own writes from looping back: a HubSpot event whose `sourceId` is this app's id (HubSpot
stamps the writing app) must be dropped at intake, and even an event that slipped through is
harmless because this engine writes nothing when the values already match (a second pass over the
same record is "unchanged", so no loop can keep itself going).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hubqbo import clock as product_clock
from hubqbo.clients.http import CallCounter
from hubqbo.clients.hubspot import Dropped, HubSpotClient, PropertyCatalog, WriteFailed, WriteInput, Written
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import sync_plan
from hubqbo.domain.batching import batched
from hubqbo.domain.dates import local_today, zone_or_utc
from hubqbo.domain.field_types import HubSpotProperty, HubSpotRecord
from hubqbo.domain.linked_ids import LinkedIds
from hubqbo.domain.mappings import (
    GROUP_LABEL,
    GROUP_NAME,
    PropertyProblem,
    RecordContext,
    Tab,
    email_of,
    link_definitions,
    link_value,
)
from hubqbo.domain.text import N_, Text
from hubqbo.errors import NotFound
from hubqbo.observability import logger
from hubqbo.services.sync_invoices import invoice_associations
from hubqbo.store.connections import Connection, ConnectionStore
from hubqbo.store.queue import SyncQueue
from hubqbo.store.settings import MappingStatus, SettingsStore, TabSettings
from hubqbo.store.sync_log import Outcome, SyncLog, SyncLogEntry

BATCH = 100  # records planned together (one HubSpot batch of reads and writes)
SCHEMA_VERSION = 1  # bump when link_definitions change


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
    clock: Callable[[], float] = product_clock.now
    properties: PropertyCatalog = field(default_factory=PropertyCatalog)  # the process's one, from wiring
    counter: CallCounter = field(default_factory=CallCounter)

    def hubspot_client(self, portal_id: int) -> HubSpotClient:
        return self.counter.track(self.hubspot(portal_id))

    def qbo_client(self, portal_id: int, realm_id: str) -> QboClient:
        return self.counter.track(self.qbo(portal_id, realm_id))

    def calls(self) -> dict[str, int]:
        return self.counter.totals()


def ensure_schema(ports: SyncPorts, client: HubSpotClient, portal_id: int, tab: Tab) -> None:
    """hubqbo's group and link properties exist (created once per portal and tab, then remembered)."""
    if ports.settings.schema_version(portal_id, tab) >= SCHEMA_VERSION:
        return
    for object_type, definition in link_definitions(tab):
        client.ensure_property_group(object_type, {"name": GROUP_NAME, "label": GROUP_LABEL, "displayOrder": -1})
        client.ensure_property(object_type, definition)
        ports.properties.forget(portal_id, object_type)
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
    up_to_date: int = 0  # of `skipped`: the HubSpot record already holds the values
    not_allowed: int = 0  # of `skipped`: the tab's settings leave the record out

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
    linked_ids: LinkedIds | None = None  # read once per batch
    unread: set[str] = field(default_factory=set)  # QBO ids written without reading HubSpot first

    @property
    def noun(self) -> str:
        return self.tab.singular

    def entry(self, outcome: Outcome, reason: str, qbo_id: str | None, hubspot_id: str | None = None) -> SyncLogEntry:
        entry = SyncLogEntry(
            scope=SyncLogEntry.portal_scope(self.portal_id),
            outcome=outcome,
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


def open_batch(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, settings: TabSettings, **kw: Any) -> Batch:
    connection = ports.connections.get_connection(portal_id, realm_id)
    if connection is None:
        raise NotFound(f"No QuickBooks company {realm_id} is connected to this HubSpot account.")
    client = ports.hubspot_client(portal_id)
    ensure_schema(ports, client, portal_id, tab)  # a preview needs the link property to read by, too
    properties = ports.properties.get(client, portal_id, tab.object_type)
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
        actions = sync_plan.plan(raw_objects, {}, {}, settings, {}, RecordContext(realm_id), deleted_ids=deleted_ids)
        skips = [a for a in actions if isinstance(a, sync_plan.Skip)]  # a tab that is off only skips
        return [
            SyncLogEntry(
                scope=scope,
                outcome="skipped",
                reason=skip.reason,
                entity=entity,
                qbo_id=skip.qbo_id,
                realm_id=realm_id,
                event_id=event_id,
                source=source,
                at=datetime.fromtimestamp(ports.clock(), UTC),
            )
            for skip in skips
        ]
    batch = open_batch(ports, portal_id, realm_id, tab, settings, event_id=event_id, source=source)
    sync_records(batch, raw_objects, deleted_ids)
    return batch.entries


def sync_records(batch: Batch, raw_objects: list[dict[str, Any]], deleted_ids: Iterable[str]) -> Batch:
    """Decide (and, unless a dry run, write) every record; fills the batch's entries and counts."""
    rules = batch.settings
    gone, live = sync_plan.partition(batch.tab, raw_objects, deleted_ids)
    if gone:
        maybe = [i for i in gone if _may_be_linked(batch, i)]
        linked = (
            _read_linked(batch, [link_value(batch.realm_id, i) for i in maybe], [])
            if sync_plan.archives(rules) and maybe
            else {}
        )
        _apply(batch, sync_plan.plan_deletions(gone, linked, rules, batch.realm_id), {})
    skips, upserts = sync_plan.plan_unsynced(live, rules)
    _apply(batch, skips, {})
    for chunk in batched(upserts, BATCH):
        _upsert_chunk(batch, [dict(r) for r in chunk])
    _save_mapping_status(batch)
    return batch


def _apply(
    batch: Batch,
    actions: Iterable[sync_plan.Action],
    raws: dict[str, dict[str, Any]],
    conflicts: list[sync_plan.Write] | None = None,
) -> None:
    """Log the skips, count (dry run) or write the rest. With `conflicts`, a create HubSpot refused for a
    unique value another record holds is put there (to be matched and planned again), not logged."""
    writes: list[sync_plan.Write] = []
    archives: list[sync_plan.Archive] = []
    current: dict[str, tuple[str, bool]] = {}  # up-to-date records: qbo id -> (HubSpot id, False)
    for action in actions:
        for problem in getattr(action, "problems", ()):
            batch.problem(problem, action.qbo_id)
        if isinstance(action, sync_plan.Skip):
            batch.entry("skipped", action.reason, action.qbo_id, action.hubspot_id)
            batch.counts.up_to_date += action.up_to_date
            batch.counts.not_allowed += action.by_settings
            if action.up_to_date and action.hubspot_id:
                current[action.qbo_id] = (action.hubspot_id, False)
        elif isinstance(action, sync_plan.Archive):
            archives.append(action)
        else:
            writes.append(action)
    if batch.dry_run:
        batch.counts.archived += len(archives)
        batch.counts.created += sum(isinstance(w, sync_plan.Create) for w in writes)
        batch.counts.updated += sum(not isinstance(w, sync_plan.Create) for w in writes)
        return
    if archives:
        _archive(batch, archives)
    written = _write(batch, writes, conflicts) if writes else {}
    if batch.tab == Tab.INVOICES and (written or current):
        # An up-to-date invoice is associated again too: a change retried after a fault in this step
        # finds the invoice written already, and must still finish its associations.
        invoice_associations(batch, raws, {**current, **written})


# -- reads -----------------------------------------------------------------------------------------------
def _read_linked(batch: Batch, keys: Iterable[str], properties: list[str]) -> dict[str, HubSpotRecord]:
    """Records linked by these link values, keyed by the value."""
    link = batch.tab.link_property
    records = batch.client.read_by(batch.tab.object_type, keys, properties, id_property=link)
    return {str(r.properties[link]): r for r in records if r.properties.get(link)}


def _matches(batch: Batch, unlinked: list[dict[str, Any]], wanted: list[str]) -> dict[str, HubSpotRecord]:
    """Unlinked QBO id -> the HubSpot record it matches (contacts by email, products by SKU)."""
    client, object_type = batch.client, batch.tab.object_type
    if batch.tab == Tab.CONTACTS:
        emails = {str(r["Id"]): e for r in unlinked if (e := email_of(r))}
        found = client.read_by(object_type, emails.values(), wanted, id_property="email") if emails else []
        by_email = {str(r.properties["email"]).lower(): r for r in found if r.properties.get("email")}
        return {qbo_id: by_email[email] for qbo_id, email in emails.items() if email in by_email}
    if batch.tab == Tab.PRODUCTS:
        skus = {str(r["Id"]): sku for r in unlinked if (sku := str(r.get("Sku") or "").strip())}
        by_sku: dict[str, HubSpotRecord] = {}
        for record in client.search_in(object_type, "hs_sku", skus.values(), wanted) if skus else []:
            sku = record.properties.get("hs_sku") or ""
            if sku and sku not in by_sku:  # several products with one SKU: the oldest wins
                by_sku[sku] = record
        return {qbo_id: by_sku[sku] for qbo_id, sku in skus.items() if sku in by_sku}
    return {}


def _may_be_linked(batch: Batch, qbo_id: str) -> bool:
    if batch.linked_ids is None:
        batch.linked_ids = batch.ports.settings.linked_ids(batch.portal_id, batch.realm_id, batch.tab)
    return batch.linked_ids.may_be_linked(qbo_id)


def _upsert_chunk(batch: Batch, raws: list[dict[str, Any]]) -> None:
    """Read what ≤ 100 records are linked to (and, where the plan needs it first, what they match), plan
    them, write; contacts whose create met a taken email are matched by email and planned again."""
    wanted = sync_plan.read_properties(batch.settings, batch.properties)
    keys = {str(r["Id"]): link_value(batch.realm_id, str(r["Id"])) for r in raws}
    by_id = {str(r["Id"]): r for r in raws}
    maybe = [keys[i] for i in by_id if _may_be_linked(batch, i)]
    batch.unread.update(i for i in by_id if keys[i] not in maybe)
    linked = _read_linked(batch, maybe, wanted) if maybe else {}
    if not batch.dry_run:  # before the writes: a worker that reads after this reads HubSpot for them
        batch.linked_ids = batch.ports.settings.add_linked_ids(batch.portal_id, batch.realm_id, batch.tab, list(by_id))
    unlinked = [r for r in raws if keys[str(r["Id"])] not in linked]
    match_later = batch.tab == Tab.CONTACTS and not batch.dry_run and batch.settings.on_change != "update_only"
    matched = _matches(batch, unlinked, wanted) if unlinked and not match_later else {}
    actions = sync_plan.plan_upserts(raws, linked, matched, batch.settings, batch.properties, batch.ctx)
    conflicts: list[sync_plan.Write] = []
    _apply(batch, actions, by_id, conflicts if match_later else None)
    if conflicts:  # planned once more, with the matches this time; a conflict now is final
        again = [by_id[c.qbo_id] for c in conflicts]
        unlinked = [r for r in again if keys[str(r["Id"])] not in linked]
        matched = _matches(batch, unlinked, wanted) if unlinked else {}
        actions = sync_plan.plan_upserts(again, linked, matched, batch.settings, batch.properties, batch.ctx)
        _apply(batch, actions, {str(r["Id"]): r for r in again})


# -- writes ----------------------------------------------------------------------------------------------
def _archive(batch: Batch, archives: list[sync_plan.Archive]) -> None:
    failed = batch.client.archive_many(batch.tab.object_type, [a.hubspot_id for a in archives])
    for a in archives:
        if (error := failed.get(a.hubspot_id)) is not None:
            batch.entry(
                "failed", f"Could not archive the HubSpot {batch.noun}: {error.message}", a.qbo_id, a.hubspot_id
            )
        else:
            batch.counts.archived += 1
            batch.entry("applied", f"Archived {batch.noun} {a.hubspot_id}: {a.reason}", a.qbo_id, a.hubspot_id)


def _write(
    batch: Batch, writes: list[sync_plan.Write], conflicts: list[sync_plan.Write] | None = None
) -> dict[str, tuple[str, bool]]:
    """Creates and linked updates in one upsert on the link property, matched records in one update
    by id; qbo id -> (HubSpot id, created?) of each record written. A create refused for a taken unique
    value goes to `conflicts` when given."""
    upserts = [w for w in writes if not isinstance(w, sync_plan.Link)]
    links = [w for w in writes if isinstance(w, sync_plan.Link)]
    written: dict[str, tuple[str, bool]] = {}
    for group, upsert in ((upserts, True), (links, False)):
        if not group:
            continue
        by_trace = {w.key: w for w in group}
        inputs = [
            WriteInput(w.key, w.hubspot_id if isinstance(w, sync_plan.Link) else w.key, w.properties) for w in group
        ]
        answer = batch.client.write_many(
            batch.tab.object_type, inputs, unique_property=batch.tab.link_property, upsert=upsert
        )
        for dropped in answer.dropped:
            _dropped(batch, dropped, by_trace[dropped.trace].qbo_id)
        for outcome in answer.outcomes:
            plan = by_trace[outcome.trace]
            if isinstance(outcome, Written):
                written[plan.qbo_id] = (outcome.hubspot_id, outcome.created)
                _written(batch, plan, outcome)
            elif outcome.kind == "conflict" and conflicts is not None and not isinstance(plan, sync_plan.Link):
                conflicts.append(plan)  # a create (or, when HubSpot refused the whole call, any upsert)
            elif outcome.kind == "rule":
                _ruled_out(batch, outcome, plan.qbo_id, getattr(plan, "hubspot_id", None))
            else:
                batch.entry("failed", _failure(batch, outcome), plan.qbo_id, getattr(plan, "hubspot_id", None))
    return written


def _write_input(w: sync_plan.Write) -> WriteInput:
    """Upserts go by the link value, linked records by their HubSpot id; the link value names both."""
    return WriteInput(w.key, w.hubspot_id if isinstance(w, sync_plan.Link) else w.key, w.properties)


def _written(batch: Batch, plan: sync_plan.Write, outcome: Written) -> None:
    batch.written_properties.update(outcome.properties)
    if outcome.created:
        batch.counts.created += 1
    else:
        batch.counts.updated += 1
    if outcome.created:
        what = f"Created {batch.noun} {outcome.hubspot_id}"
    elif isinstance(plan, sync_plan.Create) and plan.qbo_id not in batch.unread:
        # nothing live held the link or the email: HubSpot brought it back
        what = f"Restored {batch.noun} {outcome.hubspot_id} from HubSpot's recycling bin"
    else:
        verb = "Linked and updated" if isinstance(plan, sync_plan.Link) else "Updated"
        what = f"{verb} {batch.noun} {outcome.hubspot_id}"
    batch.entry("applied", what, plan.qbo_id, outcome.hubspot_id)


def _failure(batch: Batch, failed: WriteFailed) -> str:
    if failed.kind == "batch":
        return f"HubSpot refused the batch: {failed.message}"
    if failed.kind == "missing":
        return f"HubSpot {batch.noun} {failed.message} no longer exists"
    return f"HubSpot refused the {batch.noun}: {failed.message}"


def _ruled_out(batch: Batch, refused: WriteFailed, qbo_id: str, hubspot_id: str | None) -> None:
    """The portal's validation rules refused the record: a final skip with HubSpot's reason (writing it
    again cannot pass until the value in QuickBooks or the rule changes), and each property it names
    is shown failing on the settings page."""
    reason = f"HubSpot's validation rules refused the {batch.noun} ({refused.message})"
    batch.entry("skipped", reason, qbo_id, hubspot_id)
    for name in refused.properties:
        qbo_field = next((m.qbo_field for m in batch.settings.mappings if m.hubspot_property == name), "")
        why = Text.of(N_("HubSpot's validation rules refused the value (%(message)s)"), message=refused.message)
        batch.problem(PropertyProblem(hubspot_property=name, qbo_field=qbo_field, reason=why), qbo_id)


def _dropped(batch: Batch, dropped: Dropped, qbo_id: str) -> None:
    """A property HubSpot refused for one record is shown failing on the settings page."""
    qbo_field = next((m.qbo_field for m in batch.settings.mappings if m.hubspot_property == dropped.property), "")
    reason = Text.of(N_("HubSpot refused the value: %(message)s"), message=dropped.message)
    batch.problem(PropertyProblem(hubspot_property=dropped.property, qbo_field=qbo_field, reason=reason), qbo_id)


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
