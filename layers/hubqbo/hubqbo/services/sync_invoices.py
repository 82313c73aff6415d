"""After the sync engine writes HubSpot invoices: associate them with the customer's contact and the
deals the invoicing feature linked, and mirror the QBO lines as line items.

Each step adds a note to the invoice's log line ("contact 51; deal 7; 2 line items"); a failure of
one of them is noted there too and does not undo the invoice written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hubqbo.clients.errors import ApiError
from hubqbo.domain.line_items import LINE_PROPERTIES, line_item_changes, line_values, product_keys, sales_lines
from hubqbo.domain.mappings import Tab, link_value

if TYPE_CHECKING:
    from hubqbo.services.sync_engine import Batch

Written = dict[str, tuple[str, bool]]  # QBO id -> (HubSpot invoice id, created now?)
Notes = dict[str, list[str]]


def invoice_associations(batch: Batch, raws: dict[str, dict[str, Any]], written: Written) -> None:
    """Associate and mirror the written invoices; notes on their log lines say what was done."""
    notes: Notes = {}
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


def _linked(batch: Batch, tab: Tab, keys: list[str]) -> dict[str, str]:
    """Link value -> HubSpot id of the records of `tab` linked by those values."""
    link = tab.link_property
    records = batch.client.read_by(tab.object_type, keys, [link], id_property=link, unknown_property_is_empty=True)
    return {str(r.properties[link]): r.id for r in records if r.properties.get(link)}


def _associate_contacts(batch: Batch, raws: dict[str, dict[str, Any]], written: Written, notes: Notes) -> None:
    customer_of = {qbo_id: str((raws[qbo_id].get("CustomerRef") or {}).get("value") or "") for qbo_id in written}
    keys = {c: link_value(batch.realm_id, c) for c in customer_of.values() if c}
    contacts = _linked(batch, Tab.CONTACTS, list(keys.values()))
    pairs = []
    for qbo_id, (invoice_id, _) in written.items():
        contact = contacts.get(keys.get(customer_of[qbo_id], ""))
        if contact is None:
            notes.setdefault(qbo_id, []).append(f"customer {customer_of[qbo_id]} has no synced contact")
        else:
            pairs.append((invoice_id, contact))
            notes.setdefault(qbo_id, []).append(f"contact {contact}")
    batch.client.associate("invoices", "contacts", pairs)


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
