"""Field mappings: the three sync tabs, the QBO field catalogue, the one default mappings table, the
rules a user's mapping list must follow, and the HubSpot values of one QBO record.

The catalogue lists, per QBO entity, the fields a mapping may read, with their kinds, taken from the
XSDs in tests/fixtures/specs/qbo (Customer: IntuitNamesTypes.xsd; Item and Invoice: Finance.xsd; a
unit test resolves every path in them). `@` fields are derived by hubqbo.

Every record also carries hubqbo's link id in a unique HubSpot property (`<realm>:<QBO id>`, so
several QBO companies can share a portal): that property is how a record is found again, and it is
never part of the user's mapping list.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as Lookup
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.domain.field_types import (
    HubSpotProperty,
    IncompatibleMapping,
    Kind,
    NotConvertible,
    QboField,
    check_pair,
    coerce,
)
from hubqbo.domain.text import N_, Text

GROUP_NAME = "quickbooks"  # the HubSpot property group of everything hubqbo defines
GROUP_LABEL = "QuickBooks"


class Tab(StrEnum):
    CONTACTS = "contacts"
    PRODUCTS = "products"
    INVOICES = "invoices"

    @property
    def entity(self) -> str:
        return {Tab.CONTACTS: "Customer", Tab.PRODUCTS: "Item", Tab.INVOICES: "Invoice"}[self]

    @property
    def object_type(self) -> str:
        """The HubSpot object the tab writes (its path name)."""
        return self.value

    @property
    def link_property(self) -> str:
        return {
            Tab.CONTACTS: "hubqbo_qbo_customer_id",
            Tab.PRODUCTS: "hubqbo_qbo_item_id",
            Tab.INVOICES: "hubqbo_qbo_invoice_id",
        }[self]

    @property
    def singular(self) -> str:
        return {Tab.CONTACTS: "contact", Tab.PRODUCTS: "product", Tab.INVOICES: "invoice"}[self]

    @classmethod
    def for_entity(cls, entity: str) -> Tab:
        for tab in cls:
            if tab.entity == entity:
                return tab
        raise ValueError(f"no sync tab for QBO {entity}")


LINE_LINK_PROPERTY = "hubqbo_qbo_line_id"  # on line items: `<realm>:<invoice id>:<line id>` (not unique)


def link_value(realm_id: str, qbo_id: str) -> str:
    return f"{realm_id}:{qbo_id}"


def link_definitions(tab: Tab) -> list[tuple[str, dict[str, Any]]]:
    """(object type, property definition) of hubqbo's own link properties for a tab."""
    own = [
        (
            tab.object_type,
            {
                "name": tab.link_property,
                "label": f"QuickBooks {tab.entity.lower()} id",
                "description": "Set by hubqbo: the QuickBooks company id and record id this record mirrors.",
                "type": "string",
                "fieldType": "text",
                "groupName": GROUP_NAME,
                "hasUniqueValue": True,
            },
        )
    ]
    if tab == Tab.INVOICES:
        own.append(
            (
                "line_items",
                {
                    "name": LINE_LINK_PROPERTY,
                    "label": "QuickBooks invoice line id",
                    "description": "Set by hubqbo: the QuickBooks company, invoice and line this line item mirrors.",
                    "type": "string",
                    "fieldType": "text",
                    "groupName": GROUP_NAME,
                },
            )
        )
    return own


# -- the QBO field catalogue --------------------------------------------------------------------------
def _f(path: str, label: str, kind: Kind = Kind.TEXT, values: tuple[str, ...] = (), derived: bool = False) -> QboField:
    return QboField(path=path, label=label, kind=kind, values=values, derived=derived)


# Each label is a whole message (the catalog's id), so a translation can order its words freely.
_ADDRESS_LABELS = {
    "BillAddr": (
        N_("Billing address line 1"),
        N_("Billing address line 2"),
        N_("Billing address city"),
        N_("Billing address state / region"),
        N_("Billing address postal code"),
        N_("Billing address country"),
    ),
    "ShipAddr": (
        N_("Shipping address line 1"),
        N_("Shipping address line 2"),
        N_("Shipping address city"),
        N_("Shipping address state / region"),
        N_("Shipping address postal code"),
        N_("Shipping address country"),
    ),
}


def _address(prefix: str) -> tuple[QboField, ...]:
    parts = ("Line1", "Line2", "City", "CountrySubDivisionCode", "PostalCode", "Country")
    return tuple(_f(f"{prefix}.{part}", label) for part, label in zip(parts, _ADDRESS_LABELS[prefix], strict=True))


