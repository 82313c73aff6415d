"""The sync log as people read it on the settings page: one line per change, in the user's language,
stamped in the portal's time zone, with links to the record in QuickBooks and in HubSpot.

The log's entries keep the engine's English reason (the API and the ops tools read it). A line is
made of our own translated sentence, chosen by the reason's known shapes below, and the raw reason
only as a detail when it carries something we do not say (a provider's message). Repeated parts of a
provider's text ("Injected 500: Injected 500") are said once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hubqbo.domain.dates import zone_or_utc
from hubqbo.store.sync_log import SyncLogEntry
from hubqbo.web.i18n import N_, Translator, vocabulary

QBO_RECORDS = {
    "Customer": N_("QuickBooks customer %(id)s"),
    "Item": N_("QuickBooks product %(id)s"),
    "Invoice": N_("QuickBooks invoice %(id)s"),
    "Payment": N_("QuickBooks payment %(id)s"),
}
HUBSPOT_RECORDS = {
    "contacts": N_("HubSpot contact %(id)s"),
    "products": N_("HubSpot product %(id)s"),
    "invoices": N_("HubSpot invoice %(id)s"),
    "deals": N_("HubSpot deal %(id)s"),
}
# HubSpot's object type ids (docs/../shared/reference/hubspot-api.md, "Paths and object type ids"); a
# record opens at app.hubspot.com/contacts/<portal>/record/<type id>/<id>
# (https://developers.hubspot.com/docs/api/crm/understanding-the-crm).
HUBSPOT_TYPE_IDS = {"contacts": "0-1", "companies": "0-2", "deals": "0-3", "products": "0-7", "invoices": "0-53"}
# QuickBooks Online's own pages of a record (its web app's addresses); items have no page of their own.
QBO_PAGES = {
    "Customer": "/app/customerdetail?nameId={id}",
    "Invoice": "/app/invoice?txnId={id}",
    "Payment": "/app/recvpayment?txnId={id}",
}

CREATED = {
    "contact": N_("Created contact %(id)s"),
    "product": N_("Created product %(id)s"),
    "invoice": N_("Created invoice %(id)s"),
}
UPDATED = {
    "contact": N_("Updated contact %(id)s"),
    "product": N_("Updated product %(id)s"),
    "invoice": N_("Updated invoice %(id)s"),
}
LINKED = N_("Linked to the matching HubSpot record and updated")
RESTORED = N_("Restored from HubSpot's recycle bin and updated")
ARCHIVED = N_("Deleted in QuickBooks, so archived in HubSpot")
UP_TO_DATE = N_("Already up to date")
TAB_OFF = N_("Not synced: this tab's sync is off")
DO_NOTHING = N_("Not synced: changes in QuickBooks are set to “Do nothing”")
UPDATE_ONLY = N_("Not created: no matching HubSpot record, and changes are set to “Update existing only”")
DELETE_NOTHING = N_("Deleted in QuickBooks; deletions are set to “Do nothing”")
DELETE_UNLINKED = N_("Deleted in QuickBooks; no HubSpot record is linked to it")
NOT_A_PRODUCT = N_("Not synced: this kind of QuickBooks item is not a product")
RULES_REFUSED = N_("HubSpot's validation rules refused a value")
HUBSPOT_REFUSED = N_("HubSpot refused the record")
HUBSPOT_GONE = N_("The linked HubSpot record no longer exists")
MATCHED_OTHER = N_("Not linked: the matching HubSpot record belongs to another QuickBooks record")
NO_PORTAL = N_("No HubSpot account is connected to this QuickBooks company")
RECONNECT = N_("QuickBooks needs to be reconnected")
UNAVAILABLE = N_("QuickBooks or HubSpot did not answer")
NOT_LINKED_INVOICE = N_("Not synced: the invoice is not linked to a HubSpot deal")
NOT_SYNCED_KIND = N_("Changes of this kind are not synced")
UNREADABLE = N_("The change could not be read")
TASK_CREATED = N_("Reminder task created in HubSpot")
PROPERTY_GONE = N_("The HubSpot property “%(name)s” no longer exists.")
FIELD_GONE = N_("The QuickBooks field “%(name)s” is no longer supported.")
PROPERTY_CHANGED = N_("The HubSpot property changed, so this mapping no longer fits it.")
VALUE_REFUSED = N_("HubSpot refused the value")
PAYMENT_APPLIED = N_("Payment recorded on the deal")
FAILED = N_("Could not be synced")
RETRYING = N_("Attempt %(attempt)s of %(attempts)s; trying again shortly.")
GAVE_UP = N_("Gave up after %(attempts)s attempts: waiting in the dead-letter queue (see below).")
RUN_PART = N_("Sync existing records, part %(part)s (%(rows)s records)")
PREVIEW_PART = N_("Preview, part %(part)s (%(rows)s records)")
RUN_COUNTS = N_(
    "created %(created)s, updated %(updated)s, skipped %(skipped)s, archived %(archived)s, failed %(failed)s"
)
PREVIEW_COUNTS = N_("would create %(created)s, update %(updated)s, skip %(skipped)s")
SAME_SKIPS = N_("changes like this one: %(count)s")

# (pattern on the engine's reason, our sentence, whether the reason still says something ours does not)
Shape = tuple[re.Pattern[str], str, bool]
SHAPES: list[Shape] = [
    (re.compile(r"^Linked and updated"), LINKED, False),
    (re.compile(r"^Restored "), RESTORED, False),
    (re.compile(r"^Archived "), ARCHIVED, False),
    (re.compile(r"is already up to date$"), UP_TO_DATE, False),
    (re.compile(r"sync (is|was turned) off"), TAB_OFF, False),
    (re.compile(r"set to do nothing for this tab$"), DO_NOTHING, False),
    (re.compile(r"set to update existing records only$"), UPDATE_ONLY, False),
    (re.compile(r"deletions are set to do nothing$"), DELETE_NOTHING, False),
    (re.compile(r"but no HubSpot \w+ is linked$"), DELETE_UNLINKED, False),
    (re.compile(r"items are not products$"), NOT_A_PRODUCT, False),
    (re.compile(r"mirrors another QuickBooks record|already matched another record"), MATCHED_OTHER, True),
    (re.compile(r"^HubSpot's validation rules refused"), RULES_REFUSED, True),
    (re.compile(r"^The HubSpot property “(?P<name>[^”]+)” no longer exists\.$"), PROPERTY_GONE, False),
    (re.compile(r"^QuickBooks field “(?P<name>[^”]+)” is no longer supported\.$"), FIELD_GONE, False),
    (re.compile(r"^The HubSpot property changed: "), PROPERTY_CHANGED, True),
    (re.compile(r"^HubSpot refused the value: "), VALUE_REFUSED, True),
    (re.compile(r"^HubSpot \w+ .* no longer exists"), HUBSPOT_GONE, False),
    (re.compile(r"^(HubSpot refused|Could not archive)"), HUBSPOT_REFUSED, True),
    (re.compile(r"^No HubSpot account is connected"), NO_PORTAL, False),
    (re.compile(r"needs to be reconnected|ReconnectNeeded"), RECONNECT, False),
    (re.compile(r"not linked to any HubSpot record"), NOT_LINKED_INVOICE, False),
    (re.compile(r"changes are not synced$"), NOT_SYNCED_KIND, False),
    (re.compile(r"could not be read"), UNREADABLE, True),
    (re.compile(r"task created"), TASK_CREATED, False),
    (re.compile(r"^(Payment|Paid|Recorded payment)"), PAYMENT_APPLIED, True),
    (re.compile(r"Unavailable|RateLimited|Timeout|timed out|answered 5\d\d|answered 429"), UNAVAILABLE, True),
]
_WRITTEN = re.compile(r"^(Created|Updated) (contact|product|invoice) (\d+)$")
_PART = re.compile(r"^(Preview|Sync of existing records), part (\d+) \((\d+) \w+ rows\): (.*)$")
_COUNT = re.compile(r"(?:would )?(create|created|update|updated|skip|skipped|archived|failed) (\d+)")
_ATTEMPT = re.compile(r"\. Attempt (\d+) of (\d+); retrying in \d+ s$")
_GAVE_UP = re.compile(r"\. Gave up after (\d+) attempts: the message is in the dead-letter queue$")


@dataclass(frozen=True)
class LogLine:
    outcome: str
    outcome_label: str
    at: str
    text: str
    detail: str
    qbo_label: str
    qbo_url: str | None
    hubspot_label: str
    hubspot_url: str | None
    qbo_id: str
    hubspot_id: str
    source: str


def said_once(text: str) -> str:
    """A provider's text with a part repeated right after itself said once ("a: b: b" → "a: b")."""
    parts = [p.strip() for p in text.split(": ")]
    kept: list[str] = []
    for part in parts:
        if not kept or part != kept[-1]:
            kept.append(part)
    return ": ".join(kept)


