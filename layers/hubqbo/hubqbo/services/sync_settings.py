"""The settings page's use cases: read and change a tab, its mappings, the field lists both systems
offer, custom invoice properties, and the views the page shows (mapping status, backfill, log).

Every call is scoped by the caller's portal: a QBO company that is not connected to that portal is
NotFound (404), whoever asks. Bodies arrive as the typed models below (the HTTP edge validates them
and answers 400 with every field at fault); a mapping that breaks a type rule is refused as BadInput
with the rule's own sentence.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hubqbo.clients.errors import ApiError
from hubqbo.domain.field_types import IncompatibleMapping, Kind, QboField
from hubqbo.domain.mappings import (
    FIXED_INVOICE_PROPERTIES,
    GROUP_LABEL,
    GROUP_NAME,
    LINE_LINK_PROPERTY,
    QBO_FIELDS,
    Mapping,
    Tab,
    default_mappings,
    mapping_problem,
    qbo_field,
    validate_mapping,
)
from hubqbo.domain.text import N_, Text
from hubqbo.errors import BadInput, Conflict, NotFound
from hubqbo.services import sync_backfill
from hubqbo.services.sync_engine import SyncPorts
from hubqbo.store.dynamo import VersionConflict
from hubqbo.store.settings import OnChange, OnDelete, TabSettings
from hubqbo.store.sync_log import SyncLogEntry


def tab_of(name: str) -> Tab:
    try:
        return Tab(name)
    except ValueError:
        raise NotFound(Text.of(N_("There is no settings tab “%(tab)s”."), tab=name)) from None


def _connection(ports: SyncPorts, portal_id: int, realm_id: str) -> Any:
    connection = ports.connections.get_connection(portal_id, realm_id)
    if connection is None:
        raise NotFound(
            Text.of(N_("No QuickBooks company %(realm)s is connected to this HubSpot account."), realm=realm_id)
        )
    return connection


# -- companies and tabs --------------------------------------------------------------------------------
def companies(ports: SyncPorts, portal_id: int) -> list[dict[str, Any]]:
    return [
        {
            "realm_id": c.realm_id,
            "company_name": c.company_name,
            "status": str(c.status),
            "environment": str(c.environment),
            "home_currency": c.home_currency,
        }
        for c in sorted(ports.connections.list_connections(portal_id), key=lambda c: c.connected_at)
        if str(c.status) != "disconnected"
    ]


def _hubspot(ports: SyncPorts, portal_id: int, tab: Tab, *, fresh: bool = False) -> dict[str, Any]:
    client = ports.hubspot_client(portal_id)
    return ports.properties.get(client, portal_id, tab.object_type, fresh=fresh)


def tab_view(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, *, live: bool = True) -> dict[str, Any]:
    """The tab as the page shows it: switches, mappings (with labels, state and last error), backfill."""
    _connection(ports, portal_id, realm_id)
    settings = ports.settings.tab(portal_id, realm_id, tab)
    hubspot_error: str | None = None
    try:
        properties = _hubspot(ports, portal_id, tab, fresh=live)
    except ApiError as exc:
        properties, hubspot_error = {}, str(exc.message)
    statuses = ports.settings.mapping_status(portal_id, realm_id, tab)
    rows = []
    for m in settings.mappings:
        field = qbo_field(tab.entity, m.qbo_field)
        prop = properties.get(m.hubspot_property)
        problem = mapping_problem(tab, m, properties) if properties else None
        status = statuses.get(m.hubspot_property)
        state = "failing" if problem else (status.state if status else "not_synced_yet")
        rows.append(
            {
                "hubspot_property": m.hubspot_property,
                "hubspot_label": prop.display_label if prop else m.hubspot_property,
                "qbo_field": m.qbo_field,
                "qbo_label": field.display_label if field else m.qbo_field,
                "value_map": m.value_map,
                "state": state,
                "last_error": problem or (status.last_error if status else None),
                "record": None if problem else (status.record if status else None),
                "at": status.at if status else None,
            }
        )
    backfill = sync_backfill.backfill_status(ports, portal_id, realm_id, tab)
    return {
        "realm_id": realm_id,
        "tab": tab.value,
        "enabled": settings.enabled,
        "on_change": settings.on_change,
        "on_delete": settings.on_delete,
        "customized": settings.customized,
        "version": settings.version,
        "mappings": rows,
        "backfill": backfill.model_dump(mode="json") if backfill else None,
        "hubspot_error": hubspot_error,
    }


# Bounds of the settings API (docs/input-bounds.md, "Settings API"): a tab's settings are one item, whose
# 400 KB DynamoDB limit 200 value-map entries of these sizes stay far below; a version is a counter.
MAX_VERSION = 10**12
MapKey = Annotated[str, Field(min_length=1, max_length=100)]
MapValue = Annotated[str, Field(max_length=100)]
OptionLabel = Annotated[str, Field(min_length=1, max_length=100)]


class TabUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    on_change: OnChange | None = None
    on_delete: OnDelete | None = None
    version: int | None = Field(default=None, ge=0, le=MAX_VERSION, description="The version the page saw (optional)")


def update_tab(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, update: TabUpdate) -> dict[str, Any]:
    _connection(ports, portal_id, realm_id)
    settings = ports.settings.tab(portal_id, realm_id, tab)
    changes = update.model_dump(exclude_none=True, exclude={"version"})
    _save(ports, portal_id, realm_id, settings.model_copy(update=changes), update.version)
    return tab_view(ports, portal_id, realm_id, tab, live=False)


def _save(ports: SyncPorts, portal_id: int, realm_id: str, settings: TabSettings, version: int | None) -> TabSettings:
    try:
        return ports.settings.save_tab(
            portal_id, realm_id, settings, expected_version=settings.version if version is None else version
        )
    except VersionConflict:
        raise Conflict(
            Text.of(N_("These settings were changed meanwhile (another window?). Reload the page."))
        ) from None


# -- field lists -----------------------------------------------------------------------------------------
_TARGETS: dict[Kind, tuple[str, ...]] = {
    Kind.TEXT: ("text", "enumeration"),
    Kind.NUMBER: ("number",),
    Kind.DATE: ("date", "datetime"),
    Kind.DATETIME: ("date", "datetime"),
    Kind.BOOLEAN: ("boolean", "enumeration"),
    Kind.ENUMERATION: ("text", "enumeration"),
}


def _qbo_field_json(field: QboField) -> dict[str, Any]:
    return {
        "path": field.path,
        "label": field.display_label,
        "kind": field.kind.value,
        "values": list(field.values),
        "derived": field.derived,
        "feeds": list(_TARGETS[field.kind]),
    }


def field_lists(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab) -> dict[str, Any]:
    """HubSpot's properties (read live) and QBO's fields, each with its kind, for "Add new mapping"."""
    _connection(ports, portal_id, realm_id)
    properties = _hubspot(ports, portal_id, tab, fresh=True)
    reserved = {tab.link_property, LINE_LINK_PROPERTY, *FIXED_INVOICE_PROPERTIES}
    hubspot = [
        {
            "name": p.name,
            "label": p.display_label,
            "type": p.type,
            "kind": p.kind.value if p.kind else None,
            "options": list(p.options),
            "writable": not p.read_only and p.kind is not None and p.name not in reserved,
        }
        for p in sorted(properties.values(), key=lambda p: str(p.display_label).lower())
        if p.name not in reserved
    ]
    return {"hubspot": hubspot, "qbo": [_qbo_field_json(f) for f in QBO_FIELDS[tab.entity]]}


# -- mappings ----------------------------------------------------------------------------------------------
class MappingInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hubspot_property: str = Field(min_length=1, max_length=100)
    qbo_field: str = Field(min_length=1, max_length=100)
    value_map: dict[MapKey, MapValue] = Field(default_factory=dict, max_length=200)
    version: int | None = Field(default=None, ge=0, le=MAX_VERSION)


def _mapping(data: MappingInput) -> tuple[Mapping, int | None]:
    try:
        mapping = Mapping(hubspot_property=data.hubspot_property, qbo_field=data.qbo_field, value_map=data.value_map)
    except ValidationError:
        raise BadInput(Text.of(N_("Choose a HubSpot property and a QuickBooks field from the lists."))) from None
    return mapping, data.version


def _change_mappings(
    ports: SyncPorts,
    portal_id: int,
    realm_id: str,
    tab: Tab,
    mapping: Mapping | None,
    replacing: str | None,
    version: int | None,
) -> dict[str, Any]:
    _connection(ports, portal_id, realm_id)
    settings = ports.settings.tab(portal_id, realm_id, tab)
    current = list(settings.mappings)
    if replacing is not None and not any(m.hubspot_property == replacing for m in current):
        raise NotFound(Text.of(N_("There is no mapping for the HubSpot property “%(property)s”."), property=replacing))
    others = [m for m in current if m.hubspot_property != replacing]
    if mapping is not None:
        properties = _hubspot(ports, portal_id, tab, fresh=True)
        try:
            validate_mapping(tab, mapping, properties, others)
        except IncompatibleMapping as exc:
            raise BadInput(exc.text) from None
        if replacing is not None:
            position = next(i for i, m in enumerate(current) if m.hubspot_property == replacing)
            others.insert(position, mapping)
        else:
            others.append(mapping)
    saved = _save(
        ports, portal_id, realm_id, settings.model_copy(update={"mappings": others, "customized": True}), version
    )
    if replacing is not None and (mapping is None or mapping.hubspot_property != replacing):
        ports.settings.forget_mapping_status(portal_id, realm_id, tab, replacing)
    del saved
    return tab_view(ports, portal_id, realm_id, tab, live=False)


def add_mapping(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, data: MappingInput) -> dict[str, Any]:
    mapping, version = _mapping(data)
    return _change_mappings(ports, portal_id, realm_id, tab, mapping, None, version)


def edit_mapping(
    ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, hubspot_property: str, data: MappingInput
) -> dict[str, Any]:
    mapping, version = _mapping(data)
    return _change_mappings(ports, portal_id, realm_id, tab, mapping, hubspot_property, version)


def delete_mapping(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, hubspot_property: str) -> dict[str, Any]:
    return _change_mappings(ports, portal_id, realm_id, tab, None, hubspot_property, None)


def reset_mappings(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab) -> dict[str, Any]:
    _connection(ports, portal_id, realm_id)
    settings = ports.settings.tab(portal_id, realm_id, tab)
    _save(
        ports,
        portal_id,
        realm_id,
        settings.model_copy(update={"mappings": default_mappings(tab), "customized": False}),
        None,
    )
    return tab_view(ports, portal_id, realm_id, tab, live=False)


# -- custom invoice properties ---------------------------------------------------------------------------
_PROPERTY_TYPES = {
    "text": ("string", "text"),
    "number": ("number", "number"),
    "date": ("date", "date"),
    "datetime": ("datetime", "date"),
    "checkbox": ("bool", "booleancheckbox"),
    "select": ("enumeration", "select"),
}


class NewProperty(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=100)
    type: Literal["text", "number", "date", "datetime", "checkbox", "select"] = "text"
    options: list[OptionLabel] = Field(default_factory=list, max_length=100)
    description: str = Field(default="", max_length=500)


def _property_name(label: str) -> str:
    import re

    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:60] or "field"
    return f"qbo_{slug}"


def create_invoice_property(ports: SyncPorts, portal_id: int, realm_id: str, spec: NewProperty) -> dict[str, Any]:
    """A custom property on HubSpot's invoice object, in the QuickBooks group (then mappable)."""
    _connection(ports, portal_id, realm_id)
    kind, field_type = _PROPERTY_TYPES[spec.type]
    if kind == "enumeration" and not spec.options:
        raise BadInput(Text.of(N_("A drop-down property needs at least one option.")))
    definition: dict[str, Any] = {
        "name": _property_name(spec.label),
        "label": spec.label,
        "type": kind,
        "fieldType": field_type,
        "groupName": GROUP_NAME,
        "description": spec.description or "Created from hubqbo's settings.",
    }
    if kind == "enumeration":
        definition["options"] = [{"label": o, "value": o, "displayOrder": i} for i, o in enumerate(spec.options)]
    if kind == "bool":
        definition["options"] = [{"label": "Yes", "value": "true"}, {"label": "No", "value": "false"}]
    client = ports.hubspot_client(portal_id)
    client.ensure_property_group("invoices", {"name": GROUP_NAME, "label": GROUP_LABEL, "displayOrder": -1})
    try:
        created = client.create_property("invoices", definition)
    except ApiError as exc:
        if exc.http_status == 409:
            raise Conflict(
                Text.of(N_("An invoice property named “%(name)s” already exists."), name=definition["name"])
            ) from None
        if exc.http_status == 400:
            raise BadInput(Text.of(N_("HubSpot refused the property: %(message)s"), message=exc.message)) from None
        raise
    ports.properties.forget(portal_id, "invoices")
    return {"name": created.get("name"), "label": created.get("label"), "type": created.get("type")}