_META = (
    _f("MetaData.CreateTime", N_("Created in QuickBooks"), Kind.DATETIME),
    _f("MetaData.LastUpdatedTime", N_("Last updated in QuickBooks"), Kind.DATETIME),
)
ITEM_TYPES = (
    "Inventory",
    "NonInventory",
    "Service",
    "Group",
    "Category",
    "Other Charge",
    "Assembly",
    "Fixed Asset",
    "Payment",
    "Subtotal",
    "Discount",
    "Tax",
)
EMAIL_STATUSES = ("NotSet", "NeedToSend", "EmailSent")
PRINT_STATUSES = ("NotSet", "NeedToPrint", "PrintComplete")

QBO_FIELDS: dict[str, tuple[QboField, ...]] = {
    "Customer": (
        _f("DisplayName", N_("Display name")),
        _f("Title", N_("Title")),
        _f("GivenName", N_("First name")),
        _f("MiddleName", N_("Middle name")),
        _f("FamilyName", N_("Last name")),
        _f("Suffix", N_("Suffix")),
        _f("@FirstName", N_("First name (else the display name's first word)"), derived=True),
        _f("@LastName", N_("Last name (else the rest of the display name)"), derived=True),
        _f("CompanyName", N_("Company name")),
        _f("FullyQualifiedName", N_("Full name")),
        _f("PrimaryEmailAddr.Address", N_("Email")),
        _f("PrimaryPhone.FreeFormNumber", N_("Phone")),
        _f("Mobile.FreeFormNumber", N_("Mobile")),
        _f("AlternatePhone.FreeFormNumber", N_("Other phone")),
        _f("Fax.FreeFormNumber", N_("Fax")),
        _f("WebAddr.URI", N_("Website")),
        *_address("BillAddr"),
        *_address("ShipAddr"),
        _f("Notes", N_("Notes")),
        _f("PrintOnCheckName", N_("Name on checks")),
        _f("ResaleNum", N_("Resale number")),
        _f("CurrencyRef.value", N_("Currency")),
        _f("SalesTermRef.value", N_("Terms (id)")),
        _f("PreferredDeliveryMethod", N_("Preferred delivery method")),
        _f("Active", N_("Active"), Kind.BOOLEAN),
        _f("Taxable", N_("Taxable"), Kind.BOOLEAN),
        _f("Job", N_("Is a sub-customer"), Kind.BOOLEAN),
        _f("Balance", N_("Open balance"), Kind.NUMBER),
        _f("BalanceWithJobs", N_("Open balance with sub-customers"), Kind.NUMBER),
        _f("OpenBalanceDate", N_("Opening balance date"), Kind.DATE),
        *_META,
    ),
    "Item": (
        _f("Name", N_("Name")),
        _f("Sku", N_("SKU")),
        _f("Description", N_("Sales description")),
        _f("PurchaseDesc", N_("Purchase description")),
        _f("FullyQualifiedName", N_("Full name")),
        _f("Type", N_("Type"), Kind.ENUMERATION, ITEM_TYPES),
        _f("UnitPrice", N_("Sales price"), Kind.NUMBER),
        _f("PurchaseCost", N_("Cost"), Kind.NUMBER),
        _f("QtyOnHand", N_("Quantity on hand"), Kind.NUMBER),
        _f("InvStartDate", N_("Inventory start date"), Kind.DATE),
        _f("Active", N_("Active"), Kind.BOOLEAN),
        _f("Taxable", N_("Taxable"), Kind.BOOLEAN),
        _f("SalesTaxIncluded", N_("Price includes tax"), Kind.BOOLEAN),
        _f("TrackQtyOnHand", N_("Tracks quantity"), Kind.BOOLEAN),
        _f("IncomeAccountRef.name", N_("Income account")),
        *_META,
    ),
    "Invoice": (
        _f("DocNumber", N_("Invoice number")),
        _f("TxnDate", N_("Invoice date"), Kind.DATE),
        _f("DueDate", N_("Due date"), Kind.DATE),
        _f("ShipDate", N_("Ship date"), Kind.DATE),
        _f("TotalAmt", N_("Total"), Kind.NUMBER),
        _f("Balance", N_("Balance due"), Kind.NUMBER),
        _f("HomeTotalAmt", N_("Total in home currency"), Kind.NUMBER),
        _f("HomeBalance", N_("Balance in home currency"), Kind.NUMBER),
        _f("Deposit", N_("Deposit"), Kind.NUMBER),
        _f("ExchangeRate", N_("Exchange rate"), Kind.NUMBER),
        _f("TxnTaxDetail.TotalTax", N_("Tax"), Kind.NUMBER),
        _f("CurrencyRef.value", N_("Currency")),
        _f("CustomerRef.name", N_("Customer")),
        _f("CustomerRef.value", N_("Customer id")),
        _f("BillEmail.Address", N_("Billing email")),
        _f("CustomerMemo.value", N_("Message to the customer")),
        _f("PrivateNote", N_("Private note")),
        _f("SalesTermRef.name", N_("Terms")),
        _f("ShipMethodRef.name", N_("Shipping method")),
        _f("TrackingNum", N_("Tracking number")),
        _f("EmailStatus", N_("Email status"), Kind.ENUMERATION, EMAIL_STATUSES),
        _f("PrintStatus", N_("Print status"), Kind.ENUMERATION, PRINT_STATUSES),
        _f("AllowOnlineCreditCardPayment", N_("Card payments allowed"), Kind.BOOLEAN),
        _f("AllowOnlineACHPayment", N_("Bank payments allowed"), Kind.BOOLEAN),
        _f("InvoiceLink", N_("Customer payment link")),
        *_address("BillAddr"),
        *_address("ShipAddr"),
        _f("@Status", N_("Status (waiting, sent, partial, paid, overdue, voided)"), derived=True),
        _f("@Link", N_("Link to the invoice in QuickBooks"), derived=True),
        _f("@AmountPaid", N_("Amount paid"), Kind.NUMBER, derived=True),
        *_META,
    ),
}


