"""The fixed identities the emulators seed and the local stack configures: one place for each.

Both emulators seed their data around these so that HubSpot records and QBO customers match the
way they would for a real company (the same people, emails and SKUs on both sides).
"""

from __future__ import annotations

from dataclasses import dataclass

# OAuth apps registered in the emulators (the local stack puts the same values in its secret).
HUBSPOT_CLIENT_ID = "hubqbo-local-hubspot-client"
HUBSPOT_CLIENT_SECRET = "hubqbo-local-hubspot-secret"  # also the v3 signature key, as in HubSpot
QBO_CLIENT_ID = "hubqbo-local-qbo-client"
QBO_CLIENT_SECRET = "hubqbo-local-qbo-secret"
QBO_WEBHOOK_VERIFIER_TOKEN = "hubqbo-local-verifier-token"

# HubSpot portals.
PORTAL_US = 123456  # companyCurrency USD, timeZone America/New_York
PORTAL_UK = 654321  # companyCurrency GBP, timeZone Europe/London
SUPER_ADMIN_EMAIL = "admin@hubqbo.example"
SALES_USER_EMAIL = "rep@hubqbo.example"  # not a super admin, no App Marketplace access


@dataclass(frozen=True)
class Realm:
    realm_id: str
    name: str
    country: str
    currency: str
    multicurrency: bool = False
    custom_txn_numbers: bool = False
    sandbox: bool = False
    online_payments: bool = False  # QuickBooks Payments on: invoices carry a pay-online link
    # Categories (QBO Plus): "transaction" or "line" tracks classes one per invoice or per line; locations
    # are QBO's Department entity (Preferences.AccountingInfoPrefs); companies that track them get some.
    class_tracking: str = ""
    track_locations: bool = False


REALM_US = Realm(
    "9130000000000001",
    "Craig's Design and Landscaping Services",
    "US",
    "USD",
    online_payments=True,
    class_tracking="transaction",
    track_locations=True,
)
REALM_UK = Realm("9130000000000002", "Bright Ideas Ltd", "GB", "GBP")
REALM_MULTI = Realm("9130000000000003", "Northwind Traders Inc", "US", "USD", multicurrency=True)
REALM_CUSTOM_NUMBERS = Realm("9130000000000004", "Custom Numbers Co", "US", "USD", custom_txn_numbers=True)
REALM_SANDBOX = Realm("9341450000000005", "Sandbox Company_US_1", "US", "USD", sandbox=True)
REALMS = (REALM_US, REALM_UK, REALM_MULTI, REALM_CUSTOM_NUMBERS, REALM_SANDBOX)


@dataclass(frozen=True)
class Person:
    """Someone who is a HubSpot contact (at a HubSpot company) and a QBO customer."""

    first: str
    last: str
    email: str
    company: str
    realm_id: str


SHARED_PEOPLE = (
    Person("John", "Melton", "john@meltonjohnson.example", "Melton Johnson", REALM_US.realm_id),
    Person("Amy", "Bird", "amy@amysbirds.example", "Amy's Bird Sanctuary", REALM_US.realm_id),
    Person("Oliver", "Smith", "oliver@smithandsons.example", "Smith & Sons Ltd", REALM_UK.realm_id),
    Person("Zofia", "Nowak", "zofia@nowak.example", "Nowak Sp. z o.o.", REALM_MULTI.realm_id),
)


@dataclass(frozen=True)
class Product:
    """A QBO item and the HubSpot product with the same SKU."""

    sku: str
    name: str
    price: str  # a decimal string; money is never float
    kind: str  # QBO Item.Type: "Service" or "NonInventory"


SHARED_PRODUCTS = (
    Product("DESIGN-001", "Design", "75.00", "Service"),
    Product("INSTALL-001", "Installation", "50.00", "Service"),
    Product("PUMP-001", "Pump", "15.00", "NonInventory"),
    Product("CONSULT-001", "Consulting hour", "120.00", "Service"),
)
