"""After the sync engine writes HubSpot invoices: associate them with the customer's contact, that
contact's primary company and the deals the invoicing feature linked, and mirror the QBO lines as line
items. The contact is the one linked to the invoice's customer; for a customer that was never synced,
the contact with its email (the invoice's billing email, else the customer's own, read from QBO), as
the contacts tab matches, unless that contact mirrors another QBO customer.

Each step adds a note to the invoice's log line ("contact 51; deal 7; 2 line items"); a refusal of
one of them (a 4xx) is noted there too and does not undo the invoice written. A 429, 5xx or timeout
is raised: the change is retried, and since an invoice already up to date goes through these steps
again (every one of them is safe to repeat), the retry finishes what the first attempt began.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubqbo.clients.errors import ApiError, refused_what_was_sent
from hubqbo.clients.hubspot import PRIMARY_COMPANY
from hubqbo.domain.line_items import LINE_PROPERTIES, line_item_changes, line_values, product_keys, sales_lines
from hubqbo.domain.mappings import Tab, email_of, link_value, value_at

if TYPE_CHECKING:
    from hubqbo.services.sync_engine import Batch

Written = dict[str, tuple[str, bool]]  # QBO id -> (HubSpot invoice id, created now?); up-to-date ones too
Notes = dict[str, list[str]]


def invoice_associations(batch: Batch, raws: dict[str, dict[str, Any]], written: Written) -> None:
    """Associate and mirror the written invoices; notes on their log lines say what was done."""
    notes: Notes = {}
    try:
        contacts = _associate_contacts(batch, raws, written, notes)
        _associate_companies(batch, written, contacts, notes)
        _associate_deals(batch, written, notes)
        _sync_line_items(batch, raws, written, notes)
    except ApiError as exc:
        if not refused_what_was_sent(exc):
            raise
        for qbo_id in written:
            notes.setdefault(qbo_id, []).append(f"associations failed: {exc.message}")
    for entry in batch.entries:
        if entry.qbo_id in notes and entry.outcome != "failed" and entry.entity == "Invoice":
            entry.reason += " (" + "; ".join(notes[entry.qbo_id]) + ")"


def _linked(batch: Batch, tab: Tab, keys: list[str]) -> dict[str, str]:
    """Link value -> HubSpot id of the records of `tab` linked by those values."""
    link = tab.link_property
    records = batch.client.read_by(tab.object_type, keys, [link], id_property=link, unknown_property_is_empty=True)
    return {str(r.properties[link]): r.id for r in records if r.properties.get(link)}


def _associate_contacts(
    batch: Batch, raws: dict[str, dict[str, Any]], written: Written, notes: Notes
) -> dict[str, str]:
    """Associate each invoice with its customer's contact; QBO invoice id -> that contact's id."""
    customer_of = {qbo_id: str((raws[qbo_id].get("CustomerRef") or {}).get("value") or "") for qbo_id in written}
    keys = {c: link_value(batch.realm_id, c) for c in customer_of.values() if c}
    linked = _linked(batch, Tab.CONTACTS, list(keys.values()))
    contact_of = {q: linked[keys[c]] for q, c in customer_of.items() if c and keys[c] in linked}
    unsynced = {q: customer_of[q] for q in written if q not in contact_of and customer_of[q]}
    by_email = _contacts_by_email(batch, raws, unsynced) if unsynced else {}
    pairs = []
    for qbo_id, (invoice_id, _) in written.items():
        if qbo_id in contact_of:
            notes.setdefault(qbo_id, []).append(f"contact {contact_of[qbo_id]}")
        elif qbo_id in by_email:
            contact_of[qbo_id] = by_email[qbo_id]
            notes.setdefault(qbo_id, []).append(f"contact {by_email[qbo_id]} (matched by email)")
        else:
            notes.setdefault(qbo_id, []).append(f"customer {customer_of[qbo_id]} has no synced contact")
            continue
        pairs.append((invoice_id, contact_of[qbo_id]))
    batch.client.associate("invoices", "contacts", pairs)
    return contact_of


def _contacts_by_email(batch: Batch, raws: dict[str, dict[str, Any]], customers: dict[str, str]) -> dict[str, str]:
    """QBO invoice id -> the contact with its customer's email, for customers no contact is linked to."""
    emails = {q: str(value_at(raws[q], "BillEmail.Address") or "").strip().lower() for q in customers}
    unknown = sorted({c for q, c in customers.items() if not emails[q]})
    if unknown:  # no billing email on the invoice: the customer's own, as the contacts tab reads it
        found = batch.ports.qbo_client(batch.portal_id, batch.realm_id).read_many("Customer", unknown)
        for qbo_id, customer in customers.items():
            if not emails[qbo_id] and customer in found:
                emails[qbo_id] = email_of(found[customer]) or ""
    link = Tab.CONTACTS.link_property
    wanted = [e for e in emails.values() if e]
    records = batch.client.read_by("contacts", wanted, [link], id_property="email") if wanted else []
    by_email = {str(r.properties.get("email") or "").lower(): r for r in records}
    out: dict[str, str] = {}
    for qbo_id, email in emails.items():
        record = by_email.get(email) if email else None
        mirrors = record.properties.get(link) if record else None
        if record is not None and (not mirrors or mirrors == link_value(batch.realm_id, customers[qbo_id])):
            out[qbo_id] = record.id
    return out