# -- the log -------------------------------------------------------------------------------------------
def recent_log(ports: SyncPorts, portal_id: int, realm_id: str | None = None, limit: int = 30) -> list[dict[str, Any]]:
    entries = ports.sync_log.recent(f"portal:{portal_id}", limit=limit * 3 if realm_id else limit)
    if realm_id:
        entries = [e for e in entries if e.realm_id in (None, realm_id)][:limit]
    return [e.model_dump(mode="json", exclude_none=True) for e in entries]


LOG_OUTCOMES = ("applied", "skipped", "failed")
# The QBO entities whose entries a tab's log shows (payments belong with the invoices they pay).
LOG_ENTITIES = {Tab.CONTACTS: ("Customer",), Tab.PRODUCTS: ("Item",), Tab.INVOICES: ("Invoice", "Payment")}
DUPLICATE_PREFIX = "Duplicate:"
LOG_READS = 10
MAX_LOG_CURSOR = 200  # a sort key is ~60 characters (time, event id, record)


class LogPage(BaseModel):
    """One page of the log as the page shows it: `entries` newest first, each with `count` (how many
    entries of the same kind it stands for), and the cursor of the next page."""

    entries: list[SyncLogEntry]
    counts: list[int]
    after: str | None


def _same_skip(a: SyncLogEntry, b: SyncLogEntry) -> bool:
    """Skips for a setting ("the sync is off", "set to do nothing") say the same thing for every record:
    one line stands for a run of them."""
    return a.outcome == b.outcome == "skipped" and a.reason == b.reason and a.entity == b.entity


