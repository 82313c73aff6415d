"""What the sync engine does with each QBO record, decided without I/O.

The engine reads first (the HubSpot records already linked by `<realm>:<QBO id>`, and for the
unlinked ones the records they match by email or SKU), then asks `plan` what to do, then writes. The
table the planner applies, in order:

- the tab is off → every record is skipped;
- deleted records (inactive customers and items, deleted invoices) are archived when the tab
  archives deletions and a HubSpot record is linked, skipped otherwise; a voided invoice is not
  deleted (QBO keeps it): it is updated like any change and shows Voided with a balance of 0;
- QBO items of a type that is not a product (bundles, categories) are skipped;
- "do nothing" on change → every live record is skipped;
- a linked record is updated with the properties whose values changed, or skipped as up to date;
- a matched record is linked (updated by id, the link property added) unless it mirrors another QBO
  record or another record of the same read already claimed it;
- "update existing only" → an unmatched record is skipped;
- otherwise it is created (a second customer with an email already being created in this read is
  skipped: HubSpot allows one contact per email).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from hubqbo.domain.field_types import HubSpotProperty, HubSpotRecord, comparable
from hubqbo.domain.mappings import (
    SYNCED_ITEM_TYPES,
    PropertyProblem,
    RecordContext,
    Tab,
    email_of,
    is_deleted,
    link_value,
    record_values,
)
from hubqbo.domain.mappings import (
    Mapping as FieldMapping,
)

Record = Mapping[str, Any]  # a QBO object as QBO answers it


class TabRules(Protocol):
    """The tab settings the planner reads (`store.settings.TabSettings` is one)."""

    @property
    def tab(self) -> Tab: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def on_change(self) -> str: ...
    @property
    def on_delete(self) -> str: ...
    @property
    def mappings(self) -> Sequence[FieldMapping]: ...


# -- the actions ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Create:
    """A new HubSpot record (upserted on the link property, so a repeat cannot duplicate it)."""

    qbo_id: str
    key: str  # the link value
    properties: Mapping[str, str]
    problems: tuple[PropertyProblem, ...] = ()


@dataclass(frozen=True)
class Update:
    """A linked HubSpot record gets the properties whose values changed."""

    qbo_id: str
    key: str
    hubspot_id: str
    properties: Mapping[str, str]
    problems: tuple[PropertyProblem, ...] = ()


@dataclass(frozen=True)
class Link:
    """A HubSpot record matched by email or SKU is updated by id and gets the link property."""

    qbo_id: str
    key: str
    hubspot_id: str
    properties: Mapping[str, str]
    problems: tuple[PropertyProblem, ...] = ()


@dataclass(frozen=True)
class Archive:
    """The QBO record is gone: its linked HubSpot record is archived."""

    qbo_id: str
    hubspot_id: str
    reason: str  # what happened in QBO, for the log line


@dataclass(frozen=True)
class Skip:
    """Nothing is written. `up_to_date`: a linked record that already holds the values (an invoice's
    associations are still checked then, so a retried change finishes them)."""

    qbo_id: str
    reason: str
    hubspot_id: str | None = None
    problems: tuple[PropertyProblem, ...] = ()
    up_to_date: bool = False
    by_settings: bool = False  # the tab's own settings leave it out ("Do nothing", "Update existing only")


Write = Create | Update | Link
Action = Create | Update | Link | Archive | Skip


# -- the table ---------------------------------------------------------------------------------------
def off_reason(tab: Tab) -> str:
    return f"The {tab.value.title()} sync is off for this QuickBooks company"


def _deleted_what(tab: Tab) -> str:
    return {
        Tab.CONTACTS: "inactive in QuickBooks",
        Tab.PRODUCTS: "inactive in QuickBooks",
        Tab.INVOICES: "deleted in QuickBooks",
    }[tab]


def partition(tab: Tab, records: Iterable[Record], deleted_ids: Iterable[str]) -> tuple[list[str], list[Record]]:
    """(the QBO ids of deleted records, once each; the live records), in the order given."""
    records = list(records)
    live = [r for r in records if not is_deleted(tab, dict(r))]
    gone = [str(i) for i in deleted_ids] + [str(r["Id"]) for r in records if is_deleted(tab, dict(r))]
    return list(dict.fromkeys(gone)), live


def archives(rules: TabRules) -> bool:
    """Whether deletions need the linked records read (they are only skipped otherwise)."""
    return rules.on_delete == "archive"


def plan_deletions(
    qbo_ids: Iterable[str], linked: Mapping[str, HubSpotRecord], rules: TabRules, realm_id: str
) -> list[Archive | Skip]:
    """Deleted QBO records: archive the linked HubSpot record, or say why not."""
    tab, what = rules.tab, _deleted_what(rules.tab)
    entity = tab.entity.lower()
    if not archives(rules):
        return [Skip(i, f"The {entity} is {what}; deletions are set to do nothing", by_settings=True) for i in qbo_ids]
    out: list[Archive | Skip] = []
    for qbo_id in qbo_ids:
        record = linked.get(link_value(realm_id, qbo_id))
        if record is None:
            out.append(Skip(qbo_id, f"The {entity} is {what}, but no HubSpot {tab.singular} is linked"))
        else:
            out.append(Archive(qbo_id, record.id, f"the {entity} is {what}"))
    return out


def plan_unsynced(records: Iterable[Record], rules: TabRules) -> tuple[list[Skip], list[Record]]:
    """Live records that are never written (items that are not products; "do nothing" on change),
    and the records left to upsert."""
    skips: list[Skip] = []
    left = list(records)
    if rules.tab == Tab.PRODUCTS:
        skips += [
            Skip(str(r["Id"]), f"QuickBooks {r.get('Type')} items are not products")
            for r in left
            if r.get("Type") and r.get("Type") not in SYNCED_ITEM_TYPES
        ]
        left = [r for r in left if not r.get("Type") or r.get("Type") in SYNCED_ITEM_TYPES]
    if left and rules.on_change == "do_nothing":
        reason = "Changes in QuickBooks are set to do nothing for this tab"
        skips += [Skip(str(r["Id"]), reason, by_settings=True) for r in left]
        left = []
    return skips, left


def changed_values(
    values: Mapping[str, str], current: Mapping[str, Any], properties: Mapping[str, HubSpotProperty]
) -> dict[str, str]:
    """The values that differ from the record's, compared as HubSpot stores them (`75` equals `75.00`)."""
    changed = {}
    for name, value in values.items():
        prop, now = properties.get(name), current.get(name)
        if prop is None:
            if (now or "") != value:
                changed[name] = value
        elif comparable(prop, value) != comparable(prop, now):
            changed[name] = value
    return changed


