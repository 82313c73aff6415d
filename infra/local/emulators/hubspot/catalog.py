"""What HubSpot defines before any app touches a portal: object types, their default properties,
the HUBSPOT_DEFINED association types and the scopes each API asks for.

Kept as plain data so the store, the routes and the seed all read one table. Type ids, association
type ids and scopes follow /work/shared/reference/hubspot-api.md and the official OpenAPI specs.
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENCIES = ("USD", "GBP", "EUR", "CAD", "AUD", "PLN")
DEAL_STAGES = (
    "appointmentscheduled",
    "qualifiedtobuy",
    "presentationscheduled",
    "decisionmakerboughtin",
    "contractsent",
    "closedwon",
    "closedlost",
)
QUOTE_STATUSES = ("DRAFT", "APPROVAL_NOT_NEEDED", "PENDING_APPROVAL", "APPROVED", "REJECTED", "ACCEPTED")
INVOICE_STATUSES = ("draft", "open", "paid", "voided")


@dataclass(frozen=True)
class ObjectType:
    name: str  # the plural path name
    type_id: str
    singular: str  # used in v3 association type names such as deal_to_contact
    id_base: int  # ids of different types never collide, so a mixed-up id answers 404
    scope_family: str  # crm.objects.<family>.read|write (notes and tasks use contacts, per the specs)
    ecommerce: bool  # the legacy `e-commerce` scope also grants access
    search_fields: tuple[str, ...]  # what the free-text `query` of a search looks at
    default_properties: tuple[str, ...]  # returned when a read names no properties
    title_property: str

    @property
    def read_scopes(self) -> tuple[str, ...]:
        return (f"crm.objects.{self.scope_family}.read",) + (("e-commerce",) if self.ecommerce else ())

    @property
    def write_scopes(self) -> tuple[str, ...]:
        return (f"crm.objects.{self.scope_family}.write",) + (("e-commerce",) if self.ecommerce else ())

    @property
    def schema_read_scopes(self) -> tuple[str, ...]:
        return (
            f"crm.schemas.{self.scope_family}.read",
            f"crm.schemas.{self.scope_family}.write",
            *self.read_scopes,
            *self.write_scopes,
        )

    @property
    def schema_write_scopes(self) -> tuple[str, ...]:
        return (f"crm.schemas.{self.scope_family}.write",) + (("e-commerce",) if self.ecommerce else ())


OBJECT_TYPES = (
    ObjectType(
        "contacts",
        "0-1",
        "contact",
        100_000,
        "contacts",
        False,
        ("firstname", "lastname", "email", "phone", "company"),
        ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
        "email",
    ),
    ObjectType(
        "companies",
        "0-2",
        "company",
        200_000,
        "companies",
        False,
        ("name", "domain", "phone"),
        ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
        "name",
    ),
    ObjectType(
        "deals",
        "0-3",
        "deal",
        300_000,
        "deals",
        False,
        ("dealname",),
        (
            "amount",
            "closedate",
            "createdate",
            "dealname",
            "dealstage",
            "hs_lastmodifieddate",
            "hs_object_id",
            "pipeline",
        ),
        "dealname",
    ),
    ObjectType(
        "products",
        "0-7",
        "product",
        400_000,
        "products",
        True,
        ("name", "hs_sku", "description"),
        ("createdate", "description", "hs_lastmodifieddate", "hs_object_id", "name", "price"),
        "name",
    ),
    ObjectType(
        "line_items",
        "0-8",
        "line_item",
        500_000,
        "line_items",
        True,
        ("name", "hs_sku"),
        ("amount", "createdate", "hs_lastmodifieddate", "hs_object_id", "hs_product_id", "name", "price", "quantity"),
        "name",
    ),
    ObjectType(
        "quotes",
        "0-14",
        "quote",
        600_000,
        "quotes",
        True,
        ("hs_title",),
        ("hs_createdate", "hs_expiration_date", "hs_lastmodifieddate", "hs_object_id", "hs_status", "hs_title"),
        "hs_title",
    ),
    ObjectType(
        "invoices",
        "0-53",
        "invoice",
        700_000,
        "invoices",
        False,
        ("hs_number",),
        ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
        "hs_number",
    ),
    ObjectType(  # a quote's discount (https://developers.hubspot.com/docs/api-reference/crm-discounts-v3/guide)
        "discounts",
        "0-84",
        "discount",
        1_000_000,
        "line_items",  # the discounts API asks for the line items scopes
        True,
        ("hs_label",),
        ("hs_createdate", "hs_lastmodifieddate", "hs_object_id", "hs_label", "hs_type", "hs_value"),
        "hs_label",
    ),
    ObjectType(
        "notes",
        "0-46",
        "note",
        800_000,
        "contacts",
        False,
        ("hs_note_body",),
        ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
        "hs_note_body",
    ),
    ObjectType(
        "tasks",
        "0-27",
        "task",
        900_000,
        "contacts",
        False,
        ("hs_task_subject", "hs_task_body"),
        ("hs_createdate", "hs_lastmodifieddate", "hs_object_id"),
        "hs_task_subject",
    ),
)
_BY_ANY_NAME = {alias: t for t in OBJECT_TYPES for alias in (t.name, t.type_id, t.singular)}


def object_type(name: str) -> ObjectType | None:
    """Paths accept the plural name, the singular name or the type id (`deals`, `deal`, `0-3`)."""
    return _BY_ANY_NAME.get(name.lower())


# -- properties -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PropertySpec:
    name: str
    label: str
    type: str  # string | number | date | datetime | enumeration | bool | phone_number
    field_type: str
    options: tuple[str, ...] = ()
    unique: bool = False
    read_only: bool = False  # HubSpot maintains the value; writes are refused
    calculated: bool = False
    external_options: bool = False  # enumeration whose options live elsewhere (owners)


def _text(name: str, label: str) -> PropertySpec:
    return PropertySpec(name, label, "string", "text")


def _number(name: str, label: str, **kw: bool) -> PropertySpec:
    return PropertySpec(name, label, "number", "number", **kw)


def _enum(name: str, label: str, options: tuple[str, ...], field_type: str = "select") -> PropertySpec:
    return PropertySpec(name, label, "enumeration", field_type, options)


def _datetime(name: str, label: str, **kw: bool) -> PropertySpec:
    return PropertySpec(name, label, "datetime", "date", **kw)


def _date(name: str, label: str) -> PropertySpec:
    return PropertySpec(name, label, "date", "date")


def _bool(name: str, label: str) -> PropertySpec:
    return PropertySpec(name, label, "bool", "booleancheckbox", ("true", "false"))


_OWNER = PropertySpec("hubspot_owner_id", "Owner", "enumeration", "select", external_options=True)
_COMMON = (
    PropertySpec("hs_object_id", "Record ID", "number", "number", read_only=True),
    _datetime("createdate", "Create date"),
    _datetime("hs_createdate", "Create date", read_only=True),
    _datetime("lastmodifieddate", "Last modified date", read_only=True),
    _datetime("hs_lastmodifieddate", "Last modified date", read_only=True),
)
_ADDRESS = (
    _text("address", "Street address"),
    _text("city", "City"),
    _text("state", "State/Region"),
    _text("zip", "Postal code"),
    _text("country", "Country/Region"),
)

DEFAULT_PROPERTIES: dict[str, tuple[PropertySpec, ...]] = {
    "contacts": (
        PropertySpec("email", "Email", "string", "text", unique=True),
        _text("firstname", "First name"),
        _text("lastname", "Last name"),
        _text("company", "Company name"),
        PropertySpec("phone", "Phone number", "phone_number", "phonenumber"),
        _text("jobtitle", "Job title"),
        *_ADDRESS,
        _enum("lifecyclestage", "Lifecycle stage", ("subscriber", "lead", "opportunity", "customer", "other")),
        _OWNER,
    ),
    "companies": (
        _text("name", "Company name"),
        _text("domain", "Company domain name"),
        PropertySpec("phone", "Phone number", "phone_number", "phonenumber"),
        *_ADDRESS,
        PropertySpec("description", "Description", "string", "textarea"),
        _OWNER,
    ),
    "deals": (
        _text("dealname", "Deal name"),
        _number("amount", "Amount"),
        _enum("dealstage", "Deal stage", DEAL_STAGES),
        _enum("pipeline", "Pipeline", ("default", "enterprise")),  # the pipelines' ids
        _datetime("closedate", "Close date"),
        _enum("deal_currency_code", "Currency", CURRENCIES),
        # Brands (formerly business units): the ids of the brands a record is assigned to, `;`-separated.
        # https://developers.hubspot.com/docs/api-reference/latest/account/brands/guide
        _enum("hs_all_assigned_business_unit_ids", "Brands", ("101", "102"), "checkbox"),
        PropertySpec("description", "Deal description", "string", "textarea"),
        _OWNER,
    ),
    "products": (
        _text("name", "Name"),
        PropertySpec("description", "Description", "string", "textarea"),
        _number("price", "Unit price"),
        _text("hs_sku", "SKU"),
        _number("hs_cost_of_goods_sold", "Unit cost"),
        _enum("hs_product_type", "Product type", ("inventory", "non_inventory", "service")),
        _text("hs_recurring_billing_period", "Term"),
    ),
    "line_items": (
        _text("name", "Name"),
        PropertySpec("description", "Description", "string", "textarea"),
        _number("quantity", "Quantity"),
        _number("price", "Unit price"),
        _number("amount", "Net price", calculated=True),
        _number("discount", "Unit discount"),  # an amount off each unit
        _number("hs_discount_percentage", "Unit discount percentage"),  # percent off the line's total
        _text("hs_sku", "SKU"),
        _text("hs_product_id", "Product ID"),
        _enum("hs_line_item_currency_code", "Currency", CURRENCIES),
        _text("hs_tax_rate_group_id", "Tax rate"),
        _number("hs_position_on_quote", "Position on quote"),
        _text("recurringbillingfrequency", "Billing frequency"),
    ),
    "quotes": (
        _text("hs_title", "Quote name"),
        _enum("hs_status", "Quote approval status", QUOTE_STATUSES),
        _date("hs_expiration_date", "Quote expiration date"),
        _enum("hs_currency", "Currency", CURRENCIES),
        PropertySpec("hs_quote_link", "Quote link", "string", "text", read_only=True),
        PropertySpec("hs_pdf_download_link", "PDF download link", "string", "text", read_only=True),
        _bool("hs_locked", "Locked"),
        _number("hs_quote_amount", "Quote amount", calculated=True),
        _text("hs_quote_number", "Quote number"),
        _enum("hs_template_type", "Template type", ("CUSTOMIZABLE_QUOTE_TEMPLATE", "CPQ_QUOTE")),
        _enum("hs_payment_status", "Payment status", ("PENDING", "PAID", "PROCESSING")),
        _text("hs_language", "Language"),
        _text("hs_sender_email", "Sender email"),
    ),
    "invoices": (
        _bool("hs_invoice_billable", "Billable"),
        _enum("hs_currency", "Currency", CURRENCIES),
        _datetime("hs_invoice_date", "Invoice date"),
        _datetime("hs_due_date", "Due date"),
        _text("hs_number", "Invoice number"),
        _number("hs_amount_billed", "Amount billed"),
        _number("hs_balance_due", "Balance due"),
        _number("hs_amount_paid", "Amount paid"),
        _datetime("hs_payment_date", "Payment date"),
        _enum("hs_invoice_status", "Invoice status", INVOICE_STATUSES),
        _text("hs_invoice_link", "Invoice link"),
        _text("hs_pdf_download_link", "PDF download link"),
        _text("hs_purchase_order_number", "Purchase order number"),
        PropertySpec("hs_comments", "Comments", "string", "textarea"),
        _text("hs_tax_id", "Tax ID"),
        _enum("hs_invoice_payment_collection_method", "Payment collection method", ("manual", "none")),
        _bool("hs_allow_partial_payments", "Allow partial payments"),
        _text("hs_external_invoice_status", "External invoice status"),
        _text("hs_external_recipient", "External recipient"),
        _enum("hs_invoice_source", "Invoice source", ("hubspot", "data_sync", "legacy_quickbooks")),
        _text("hs_language", "Language"),
        _text("hs_locale", "Locale"),
        _OWNER,
    ),
    "discounts": (
        _text("hs_label", "Label"),
        _enum("hs_type", "Type", ("PERCENT", "FIXED")),
        _number("hs_value", "Value"),
        _enum("hs_duration", "Duration", ("ONCE", "FOREVER", "RECURRING")),
        _number("hs_sort_order", "Sort order"),
    ),
    "notes": (
        PropertySpec("hs_note_body", "Note body", "string", "html"),
        _datetime("hs_timestamp", "Activity date"),
        _text("hs_attachment_ids", "Attachment IDs"),
        _OWNER,
    ),
    "tasks": (
        _text("hs_task_subject", "Task title"),
        PropertySpec("hs_task_body", "Task notes", "string", "html"),
        _enum("hs_task_status", "Task status", ("NOT_STARTED", "IN_PROGRESS", "WAITING", "COMPLETED", "DEFERRED")),
        _enum("hs_task_priority", "Priority", ("NONE", "LOW", "MEDIUM", "HIGH")),
        _enum("hs_task_type", "Task type", ("TODO", "EMAIL", "CALL")),
        _datetime("hs_timestamp", "Due date"),
        _OWNER,
    ),
}


def default_properties(type_name: str) -> tuple[PropertySpec, ...]:
    return _COMMON + DEFAULT_PROPERTIES[type_name]


def default_group(type_name: str) -> str:
    return f"{object_type(type_name).singular.replace('_', '')}information"  # type: ignore[union-attr]


# -- associations -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AssociationType:
    from_type: str
    to_type: str
    type_id: int
    label: str | None
    reverse_id: int


# (from, to, typeId, label, reverse typeId). The first unlabelled row of a pair is its default.
ASSOCIATION_TYPES = tuple(
    AssociationType(*row)
    for row in (
        ("deals", "contacts", 3, None, 4),
        ("deals", "companies", 341, None, 342),
        ("deals", "companies", 5, "Primary", 6),
        ("contacts", "companies", 279, None, 280),
        ("contacts", "companies", 1, "Primary", 2),
        ("deals", "line_items", 19, None, 20),
        ("deals", "quotes", 63, None, 64),
        ("deals", "invoices", 176, None, 175),
        ("contacts", "invoices", 178, None, 177),
        ("companies", "invoices", 180, None, 179),
        ("invoices", "line_items", 409, None, 410),
        ("quotes", "line_items", 67, None, 68),
        ("invoices", "quotes", 407, None, 408),
        ("quotes", "contacts", 69, None, 70),
        ("quotes", "companies", 71, None, 72),
        ("quotes", "discounts", 362, None, 363),  # 362 as HubSpot's quotes guide lists it; 363 stands for the reverse
        ("contacts", "notes", 201, None, 202),
        ("companies", "notes", 189, None, 190),
        ("deals", "notes", 213, None, 214),
        ("contacts", "tasks", 203, None, 204),
        ("companies", "tasks", 191, None, 192),
        ("deals", "tasks", 215, None, 216),
    )
)


def _both_directions() -> dict[tuple[str, str], list[AssociationType]]:
    table: dict[tuple[str, str], list[AssociationType]] = {}
    for a in ASSOCIATION_TYPES:
        table.setdefault((a.from_type, a.to_type), []).append(a)
        reverse = AssociationType(a.to_type, a.from_type, a.reverse_id, a.label, a.type_id)
        table.setdefault((a.to_type, a.from_type), []).append(reverse)
    return table


_PAIRS = _both_directions()


def association_types(from_type: str, to_type: str) -> list[AssociationType]:
    return _PAIRS.get((from_type, to_type), [])


def association_type(from_type: str, to_type: str, type_id: int) -> AssociationType | None:
    return next((a for a in association_types(from_type, to_type) if a.type_id == type_id), None)


def default_association(from_type: str, to_type: str) -> AssociationType | None:
    return next((a for a in association_types(from_type, to_type) if a.label is None), None)


def target_of(from_type: str, type_id: int) -> AssociationType | None:
    """The association type `type_id` leaving `from_type` (inline associations name no target type)."""
    return next((a for (f, _), rows in _PAIRS.items() if f == from_type for a in rows if a.type_id == type_id), None)


def v3_association_name(a: AssociationType) -> str:
    """v3 reads name types `deal_to_contact`; where a Primary label exists the plain one is `_unlabeled`."""
    base = f"{object_type(a.from_type).singular}_to_{object_type(a.to_type).singular}"  # type: ignore[union-attr]
    has_primary = any(x.label for x in association_types(a.from_type, a.to_type))
    return f"{base}_unlabeled" if has_primary and a.label is None else base