def qbo_field(entity: str, path: str) -> QboField | None:
    return next((f for f in QBO_FIELDS[entity] if f.path == path), None)


# -- mappings -------------------------------------------------------------------------------------------
class Mapping(BaseModel):
    """One HubSpot property fed by one QBO field (with a value map for list properties)."""

    model_config = ConfigDict(frozen=True)

    hubspot_property: str = Field(min_length=1, max_length=100, pattern=r"^[a-z0-9_]+$")
    qbo_field: str = Field(min_length=1, max_length=100, pattern=r"^@?[A-Za-z][A-Za-z0-9.]*$")
    value_map: dict[str, str] = Field(default_factory=dict)


def _m(prop: str, path: str, value_map: dict[str, str] | None = None) -> Mapping:
    return Mapping(hubspot_property=prop, qbo_field=path, value_map=value_map or {})


# The one default mappings table.
DEFAULT_MAPPINGS: dict[Tab, tuple[Mapping, ...]] = {
    Tab.CONTACTS: (
        _m("email", "PrimaryEmailAddr.Address"),
        _m("firstname", "@FirstName"),
        _m("lastname", "@LastName"),
        _m("company", "CompanyName"),
        _m("phone", "PrimaryPhone.FreeFormNumber"),
        _m("address", "BillAddr.Line1"),
        _m("city", "BillAddr.City"),
        _m("state", "BillAddr.CountrySubDivisionCode"),
        _m("zip", "BillAddr.PostalCode"),
        _m("country", "BillAddr.Country"),
    ),
    Tab.PRODUCTS: (
        _m("name", "Name"),
        _m("description", "Description"),
        _m("price", "UnitPrice"),
        _m("hs_sku", "Sku"),
        _m(
            "hs_product_type",
            "Type",
            {"Service": "service", "NonInventory": "non_inventory", "Inventory": "inventory"},
        ),
    ),
    Tab.INVOICES: (
        _m("hs_number", "DocNumber"),
        _m("hs_invoice_date", "TxnDate"),
        _m("hs_due_date", "DueDate"),
        _m("hs_currency", "CurrencyRef.value"),
        _m("hs_amount_billed", "TotalAmt"),
        _m("hs_balance_due", "Balance"),
        _m("hs_external_invoice_status", "@Status"),
        _m("hs_external_recipient", "CustomerRef.name"),
        _m("hs_invoice_link", "@Link"),
    ),
}
# Written on every synced invoice, whatever the mappings: HubSpot keeps it as a record only (no
# document, no emails, no payment collection).
FIXED_INVOICE_PROPERTIES = {"hs_invoice_billable": "false"}
# Items QBO uses for structure rather than for sale never become products.
SYNCED_ITEM_TYPES = frozenset({"Service", "NonInventory", "Inventory"})


