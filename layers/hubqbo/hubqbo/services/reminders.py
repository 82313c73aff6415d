"""The reminders job: HubSpot tasks for unpaid and unsent invoices, once per period, closed when settled.

Runs hourly (the `Reminders` schedule). For each active QBO connection of each portal:

1. **Close** (every run): the company's reminders whose task is open are checked against the card's
   snapshots (the change pipeline keeps them current); an invoice that was paid, sent (for the unsent
   rule), voided or deleted gets its task completed (`hs_task_status` COMPLETED) and the reminder
   closed. A payment applied by the worker therefore closes its task within the hour.
2. **Create** (once per company-local day, claimed on the company's cursor item exactly like the
   overdue sweep, `store.cursors.REMINDER_DAY`): the rules (`domain.reminders`) run over every invoice
   linked to a deal; the reminders they say are due and that were never claimed are confirmed against
   QBO (one `Id IN (...)` query for all of them, so an invoice paid a minute ago gets no task), the
   deals' owners are read (one batch read), and each reminder is claimed (a conditional write of its
   period key) before its task is created on the deal, assigned to the deal owner, due today.

Idempotence: a period is claimed once, ever. A run that dies after creating the task but before
recording its id leaves the claim `pending`; once its lease has run out the next run claims it again
and first searches HubSpot for that task (`_find_created`: on the invoice's deals, created since the
claim, the invoice number in its title), recording the task it finds instead of creating another.
Nothing of ours is written where sales reps read: the task's title and notes are only the reminder.
A claim HubSpot certainly refused (4xx) is given back.

Every reminder created, closed or skipped (with its reason) is written to the sync log (source
`reminders`). Task text is in the language chosen on the Reminders tab (English by default).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as day_time
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from hubqbo import clock as product_clock
from hubqbo.clients.errors import ApiError, RateLimited, ReconnectNeeded, Unavailable
from hubqbo.clients.hubspot import HubSpotClient
from hubqbo.domain.dates import local_today, zone_or_utc
from hubqbo.domain.qbo_invoice import QboInvoice, read_invoice
from hubqbo.domain.reminders import (
    OPEN_IN_QUICKBOOKS,
    DueReminder,
    InvoiceFacts,
    ReminderSettings,
    due_reminders,
    settled_reason,
    task_text,
)
from hubqbo.domain.text import N_, Text
from hubqbo.observability import logger
from hubqbo.services import connections as connection_services
from hubqbo.services.connections import ConnectionPorts
from hubqbo.store.connections import Connection
from hubqbo.store.cursors import REMINDER_DAY, Cursors
from hubqbo.store.invoices import InvoiceLink, InvoiceStore
from hubqbo.store.reminders import Reminder, ReminderStore
from hubqbo.store.sync_log import Outcome, SyncLog, SyncLogEntry

if TYPE_CHECKING:
    from hubqbo.clients.qbo import QboClient
    from hubqbo.web.i18n.translator import Translator

DAY_LEASE_SECONDS = 900.0  # a company's daily run; a run that died is retried by the next hourly run
CLAIM_LEASE_SECONDS = 300.0  # one task being created; after that a claim is "pending but abandoned"
CLOCK_SKEW_SECONDS = 300.0  # HubSpot's create date may run behind our clock; the search looks this far back
DUE_AT = day_time(9, 0)  # tasks are due today at 09:00 company-local time
RULE_NAMES = {"payment": "Payment reminder", "unsent": "Unsent invoice reminder"}


@dataclass
class ReminderPorts:
    connections: ConnectionPorts
    cursors: Cursors
    invoices: InvoiceStore
    reminders: ReminderStore
    sync_log: SyncLog
    clock: Callable[[], float] = product_clock.now
    _clients: list[Any] = field(default_factory=list)

    def hubspot(self, portal_id: int) -> HubSpotClient:
        client = connection_services.hubspot_client(self.connections, portal_id)
        self._clients.append(client)
        return client

    def qbo(self, portal_id: int, realm_id: str) -> QboClient:
        client = connection_services.qbo_client(self.connections, portal_id, realm_id)
        self._clients.append(client)
        return client

    def calls(self, provider: str) -> int:
        return sum(c.calls for c in self._clients if c.provider == provider)


class ReminderRunResult(BaseModel):
    connections: int = 0
    checked: int = 0  # companies whose rules ran today (in this run)
    already_checked: int = 0  # companies done today by an earlier run (or being done right now)
    due: int = 0
    created: int = 0
    recovered: int = 0  # tasks found by their marker after a run died before recording them
    closed: int = 0
    skipped: int = 0
    failed: int = 0
    reconnect_needed: int = 0
    hubspot_calls: int = 0
    qbo_calls: int = 0


def _translator(settings: ReminderSettings) -> Translator:
    from hubqbo.web.i18n import get_translator

    return get_translator("pl_PL" if settings.language == "pl" else "en")


@dataclass
class _Company:
    """One connection during one run."""

    ports: ReminderPorts
    connection: Connection
    zone: ZoneInfo
    today: date
    settings: ReminderSettings
    result: ReminderRunResult
    _hubspot: HubSpotClient | None = None

    @property
    def portal_id(self) -> int:
        return self.connection.portal_id

    @property
    def realm_id(self) -> str:
        return self.connection.realm_id

    def hubspot(self) -> HubSpotClient:
        if self._hubspot is None:
            self._hubspot = self.ports.hubspot(self.portal_id)
        return self._hubspot

    def log(
        self, outcome: Outcome, reason: str, invoice_id: str, *, task_id: str | None = None, deal_id: str | None = None
    ) -> None:
        self.ports.sync_log.record(
            SyncLogEntry(
                scope=SyncLogEntry.portal_scope(self.portal_id),
                outcome=outcome,
                reason=reason,
                entity="Invoice",
                qbo_id=invoice_id,
                hubspot_id=task_id or deal_id,
                hubspot_type="tasks" if task_id else "deals" if deal_id else None,
                realm_id=self.realm_id,
                source="reminders",
            )
        )


def run_reminders(ports: ReminderPorts, now: datetime | None = None) -> ReminderRunResult:
    from hubqbo.services.catch_up import active_connections  # the job's; the settings page loads this module too

    moment = now or datetime.fromtimestamp(ports.clock(), UTC)
    result = ReminderRunResult()
    for connection in active_connections(ports.connections):
        result.connections += 1
        portal = ports.connections.connections.get_portal(connection.portal_id)
        zone = zone_or_utc(portal.time_zone if portal else None)
        company = _Company(
            ports=ports,
            connection=connection,
            zone=zone,
            today=local_today(moment, zone),
            settings=ports.reminders.settings(connection.portal_id, connection.realm_id).settings,
            result=result,
        )
        try:
            _close_settled(company)
            _create_due(company)
        except ReconnectNeeded:
            result.reconnect_needed += 1
        except ApiError as exc:
            result.failed += 1
            logger.warning(
                "Reminders failed for a connection",
                extra={"realm_id": connection.realm_id, "error": str(exc)[:300]},
            )
    result.hubspot_calls, result.qbo_calls = ports.calls("hubspot"), ports.calls("qbo")
    logger.info("Reminders finished", extra={"reminders": result.model_dump()})
    return result


# -- 1. close what is settled -------------------------------------------------------------------------
def _close_settled(company: _Company) -> None:
    ports = company.ports
    items = ports.reminders.unfinished(company.portal_id, company.realm_id)
    if not items:
        return
    snaps = ports.invoices.snapshots(company.portal_id, [(company.realm_id, r.invoice_id) for r in items])
    now = ports.clock()
    for item in items:
        snap = snaps.get((company.realm_id, item.invoice_id))
        reason = "deleted" if snap is None else settled_reason(item.rule, InvoiceFacts.of(snap.invoice))  # type: ignore[arg-type]
        if reason is None:
            continue
        if item.status == "pending":
            if item.lease_until is not None and item.lease_until > now:
                continue  # a run is creating this task right now
            links = ports.invoices.links_for_invoice(company.portal_id, company.realm_id, item.invoice_id)
            number = InvoiceFacts.of(snap.invoice).number if snap is not None else ""
            found = _find_created(
                company, item, [link.object_id for link in links if link.object_type == "deals"], number
            )
            if found is None:  # it was never created: nothing to close
                ports.reminders.release(company.portal_id, company.realm_id, item.key, item.marker)
                continue
            ports.reminders.opened(company.portal_id, company.realm_id, item.key, str(found["id"]), [], None)
            item = item.model_copy(update={"task_id": str(found["id"]), "status": "open"})
            company.result.recovered += 1
        _complete(company, item, reason)


def _complete(company: _Company, item: Reminder, reason: str) -> None:
    ports = company.ports
    gone = False
    try:
        company.hubspot().update_task(str(item.task_id), {"hs_task_status": "COMPLETED"})
    except ApiError as exc:
        if exc.http_status != 404:
            raise
        gone = True  # someone deleted the task in HubSpot: nothing left to complete
    if ports.reminders.close(company.portal_id, company.realm_id, item.key, reason, ports.clock()):
        company.result.closed += 1
        what = RULE_NAMES.get(item.rule, "Reminder")
        suffix = " (the task had been deleted in HubSpot)" if gone else ""
        company.log(
            "applied", f"{what} task closed: the invoice was {reason}{suffix}", item.invoice_id, task_id=item.task_id
        )


# -- 2. create what is due ----------------------------------------------------------------------------
def _create_due(company: _Company) -> None:
    ports, rules = company.ports, company.settings
    if not (rules.payment.enabled or rules.unsent.enabled):
        return
    owner = uuid.uuid4().hex
    portal_id, realm_id = company.portal_id, company.realm_id
    if not ports.cursors.claim_sweep(
        portal_id, realm_id, company.today, owner, ports.clock(), DAY_LEASE_SECONDS, fields=REMINDER_DAY
    ):
        company.result.already_checked += 1
        return
    try:
        _create_due_today(company)
    except BaseException:
        ports.cursors.release_sweep(portal_id, realm_id, owner, fields=REMINDER_DAY)
        raise
    ports.cursors.finish_sweep(portal_id, realm_id, company.today, owner, fields=REMINDER_DAY)
    company.result.checked += 1


def _facts(company: _Company, invoice: QboInvoice, links: list[InvoiceLink]) -> InvoiceFacts:
    created = [link.linked_at for link in links if link.source == "created"]
    created_on = local_today(datetime.fromtimestamp(min(created), UTC), company.zone) if created else None
    return InvoiceFacts.of(invoice, created_from_hubspot=bool(created), created_on=created_on)


def _create_due_today(company: _Company) -> None:
    ports, portal_id, realm_id = company.ports, company.portal_id, company.realm_id
    links: dict[str, list[InvoiceLink]] = {}
    for link in ports.invoices.links_in_realm(portal_id, realm_id):
        links.setdefault(link.invoice_id, []).append(link)
    deal_linked = {i: ls for i, ls in links.items() if any(link.object_type == "deals" for link in ls)}
    if not deal_linked:
        return
    snaps = ports.invoices.snapshots(portal_id, [(realm_id, i) for i in deal_linked])
    due: list[DueReminder] = []
    for (_realm, invoice_id), snap in snaps.items():
        due += due_reminders(_facts(company, snap.invoice, deal_linked[invoice_id]), company.settings, company.today)
    if not due:
        return
    company.result.due += len(due)
    known = ports.reminders.existing(portal_id, realm_id, [r.key for r in due])
    now = ports.clock()
    todo = [
        r
        for r in due
        if r.key not in known
        or (known[r.key].status == "pending" and (known[r.key].lease_until or 0) < now)  # abandoned claims
    ]
    if not todo:
        return
    # confirm with QBO: the snapshot may be a few minutes behind a payment or a send
    raws = ports.qbo(portal_id, realm_id).read_many("Invoice", list(dict.fromkeys(r.invoice_id for r in todo)))
    current: dict[str, InvoiceFacts] = {}
    for invoice_id in {r.invoice_id for r in todo}:
        raw = raws.get(invoice_id)
        parsed = read_invoice(raw, home_currency=company.connection.home_currency) if raw else None
        if isinstance(parsed, QboInvoice):
            current[invoice_id] = _facts(company, parsed, deal_linked[invoice_id])
    deal_ids = list(
        dict.fromkeys(link.object_id for r in todo for link in deal_linked[r.invoice_id] if link.object_type == "deals")
    )
    deals = {str(d["id"]): d for d in company.hubspot().crm_batch_read("deals", deal_ids, ["hubspot_owner_id"])}
    for reminder in todo:
        _create_one(company, reminder, current.get(reminder.invoice_id), deal_linked[reminder.invoice_id], deals)


def _find_created(company: _Company, claim: Reminder, deal_ids: list[str], number: str) -> dict[str, Any] | None:
    """The task an interrupted run created for this claim, if any: on one of the invoice's deals, created
    since the claim was first taken, with the invoice number in its title (the title every reminder of
    this invoice has; its text says it in the task's language)."""
    if not deal_ids or not number:
        return None
    since = (claim.created_at or 0.0) - CLOCK_SKEW_SECONDS
    return company.hubspot().find_task_on_deals(deal_ids, since, number)


def _due_timestamp(company: _Company) -> str:
    local = datetime.combine(company.today, DUE_AT, company.zone)
    return local.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _create_one(
    company: _Company,
    reminder: DueReminder,
    facts: InvoiceFacts | None,
    links: list[InvoiceLink],
    deals: dict[str, dict[str, Any]],
) -> None:
    ports, portal_id, realm_id = company.ports, company.portal_id, company.realm_id
    what = RULE_NAMES[reminder.rule]
    if facts is None:
        company.result.skipped += 1
        company.log("skipped", f"{what} not created: the invoice no longer exists in QuickBooks", reminder.invoice_id)
        return
    still_due = any(r.key == reminder.key for r in due_reminders(facts, company.settings, company.today))
    if not still_due:
        why = settled_reason(reminder.rule, facts) or "no longer due"
        company.result.skipped += 1
        company.log("skipped", f"{what} not created: QuickBooks says the invoice was {why}", reminder.invoice_id)
        return
    ordered = sorted((link for link in links if link.object_type == "deals"), key=lambda link: -link.linked_at)
    live = [link.object_id for link in ordered if link.object_id in deals]
    if not live:
        company.result.skipped += 1
        company.log("skipped", f"{what} not created: the linked deal no longer exists in HubSpot", reminder.invoice_id)
        return
    owner_id = next(
        (
            str(deals[d]["properties"].get("hubspot_owner_id"))
            for d in live
            if deals[d]["properties"].get("hubspot_owner_id")
        ),
        None,
    )
    claim = ports.reminders.claim(portal_id, realm_id, reminder.key, ports.clock(), CLAIM_LEASE_SECONDS)
    if claim is None:
        return  # another run has it (or finished it a moment ago)
    client = company.hubspot()
    if claim.attempts > 1:  # an earlier run claimed it and stopped: did it create the task?
        found = _find_created(company, claim, live, facts.number)
        if found is not None:
            ports.reminders.opened(portal_id, realm_id, reminder.key, str(found["id"]), live, owner_id)
            company.result.recovered += 1
            company.log(
                "applied", f"{what} task found after an interrupted run", reminder.invoice_id, task_id=found["id"]
            )
            return
    t = _translator(company.settings)
    text = task_text(reminder, facts, t)
    link = _invoice_url(company.connection, reminder.invoice_id)
    body = (
        f"<p>{html.escape(text.body)}</p>"
        f'<p><a href="{html.escape(link)}">{html.escape(t.gettext(OPEN_IN_QUICKBOOKS))}</a></p>'
    )
    properties = {
        "hs_task_subject": text.subject,
        "hs_task_body": body,
        "hs_task_status": "NOT_STARTED",
        "hs_task_priority": "HIGH" if reminder.rule == "payment" else "MEDIUM",
        "hs_task_type": "TODO",
        "hs_timestamp": _due_timestamp(company),
    }
    if owner_id:
        properties["hubspot_owner_id"] = owner_id
    try:
        task = client.create_task(properties, live)
    except RateLimited:  # certainly not created: give the claim back; the next hourly run tries again
        ports.reminders.release(portal_id, realm_id, reminder.key, claim.marker)
        raise
    except Unavailable:  # 5xx or no answer: maybe created; the lease and the marker decide later
        raise
    except ApiError as exc:
        ports.reminders.release(portal_id, realm_id, reminder.key, claim.marker)
        company.result.failed += 1
        company.log(
            "failed", f"{what} not created: HubSpot answered {exc.http_status}: {exc.message}", reminder.invoice_id
        )
        return
    ports.reminders.opened(portal_id, realm_id, reminder.key, str(task["id"]), live, owner_id)
    company.result.created += 1
    assignee = f"owner {owner_id}" if owner_id else "nobody (the deal has no owner)"
    company.log(
        "applied",
        f"{what} task created ({reminder.key}) on deal {live[0]}, assigned to {assignee}, "
        f"due {company.today}: {text.subject}",
        reminder.invoice_id,
        task_id=str(task["id"]),
    )


def _invoice_url(connection: Connection, invoice_id: str) -> str:
    from hubqbo.services.invoice_common import qbo_invoice_url

    return qbo_invoice_url(str(connection.environment), invoice_id)


# -- the Reminders tab of the settings page --------------------------------------------------------------
class ReminderSettingsChange(BaseModel):
    """A PUT body: any of the parts; what is left out keeps its value."""

    model_config = {"extra": "forbid"}

    # Each rule has at most four parts (domain/reminders.py): more is a mistake, refused before merging.
    payment: dict[Annotated[str, Field(max_length=40)], Any] | None = Field(default=None, max_length=10)
    unsent: dict[Annotated[str, Field(max_length=40)], Any] | None = Field(default=None, max_length=10)
    language: str | None = Field(default=None, max_length=10)


def _company(connections: Any, portal_id: int, realm_id: str) -> Connection:
    from hubqbo.errors import NotFound

    connection: Connection | None = connections.get_connection(portal_id, realm_id)
    if connection is None:
        raise NotFound(
            Text.of(N_("No QuickBooks company %(realm)s is connected to this HubSpot account."), realm=realm_id)
        )
    return connection


def settings_view(store: ReminderStore, connections: Any, portal_id: int, realm_id: str) -> dict[str, Any]:
    """The company's two rules (the defaults until saved), as the settings API answers them."""
    _company(connections, portal_id, realm_id)
    stored = store.settings(portal_id, realm_id)
    return {"realm_id": realm_id, **stored.settings.model_dump(), "version": stored.version}


def update_settings(
    store: ReminderStore,
    connections: Any,
    portal_id: int,
    realm_id: str,
    change: ReminderSettingsChange,
    now: float,
) -> dict[str, Any]:
    """Merge a change into the company's rules; InvalidFields (400) naming every field at fault."""
    from pydantic import ValidationError

    from hubqbo.errors import FieldProblem, InvalidFields

    _company(connections, portal_id, realm_id)
    current = store.settings(portal_id, realm_id).settings.model_dump()
    merged = {
        "payment": {**current["payment"], **(change.payment or {})},
        "unsent": {**current["unsent"], **(change.unsent or {})},
        "language": change.language or current["language"],
    }
    try:
        settings = ReminderSettings.model_validate(merged)
    except ValidationError as exc:
        problems = [FieldProblem(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
        raise InvalidFields(problems) from None
    stored = store.save_settings(portal_id, realm_id, settings, now)
    logger.info("Reminder settings saved", extra={"portal_id": portal_id, "version": stored.version})
    return {"realm_id": realm_id, **stored.settings.model_dump(), "version": stored.version}