def log_page(
    ports: SyncPorts,
    portal_id: int,
    realm_id: str,
    *,
    tab: Tab | None = None,
    outcome: str | None = None,
    after: str | None = None,
    limit: int = 20,
) -> LogPage:
    """The company's log filtered by tab and outcome, a page at a time. A change that was applied is
    one line: the "duplicate" skips of its redelivered webhook are left out, and a run of skips because
    a tab is off collapses into one line with its count."""
    _connection(ports, portal_id, realm_id)
    entities = LOG_ENTITIES[tab] if tab is not None else ()
    chosen = outcome if outcome in LOG_OUTCOMES else None
    shown: list[SyncLogEntry] = []
    counts: list[int] = []
    cursor = after if after and len(after) <= MAX_LOG_CURSOR else None  # a sort key; anything else starts over
    for _ in range(LOG_READS):  # lines left out or collapsed are made up for by reading on
        raw, cursor = ports.sync_log.page(
            SyncLogEntry.portal_scope(portal_id),
            limit=limit - len(shown),
            after=cursor,
            realm_id=realm_id,
            entities=entities,
            outcome=chosen,  # type: ignore[arg-type]
        )
        applied = {(e.event_id, e.entity, e.qbo_id) for e in raw if e.outcome == "applied" and e.event_id}
        for entry in raw:
            if entry.outcome == "skipped" and (
                entry.reason.startswith(DUPLICATE_PREFIX) or (entry.event_id, entry.entity, entry.qbo_id) in applied
            ):
                continue
            if shown and _same_skip(shown[-1], entry):
                counts[-1] += 1
                continue
            shown.append(entry)
            counts.append(1)
        if len(shown) >= limit or cursor is None:
            break
    return LogPage(entries=shown, counts=counts, after=cursor)