def _associate_companies(batch: Batch, written: Written, contacts: dict[str, str], notes: Notes) -> None:
    """Each invoice with its contact's primary company."""
    ids = sorted(set(contacts.values()))
    companies = batch.client.associated_ids("contacts", "companies", ids, type_id=PRIMARY_COMPANY) if ids else {}
    pairs = []
    for qbo_id, (invoice_id, _) in written.items():
        for company in companies.get(contacts.get(qbo_id, ""), [])[:1]:
            pairs.append((invoice_id, company))
            notes.setdefault(qbo_id, []).append(f"company {company}")
    batch.client.associate("invoices", "companies", pairs)


def _associate_deals(batch: Batch, written: Written, notes: Notes) -> None:
    if batch.ports.invoice_links is None:
        return
    pairs = []
    for qbo_id, (invoice_id, _) in written.items():
        for link in batch.ports.invoice_links(batch.portal_id, batch.realm_id, qbo_id):
            if getattr(link, "object_type", None) == "deals":
                pairs.append((invoice_id, str(link.object_id)))
                notes.setdefault(qbo_id, []).append(f"deal {link.object_id}")
    batch.client.associate("invoices", "deals", pairs)


def _sync_line_items(batch: Batch, raws: dict[str, dict[str, Any]], written: Written, notes: Notes) -> None:
    """Line items follow the QBO lines: new lines are created (associated with the invoice), changed
    ones updated, removed ones archived; matched by `<realm>:<invoice>:<line>`."""
    client = batch.client
    lines = {qbo_id: sales_lines(raws[qbo_id]) for qbo_id in written}
    keys = [key for found in lines.values() for key in product_keys(batch.realm_id, found)]
    products = _linked(batch, Tab.PRODUCTS, keys) if keys else {}
    updated = [invoice_id for invoice_id, created in written.values() if not created]
    existing = client.associated_ids("invoices", "line_items", updated) if updated else {}
    all_existing = [i for ids in existing.values() for i in ids]
    current = {r.id: r.properties for r in client.read_by("line_items", all_existing, LINE_PROPERTIES)}
    properties = batch.ports.properties.get(client, batch.portal_id, "line_items")
    creates: list[tuple[dict[str, str], list[tuple[str, str]]]] = []
    updates: list[tuple[str, dict[str, str]]] = []
    archives: list[str] = []
    for qbo_id, (invoice_id, _) in written.items():
        raw = raws[qbo_id]
        wanted = [
            line_values(batch.realm_id, batch.connection.home_currency, raw, ln, products) for ln in lines[qbo_id]
        ]
        mine = {i: current[i] for i in existing.get(invoice_id, []) if i in current}
        changes = line_item_changes(wanted, mine, properties)
        creates += [(values, [("invoices", invoice_id)]) for values in changes.creates]
        updates += changes.updates
        archives += changes.archives
        count = len(lines[qbo_id])
        notes.setdefault(qbo_id, []).append(f"{count} line item{'s' if count != 1 else ''}")
    client.create_many("line_items", creates)
    client.update_many("line_items", updates)
    if failed := client.archive_many("line_items", archives):
        raise next(iter(failed.values()))