_COUNT_KEYS = {
    "create": "created",
    "created": "created",
    "update": "updated",
    "updated": "updated",
    "skip": "skipped",
    "skipped": "skipped",
    "archived": "archived",
    "failed": "failed",
}


def _backfill_part(t: Translator, reason: str) -> str | None:
    found = _PART.match(reason)
    if not found:
        return None
    what, part, rows, summary = found.groups()
    values = dict.fromkeys(("created", "updated", "skipped", "archived", "failed"), 0)
    for word, number in _COUNT.findall(summary):
        values[_COUNT_KEYS[word]] = int(number)
    if what == "Preview":
        return f"{t.gettext(PREVIEW_PART, part=part, rows=rows)}: {t.gettext(PREVIEW_COUNTS, **values)}"
    return f"{t.gettext(RUN_PART, part=part, rows=rows)}: {t.gettext(RUN_COUNTS, **values)}"


def sentence(t: Translator, entry: SyncLogEntry) -> tuple[str, str]:
    """Our sentence for an entry and the detail (the raw reason, said once) when it adds something."""
    return explain(t, entry.reason, entry.outcome)


def explain(t: Translator, reason: str, outcome: str = "failed") -> tuple[str, str]:
    """Our sentence for one of the engine's reasons (see `sentence`)."""
    suffix = ""
    if found := _GAVE_UP.search(reason):
        reason, suffix = reason[: found.start()], t.gettext(GAVE_UP, attempts=found.group(1))
    elif found := _ATTEMPT.search(reason):
        reason = reason[: found.start()]
        suffix = t.gettext(RETRYING, attempt=found.group(1), attempts=found.group(2))
    if (part := _backfill_part(t, reason)) is not None:
        return part, ""
    if written := _WRITTEN.match(reason):
        verb, noun, record = written.groups()
        text = t.gettext((CREATED if verb == "Created" else UPDATED)[noun], id=record)
        return (f"{text}. {suffix}" if suffix else text), ""
    for pattern, message, keeps_detail in SHAPES:
        if found := pattern.search(reason):
            text = t.gettext(message, **found.groupdict())
            return (f"{text}. {suffix}" if suffix else text), (said_once(reason) if keeps_detail else "")
    fallback = {"applied": vocabulary.SYNCED, "skipped": vocabulary.SKIPPED}.get(outcome, FAILED)
    text = t.gettext(fallback)
    return (f"{text}. {suffix}" if suffix else text), said_once(reason)


