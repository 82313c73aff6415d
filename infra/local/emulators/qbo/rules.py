"""QBO's business rules: validation, computed fields, and the side effects of each change.

`Books` applies one change to one realm and reports every changed object through `emit`, so the
API, batch, and the "product UI" admin routes all share the same rules and fire the same webhooks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .store import RealmState, dec, money


class QboError(Exception):
    """A fault in QBO's `{"Fault": {"Error": [...], "type": ...}}` shape."""

    def __init__(
        self, code: str, message: str, detail: str = "", element: str = "", status: int = 400, kind: str = ""
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code, self.message, self.detail, self.element, self.status = code, message, detail, element, status
        self.kind = kind or ("SystemFault" if status >= 500 else "ValidationFault")

    def fault(self) -> dict[str, Any]:
        error = {"Message": self.message, "Detail": self.detail or self.message, "code": self.code}
        error["element"] = self.element
        return {"Error": [error], "type": self.kind}


def not_found(entity: str, object_id: Any) -> QboError:
    return QboError(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. ({entity} {object_id})",
    )


@dataclass(frozen=True)
class Kind:
    """What QBO allows per entity type: webhook operations, CDC, delete/void, uniqueness, Active."""

    name: str
    webhook_ops: frozenset[str] = frozenset({"Create", "Update", "Delete", "Merge"})
    cdc: bool = True
    unique_name: str | None = None
    transaction: bool = False  # deletable and voidable, has lines and totals
    has_active: bool = False
    writable: bool = True
    voidable: bool = True  # transactions only; an estimate posts nothing, so it is deleted, never voided


_TXN_OPS = frozenset({"Create", "Update", "Delete", "Void", "Emailed"})
_SEGMENT_OPS = frozenset({"Create", "Update", "Delete"})
KINDS = {
    k.name: k
    for k in (
        Kind("Customer", unique_name="DisplayName", has_active=True),
        Kind("Item", unique_name="Name", has_active=True),
        Kind("Account", unique_name="Name", has_active=True),
        Kind("Term", frozenset({"Create", "Update"}), unique_name="Name", has_active=True),
        Kind("Invoice", _TXN_OPS, transaction=True),
        Kind("Estimate", frozenset({"Create", "Update", "Delete", "Emailed"}), transaction=True, voidable=False),
        Kind("Payment", _TXN_OPS, transaction=True),
        # Classes and locations (QBO's Department entity): names unique per parent, so FullyQualifiedName is.
        Kind("Class", unique_name="FullyQualifiedName", has_active=True),
        Kind("Department", _SEGMENT_OPS, unique_name="FullyQualifiedName", has_active=True),
        Kind("TaxCode", frozenset(), cdc=False, has_active=True),
        Kind("TaxRate", frozenset(), cdc=False, has_active=True),
        Kind("CompanyCurrency", frozenset(), has_active=True, writable=False),
        Kind("Preferences", frozenset({"Update"})),
        Kind("CompanyInfo", frozenset(), writable=False),
    )
}
BY_PATH = {name.lower(): name for name in KINDS}  # URL segment → entity name

# Fields QBO computes: ignored on input, kept from the stored object.
READ_ONLY = {"Id", "SyncToken", "MetaData", "domain", "sparse", "FullyQualifiedName", "Balance", "BalanceWithJobs"}
READ_ONLY_BY_ENTITY = {
    "Invoice": READ_ONLY | {"TotalAmt", "HomeTotalAmt", "HomeBalance", "LinkedTxn", "DeliveryInfo"},
    "Payment": READ_ONLY | {"UnappliedAmt", "HomeTotalAmt"},
    "Estimate": READ_ONLY | {"TotalAmt", "HomeTotalAmt", "DeliveryInfo"},
}
# An estimate's status (Intuit's Estimate entity, TxnStatus; the QBO help page "Estimate status":
# https://plugin-qbo.intuit.com/qbo-ush/helpcontent/production/157/en_US/QBO_Plus/Content/Topics/customer/help_customer_estimate_status.htm).
ESTIMATE_STATUSES = ("Pending", "Accepted", "Closed", "Rejected")

Emit = Callable[[str, str, str], None]  # (entity, id, operation)


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == {}


class Books:
    """One realm's books at one instant; `ui=True` changes skip the SyncToken check like the product UI."""

    def __init__(self, state: RealmState, now: datetime, emit: Emit, *, ui: bool = False) -> None:
        self.state, self.now, self.emit, self.ui = state, now, emit, ui

    # -- generic operations ------------------------------------------------------------------
    def read(self, entity: str, object_id: Any) -> dict[str, Any]:
        found = self.state.get(entity, object_id)
        if found is None:
            raise not_found(entity, object_id)
        return found

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        self._writable(entity)
        ro = READ_ONLY_BY_ENTITY.get(entity, READ_ONLY)
        obj = {k: copy.deepcopy(v) for k, v in body.items() if k not in ro and not _blank(v)}
        obj["Id"] = ""  # assigned once every rule has passed, so failures do not burn ids
        self._prepare(entity, obj, None)
        obj["Id"] = self.state.new_id(entity)
        obj.update(domain="QBO", sparse=False, SyncToken="0")
        stamp = self.state.stamp(self.now)
        obj["MetaData"] = {"CreateTime": stamp, "LastUpdatedTime": stamp}
        self.state.table(entity)[obj["Id"]] = obj
        self.emit(entity, obj["Id"], "Create")
        self._after(entity, obj, None)
        return obj

    def update(self, entity: str, body: dict[str, Any], operation: str = "Update") -> dict[str, Any]:
        self._writable(entity)
        old = self._current(entity, body)
        ro = READ_ONLY_BY_ENTITY.get(entity, READ_ONLY)
        given = {k: copy.deepcopy(v) for k, v in body.items() if k not in ro}
        if body.get("sparse") in (True, "true") or self.ui:
            obj = {**copy.deepcopy(old), **given}
        else:  # a full update replaces every writable field; what is not sent is cleared
            obj = {k: v for k, v in old.items() if k in ro} | given
        obj = {k: v for k, v in obj.items() if not _blank(v) or k in ro}
        self._prepare(entity, obj, old)
        self._save(entity, obj, operation)
        self._after(entity, obj, old)
        return obj

    def delete(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if not KINDS[entity].transaction:
            raise QboError("500", "Unsupported Operation", f"Operation Delete is not supported for {entity}.")
        old = self._current(entity, body)
        del self.state.table(entity)[old["Id"]]
        stub = {"Id": old["Id"], "status": "Deleted", "domain": "QBO"}
        stub["MetaData"] = {**old["MetaData"], "LastUpdatedTime": self.state.stamp(self.now)}
        self.state.deleted.setdefault(entity, {})[old["Id"]] = stub
        self.emit(entity, old["Id"], "Delete")
        self._after(entity, None, old)
        return {"Id": old["Id"], "status": "Deleted", "domain": "QBO"}

    def void(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        """The record stays, with every amount zeroed and a note, as QBO does."""
        if not KINDS[entity].transaction or not KINDS[entity].voidable:
            raise QboError("500", "Unsupported Operation", f"Operation Void is not supported for {entity}.")
        old = self._current(entity, body)
        obj = copy.deepcopy(old)
        for line in obj.get("Line", []):
            line["Amount"] = Decimal(0)
            if "SalesItemLineDetail" in line:
                line["SalesItemLineDetail"].update(Qty=Decimal(0), UnitPrice=Decimal(0))
        obj["PrivateNote"] = f"Voided {obj.get('PrivateNote', '')}".strip()
        obj["TotalAmt"] = Decimal(0)
        if "TxnTaxDetail" in obj:
            obj["TxnTaxDetail"] = {"TotalTax": Decimal(0)}
        if entity == "Invoice":
            self._invoice_balance(obj)
        else:
            obj.update(UnappliedAmt=Decimal(0), HomeTotalAmt=Decimal(0))
        self._save(entity, obj, "Void")
        self._after(entity, obj, old)
        return obj

    def send(self, invoice_id: str, send_to: str | None) -> dict[str, Any]:
        invoice = copy.deepcopy(self.read("Invoice", invoice_id))
        address = send_to or invoice.get("BillEmail", {}).get("Address")
        if not address:
            raise QboError("6000", "A business validation error has occurred", "Email Address is missing.")
        invoice["BillEmail"] = {"Address": address}
        invoice["EmailStatus"] = "EmailSent"
        invoice["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": self.state.stamp(self.now)}
        self._save("Invoice", invoice, "Emailed")
        return invoice

    # -- shared steps ------------------------------------------------------------------------
    def _writable(self, entity: str) -> None:
        if not KINDS[entity].writable:
            raise QboError("500", "Unsupported Operation", f"Operation Create/Update is not supported for {entity}.")

    def _current(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity == "Preferences":
            return self.state.singleton("Preferences")
        if _blank(body.get("Id")):
            raise QboError("2020", "Required param missing, need to supply the required value for the API", "Id")
        old = self.read(entity, body["Id"])
        if not self.ui and str(body.get("SyncToken")) != old["SyncToken"]:
            raise QboError(
                "5010",
                "Stale Object Error",
                f"Stale Object Error : You and another user were working on the same thing. "
                f"Please try again. (SyncToken {body.get('SyncToken')} is not {old['SyncToken']})",
            )
        return old

    def _save(self, entity: str, obj: dict[str, Any], operation: str) -> None:
        obj["SyncToken"] = str(int(obj["SyncToken"]) + 1)
        obj["MetaData"] = {**obj["MetaData"], "LastUpdatedTime": self.state.stamp(self.now)}
        self.state.table(entity)[obj["Id"]] = obj
        self.emit(entity, obj["Id"], operation)

    def _prepare(self, entity: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        kind = KINDS[entity]
        if kind.has_active:
            obj["Active"] = obj.get("Active", True) not in (False, "false")
        prepare = getattr(self, f"_prepare_{entity.lower()}", None)
        if prepare:
            prepare(obj, old)
        if kind.unique_name:
            self._unique(entity, kind.unique_name, obj)

    def _after(self, entity: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> None:
        if entity == "Payment":
            self._reapply_payments({i for p in (new, old) if p for i in _linked_invoices(p)})

    def _unique(self, entity: str, field: str, obj: dict[str, Any]) -> None:
        name = str(obj.get(field, "")).strip()
        if not name:
            raise QboError("2020", "Required param missing, need to supply the required value for the API", field)
        for other in self.state.all(entity):
            if other["Id"] != obj["Id"] and str(other.get(field, "")).casefold() == name.casefold():
                raise QboError(
                    "6240",
                    "Duplicate Name Exists Error",
                    f"The name supplied already exists. : Another {entity.lower()} is already using this name. "
                    f"Please use a different name. Id={other['Id']}",
                    element=field,
                )

    def _active_ref(self, entity: str, ref: Any, element: str) -> dict[str, Any]:
        value = ref.get("value") if isinstance(ref, dict) else None
        if _blank(value):
            raise QboError("2020", "Required param missing, need to supply the required value for the API", element)
        target = self.state.get(entity, value)
        if target is None:
            raise QboError("2500", "Invalid Reference Id", f"Invalid Reference Id : {entity} {value}", element)
        if target.get("Active") is False:
            raise not_found(entity, value)
        return target

    # -- names -------------------------------------------------------------------------------
    def _prepare_customer(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if _blank(obj.get("DisplayName")):
            parts = [obj.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
            obj["DisplayName"] = " ".join(p for p in parts if p) or obj.get("CompanyName", "")
        obj["FullyQualifiedName"] = obj["DisplayName"]
        if self.state.multicurrency:
            obj.setdefault("CurrencyRef", {"value": self.state.home_currency})
        obj.setdefault("Balance", Decimal(0))  # the API shows the live figure (QboEmulator.present)

    def _prepare_item(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        obj.setdefault("Type", "Service")
        obj["FullyQualifiedName"] = obj.get("Name", "")
        if "UnitPrice" in obj:
            obj["UnitPrice"] = dec(obj["UnitPrice"])
        if obj["Type"] in {"Service", "NonInventory", "Inventory"}:
            self._active_ref("Account", obj.get("IncomeAccountRef"), "IncomeAccountRef")

    def _prepare_account(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        obj["FullyQualifiedName"] = obj.get("Name", "")
        obj.setdefault("CurrentBalance", Decimal(0))

    # -- classes and locations ---------------------------------------------------------------
    def _prepare_class(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self._segment("Class", "SubClass", obj)

    def _prepare_department(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        self._segment("Department", "SubDepartment", obj)

    def _segment(self, entity: str, sub_flag: str, obj: dict[str, Any]) -> None:
        """A class or location under an optional parent: `FullyQualifiedName` is `Parent:Child` (output only,
        Finance.xsd Class/Department), `SubClass`/`SubDepartment` says whether it has a parent."""
        name = str(obj.get("Name") or "").strip()
        if not name:
            raise QboError("2020", "Required param missing, need to supply the required value for the API", "Name")
        parent_ref = obj.get("ParentRef")
        if _blank(parent_ref):
            obj.pop("ParentRef", None)
            obj[sub_flag], obj["FullyQualifiedName"] = False, name
            return
        parent = self._active_ref(entity, parent_ref, "ParentRef")
        if parent["Id"] == obj.get("Id"):
            detail = f"Invalid Reference Id : {entity} {parent['Id']}"
            raise QboError("2500", "Invalid Reference Id", detail, "ParentRef")
        obj["ParentRef"] = {"value": parent["Id"], "name": parent["Name"]}
        obj[sub_flag], obj["FullyQualifiedName"] = True, f"{parent['FullyQualifiedName']}:{name}"

    def _tracking(self, obj: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        """Class and location as the company tracks them (Preferences.AccountingInfoPrefs): `ClassRef` on the
        invoice when ClassTrackingPerTxn, on each `SalesItemLineDetail` when ClassTrackingPerTxnLine,
        `DepartmentRef` (the location, header only) when TrackDepartments. Intuit documents each field as
        "Available if Preferences.AccountingInfoPrefs.<switch> is set to true"
        (https://developer.intuit.com/app/developer/qbo/docs/api/accounting/most-commonly-used/invoice, ClassRef,
        DepartmentRef; https://developer.intuit.com/app/developer/qbo/docs/workflows/categorize-income-and-expenses);
        a reference at a level the company does not track is ignored without an error and not stored (Rutter's
        write-up of QBO's behaviour, https://help.rutter.com/articles/1666075567). A tracked reference must name
        an active class or location: unknown is 2500 Invalid Reference Id, inactive 610, as for items."""
        prefs = self.state.singleton("Preferences").get("AccountingInfoPrefs") or {}
        per_txn, per_line = bool(prefs.get("ClassTrackingPerTxn")), bool(prefs.get("ClassTrackingPerTxnLine"))
        if per_txn and not _blank(obj.get("ClassRef")):
            found = self._active_ref("Class", obj["ClassRef"], "ClassRef")
            obj["ClassRef"] = {"value": found["Id"], "name": found["FullyQualifiedName"]}
        else:
            obj.pop("ClassRef", None)
        for line in lines:  # item lines, and the discount line (Finance.xsd DiscountLineDetail.ClassRef)
            detail = line.get("SalesItemLineDetail") or line.get("DiscountLineDetail")
            if not isinstance(detail, dict):
                continue
            if per_line and not _blank(detail.get("ClassRef")):
                found = self._active_ref("Class", detail["ClassRef"], "ClassRef")
                detail["ClassRef"] = {"value": found["Id"], "name": found["FullyQualifiedName"]}
            else:
                detail.pop("ClassRef", None)
        if prefs.get("TrackDepartments") and not _blank(obj.get("DepartmentRef")):
            found = self._active_ref("Department", obj["DepartmentRef"], "DepartmentRef")
            obj["DepartmentRef"] = {"value": found["Id"], "name": found["FullyQualifiedName"]}
        else:
            obj.pop("DepartmentRef", None)

    # -- invoices ----------------------------------------------------------------------------
    def _prepare_invoice(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        customer = self._active_ref("Customer", obj.get("CustomerRef"), "CustomerRef")
        obj["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
        self._currency(obj, customer)
        self._doc_number(obj, old)
        obj["TxnDate"] = obj.get("TxnDate") or self.state.today(self.now)
        if _blank(obj.get("DueDate")):
            obj["DueDate"] = self._due_date(obj, customer)
        if obj.get("EmailStatus") == "NeedToSend" and _blank(obj.get("BillEmail")):
            raise QboError("6000", "A business validation error has occurred", "Need BillEmail to send.")
        obj.setdefault("EmailStatus", "NotSet")
        obj.setdefault("PrintStatus", "NotSet")
        if old is None:  # a new invoice takes the company's online-payment setting unless the body says otherwise
            obj.setdefault("AllowOnlineCreditCardPayment", self.state.online_payments)
            obj.setdefault("AllowOnlineACHPayment", self.state.online_payments)
        self._sales_totals(obj)
        self._invoice_balance(obj)

    def _sales_totals(self, obj: dict[str, Any]) -> None:
        """The lines, subtotal, discount, tax and `TotalAmt` of a sales form (invoice or estimate: both are
        Finance.xsd SalesTransactions and QBO books their lines the same way)."""
        given = [ln for ln in obj.get("Line", []) if ln.get("DetailType") != "SubTotalLineDetail"]
        lines = [ln for ln in given if ln.get("DetailType") != "DiscountLineDetail"]
        discounts = [ln for ln in given if ln.get("DetailType") == "DiscountLineDetail"]
        if not lines:
            raise QboError("2020", "Required param missing, need to supply the required value for the API", "Line")
        self._tracking(obj, given)
        subtotal = sum((self._sales_line(n, line) for n, line in enumerate(lines, 1)), Decimal(0))
        discount = self._discount(discounts, subtotal, len(lines) + 1)
        lines.append({"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
        obj["Line"] = lines + discounts
        tax = self._tax(obj, lines, discount)
        obj["TotalAmt"] = money(subtotal - discount + tax)

    # -- estimates ---------------------------------------------------------------------------
    def _prepare_estimate(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        """An estimate (Finance.xsd `Estimate`, a SalesTransaction; Intuit's Estimate entity,
        https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate): a customer
        and at least one line, booked like an invoice's lines; numbered in its own sequence; `TxnStatus`
        Pending unless given (Accepted, Closed, Rejected); `ExpirationDate`, `AcceptedBy` and `AcceptedDate`
        kept as sent. It has no balance and no due date of its own: nothing is owed until it is invoiced."""
        customer = self._active_ref("Customer", obj.get("CustomerRef"), "CustomerRef")
        obj["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
        self._currency(obj, customer)
        self._doc_number(obj, old, "Estimate")
        obj["TxnDate"] = obj.get("TxnDate") or self.state.today(self.now)
        for field in ("ExpirationDate", "AcceptedDate"):
            if not _blank(obj.get(field)):
                try:
                    date.fromisoformat(str(obj[field]))
                except ValueError:
                    raise QboError(
                        "2010", "Request has invalid or unsupported property", f"{field}: {obj[field]}", element=field
                    ) from None
        status = str(obj.get("TxnStatus") or "Pending")
        if status not in ESTIMATE_STATUSES:
            raise QboError(
                "2010", "Request has invalid or unsupported property", f"TxnStatus: {status}", element="TxnStatus"
            )
        obj["TxnStatus"] = status
        if obj.get("EmailStatus") == "NeedToSend" and _blank(obj.get("BillEmail")):
            raise QboError("6000", "A business validation error has occurred", "Need BillEmail to send.")
        obj.setdefault("EmailStatus", "NotSet")
        obj.setdefault("PrintStatus", "NotSet")
        ref = obj.get("SalesTermRef")
        term = self.state.get("Term", ref.get("value")) if isinstance(ref, dict) else None
        if term:
            obj["SalesTermRef"] = {"value": term["Id"], "name": term["Name"]}
        self._sales_totals(obj)
        obj["HomeTotalAmt"] = money(obj["TotalAmt"] * obj.get("ExchangeRate", Decimal(1)))

    def _currency(self, obj: dict[str, Any], customer: dict[str, Any]) -> None:
        home = self.state.home_currency
        currency = (obj.get("CurrencyRef") or customer.get("CurrencyRef") or {"value": home})["value"]
        if currency != home:
            if not self.state.multicurrency:
                raise QboError("6000", "A business validation error has occurred", "Multicurrency is not enabled.")
            if currency != customer.get("CurrencyRef", {}).get("value"):
                raise QboError(
                    "6000", "A business validation error has occurred", "The currency must match the customer's."
                )
        obj["CurrencyRef"] = {"value": currency}
        rate = self.state.exchange_rates.get(currency, Decimal(1)) if currency != home else Decimal(1)
        obj["ExchangeRate"] = dec(obj.get("ExchangeRate"), str(rate)) if currency != home else Decimal(1)

    def _doc_number(self, obj: dict[str, Any], old: dict[str, Any] | None, entity: str = "Invoice") -> None:
        """Each sales form has its own sequence and its own duplicate check (invoices, estimates)."""
        number = str(obj.get("DocNumber") or "")
        auto = number == "AUTO_GENERATE" or (not number and not old and not self.state.custom_txn_numbers)
        invoices = [i for i in self.state.all(entity) if i["Id"] != obj["Id"]]
        if auto:
            numeric = [int(i["DocNumber"]) for i in invoices if str(i.get("DocNumber", "")).isdigit()]
            number = str(max([1000, *numeric]) + 1)
        if not number:
            obj.pop("DocNumber", None)
            return
        if len(number) > 21:
            raise QboError("6000", "A business validation error has occurred", "DocNumber exceeds 21 characters.")
        if any(i.get("DocNumber") == number for i in invoices):
            raise QboError(
                "6210",
                "Duplicate Document Number Error",
                f"Duplicate Document Number Error : You must specify a different number. "
                f"This number has already been used. DocNumber={number}",
                element="DocNumber",
            )
        obj["DocNumber"] = number

    def _due_date(self, obj: dict[str, Any], customer: dict[str, Any]) -> str:
        ref = obj.get("SalesTermRef") or customer.get("SalesTermRef")
        term = self.state.get("Term", ref["value"]) if ref else None
        days = int(term.get("DueDays", 0)) if term else 0
        if term:
            obj["SalesTermRef"] = {"value": term["Id"], "name": term["Name"]}
        return (date.fromisoformat(obj["TxnDate"]) + timedelta(days=days)).isoformat()

    def _sales_line(self, number: int, line: dict[str, Any]) -> Decimal:
        line["Id"], line["LineNum"] = str(number), number
        detail = line.get("SalesItemLineDetail")
        if line.get("DetailType") != "SalesItemLineDetail" or not detail:
            line["Amount"] = money(line.get("Amount"))
            return Decimal(0) if line.get("DetailType") == "DescriptionOnly" else line["Amount"]
        item = self._active_ref("Item", detail.get("ItemRef"), "ItemRef")
        detail["ItemRef"] = {"value": item["Id"], "name": item["Name"]}
        qty, price, given = dec(detail.get("Qty")), dec(detail.get("UnitPrice")), money(line.get("Amount"))
        if qty and detail.get("UnitPrice") is not None:  # QBO checks Amount against Qty * UnitPrice (0 is a price)
            amount = money(qty * price)
            if given and given != amount:
                raise QboError("6070", "Amount is not equal to UnitPrice * Qty", f"Line {number}: {amount}")
        elif given:  # an Amount alone (python-quickbooks sends Qty/UnitPrice 0 by default)
            qty = qty or Decimal(1)
            amount, price = given, given / qty
        else:  # nothing priced: the item's own price
            qty = qty or Decimal(1)
            price = dec(item.get("UnitPrice"))
            amount = money(qty * price)
        detail["Qty"], detail["UnitPrice"], line["Amount"] = qty, price, amount
        if not self.state.us and _blank(detail.get("TaxCodeRef")):
            raise QboError(
                "6000",
                "A business validation error has occurred while processing your request",
                "Business Validation Error: Make sure all your transactions have a VAT rate before you save.",
                element="TaxCodeRef",
            )
        return line["Amount"]

    def _discount(self, discounts: list[dict[str, Any]], subtotal: Decimal, number: int) -> Decimal:
        """The invoice discount, one `DiscountLineDetail` line on the subtotal (Finance.xsd DiscountOverride):
        `PercentBased` with `DiscountPercent` from 0 to 100 (its Amount is computed, rounded half up), else
        the line's `Amount`. The invoice may not total less than zero."""
        if len(discounts) > 1:
            raise QboError("6000", "A business validation error has occurred", "Only one discount line is allowed.")
        if not discounts:
            return Decimal(0)
        line = discounts[0]
        line["Id"], line["LineNum"] = str(number), number
        detail = line.setdefault("DiscountLineDetail", {})
        if detail.get("PercentBased") in (True, "true"):
            percent = dec(detail.get("DiscountPercent"))
            if not Decimal(0) <= percent <= Decimal(100):
                raise QboError(
                    "6000", "A business validation error has occurred", "DiscountPercent must be from 0 to 100."
                )
            detail["PercentBased"], detail["DiscountPercent"] = True, percent
            amount = money(subtotal * percent / 100)
        else:
            detail["PercentBased"] = False
            amount = money(line.get("Amount"))
        if amount < 0 or amount > subtotal:
            raise QboError(
                "6000",
                "A business validation error has occurred",
                "Business Validation Error: The discount must be between zero and the subtotal.",
                element="DiscountLineDetail",
            )
        line["Amount"] = amount
        return amount

    def _tax(self, obj: dict[str, Any], lines: list[dict[str, Any]], discount: Decimal) -> Decimal:
        """US (AST) tax is not computed: an explicit TotalTax is kept, as AST does. Non-US: VAT per rate, on the
        amounts less the invoice discount pro-rated through the item lines (Finance.xsd Invoice.DiscountAmt)."""
        if self.state.us:
            total = money(obj.get("TxnTaxDetail", {}).get("TotalTax"))
            obj["TxnTaxDetail"] = {**obj.get("TxnTaxDetail", {}), "TotalTax": total}
            if discount:
                obj["ApplyTaxAfterDiscount"] = obj.get("ApplyTaxAfterDiscount") in (True, "true")
            return total
        _prorate(lines, discount)
        taxable: dict[str, Decimal] = {}
        for line in lines:
            code_ref = line.get("SalesItemLineDetail", {}).get("TaxCodeRef")
            if not code_ref:
                continue
            code = self.state.get("TaxCode", code_ref["value"])
            if code is None:
                raise QboError("2500", "Invalid Reference Id", f"TaxCode {code_ref['value']}", "TaxCodeRef")
            for rate_detail in code.get("SalesTaxRateList", {}).get("TaxRateDetail", []):
                rate_id = rate_detail["TaxRateRef"]["value"]
                net = line["Amount"] - line["SalesItemLineDetail"].get("DiscountAmt", Decimal(0))
                taxable[rate_id] = taxable.get(rate_id, Decimal(0)) + net
        tax_lines = []
        for rate_id, net in taxable.items():
            percent = dec(self.state.get("TaxRate", rate_id)["RateValue"])
            detail = {"TaxRateRef": {"value": rate_id}, "PercentBased": True, "TaxPercent": percent}
            detail["NetAmountTaxable"] = net
            tax_lines.append({"Amount": money(net * percent / 100), "DetailType": "TaxLineDetail"})
            tax_lines[-1]["TaxLineDetail"] = detail
        total = sum((t["Amount"] for t in tax_lines), Decimal(0))
        obj["TxnTaxDetail"] = {"TotalTax": total, "TaxLine": tax_lines}
        obj.setdefault("GlobalTaxCalculation", "TaxExcluded")
        return total

    def _invoice_balance(self, invoice: dict[str, Any]) -> None:
        links, paid = [], Decimal(0)
        for payment in self.state.all("Payment"):
            for line in payment.get("Line", []):
                if invoice["Id"] and invoice["Id"] in _linked_invoices({"Line": [line]}):
                    paid += line["Amount"]
                    links.append({"TxnId": payment["Id"], "TxnType": "Payment"})
        invoice["LinkedTxn"] = links
        balance = max(invoice["TotalAmt"] - paid, Decimal(0))
        invoice["Balance"] = money(balance)
        rate = invoice.get("ExchangeRate", Decimal(1))
        invoice["HomeTotalAmt"] = money(invoice["TotalAmt"] * rate)
        invoice["HomeBalance"] = money(balance * rate)

    # -- payments ----------------------------------------------------------------------------
    def _prepare_payment(self, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        customer = self._active_ref("Customer", obj.get("CustomerRef"), "CustomerRef")
        obj["CustomerRef"] = {"value": customer["Id"], "name": customer["DisplayName"]}
        self._currency(obj, customer)
        obj["TxnDate"] = obj.get("TxnDate") or self.state.today(self.now)
        obj["TotalAmt"] = money(obj.get("TotalAmt"))
        applied = Decimal(0)
        for line in obj.get("Line", []):
            line["Amount"] = money(line.get("Amount"))
            applied += line["Amount"]
            for invoice_id in _linked_invoices({"Line": [line]}):
                invoice = self.state.get("Invoice", invoice_id)
                if invoice is None or invoice["CustomerRef"]["value"] != customer["Id"]:
                    raise QboError("2500", "Invalid Reference Id", f"Invoice {invoice_id}", "LinkedTxn")
        if applied > obj["TotalAmt"]:
            raise QboError("6000", "A business validation error has occurred", "Applied amount exceeds TotalAmt.")
        obj["UnappliedAmt"] = obj["TotalAmt"] - applied
        obj["HomeTotalAmt"] = money(obj["TotalAmt"] * obj["ExchangeRate"])

    def _reapply_payments(self, invoice_ids: set[str]) -> None:
        """A payment change moves each linked invoice's Balance: a real change, with its own webhook."""
        for invoice_id in sorted(invoice_ids):
            invoice = self.state.get("Invoice", invoice_id)
            if invoice is None:
                continue
            updated = copy.deepcopy(invoice)
            self._invoice_balance(updated)
            if (updated["Balance"], updated["LinkedTxn"]) != (invoice["Balance"], invoice["LinkedTxn"]):
                self._save("Invoice", updated, "Update")


def _prorate(lines: list[dict[str, Any]], discount: Decimal) -> None:
    """Each item line's share of the invoice discount (`SalesItemLineDetail.DiscountAmt`), pro rata to its
    amount and rounded half up; the cents rounding leaves over go to the (first) largest line."""
    items = [ln for ln in lines if ln.get("DetailType") == "SalesItemLineDetail" and ln.get("SalesItemLineDetail")]
    for line in items:  # computed by QBO: whatever was sent or kept from before is replaced
        line["SalesItemLineDetail"].pop("DiscountAmt", None)
    subtotal = sum((ln["Amount"] for ln in items), Decimal(0))
    if not items or not discount or subtotal <= 0:
        return
    shares = [money(discount * ln["Amount"] / subtotal) for ln in items]
    largest = max(range(len(items)), key=lambda n: items[n]["Amount"])
    shares[largest] += discount - sum(shares, Decimal(0))
    for line, share in zip(items, shares, strict=True):
        line["SalesItemLineDetail"]["DiscountAmt"] = share


def _linked_invoices(payment: dict[str, Any]) -> list[str]:
    return [
        str(link.get("TxnId"))
        for line in payment.get("Line", [])
        for link in line.get("LinkedTxn", [])
        if link.get("TxnType") == "Invoice"
    ]