def default_mappings(tab: Tab) -> list[Mapping]:
    return list(DEFAULT_MAPPINGS[tab])


_NO_PROPERTY = {
    Tab.CONTACTS: N_("HubSpot has no contact property “%(property)s”."),
    Tab.PRODUCTS: N_("HubSpot has no product property “%(property)s”."),
    Tab.INVOICES: N_("HubSpot has no invoice property “%(property)s”."),
}
_NO_FIELD = {
    Tab.CONTACTS: N_("QuickBooks Customer has no field “%(field)s” that hubqbo can read."),
    Tab.PRODUCTS: N_("QuickBooks Item has no field “%(field)s” that hubqbo can read."),
    Tab.INVOICES: N_("QuickBooks Invoice has no field “%(field)s” that hubqbo can read."),
}


def validate_mapping(
    tab: Tab, mapping: Mapping, properties: Lookup[str, HubSpotProperty], others: Iterable[Mapping] = ()
) -> None:
    """Raises IncompatibleMapping (why, in words) unless `mapping` may join `others` on `tab`."""
    field = qbo_field(tab.entity, mapping.qbo_field)
    if field is None:
        raise IncompatibleMapping(Text.of(_NO_FIELD[tab], field=mapping.qbo_field))
    if mapping.hubspot_property in (tab.link_property, LINE_LINK_PROPERTY):
        raise IncompatibleMapping(Text.of(N_("hubqbo writes its link ids itself; that property cannot be mapped.")))
    if tab == Tab.INVOICES and mapping.hubspot_property in FIXED_INVOICE_PROPERTIES:
        raise IncompatibleMapping(Text.of(N_("Synced invoices are always tracking-only; “Billable” cannot be mapped.")))
    prop = properties.get(mapping.hubspot_property)
    if prop is None:
        raise IncompatibleMapping(Text.of(_NO_PROPERTY[tab], property=mapping.hubspot_property))
    for other in others:
        if other.qbo_field == mapping.qbo_field:
            raise IncompatibleMapping(
                Text.of(
                    N_(
                        "“%(field)s” already feeds “%(property)s”: a QuickBooks field may feed one HubSpot "
                        "property at most."
                    ),
                    field=field.display_label,
                    property=_label(properties, other.hubspot_property),
                )
            )
        if other.hubspot_property == mapping.hubspot_property:
            raise IncompatibleMapping(
                Text.of(N_("“%(property)s” is already mapped; edit that mapping instead."), property=prop.display_label)
            )
    check_pair(field, prop, mapping.value_map)


def _label(properties: Any, name: str) -> Text | str:
    prop = properties.get(name)
    return prop.display_label if prop else name


def mapping_problem(tab: Tab, mapping: Mapping, properties: Any) -> Text | None:
    """Why a saved mapping cannot be used right now (its property was deleted or changed type), or None."""
    prop = properties.get(mapping.hubspot_property)
    if prop is None:
        return Text.of(N_("The HubSpot property “%(property)s” no longer exists."), property=mapping.hubspot_property)
    field = qbo_field(tab.entity, mapping.qbo_field)
    if field is None:
        return Text.of(N_("QuickBooks field “%(field)s” is no longer supported."), field=mapping.qbo_field)
    try:
        check_pair(field, prop, mapping.value_map)
    except IncompatibleMapping as exc:
        return Text.of(N_("The HubSpot property changed: %(reason)s"), reason=exc.text)
    return None


# -- reading a QBO record -------------------------------------------------------------------------------
@dataclass(frozen=True)
class RecordContext:
    """What derived fields and date coercion need besides the record."""

    realm_id: str
    home_currency: str | None = None
    zone: str = "UTC"  # the portal's time zone
    today: date | None = None  # in that zone, for an invoice's status
    sandbox: bool = False


def value_at(raw: Lookup[str, Any], path: str) -> Any:
    node: Any = raw
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _split_display_name(raw: dict[str, Any]) -> tuple[str, str]:
    name = str(raw.get("DisplayName") or "").strip()
    company = str(raw.get("CompanyName") or "").strip()
    if not name or name == company:
        return "", ""  # a company's own name is not a person's
    first, _, rest = name.partition(" ")
    return first, rest.strip()


