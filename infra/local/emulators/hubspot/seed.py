"""The demo portals: the people, companies and products both emulators share (demo_accounts),
deals with line items matching product SKUs, and quotes in each state our integration cares about
(published and current, draft, published but expired).

Everything is written through `Portal.validate`, so the seed obeys the same property rules as the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..demo_accounts import (
    PORTAL_UK,
    PORTAL_US,
    REALM_UK,
    SALES_USER_EMAIL,
    SHARED_PEOPLE,
    SHARED_PRODUCTS,
    SUPER_ADMIN_EMAIL,
    Person,
)
from . import catalog
from .store import CrmObject, Portal, User

DASH = "\u2013"  # deal names use an en dash, as HubSpot users type them: not everything is ASCII
ROLES = [
    {"id": "1001", "name": "Super Admin", "requiresBillingWrite": True},
    {"id": "1002", "name": "Sales rep (no App Marketplace access)", "requiresBillingWrite": False},
]


def _users() -> list[User]:
    return [
        User("5000001", SUPER_ADMIN_EMAIL, "Ada", "Admin", True, ["1001"], True, "9000001"),
        User("5000002", SALES_USER_EMAIL, "Rex", "Rep", False, ["1002"], False, "9000002"),
    ]


def new_portals(now: datetime) -> dict[int, Portal]:
    """Empty portals with users, default properties and account settings."""
    us = Portal(PORTAL_US, "HubQBO Demo US", "USD", "America/New_York", created_at=now, users=_users(), roles=ROLES)
    uk = Portal(
        PORTAL_UK,
        "HubQBO Demo UK",
        "GBP",
        "Europe/London",
        data_hosting="eu1",
        ui_domain="app-eu1.hubspot.com",
        created_at=now,
        users=_users(),
        roles=ROLES,
    )
    us.additional_currencies = ["GBP", "EUR"]
    return {us.id: us, uk.id: uk}


class _Writer:
    """Creates records in one portal and remembers the interesting ids by name."""

    def __init__(self, portal: Portal, now: datetime) -> None:
        self.portal, self.now = portal, now
        self.ids: dict[str, dict[str, str]] = {}

    def create(self, type_name: str, props: dict[str, Any], key: str | None = None) -> CrmObject:
        t = catalog.object_type(type_name)
        assert t is not None
        obj = self.portal.create(t, self.portal.validate(type_name, props, allow_read_only=True), self.now)
        if key is not None:
            self.ids.setdefault(type_name, {})[key] = obj.id
        return obj

    def link(self, a: CrmObject, b: CrmObject, type_id: int | None = None) -> None:
        kind = (
            catalog.association_type(a.type, b.type, type_id)
            if type_id is not None
            else catalog.default_association(a.type, b.type)
        )
        assert kind is not None, (a.type, b.type, type_id)
        self.portal.associate(kind, a.id, b.id)

    def person(self, person: Person, owner_id: str) -> tuple[CrmObject, CrmObject]:
        company = self.create(
            "companies",
            {"name": person.company, "domain": person.email.split("@")[1], "hubspot_owner_id": owner_id},
            person.company,
        )
        contact = self.create(
            "contacts",
            {
                "email": person.email,
                "firstname": person.first,
                "lastname": person.last,
                "company": person.company,
                "hubspot_owner_id": owner_id,
                "lifecyclestage": "customer",
            },
            person.email,
        )
        self.link(contact, company, 1)  # primary company
        return contact, company

    def line_items(self, parent: CrmObject, lines: list[tuple[str, str]], currency: str) -> Decimal:
        """Line items copied from products (HubSpot gives each parent its own), returns the total."""
        total = Decimal(0)
        for position, (sku, quantity) in enumerate(lines):
            product = next(p for p in SHARED_PRODUCTS if p.sku == sku)
            item = self.create(
                "line_items",
                {
                    "name": product.name,
                    "hs_sku": product.sku,
                    "price": product.price,
                    "quantity": quantity,
                    "hs_product_id": self.ids["products"][sku],
                    "hs_line_item_currency_code": currency,
                    "hs_position_on_quote": str(position),
                },
            )
            self.link(parent, item)
            total += Decimal(item.properties["amount"])
        return total


def seed_portal(portal: Portal, now: datetime, people: list[Person], with_deals: bool) -> dict[str, Any]:
    w = _Writer(portal, now)
    admin_owner = portal.users[0].owner_id
    for product in SHARED_PRODUCTS:
        w.create(
            "products",
            {
                "name": product.name,
                "hs_sku": product.sku,
                "price": product.price,
                "description": f"{product.name} ({product.kind})",
                "hs_product_type": "service" if product.kind == "Service" else "non_inventory",
            },
            product.sku,
        )
    records = {p.email: w.person(p, admin_owner) for p in people}
    if with_deals:
        _deals(w, records, admin_owner)
    counts = {t.name: len(portal.live(t.name)) for t in catalog.OBJECT_TYPES}
    return {
        "portalId": portal.id,
        "companyCurrency": portal.currency,
        "timeZone": portal.time_zone,
        "counts": counts,
        "ids": w.ids,
        "users": {u.email: {"userId": u.id, "ownerId": u.owner_id, "superAdmin": u.super_admin} for u in portal.users},
    }


def _deal(w: _Writer, name: str, person: tuple[CrmObject, CrmObject], currency: str, owner: str, key: str) -> CrmObject:
    contact, company = person
    deal = w.create(
        "deals",
        {
            "dealname": name,
            "dealstage": "contractsent",
            "pipeline": "default",
            "deal_currency_code": currency,
            "closedate": (w.now + timedelta(days=14)).date().isoformat(),
            "hubspot_owner_id": owner,
        },
        key,
    )
    w.link(deal, contact)
    w.link(deal, company, 5)  # primary company
    return deal


def _quote(
    w: _Writer, deal: CrmObject, contact: CrmObject, state: str, lines: list[tuple[str, str]], currency: str, key: str
) -> None:
    published = state in ("published", "expired")
    expires = w.now + timedelta(days=30 if state != "expired" else -10)
    props = {
        "hs_title": f"{deal.properties['dealname']} ({state})",
        "hs_status": {"published": "APPROVED", "draft": "DRAFT", "expired": "APPROVAL_NOT_NEEDED"}[state],
        "hs_expiration_date": expires.date().isoformat(),
        "hs_currency": currency,
        "hs_locked": "true" if published else "false",
        "hs_template_type": "CUSTOMIZABLE_QUOTE_TEMPLATE",
    }
    quote = w.create("quotes", props, key)
    if published:
        w.portal.update(quote, publish_links(w.portal, quote), w.now)
    total = w.line_items(quote, lines, currency)
    w.portal.update(quote, {"hs_quote_amount": str(total)}, w.now)
    w.link(quote, deal)
    w.link(quote, contact)


def publish_links(portal: Portal, quote: CrmObject) -> dict[str, str]:
    """The read-only links HubSpot sets when a quote is published."""
    base = f"https://{portal.id}.hs-sites.example/quotes/{quote.id}"
    return {"hs_quote_link": base, "hs_pdf_download_link": f"{base}.pdf", "hs_locked": "true"}


def _deals(w: _Writer, records: dict[str, tuple[CrmObject, CrmObject]], owner: str) -> None:
    melton, amy, smith = (records[p.email] for p in SHARED_PEOPLE[:3])
    website_lines = [("DESIGN-001", "10"), ("INSTALL-001", "4")]
    website = _deal(w, f"Website redesign {DASH} Melton Johnson", melton, "USD", owner, "website_redesign")
    w.portal.update(website, {"amount": str(w.line_items(website, website_lines, "USD"))}, w.now)
    for state in ("published", "draft", "expired"):
        _quote(w, website, melton[0], state, website_lines, "USD", state)
    uk_lines = [("PUMP-001", "20"), ("CONSULT-001", "2")]
    uk = _deal(w, f"Garden pumps {DASH} Smith & Sons", smith, "GBP", owner, "uk_garden_pumps")
    w.portal.update(uk, {"amount": str(w.line_items(uk, uk_lines, "GBP"))}, w.now)
    _quote(w, uk, smith[0], "published", uk_lines, "GBP", "uk_published")
    _deal(w, f"Bird feeders {DASH} Amy's Bird Sanctuary (no line items)", amy, "USD", owner, "no_line_items")


def seed_all(portals: dict[int, Portal], now: datetime) -> dict[str, Any]:
    us_people = list(SHARED_PEOPLE)
    uk_people = [p for p in SHARED_PEOPLE if p.realm_id == REALM_UK.realm_id]
    return {
        "portals": {
            str(PORTAL_US): seed_portal(portals[PORTAL_US], now, us_people, with_deals=True),
            str(PORTAL_UK): seed_portal(portals[PORTAL_UK], now, uk_people, with_deals=False),
        }
    }