_RECORD_ERROR = re.compile(r"^(\w+) (\S+): (.*)$", re.DOTALL)


def record_error(t: Translator, error: str) -> str:
    """A run's error as the engine keeps it (`Customer 58: <reason>`) in the user's language."""
    found = _RECORD_ERROR.match(error)
    if not found or found.group(1) not in QBO_RECORDS:
        text, detail = explain(t, error)
        return f"{text} ({detail})" if detail else text
    entity, record, reason = found.groups()
    text, detail = explain(t, reason)
    line = f"{t.gettext(QBO_RECORDS[entity], id=record)}: {text}"
    return f"{line} ({detail})" if detail else line


def qbo_record_url(entity: str, qbo_id: str | None, environment: str) -> str | None:
    """The QBO web app's page of a record (None for records without one, such as items)."""
    page = QBO_PAGES.get(entity)
    if page is None or not qbo_id or not qbo_id.isdigit():
        return None
    host = "app.sandbox.qbo.intuit.com" if environment == "sandbox" else "app.qbo.intuit.com"
    return f"https://{host}{page.format(id=qbo_id)}"


def hubspot_record_url(
    object_type: str | None, hubspot_id: str | None, portal_id: int, hubspot_base: str = "https://app.hubspot.com"
) -> str | None:
    type_id = HUBSPOT_TYPE_IDS.get(object_type or "")
    if type_id is None or not hubspot_id:
        return None
    return f"{hubspot_base.rstrip('/')}/contacts/{portal_id}/record/{type_id}/{hubspot_id}"


def _qbo_url(entry: SyncLogEntry, environment: str) -> str | None:
    return qbo_record_url(entry.entity, entry.qbo_id, environment)


def _hubspot_url(entry: SyncLogEntry, portal_id: int, hubspot_base: str) -> str | None:
    return hubspot_record_url(entry.hubspot_type, entry.hubspot_id, portal_id, hubspot_base)


def _record(t: Translator, labels: dict[str, str], kind: str, record_id: str | None) -> str:
    return t.gettext(labels[kind], id=record_id) if record_id and kind in labels else ""


def log_lines(
    t: Translator,
    entries: list[SyncLogEntry],
    counts: list[int],
    *,
    portal_id: int,
    time_zone: str | None,
    environment: str,
    hubspot_base: str = "https://app.hubspot.com",
) -> list[LogLine]:
    zone = zone_or_utc(time_zone)
    lines = []
    for entry, count in zip(entries, counts, strict=True):
        text, detail = sentence(t, entry)
        if count > 1:
            text = f"{text} ({t.gettext(SAME_SKIPS, count=count)})"
        lines.append(
            LogLine(
                outcome=entry.outcome,
                outcome_label=t.gettext(vocabulary.LOG_OUTCOME_LABELS[entry.outcome]),
                at=t.format_datetime(entry.at, "medium", tz=zone),
                text=text,
                detail=detail,
                qbo_label=_record(t, QBO_RECORDS, entry.entity, entry.qbo_id) if count == 1 else "",
                qbo_url=_qbo_url(entry, environment) if count == 1 else None,
                hubspot_label=_record(t, HUBSPOT_RECORDS, entry.hubspot_type or "", entry.hubspot_id),
                hubspot_url=_hubspot_url(entry, portal_id, hubspot_base),
                qbo_id=entry.qbo_id or "",
                hubspot_id=entry.hubspot_id or "",
                source=entry.source or "",
            )
        )
    return lines


def as_json(line: LogLine) -> dict[str, Any]:
    return dict(line.__dict__)