def derived_value(entity: str, raw: dict[str, Any], path: str, ctx: RecordContext) -> Any:
    if path == "@FirstName":
        return raw.get("GivenName") or (None if raw.get("FamilyName") else _split_display_name(raw)[0]) or None
    if path == "@LastName":
        return raw.get("FamilyName") or (None if raw.get("GivenName") else _split_display_name(raw)[1]) or None
    if entity == "Invoice" and path in ("@Status", "@AmountPaid"):
        from hubqbo.domain.invoice_status import invoice_status
        from hubqbo.domain.qbo_invoice import QboInvoice, read_invoice

        invoice = read_invoice(raw, home_currency=ctx.home_currency)
        if not isinstance(invoice, QboInvoice):
            return None
        if path == "@AmountPaid":
            return invoice.paid
        if ctx.today is None:  # domain code reads no clock: the caller says which day it is
            raise ValueError("An invoice's status needs today's date in the RecordContext")
        return invoice_status(invoice, ctx.today).label
    if entity == "Invoice" and path == "@Link":
        host = "app.sandbox.qbo.intuit.com" if ctx.sandbox else "app.qbo.intuit.com"
        return f"https://{host}/app/invoice?txnId={raw.get('Id')}"
    return None


VOID_ZEROES = frozenset({"Balance", "HomeBalance"})


def field_value(entity: str, raw: dict[str, Any], path: str, ctx: RecordContext) -> Any:
    if path.startswith("@"):
        return derived_value(entity, raw, path, ctx)
    if entity == "Invoice" and path in VOID_ZEROES and is_voided(raw):
        return 0  # nothing is due on a voided invoice, whatever payments it had
    value = value_at(raw, path)
    if path == "CurrencyRef.value" and not value:
        return ctx.home_currency  # single-currency companies leave CurrencyRef out
    return value


class PropertyProblem(BaseModel):
    """One property of one record that was not written, and why."""

    model_config = ConfigDict(frozen=True)

    hubspot_property: str
    qbo_field: str
    reason: Text


def record_values(
    tab: Tab,
    raw: dict[str, Any],
    mappings: Iterable[Mapping],
    properties: Lookup[str, HubSpotProperty],
    ctx: RecordContext,
) -> tuple[dict[str, str], list[PropertyProblem]]:
    """The HubSpot properties of one QBO record ("" clears a property) and the properties skipped.

    A mapping whose property is gone or changed type, and a value that cannot be converted, skip
    that one property for this record; the rest of the record is still written.
    """
    values: dict[str, str] = {tab.link_property: link_value(ctx.realm_id, str(raw["Id"]))}
    problems: list[PropertyProblem] = []
    for mapping in mappings:
        problem = mapping_problem(tab, mapping, properties)
        if problem is not None:
            problems.append(
                PropertyProblem(hubspot_property=mapping.hubspot_property, qbo_field=mapping.qbo_field, reason=problem)
            )
            continue
        prop = properties[mapping.hubspot_property]
        try:
            values[prop.name] = coerce(
                field_value(tab.entity, raw, mapping.qbo_field, ctx), prop, mapping.value_map, zone=ctx.zone
            )
        except NotConvertible as exc:
            problems.append(
                PropertyProblem(
                    hubspot_property=prop.name,
                    qbo_field=mapping.qbo_field,
                    reason=Text.of(N_("%(reason)s."), reason=exc.text),
                )
            )
    if tab == Tab.INVOICES:
        values.update(FIXED_INVOICE_PROPERTIES)
    return values, problems


def is_deleted(tab: Tab, raw: dict[str, Any]) -> bool:
    """Inactive customers and items, and deleted invoices, count as deleted. A voided invoice does not:
    QBO keeps it (amounts zeroed), so it is a status change that HubSpot shows (Voided, balance 0)."""
    if str(raw.get("status", "")).lower() == "deleted":
        return True
    if tab in (Tab.CONTACTS, Tab.PRODUCTS):
        return raw.get("Active") is False or str(raw.get("Active")).lower() == "false"
    return False


def is_voided(raw: dict[str, Any]) -> bool:
    """QBO's mark of a voided invoice (a zero total and a private note that starts with "Voided")."""
    from hubqbo.domain.money import ZERO, to_decimal
    from hubqbo.domain.qbo_invoice import looks_voided

    try:
        total = to_decimal(raw.get("TotalAmt"), ZERO)
    except ValueError:
        return False
    return looks_voided(total, str(raw.get("PrivateNote") or ""))


def email_of(raw: dict[str, Any]) -> str | None:
    email = str(value_at(raw, "PrimaryEmailAddr.Address") or "").strip().lower()
    return email or None