# -- backfill ("Sync existing records") -------------------------------------------------------------
class BackfillAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["preview", "run", "resume"]


def backfill_view(ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab) -> dict[str, Any]:
    _connection(ports, portal_id, realm_id)
    run = sync_backfill.backfill_status(ports, portal_id, realm_id, tab)
    return {"backfill": run.model_dump(mode="json") if run else None}


def backfill_action(
    ports: SyncPorts, portal_id: int, realm_id: str, tab: Tab, request: BackfillAction
) -> dict[str, Any]:
    """Preview (counts only), run, or resume the tab's backfill; answers the run as it now stands."""
    action = request.action
    _connection(ports, portal_id, realm_id)
    if action == "resume":
        run, queued = sync_backfill.resume_backfill(ports, portal_id, realm_id, tab)
        return {"backfill": run.model_dump(mode="json"), "requeued": queued}
    run = sync_backfill.start_backfill(ports, portal_id, realm_id, tab, action)
    return {"backfill": run.model_dump(mode="json"), "requeued": run.chunks}


# -- dead letters (the change pipeline's replay, exposed to the portal's admins) ----------------------------
class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dry_run: bool = False
    limit: int = Field(default=100, ge=1, le=1000)


DEAD_LETTER_MARK = "the message is in the dead-letter queue"  # the worker's words when it gives up