def read_properties(rules: TabRules, properties: Mapping[str, HubSpotProperty]) -> list[str]:
    """The HubSpot properties to read back from linked and matched records, to compare values."""
    tab = rules.tab
    wanted = sorted(
        {m.hubspot_property for m in rules.mappings if m.hubspot_property in properties} | {tab.link_property}
    )
    if tab == Tab.INVOICES:
        wanted.append("hs_invoice_billable")
    return wanted


@dataclass
class _Claims:
    """What earlier records of the same read took: matched HubSpot ids, emails being created."""

    matched: set[str] = field(default_factory=set)
    new_emails: dict[str, str] = field(default_factory=dict)  # email -> the QBO id creating its contact


def _plan_linked(
    qbo_id: str,
    key: str,
    values: dict[str, str],
    record: HubSpotRecord,
    rules: TabRules,
    problems: tuple[PropertyProblem, ...],
    props: Any,
) -> Update | Skip:
    changed = changed_values(values, record.properties, props)
    if not changed:
        reason = f"{rules.tab.singular.title()} {record.id} is already up to date"
        return Skip(qbo_id, reason, record.id, problems, up_to_date=True)
    return Update(qbo_id, key, record.id, changed, problems)


def _plan_matched(
    qbo_id: str,
    key: str,
    values: dict[str, str],
    match: HubSpotRecord,
    rules: TabRules,
    claims: _Claims,
    problems: tuple[PropertyProblem, ...],
    props: Any,
) -> Link | Skip:
    tab = rules.tab
    noun = tab.singular.title()
    other = match.properties.get(tab.link_property)
    how = "email" if tab == Tab.CONTACTS else "SKU"
    if other and other != key:
        reason = f"{noun} {match.id} has the same {how} but mirrors another QuickBooks record ({other})"
        return Skip(qbo_id, reason, match.id, problems)
    if match.id in claims.matched:
        reason = f"{noun} {match.id} already matched another record of this batch by {how}"
        return Skip(qbo_id, reason, match.id, problems)
    claims.matched.add(match.id)
    changed = changed_values(values, match.properties, props)
    return Link(qbo_id, key, match.id, {**changed, tab.link_property: key}, problems)


