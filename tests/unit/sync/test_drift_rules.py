"""The drift report's pure comparison: what counts as a difference, compared the way HubSpot stores
values, and rows whose id stays the same for the same difference."""

from __future__ import annotations

from datetime import date

from hubqbo.domain import drift
from hubqbo.domain.deal_properties import LinkedInvoice, deal_property_values
from hubqbo.domain.field_types import HubSpotProperty, HubSpotRecord
from hubqbo.domain.mappings import RecordContext, Tab, default_mappings, record_values
from hubqbo.domain.qbo_invoice import read_invoice

REALM = "9130"
TODAY = date(2026, 12, 3)
PRICE = HubSpotProperty(name="price", label="Unit price", type="number", field_type="number", hubspot_defined=True)
NAME = HubSpotProperty(name="name", label="Name", type="string", field_type="text", hubspot_defined=True)
LINK = HubSpotProperty(
    name="hubqbo_qbo_item_id", label="QuickBooks item", type="string", field_type="text", unique=True
)
PROPERTIES = {p.name: p for p in (PRICE, NAME, LINK)}


def _invoice(**more) -> dict:
    return {
        "Id": "42",
        "DocNumber": "HS-2026-00042",
        "TxnDate": "2026-11-20",
        "DueDate": "2026-12-20",
        "TotalAmt": 120,
        "Balance": 120,
        "CurrencyRef": {"value": "USD"},
        "CustomerRef": {"value": "7", "name": "Drift Co"},
        "MetaData": {"LastUpdatedTime": "2026-11-20T10:00:00-08:00"},
        **more,
    }


def _expected(raw: dict) -> dict[str, str]:
    linked = [LinkedInvoice(invoice=read_invoice(raw, home_currency="USD"), company_name="Demo US")]
    values = deal_property_values(linked, portal_currency="USD", today=TODAY)
    assert values.properties is not None and values.source_invoice_id == raw["Id"]
    return values.properties


def test_a_deal_that_matches_its_invoice_has_no_rows_even_when_hubspot_writes_numbers_and_dates_its_own_way():
    expected = _expected(_invoice())
    current = {
        "hubqbo_invoice_amount": "120",  # HubSpot may echo 120 for 120.00
        "hubqbo_invoice_balance": "120.000",
        "hubqbo_invoice_status": expected["hubqbo_invoice_status"],
        "hubqbo_invoice_due_date": "2026-12-20T00:00:00.000Z",
    }
    assert drift.compare_deal("301", "42", expected, current) == []


def test_each_differing_deal_figure_is_one_row_with_both_values_and_the_rule():
    expected = _expected(_invoice(Balance=20))
    current = {
        "hubqbo_invoice_amount": "1.00",
        "hubqbo_invoice_balance": "120",
        "hubqbo_invoice_status": "paid_in_full",
        "hubqbo_invoice_due_date": None,
    }
    rows = drift.compare_deal("301", "42", expected, current)
    assert [(r.field, r.qbo_value, r.hubspot_value) for r in rows] == [
        ("hubqbo_invoice_amount", "120.00", "1.00"),
        ("hubqbo_invoice_balance", "20.00", "120"),
        ("hubqbo_invoice_status", "partial_payment", "paid_in_full"),
        ("hubqbo_invoice_due_date", "2026-12-20", ""),
    ]
    assert {(r.kind, r.rule, r.qbo_entity, r.qbo_id, r.hubspot_type, r.hubspot_id, r.fixable) for r in rows} == {
        ("deal", "deal_property", "Invoice", "42", "deals", "301", True)
    }
    assert len({r.id for r in rows}) == 4


def test_a_row_keeps_its_id_when_the_same_difference_is_found_again_whatever_the_values():
    first = drift.row("deal", "deal_property", "Invoice", "42", "deals", "301", "hubqbo_invoice_amount", "120", "1")
    again = drift.row("deal", "deal_property", "Invoice", "42", "deals", "301", "hubqbo_invoice_amount", "120", "7")
    other = drift.row("deal", "deal_property", "Invoice", "42", "deals", "302", "hubqbo_invoice_amount", "120", "1")
    assert first.id == again.id != other.id and len(first.id) == 16


def test_a_synced_record_is_compared_under_the_mappings_the_sync_engine_uses():
    item = {"Id": "5", "Name": "Design work", "UnitPrice": 75, "Type": "Service"}
    mappings = [m for m in default_mappings(Tab.PRODUCTS) if m.hubspot_property in PROPERTIES]
    values, problems = record_values(Tab.PRODUCTS, item, mappings, PROPERTIES, RecordContext(REALM))
    assert problems == []
    same = HubSpotRecord("9001", {"name": "Design work", "price": "75.00", "hubqbo_qbo_item_id": f"{REALM}:5"})
    assert drift.compare_record(Tab.PRODUCTS, "5", same, values, PROPERTIES) == []
    edited = HubSpotRecord("9001", {"name": "Design", "price": "80", "hubqbo_qbo_item_id": f"{REALM}:5"})
    rows = drift.compare_record(Tab.PRODUCTS, "5", edited, values, PROPERTIES)
    assert [(r.field, r.qbo_value, r.hubspot_value, r.hubspot_type, r.rule) for r in rows] == [
        ("name", "Design work", "Design", "products", "mapped_field"),
        ("price", "75", "80", "products", "mapped_field"),
    ]


def test_invoices_of_linked_customers_that_no_deal_shows_are_rows_that_cannot_be_fixed_automatically():
    raws = [
        _invoice(Id="42"),  # linked
        _invoice(Id="43", DocNumber="1043", TotalAmt=55),
        _invoice(Id="44", status="Deleted"),
        _invoice(Id="45", TotalAmt=0, Balance=0, PrivateNote="Voided"),
        _invoice(Id="46", CustomerRef={"value": "8"}),
    ]
    rows = drift.unattached_invoices(raws, {"42"}, {"7": "301"})
    assert [(r.qbo_id, r.hubspot_type, r.hubspot_id, r.qbo_value, r.fixable) for r in rows] == [
        ("43", "deals", "301", "1043 (55)", False),
        ("46", None, None, "HS-2026-00042 (120)", False),
    ]
    assert drift.counts(rows) == {"unattached_invoice": 2}


def test_every_rule_has_a_sentence_and_only_unattached_invoices_are_left_to_the_user():
    assert set(drift.RULES) - drift.FIXABLE_RULES == {"unattached_invoice"}
    assert all("QuickBooks" in sentence for sentence in drift.RULES.values())
