"""The default mappings table, the mapping rules and the HubSpot values of QBO records (pure)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest

from hubqbo.domain.field_types import HubSpotProperty, IncompatibleMapping, Kind
from hubqbo.domain.mappings import (
    DEFAULT_MAPPINGS,
    QBO_FIELDS,
    Mapping,
    RecordContext,
    Tab,
    is_deleted,
    mapping_problem,
    qbo_field,
    record_values,
    validate_mapping,
)
from tests.support.specs import QBO_SPECS


def _props(*specs: tuple[str, str]) -> dict[str, HubSpotProperty]:
    return {name: HubSpotProperty(name=name, label=name.title(), type=kind, field_type="text") for name, kind in specs}


CONTACT_PROPS = _props(
    ("email", "string"),
    ("firstname", "string"),
    ("lastname", "string"),
    ("company", "string"),
    ("phone", "phone_number"),
    ("address", "string"),
    ("city", "string"),
    ("state", "string"),
    ("zip", "string"),
    ("country", "string"),
    ("jobtitle", "string"),
    ("hs_object_id", "number"),
    ("notes_number", "number"),
)
CTX = RecordContext(realm_id="9130000000000001", home_currency="USD", zone="America/New_York", today=date(2026, 3, 1))


def test_every_default_mapping_reads_a_catalogued_field_with_a_compatible_kind():
    for tab, mappings in DEFAULT_MAPPINGS.items():
        for m in mappings:
            assert qbo_field(tab.entity, m.qbo_field) is not None, (tab, m)
        paths = [m.qbo_field for m in mappings]
        assert len(paths) == len(set(paths)), f"{tab}: a QBO field feeds two properties"


def test_a_customer_becomes_contact_values_with_its_link_id():
    raw = {
        "Id": "58",
        "GivenName": "Amy",
        "FamilyName": "Bird",
        "DisplayName": "Amy's Bird Sanctuary",
        "CompanyName": "Amy's Bird Sanctuary",
        "PrimaryEmailAddr": {"Address": "Birds@Intuit.com"},
        "PrimaryPhone": {"FreeFormNumber": "(650) 555-3311"},
        "BillAddr": {
            "Line1": "4581 Finch St.",
            "City": "Bayshore",
            "CountrySubDivisionCode": "CA",
            "PostalCode": "94326",
        },
    }
    values, problems = record_values(Tab.CONTACTS, raw, DEFAULT_MAPPINGS[Tab.CONTACTS], CONTACT_PROPS, CTX)
    assert problems == []
    assert values == {
        "hubqbo_qbo_customer_id": "9130000000000001:58",
        "email": "Birds@Intuit.com",
        "firstname": "Amy",
        "lastname": "Bird",
        "company": "Amy's Bird Sanctuary",
        "phone": "(650) 555-3311",
        "address": "4581 Finch St.",
        "city": "Bayshore",
        "state": "CA",
        "zip": "94326",
        "country": "",
    }


@pytest.mark.parametrize(
    ("raw", "first", "last"),
    [
        ({"DisplayName": "Kookies by Kathy"}, "Kookies", "by Kathy"),
        ({"DisplayName": "Dukes Basketball Camp", "CompanyName": "Dukes Basketball Camp"}, "", ""),
        ({"DisplayName": "Jeff Chin", "GivenName": "Jeffrey"}, "Jeffrey", ""),
        ({"DisplayName": "Solo"}, "Solo", ""),
    ],
)
def test_names_fall_back_to_the_display_name_only_for_people(raw, first, last):
    values, _ = record_values(Tab.CONTACTS, {"Id": "1", **raw}, DEFAULT_MAPPINGS[Tab.CONTACTS], CONTACT_PROPS, CTX)
    assert (values["firstname"], values["lastname"]) == (first, last)


def test_a_value_that_cannot_be_converted_skips_that_property_and_the_rest_syncs():
    mappings = [*DEFAULT_MAPPINGS[Tab.CONTACTS], Mapping(hubspot_property="notes_number", qbo_field="Balance")]
    raw = {"Id": "7", "DisplayName": "Ann Lee", "Balance": "abc", "PrimaryEmailAddr": {"Address": "ann@example.com"}}
    values, problems = record_values(Tab.CONTACTS, raw, mappings, CONTACT_PROPS, CTX)
    assert values["email"] == "ann@example.com" and "notes_number" not in values
    assert [(p.hubspot_property, p.qbo_field) for p in problems] == [("notes_number", "Balance")]
    assert "“abc” is not a number" in problems[0].reason.english()


def test_a_mapping_to_a_property_that_no_longer_exists_is_reported_not_dropped():
    props = {k: v for k, v in CONTACT_PROPS.items() if k != "city"}
    values, problems = record_values(
        Tab.CONTACTS, {"Id": "1", "DisplayName": "X"}, DEFAULT_MAPPINGS[Tab.CONTACTS], props, CTX
    )
    assert "city" not in values
    assert [p.hubspot_property for p in problems] == ["city"]
    assert "no longer exists" in problems[0].reason.english()
    assert mapping_problem(Tab.CONTACTS, Mapping(hubspot_property="city", qbo_field="BillAddr.City"), props)


def test_mapping_rules_one_field_feeds_one_property_and_types_must_match():
    existing = list(DEFAULT_MAPPINGS[Tab.CONTACTS])
    with pytest.raises(IncompatibleMapping, match="a QuickBooks field may feed one HubSpot property at most"):
        validate_mapping(
            Tab.CONTACTS, Mapping(hubspot_property="jobtitle", qbo_field="CompanyName"), CONTACT_PROPS, existing
        )
    with pytest.raises(IncompatibleMapping, match="already mapped"):
        validate_mapping(Tab.CONTACTS, Mapping(hubspot_property="company", qbo_field="Notes"), CONTACT_PROPS, existing)
    with pytest.raises(IncompatibleMapping, match="numbers can only feed number properties"):
        validate_mapping(
            Tab.CONTACTS, Mapping(hubspot_property="jobtitle", qbo_field="Balance"), CONTACT_PROPS, existing
        )
    with pytest.raises(IncompatibleMapping, match="has no field"):
        validate_mapping(Tab.CONTACTS, Mapping(hubspot_property="jobtitle", qbo_field="Nope"), CONTACT_PROPS, existing)
    with pytest.raises(IncompatibleMapping, match="no contact property"):
        validate_mapping(Tab.CONTACTS, Mapping(hubspot_property="gone", qbo_field="Notes"), CONTACT_PROPS, existing)
    with pytest.raises(IncompatibleMapping, match="link ids"):
        validate_mapping(
            Tab.CONTACTS, Mapping(hubspot_property="hubqbo_qbo_customer_id", qbo_field="Notes"), CONTACT_PROPS, existing
        )
    validate_mapping(Tab.CONTACTS, Mapping(hubspot_property="jobtitle", qbo_field="Title"), CONTACT_PROPS, existing)


def test_an_invoice_becomes_a_tracking_only_hubspot_invoice():
    props = {
        "hs_number": HubSpotProperty(name="hs_number", label="Invoice number", type="string"),
        "hs_invoice_date": HubSpotProperty(name="hs_invoice_date", label="Invoice date", type="datetime"),
        "hs_due_date": HubSpotProperty(name="hs_due_date", label="Due date", type="datetime"),
        "hs_currency": HubSpotProperty(
            name="hs_currency", label="Currency", type="enumeration", options=("USD", "GBP")
        ),
        "hs_amount_billed": HubSpotProperty(name="hs_amount_billed", label="Amount billed", type="number"),
        "hs_balance_due": HubSpotProperty(name="hs_balance_due", label="Balance due", type="number"),
        "hs_external_invoice_status": HubSpotProperty(name="hs_external_invoice_status", label="Status", type="string"),
        "hs_external_recipient": HubSpotProperty(name="hs_external_recipient", label="Recipient", type="string"),
        "hs_invoice_link": HubSpotProperty(name="hs_invoice_link", label="Link", type="string"),
    }
    raw = {
        "Id": "130",
        "DocNumber": "1037",
        "TxnDate": "2026-02-01",
        "DueDate": "2026-02-15",
        "TotalAmt": Decimal("362.07"),
        "Balance": Decimal("100.00"),
        "CustomerRef": {"value": "58", "name": "Amy's Bird Sanctuary"},
        "EmailStatus": "EmailSent",
    }
    values, problems = record_values(Tab.INVOICES, raw, DEFAULT_MAPPINGS[Tab.INVOICES], props, CTX)
    assert problems == []
    assert values["hs_invoice_billable"] == "false"
    assert values["hubqbo_qbo_invoice_id"] == "9130000000000001:130"
    assert values["hs_currency"] == "USD"  # no CurrencyRef: the company's home currency
    assert values["hs_invoice_date"] == "2026-02-01T05:00:00.000Z"
    assert values["hs_amount_billed"] == "362.07" and values["hs_balance_due"] == "100"
    assert values["hs_external_invoice_status"] == "Partial payment"
    assert values["hs_external_recipient"] == "Amy's Bird Sanctuary"
    assert values["hs_invoice_link"] == "https://app.qbo.intuit.com/app/invoice?txnId=130"

    # voided after a part payment: QBO zeroes the amounts; HubSpot shows Voided with nothing due
    voided = {**raw, "TotalAmt": Decimal(0), "Balance": Decimal("112.50"), "PrivateNote": "Voided"}
    values, problems = record_values(Tab.INVOICES, voided, DEFAULT_MAPPINGS[Tab.INVOICES], props, CTX)
    assert problems == []
    assert values["hs_external_invoice_status"] == "Voided"
    assert values["hs_balance_due"] == "0" and values["hs_amount_billed"] == "0"


@pytest.mark.parametrize(
    ("tab", "raw", "deleted"),
    [
        (Tab.CONTACTS, {"Id": "1", "Active": False}, True),
        (Tab.CONTACTS, {"Id": "1", "Active": True}, False),
        (Tab.PRODUCTS, {"Id": "1", "Active": "false"}, True),
        (Tab.INVOICES, {"Id": "1", "status": "Deleted"}, True),
        (Tab.INVOICES, {"Id": "1", "TotalAmt": 0, "PrivateNote": "Voided"}, False),  # a status, not a deletion
        (Tab.INVOICES, {"Id": "1", "TotalAmt": 0, "PrivateNote": ""}, False),
    ],
)
def test_inactive_customers_and_items_and_deleted_invoices_count_as_deleted_but_voided_invoices_do_not(
    tab, raw, deleted
):
    assert is_deleted(tab, raw) is deleted


# -- the catalogue against the XSDs ---------------------------------------------------------------------
SPECS = QBO_SPECS
XS = "{http://www.w3.org/2001/XMLSchema}"
XSD_KIND = {
    "xs:string": Kind.TEXT,
    "xs:anyURI": Kind.TEXT,
    "xs:decimal": Kind.NUMBER,
    "xs:int": Kind.NUMBER,
    "xs:integer": Kind.NUMBER,
    "xs:long": Kind.NUMBER,
    "xs:double": Kind.NUMBER,
    "xs:date": Kind.DATE,
    "xs:dateTime": Kind.DATETIME,
    "xs:boolean": Kind.BOOLEAN,
}


def _schema() -> tuple[dict[str, ET.Element], dict[str, ET.Element]]:
    complex_types, simple_types = {}, {}
    for name in ("IntuitBaseTypes.xsd", "IntuitNamesTypes.xsd", "Finance.xsd"):
        root = ET.parse(SPECS / name).getroot()  # noqa: S314 - the spec files of this project
        for node in root.iter(f"{XS}complexType"):
            if node.get("name"):
                complex_types[node.get("name")] = node
        for node in root.iter(f"{XS}simpleType"):
            if node.get("name"):
                simple_types[node.get("name")] = node
    return complex_types, simple_types


def _elements(type_name: str, complex_types: dict[str, ET.Element]) -> dict[str, str]:
    """Element name -> type of a complex type, its bases' elements included."""
    node = complex_types[type_name]
    found: dict[str, str] = {}
    for ext in node.iter(f"{XS}extension"):
        base = ext.get("base", "").split(":")[-1]
        if base in complex_types:
            found.update(_elements(base, complex_types))
        else:
            found["value"] = ext.get("base", "")  # simple content (a reference): its value
    for el in node.iter(f"{XS}element"):
        if el.get("name"):
            found[el.get("name")] = el.get("type", "")
    for attr in node.iter(f"{XS}attribute"):
        if attr.get("name"):
            found[attr.get("name")] = attr.get("type", "xs:string")
    return found


