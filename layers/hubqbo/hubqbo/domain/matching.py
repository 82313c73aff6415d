"""Matching HubSpot records to QBO records: a deal's or quote's contact/company to a customer, line
items to items, and the QBO queries that fetch the candidates.

Customers match by email, then by company name, then by person name; a customer matching several
ways ranks above one matching once. Inactive customers and items are listed (flagged), so the user
learns why an obvious match was not taken, but are never chosen: QBO refuses them (error 610).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from hubqbo.domain import qbo_query as q
from hubqbo.domain.batching import batched
from hubqbo.domain.money import ZERO, to_decimal
from hubqbo.domain.names import normal_company, normal_email, normal_text, split_emails

IN_CHUNK = 100  # values per `IN (...)`: keeps statements short; QBO documents no limit


# -- the two sides ---------------------------------------------------------------------------
class HubSpotParty(BaseModel):
    """Who the invoice is for, from the deal's or quote's contact and company."""

    model_config = ConfigDict(frozen=True)

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None
    phone: str | None = None

    @classmethod
    def from_hubspot(cls, contact: dict[str, Any] | None = None, company: dict[str, Any] | None = None) -> HubSpotParty:
        """From the `properties` of a HubSpot contact and company (either may be missing)."""
        contact, company = contact or {}, company or {}
        return cls(
            email=contact.get("email") or None,
            first_name=contact.get("firstname") or None,
            last_name=contact.get("lastname") or None,
            company_name=company.get("name") or contact.get("company") or None,
            phone=contact.get("phone") or company.get("phone") or None,
        )

    @property
    def person_name(self) -> str:
        return " ".join(p.strip() for p in (self.first_name, self.last_name) if p and p.strip())


class QboCustomer(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    display_name: str
    company_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    emails: tuple[str, ...] = ()
    active: bool = True
    currency: str | None = None

    @classmethod
    def from_qbo(cls, raw: dict[str, Any]) -> QboCustomer:
        currency = (raw.get("CurrencyRef") or {}).get("value")
        return cls(
            id=str(raw["Id"]),
            display_name=str(raw.get("DisplayName") or ""),
            company_name=raw.get("CompanyName") or None,
            given_name=raw.get("GivenName") or None,
            family_name=raw.get("FamilyName") or None,
            emails=split_emails((raw.get("PrimaryEmailAddr") or {}).get("Address")),
            active=raw.get("Active", True) not in (False, "false"),
            currency=currency.upper() if currency else None,
        )


# -- customers -------------------------------------------------------------------------------
class MatchMethod(StrEnum):
    """Strongest first; the order is the ranking."""

    EMAIL = "email"
    COMPANY_NAME = "company_name"
    PERSON_NAME = "person_name"


_STRENGTH = {m: n for n, m in enumerate(MatchMethod)}


class CustomerCandidate(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer: QboCustomer
    matched_by: tuple[MatchMethod, ...]  # strongest first
    inactive: bool

    @property
    def method(self) -> MatchMethod:
        return self.matched_by[0]


class CustomerMatch(BaseModel):
    """`best` is the customer to preselect (None: ask); `candidates` ranks every customer that matched.

    `ambiguous` says another active candidate matched exactly as well: preselect, but ask to confirm.
    """

    model_config = ConfigDict(frozen=True)

    best: QboCustomer | None
    method: MatchMethod | None
    ambiguous: bool
    candidates: tuple[CustomerCandidate, ...]


def _person_keys(customer: QboCustomer) -> set[str]:
    keys = {normal_text(customer.display_name)}
    given, family = normal_text(customer.given_name), normal_text(customer.family_name)
    if given and family:
        keys |= {f"{given} {family}", f"{family} {given}"}
    return keys - {""}


def _methods(party: HubSpotParty, customer: QboCustomer) -> tuple[MatchMethod, ...]:
    found: list[MatchMethod] = []
    email = normal_email(party.email)
    if email and email in customer.emails:
        found.append(MatchMethod.EMAIL)
    company = normal_company(party.company_name)
    if company and company in {normal_company(customer.company_name), normal_company(customer.display_name)}:
        found.append(MatchMethod.COMPANY_NAME)
    first, last = normal_text(party.first_name), normal_text(party.last_name)
    wanted = {f"{first} {last}", f"{last} {first}"} if first and last else {first or last} - {""}
    if wanted & _person_keys(customer):
        found.append(MatchMethod.PERSON_NAME)
    return tuple(found)


def match_customer(party: HubSpotParty, customers: Iterable[QboCustomer]) -> CustomerMatch:
    """Rank `customers` against `party`; the best is the first active one."""
    seen: set[str] = set()
    candidates: list[CustomerCandidate] = []
    for customer in customers:
        if customer.id in seen:
            continue
        seen.add(customer.id)
        methods = _methods(party, customer)
        if methods:
            candidates.append(CustomerCandidate(customer=customer, matched_by=methods, inactive=not customer.active))

    def rank(c: CustomerCandidate) -> tuple[bool, int, int, str, int, str]:
        return (
            c.inactive,
            _STRENGTH[c.method],
            -len(c.matched_by),
            normal_text(c.customer.display_name),
            len(c.customer.id),
            c.customer.id,
        )

    candidates.sort(key=rank)
    active = [c for c in candidates if not c.inactive]
    if not active:
        return CustomerMatch(best=None, method=None, ambiguous=False, candidates=tuple(candidates))
    top = active[0]
    ambiguous = any(rank(c)[:3] == rank(top)[:3] for c in active[1:])
    return CustomerMatch(best=top.customer, method=top.method, ambiguous=ambiguous, candidates=tuple(candidates))


def _first_word(name: str | None) -> str:
    words = (name or "").split()
    return words[0].strip(".,;:!?\"'()") if words else ""


def customer_lookup_queries(party: HubSpotParty, *, max_results: int = 100) -> list[str]:
    """Statements that fetch every customer `match_customer` could pick, inactive ones included.

    QBO has no OR, so one statement per way of matching; run them all and merge by Id. Company names
    are fetched by their first word so "Acme Ltd" finds "ACME Limited"; the matcher decides.
    """
    everyone = q.in_("Active", [True, False])
    statements: list[str] = []
    if party.email and party.email.strip():
        statements.append(q.select("Customer", q.eq("PrimaryEmailAddr", party.email.strip()), everyone))
    word = _first_word(party.company_name)
    if word:
        for name_field in ("CompanyName", "DisplayName"):
            statements.append(q.select("Customer", q.starts_with(name_field, word), everyone, max_results=max_results))
    if party.first_name and party.last_name:
        given, family = q.eq("GivenName", party.first_name.strip()), q.eq("FamilyName", party.last_name.strip())
        statements.append(q.select("Customer", given, family, everyone, max_results=max_results))
    if party.person_name:
        statements.append(q.select("Customer", q.eq("DisplayName", party.person_name), everyone))
    return list(dict.fromkeys(statements))


def customer_search_query(text: str, *, include_inactive: bool = False, start: int = 1, max_results: int = 50) -> str:
    """The wizard's searchable customer list: DisplayName contains `text`, by name."""
    where = [q.contains("DisplayName", text.strip())] if text.strip() else []
    if include_inactive:
        where.append(q.in_("Active", [True, False]))
    return q.select("Customer", *where, order_by="DisplayName", start=start, max_results=max_results)