DEAD_LETTERS_COUNTED = 200  # the page counts this many at most (each SQS receive takes 10)


def dead_letter_view(dead: Any, sync_log: Any, portal_id: int, reasons: int = 5) -> dict[str, Any]:
    """What waits in the dead-letter queue for this portal: how many messages a replay would take (a
    dry run, which leaves every message where it is; counted up to `DEAD_LETTERS_COUNTED`) and the
    latest failures that put them there."""
    from hubqbo.services.pipeline_replay import replay_dead_letters as replay

    waiting = replay(dead, portal_id=portal_id, limit=DEAD_LETTERS_COUNTED, dry_run=True).replayed
    failures = sync_log.recent_failures(SyncLogEntry.portal_scope(portal_id), limit=50) if waiting else []
    latest = [f for f in failures if DEAD_LETTER_MARK in f.reason][:reasons]
    return {"waiting": waiting, "reasons": latest}


def replay_dead_letters(dead: Any, portal_id: int, request: ReplayRequest) -> dict[str, Any]:
    """Re-queue this portal's messages from the DLQ (others stay there); only this portal's count.

    The DLQ is shared: how many messages other portals have there, and how many nobody can read (whose
    portal is unknown), are not a portal's business; the ops CLI (`python -m hubqbo.tools`) reports them."""
    from hubqbo.services.pipeline_replay import replay_dead_letters as replay

    result = replay(dead, portal_id=portal_id, limit=request.limit, dry_run=request.dry_run)
    return result.model_dump(include={"replayed", "dry_run"})