def _kind(type_name: str, simple_types: dict[str, ET.Element]) -> Kind | None:
    if type_name in XSD_KIND:
        return XSD_KIND[type_name]
    simple = simple_types.get(type_name.split(":")[-1])
    if simple is not None:
        if list(simple.iter(f"{XS}enumeration")):
            return Kind.ENUMERATION
        restriction = next(simple.iter(f"{XS}restriction"), None)
        return XSD_KIND.get(restriction.get("base", "")) if restriction is not None else None
    return None


@pytest.mark.parametrize("entity", ["Customer", "Item", "Invoice"])
def test_every_catalogued_field_exists_in_the_xsd_with_its_kind(entity):
    complex_types, simple_types = _schema()
    for f in QBO_FIELDS[entity]:
        if f.derived:
            assert f.path.startswith("@")
            continue
        type_name = entity
        *parents, leaf = f.path.split(".")
        for part in parents:
            elements = _elements(type_name, complex_types)
            assert part in elements, f"{entity}.{f.path}: no {part} in {type_name}"
            type_name = elements[part].split(":")[-1]
        elements = _elements(type_name, complex_types)
        assert leaf in elements, f"{entity}.{f.path}: no {leaf} in {type_name}"
        kind = _kind(elements[leaf], simple_types)
        assert kind == f.kind, f"{entity}.{f.path}: XSD says {elements[leaf]} ({kind}), catalogue says {f.kind}"
        if kind == Kind.ENUMERATION:
            simple = simple_types[elements[leaf].split(":")[-1]]
            assert set(f.values) <= {e.get("value") for e in simple.iter(f"{XS}enumeration")}


def test_catalogue_paths_are_plain_json_paths():
    for entity, fields in QBO_FIELDS.items():
        paths = [f.path for f in fields]
        assert len(paths) == len(set(paths)), entity
        assert all(re.fullmatch(r"@?[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)*", p) for p in paths)
