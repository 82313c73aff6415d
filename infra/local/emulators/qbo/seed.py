"""Realistic demo companies for every realm in `demo_accounts.REALMS`, built through the same rules
as API calls (so totals, balances and numbering are computed, not typed in). Seeding fires no webhooks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from .. import demo_accounts
from ..demo_accounts import Realm
from .rules import Books
from .store import RealmState

EXTRA_ITEMS = (
    ("ROCK-001", "Rock Fountain", "275.00", "NonInventory"),
    ("GARDEN-001", "Gardening", "25.00", "Service"),
)
UK_TAX = (("20.0% S", "20"), ("5.0% R", "5"), ("0.0% Z", "0"), ("Exempt", "0"))
# Intuit's sandbox segments a landscaping business this way (the "Categorize income and expenses" workflow):
# a sub-class and an inactive one too, so names, `Parent:Child` names and the Active flag all show.
CLASSES = (
    ("Landscaping", None, True),
    ("Maintenance", None, True),
    ("Design", None, True),
    ("Overhead", None, True),
    ("Irrigation", "Landscaping", True),
    ("Old Segment", None, False),
)
LOCATIONS = (("Mountain View", None, True), ("San Jose", None, True), ("Downtown", "San Jose", True),
             ("Closed Branch", None, False))  # fmt: skip
FOREIGN_RATES = {"EUR": Decimal("1.08"), "GBP": Decimal("1.27"), "PLN": Decimal("0.25"), "USD": Decimal("1")}


def _address(line1: str, city: str, postcode: str, country: str) -> dict[str, str]:
    return {"Line1": line1, "City": city, "PostalCode": postcode, "Country": country}


def _customers(realm: Realm) -> list[dict[str, Any]]:
    country = "UK" if realm.country == "GB" else "USA"
    people = [
        {
            "GivenName": p.first,
            "FamilyName": p.last,
            "CompanyName": p.company,
            "DisplayName": p.company,
            "PrimaryEmailAddr": {"Address": p.email},
            "BillAddr": _address(f"{10 + i} Market Street", "Springfield", "01101", country),
        }
        for i, p in enumerate(demo_accounts.SHARED_PEOPLE)
        if p.realm_id == realm.realm_id
    ]
    shared_email = {"Address": "dukes@dukesbasketball.example"}
    extras = [
        {
            "DisplayName": "Dukes Basketball Camp",
            "CompanyName": "Dukes Basketball Camp",
            "PrimaryEmailAddr": shared_email,
        },
        {
            "DisplayName": "Dylan Sollfrank",
            "GivenName": "Dylan",
            "FamilyName": "Sollfrank",
            "PrimaryEmailAddr": shared_email,
        },
        {"DisplayName": "Bill's Windsurf Shop", "CompanyName": "Bill's Windsurf Shop"},
        {"DisplayName": "Old Client LLC", "CompanyName": "Old Client LLC", "Active": False},
    ]
    if realm.multicurrency:
        for person in people:
            person["CurrencyRef"] = {"value": "PLN"}
        extras += [
            {"DisplayName": "Müller GmbH", "CompanyName": "Müller GmbH", "CurrencyRef": {"value": "EUR"}},
            {"DisplayName": "London Traders", "CompanyName": "London Traders Ltd", "CurrencyRef": {"value": "GBP"}},
        ]
    return people + extras


def _lists(state: RealmState, books: Books, moment: datetime) -> None:
    realm = state.realm
    for name, kind in (("Services", "Income"), ("Sales of Product Income", "Income")):
        books.create("Account", {"Name": name, "AccountType": kind, "AccountSubType": "ServiceFeeIncome"})
    books.create("Account", {"Name": "Accounts Receivable (A/R)", "AccountType": "Accounts Receivable"})
    books.create("Account", {"Name": "Undeposited Funds", "AccountType": "Other Current Asset"})
    for name, days in (("Due on receipt", 0), ("Net 15", 15), ("Net 30", 30)):
        books.create("Term", {"Name": name, "Type": "STANDARD", "DueDays": days})
    if state.us:
        for code, taxable in (("TAX", True), ("NON", False)):
            state.table("TaxCode")[code] = {"Id": code, "Name": code, "Taxable": taxable, "Active": True}
    else:
        for name, rate in UK_TAX:
            rate_id = state.new_id("TaxRate")
            state.table("TaxRate")[rate_id] = {"Id": rate_id, "Name": name, "RateValue": Decimal(rate), "Active": True}
            code_id = state.new_id("TaxCode")
            state.table("TaxCode")[code_id] = {
                "Id": code_id,
                "Name": name,
                "Taxable": name != "Exempt",
                "Active": True,
                "SalesTaxRateList": {"TaxRateDetail": [{"TaxRateRef": {"value": rate_id, "name": name}}]},
            }
    for code, rate in FOREIGN_RATES.items() if realm.multicurrency else ():
        if code != realm.currency:
            state.exchange_rates[code] = rate
            currency_id = state.new_id("CompanyCurrency")
            state.table("CompanyCurrency")[currency_id] = {
                "Id": currency_id,
                "Code": code,
                "Name": code,
                "Active": True,
            }
    for sku, name, price, kind in [(p.sku, p.name, p.price, p.kind) for p in demo_accounts.SHARED_PRODUCTS] + list(
        EXTRA_ITEMS
    ):
        account = "1" if kind == "Service" else "2"
        item = {"Name": name, "Sku": sku, "UnitPrice": price, "Type": kind, "IncomeAccountRef": {"value": account}}
        books.create("Item", {**item, "Description": f"{name} ({sku})"})
    books.create("Item", {"Name": "Discontinued Widget", "Sku": "OLD-001", "UnitPrice": "9.99", "Type": "NonInventory",
                          "IncomeAccountRef": {"value": "2"}, "Active": False})  # fmt: skip


def _company(state: RealmState, moment: datetime) -> None:
    realm = state.realm
    country = "GB" if realm.country == "GB" else "US"
    address = _address("1 Main Street", "London" if country == "GB" else "Mountain View", "94043", country)
    stamp = state.stamp(moment)
    meta = {"CreateTime": stamp, "LastUpdatedTime": stamp}
    state.table("CompanyInfo")[realm.realm_id] = {
        "Id": realm.realm_id,
        "SyncToken": "0",
        "CompanyName": realm.name,
        "LegalName": realm.name,
        "Country": country,
        "CompanyAddr": address,
        "LegalAddr": address,
        "Email": {"Address": "owner@" + realm.name.split()[0].lower().strip("'s") + ".example"},
        "FiscalYearStartMonth": "January",
        "SupportedLanguages": "en",
        "NameValue": [{"Name": "IsSandbox", "Value": str(realm.sandbox).lower()}],
        "MetaData": meta,
        "domain": "QBO",
    }
    state.table("Preferences")["1"] = {
        "Id": "1",
        "SyncToken": "0",
        "SalesFormsPrefs": {
            "CustomTxnNumbers": realm.custom_txn_numbers,
            "AllowDeposit": True,
            "AllowDiscount": True,
            "ETransactionPaymentEnabled": realm.online_payments,
        },
        "CurrencyPrefs": {"MultiCurrencyEnabled": realm.multicurrency, "HomeCurrency": {"value": realm.currency}},
        "TaxPrefs": {"UsingSalesTax": True, "PartnerTaxEnabled": realm.country == "US"},
        # Settings → Advanced → Categories; the UI calls departments "locations" (DepartmentTerminology).
        "AccountingInfoPrefs": {
            "TrackDepartments": realm.track_locations,
            "DepartmentTerminology": "Location",
            "ClassTrackingPerTxn": realm.class_tracking == "transaction",
            "ClassTrackingPerTxnLine": realm.class_tracking == "line",
        },
        "MetaData": meta,
        "domain": "QBO",
    }


def _segments(state: RealmState, books: Books) -> None:
    """Classes and locations for a company that tracks them (others have none)."""
    realm = state.realm
    lists = (("Class", bool(realm.class_tracking), CLASSES), ("Department", realm.track_locations, LOCATIONS))
    for entity, wanted, rows in lists:
        if not wanted:
            continue
        ids: dict[str, str] = {}
        for name, parent, active in rows:
            body: dict[str, Any] = {"Name": name, "Active": active}
            if parent:
                body["ParentRef"] = {"value": ids[parent]}
            ids[name] = books.create(entity, body)["Id"]


def _invoices(state: RealmState, books: Books, moment: datetime) -> None:
    """One unpaid, one partially paid, one paid and one overdue invoice for the first customer."""
    customer = next(c for c in state.all("Customer") if c["Active"])
    tax = {} if state.us else {"TaxCodeRef": {"value": "1"}}
    custom = state.custom_txn_numbers

    def invoice(n: int, qty: int, days_ago: int) -> dict[str, Any]:
        line = {"ItemRef": {"value": "1"}, "Qty": qty, **tax}
        txn_date = (moment - timedelta(days=days_ago)).astimezone(state.tz).date().isoformat()
        body = {"CustomerRef": {"value": customer["Id"]}, "TxnDate": txn_date, "SalesTermRef": {"value": "3"}}
        body["Line"] = [{"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": line}]
        body["BillEmail"] = customer.get("PrimaryEmailAddr")
        return books.create("Invoice", body | ({"DocNumber": f"INV-{n:04d}"} if custom else {}))

    invoice(1, 2, 2)
    partial = invoice(2, 4, 5)
    paid = invoice(3, 1, 10)
    invoice(4, 3, 60)  # Net 30 from 60 days ago: overdue
    for target, amount in ((partial, partial["TotalAmt"] / 2), (paid, paid["TotalAmt"])):
        line = {"Amount": amount, "LinkedTxn": [{"TxnId": target["Id"], "TxnType": "Invoice"}]}
        books.create("Payment", {"CustomerRef": {"value": customer["Id"]}, "TotalAmt": amount, "Line": [line]})


def seed_realm(realm: Realm, moment: datetime) -> RealmState:
    state = RealmState(realm)
    books = Books(state, moment, lambda *_: None, ui=True)
    _company(state, moment)
    _lists(state, books, moment)
    _segments(state, books)
    for customer in _customers(realm):
        books.create("Customer", customer)
    _invoices(state, books, moment)
    return state


def seed(realms: dict[str, RealmState], moment: datetime, only: list[str] | None = None) -> dict[str, Any]:
    """(Re)create the demo companies; returns the summary the admin `seed` call answers with."""
    summary = []
    for realm in demo_accounts.REALMS:
        if only and realm.realm_id not in only:
            continue
        state = realms[realm.realm_id] = seed_realm(realm, moment)
        counts = {entity: len(table) for entity, table in sorted(state.objects.items())}
        summary.append({"realm_id": realm.realm_id, "name": realm.name, "sandbox": realm.sandbox, "counts": counts})
    return {"realms": summary}
