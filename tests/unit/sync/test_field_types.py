"""Type rules and coercion of the mapping engine (pure)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hubqbo.domain.field_types import (
    HubSpotProperty,
    IncompatibleMapping,
    Kind,
    NotConvertible,
    QboField,
    check_pair,
    coerce,
    comparable,
)

TEXT = HubSpotProperty(name="company", label="Company name", type="string", field_type="text")
PHONE = HubSpotProperty(name="phone", label="Phone", type="phone_number", field_type="phonenumber")
NUMBER = HubSpotProperty(name="price", label="Unit price", type="number", field_type="number")
DATE = HubSpotProperty(name="d", label="A date", type="date", field_type="date")
DATETIME = HubSpotProperty(name="hs_invoice_date", label="Invoice date", type="datetime", field_type="date")
CHECKBOX = HubSpotProperty(
    name="vip", label="VIP", type="bool", field_type="booleancheckbox", options=("true", "false")
)
OLD_CHECKBOX = HubSpotProperty(
    name="vip2", label="VIP", type="enumeration", field_type="booleancheckbox", options=("true", "false")
)
SELECT = HubSpotProperty(
    name="hs_product_type",
    label="Product type",
    type="enumeration",
    field_type="select",
    options=("inventory", "non_inventory", "service"),
)
CALCULATED = HubSpotProperty(name="amount", label="Net price", type="number", read_only=True)

NAME = QboField(path="CompanyName", label="Company name", kind=Kind.TEXT)
PRICE = QboField(path="UnitPrice", label="Sales price", kind=Kind.NUMBER)
TXN_DATE = QboField(path="TxnDate", label="Invoice date", kind=Kind.DATE)
UPDATED = QboField(path="MetaData.LastUpdatedTime", label="Last updated", kind=Kind.DATETIME)
TAXABLE = QboField(path="Taxable", label="Taxable", kind=Kind.BOOLEAN)
ITEM_TYPE = QboField(
    path="Type", label="Type", kind=Kind.ENUMERATION, values=("Service", "NonInventory", "Inventory", "Group")
)


@pytest.mark.parametrize(
    ("field", "prop"),
    [
        (NAME, TEXT),
        (NAME, PHONE),
        (PRICE, NUMBER),
        (TXN_DATE, DATE),
        (TXN_DATE, DATETIME),
        (UPDATED, DATETIME),
        (UPDATED, DATE),
        (TAXABLE, CHECKBOX),
        (TAXABLE, OLD_CHECKBOX),
        (ITEM_TYPE, TEXT),
        (ITEM_TYPE, SELECT),
        (NAME, SELECT),
    ],
)
def test_compatible_pairs_are_accepted(field, prop):
    check_pair(field, prop, {"Service": "service"} if prop is SELECT and field is ITEM_TYPE else None)


@pytest.mark.parametrize(
    ("field", "prop", "why"),
    [
        (PRICE, TEXT, "numbers can only feed number properties"),
        (NAME, NUMBER, "text can only feed text properties"),
        (TXN_DATE, TEXT, "dates can only feed date"),
        (TAXABLE, TEXT, "yes/no values can only feed single checkboxes"),
        (NAME, CHECKBOX, "text can only feed text"),
        (PRICE, SELECT, "only text, yes/no and list values"),
        (PRICE, CALCULATED, "HubSpot calculates"),
    ],
)
def test_incompatible_pairs_are_refused_with_the_reason(field, prop, why):
    with pytest.raises(IncompatibleMapping, match=why):
        check_pair(field, prop)


def test_a_value_map_must_name_existing_options_and_qbo_values():
    with pytest.raises(IncompatibleMapping, match="is not an option"):
        check_pair(ITEM_TYPE, SELECT, {"Service": "services"})
    with pytest.raises(IncompatibleMapping, match="QuickBooks never uses"):
        check_pair(ITEM_TYPE, SELECT, {"Bundle": "service"})
    with pytest.raises(IncompatibleMapping, match="only applies to list properties"):
        check_pair(NAME, TEXT, {"a": "b"})


def test_our_unique_link_properties_cannot_be_mapped():
    link = HubSpotProperty(name="hubqbo_qbo_customer_id", label="QuickBooks customer id", type="string", unique=True)
    with pytest.raises(IncompatibleMapping, match="unique id"):
        check_pair(NAME, link)


def test_coercion_writes_hubspot_strings():
    assert coerce(Decimal("75.00"), NUMBER) == "75"
    assert coerce(12.5, NUMBER) == "12.5"
    assert coerce("  Acme  ", TEXT) == "Acme"
    assert coerce(True, CHECKBOX) == "true"
    assert coerce("false", CHECKBOX) == "false"
    assert coerce("2026-01-31", DATE) == "2026-01-31"
    assert coerce("2026-01-31T10:00:00-08:00", DATE) == "2026-01-31"
    assert coerce("Service", SELECT, {"Service": "service"}) == "service"
    assert coerce("service", SELECT) == "service"  # a value that is already an option needs no map entry
    assert coerce(None, TEXT) == "" and coerce("", NUMBER) == ""


def test_a_date_into_a_datetime_property_is_the_start_of_that_day_in_the_portals_zone():
    assert coerce("2026-01-31", DATETIME, zone="America/New_York") == "2026-01-31T05:00:00.000Z"
    assert coerce("2026-07-01", DATETIME, zone="Europe/London") == "2026-06-30T23:00:00.000Z"
    assert coerce("2026-01-31T10:00:00-08:00", DATETIME) == "2026-01-31T18:00:00.000Z"


@pytest.mark.parametrize(
    ("value", "prop", "why"),
    [
        ("abc", NUMBER, "is not a number"),
        ("yes please", CHECKBOX, "is not a yes/no value"),
        ("31/01/2026", DATE, "is not a date"),
        ("Group", SELECT, "has no matching option"),
        ("x" * 70_000, TEXT, "longer than"),
    ],
)
def test_values_that_cannot_be_converted_say_why(value, prop, why):
    with pytest.raises(NotConvertible, match=why):
        coerce(value, prop, {"Service": "service"})


def test_comparison_ignores_how_hubspot_echoes_numbers_dates_and_email_case():
    assert comparable(NUMBER, "75.00") == comparable(NUMBER, "75")
    assert comparable(DATETIME, "2026-01-31T05:00:00Z") == comparable(DATETIME, "2026-01-31T05:00:00.000Z")
    email = HubSpotProperty(name="email", label="Email", type="string")
    assert comparable(email, "Amy@Example.com") == comparable(email, "amy@example.com")
    assert comparable(TEXT, None) == comparable(TEXT, "")


def test_properties_from_the_api_know_their_kind_and_read_only_flag():
    body = {
        "name": "amount",
        "label": "Net price",
        "type": "number",
        "fieldType": "number",
        "calculated": True,
        "options": [],
        "modificationMetadata": {"readOnlyValue": True},
    }
    prop = HubSpotProperty.from_api(body)
    assert prop.kind == Kind.NUMBER and prop.read_only
    assert (
        HubSpotProperty.from_api({"name": "x", "type": "enumeration", "fieldType": "booleancheckbox"}).kind
        == Kind.BOOLEAN
    )
    assert HubSpotProperty.from_api({"name": "x", "type": "object_coordinates"}).kind is None