def _plan_new(
    raw: Record,
    qbo_id: str,
    key: str,
    values: dict[str, str],
    rules: TabRules,
    claims: _Claims,
    problems: tuple[PropertyProblem, ...],
) -> Create | Skip:
    tab = rules.tab
    if rules.on_change == "update_only":
        reason = f"No matching HubSpot {tab.singular}, and the tab is set to update existing records only"
        return Skip(qbo_id, reason, None, problems, by_settings=True)
    email = email_of(dict(raw)) if tab == Tab.CONTACTS else None
    if email and email in claims.new_emails:
        reason = (
            f"QuickBooks customer {claims.new_emails[email]} has the same email and gets the contact "
            "(HubSpot allows one contact per email)"
        )
        return Skip(qbo_id, reason, None, problems)
    if email:
        claims.new_emails[email] = qbo_id
    return Create(qbo_id, key, {k: v for k, v in values.items() if v != ""}, problems)


def plan_upserts(
    records: Iterable[Record],
    linked: Mapping[str, HubSpotRecord],
    matched: Mapping[str, HubSpotRecord],
    rules: TabRules,
    properties: Mapping[str, HubSpotProperty],
    ctx: RecordContext,
) -> list[Create | Update | Link | Skip]:
    """Live records read together: `linked` by link value, `matched` by QBO id (unlinked ones only)."""
    claims = _Claims()
    out: list[Create | Update | Link | Skip] = []
    for raw in records:
        qbo_id = str(raw["Id"])
        key = link_value(ctx.realm_id, qbo_id)
        values, found = record_values(rules.tab, dict(raw), rules.mappings, properties, ctx)
        problems = tuple(found)
        if (record := linked.get(key)) is not None:
            out.append(_plan_linked(qbo_id, key, values, record, rules, problems, properties))
        elif (match := matched.get(qbo_id)) is not None:
            out.append(_plan_matched(qbo_id, key, values, match, rules, claims, problems, properties))
        else:
            out.append(_plan_new(raw, qbo_id, key, values, rules, claims, problems))
    return out


def plan(
    records: Iterable[Record],
    linked: Mapping[str, HubSpotRecord],
    matched: Mapping[str, HubSpotRecord],
    settings: TabRules,
    properties: Mapping[str, HubSpotProperty],
    ctx: RecordContext,
    *,
    deleted_ids: Iterable[str] = (),
) -> list[Action]:
    """Every record's action, for records read together (the engine applies the same parts per chunk
    of a HubSpot batch: deletions, then the records never written, then the upserts)."""
    records, deleted_ids = list(records), list(deleted_ids)
    if not settings.enabled:
        reason = off_reason(settings.tab)
        skipped: list[Action] = [Skip(str(r.get("Id")), reason, by_settings=True) for r in records]
        return skipped + [Skip(str(i), reason, by_settings=True) for i in deleted_ids]
    gone, live = partition(settings.tab, records, deleted_ids)
    actions: list[Action] = list(plan_deletions(gone, linked, settings, ctx.realm_id)) if gone else []
    skips, upserts = plan_unsynced(live, settings)
    actions += skips
    actions += plan_upserts(upserts, linked, matched, settings, properties, ctx)
    return actions