# -- items -----------------------------------------------------------------------------------
NON_SALES_ITEM_TYPES = frozenset({"Category"})  # a category groups items; it cannot be sold


class HubSpotLineItem(BaseModel):
    """A deal's or quote's line. Its discount is HubSpot's `discount` (an amount off each unit) or
    `hs_discount_percentage` (a percentage off the line's total)
    (https://knowledge.hubspot.com/properties/hubspots-default-line-item-properties)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str = ""
    sku: str | None = None
    quantity: Decimal = Decimal(1)
    price: Decimal = ZERO
    description: str | None = None
    unit_discount: Decimal | None = None
    discount_percent: Decimal | None = None

    @classmethod
    def from_hubspot(cls, line_id: str, properties: dict[str, Any]) -> HubSpotLineItem:
        return cls(
            id=str(line_id),
            name=str(properties.get("name") or ""),
            sku=properties.get("hs_sku") or None,
            quantity=to_decimal(properties.get("quantity"), Decimal(1)),
            price=to_decimal(properties.get("price"), ZERO),
            description=properties.get("description") or None,
            unit_discount=_discount_number(properties.get("discount"), None),
            discount_percent=_discount_number(properties.get("hs_discount_percentage"), Decimal(100)),
        )

    @property
    def net_price(self) -> Decimal:
        """The unit price the customer pays after the line's discount: what QBO's line is priced at, so its
        `Qty * UnitPrice` is the line's net amount (QBO's own line fields hold its share of the invoice discount)."""
        if self.discount_percent is not None:
            return (self.price * (Decimal(100) - self.discount_percent) / Decimal(100)).normalize()
        if self.unit_discount is not None:
            return max(self.price - self.unit_discount, ZERO)
        return self.price


def _discount_number(value: Any, ceiling: Decimal | None) -> Decimal | None:
    """A discount above zero (and at most `ceiling`); anything else is no discount."""
    try:
        number = to_decimal(value, ZERO)
    except ValueError:
        return None
    if number <= ZERO or (ceiling is not None and number > ceiling):
        return None
    return number


class QboItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    fully_qualified_name: str | None = None
    sku: str | None = None
    type: str | None = None
    active: bool = True
    unit_price: Decimal | None = None
    description: str | None = None
    taxable: bool | None = None
    sales_tax_code_id: str | None = None

    @classmethod
    def from_qbo(cls, raw: dict[str, Any]) -> QboItem:
        price = raw.get("UnitPrice")
        taxable = raw.get("Taxable")
        return cls(
            id=str(raw["Id"]),
            name=str(raw.get("Name") or ""),
            fully_qualified_name=raw.get("FullyQualifiedName") or None,
            sku=raw.get("Sku") or None,
            type=raw.get("Type") or None,
            active=raw.get("Active", True) not in (False, "false"),
            unit_price=None if price is None else to_decimal(price),
            description=raw.get("Description") or None,
            taxable=None if taxable is None else taxable in (True, "true"),
            sales_tax_code_id=(raw.get("SalesTaxCodeRef") or {}).get("value"),
        )


class ItemMatchMethod(StrEnum):
    SKU = "sku"
    NAME = "name"


class LineMatch(BaseModel):
    """One line item and the QBO item it will be invoiced as (None: the user must pick one)."""

    model_config = ConfigDict(frozen=True)

    line: HubSpotLineItem
    item: QboItem | None
    method: ItemMatchMethod | None
    ambiguous: bool = False  # several active items matched equally; the lowest Id was taken
    inactive_matches: tuple[QboItem, ...] = ()  # would have matched but are inactive in QBO


class ItemMatching(BaseModel):
    model_config = ConfigDict(frozen=True)

    lines: tuple[LineMatch, ...]

    @property
    def unmatched(self) -> tuple[LineMatch, ...]:
        return tuple(m for m in self.lines if m.item is None)

    @property
    def complete(self) -> bool:
        return not self.unmatched


def _sku(text: str | None) -> str:
    return (text or "").strip().casefold()


def _item_names(item: QboItem) -> set[str]:
    return {normal_text(item.name), normal_text(item.fully_qualified_name)} - {""}


def _id_order(item: QboItem) -> tuple[int, str]:
    return (len(item.id), item.id)


def match_line(line: HubSpotLineItem, items: Sequence[QboItem]) -> LineMatch:
    sellable = [i for i in items if (i.type or "") not in NON_SALES_ITEM_TYPES]
    tests: tuple[tuple[ItemMatchMethod, Callable[[QboItem], bool]], ...] = (
        (ItemMatchMethod.SKU, lambda i: bool(_sku(line.sku)) and _sku(i.sku) == _sku(line.sku)),
        (ItemMatchMethod.NAME, lambda i: bool(normal_text(line.name)) and normal_text(line.name) in _item_names(i)),
    )
    inactive: list[QboItem] = []
    for method, test in tests:
        hits = sorted((i for i in sellable if test(i)), key=_id_order)
        active = [i for i in hits if i.active]
        inactive += [i for i in hits if not i.active and i not in inactive]
        if active:
            return LineMatch(
                line=line, item=active[0], method=method, ambiguous=len(active) > 1, inactive_matches=tuple(inactive)
            )
    return LineMatch(line=line, item=None, method=None, inactive_matches=tuple(inactive))


def match_line_items(lines: Iterable[HubSpotLineItem], items: Iterable[QboItem]) -> ItemMatching:
    """Each line to an item by SKU, then by name; lines with no active item are left unmatched."""
    catalogue = list({i.id: i for i in items}.values())
    return ItemMatching(lines=tuple(match_line(line, catalogue) for line in lines))


def _chunks(values: list[str]) -> list[list[str]]:
    return [list(chunk) for chunk in batched(values, IN_CHUNK)]


def item_lookup_queries(lines: Iterable[HubSpotLineItem]) -> list[str]:
    """Statements fetching every item the lines could match by SKU or name, inactive included.

    `SELECT *, Sku` because `SELECT *` leaves Sku out.
    """
    lines = list(lines)
    skus = list(dict.fromkeys(s.strip() for s in (line.sku for line in lines) if s and s.strip()))
    names = list(dict.fromkeys(line.name.strip() for line in lines if line.name.strip()))
    everyone = q.in_("Active", [True, False])
    statements = [q.select("Item", q.in_("Sku", chunk), everyone, extra_fields=["Sku"]) for chunk in _chunks(skus)]
    statements += [q.select("Item", q.in_("Name", c), everyone, extra_fields=["Sku"]) for c in _chunks(names)]
    return statements


def item_search_query(text: str, *, start: int = 1, max_results: int = 50) -> str:
    """ "Add products from QuickBooks": active items whose name contains `text`, by name."""
    where = [q.contains("Name", text.strip())] if text.strip() else []
    return q.select("Item", *where, extra_fields=["Sku"], order_by="Name", start=start, max_results=max_results)
