"""The workflow actions' "create the item" fallback: a line whose HubSpot product has no QBO item gets one,
named after the line, and is then invoiced (or estimated) as a matched line is.

The item is a `Service` item (Intuit's Item entity,
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/item, and "Create products,
services, and inventory items", https://developer.intuit.com/app/developer/qbo/docs/workflows/manage-inventory):
it needs only a name and an income account, tracks no quantity and no purchase side, and so records the sale
without inventing stock or costs the line never said. `NonInventory` would suit goods as well, but a HubSpot
line does not say which it is, and Service is what QBO proposes for a new item.

Its income account (`IncomeAccountRef`, required for Service items) is the default item's when the action names
one, else the company's income account for services (`AccountType` Income, subtype `ServiceFeeIncome` first,
then `SalesOfProductIncome`, then the lowest id). A default item's tax setup (`Taxable`, `SalesTaxCodeRef`) is
copied too, so a VAT company's new item carries the code its default product does.

Duplicate-safe: item names are unique in a company (6240 otherwise, inactive items included), so the name is
looked up first (one batch with the accounts), the create carries a `requestid` derived from the action's key and
the name (a retry replays the first answer), and a 6240 from a race is answered by reading the winner.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from typing import Any

from hubqbo.clients.errors import ApiError
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_json
from hubqbo.domain import qbo_query as q
from hubqbo.domain.matching import QboItem
from hubqbo.domain.tax import TaxRegime, TaxSetup, default_line_tax_code
from hubqbo.observability import logger
from hubqbo.services.invoice_common import _run_batch, _validation_fault

ITEM_TYPE = "Service"
NAME_MAX = 100  # Item.Name in QBO (reference §6.2)
SKU_MAX = 100
INCOME_SUBTYPES = ("ServiceFeeIncome", "SalesOfProductIncome")
_NOT_IN_A_NAME = re.compile(r"[:\t\r\n]+")  # ':' separates sub-items in FullyQualifiedName


class NoItem(Exception):
    """The item cannot be made: the workflow's NO_ITEM refusal, with the reason."""


def item_name(line: dict[str, Any]) -> str:
    """The QBO item's name for a wizard line: the HubSpot line's name (else its SKU), made storable."""
    raw = str(line.get("name") or "").strip() or str(line.get("sku") or "").strip()
    name = " ".join(_NOT_IN_A_NAME.sub(" - ", raw).split())[:NAME_MAX].strip()
    return name or f"HubSpot line item {line.get('line_id') or ''}".strip()


def _tax_setup(prep: dict[str, Any]) -> TaxSetup:
    regime = str((prep.get("tax") or {}).get("regime") or "")
    return TaxSetup(
        country=(prep.get("company") or {}).get("country"),
        partner_tax_enabled=regime == TaxRegime.US_AUTOMATED,
        using_sales_tax=regime == TaxRegime.US_MANUAL,
    )


def _income_account(rows: dict[str, list[dict[str, Any]]], default: dict[str, Any] | None) -> dict[str, str]:
    ref = (default or {}).get("IncomeAccountRef") or {}
    if ref.get("value"):
        return {"value": str(ref["value"])}
    accounts = [a for a in rows.get("accounts") or [] if a.get("Active", True) not in (False, "false")]

    def rank(account: dict[str, Any]) -> tuple[int, int]:
        subtype = str(account.get("AccountSubType") or "")
        order = INCOME_SUBTYPES.index(subtype) if subtype in INCOME_SUBTYPES else len(INCOME_SUBTYPES)
        return order, int(str(account.get("Id") or "0")) if str(account.get("Id") or "").isdigit() else 0

    if not accounts:
        raise NoItem("QuickBooks has no active income account to create the product with.")
    return {"value": str(min(accounts, key=rank)["Id"])}


def _request_id(key: str, name: str) -> str:
    """At most 50 characters (QBO's limit): the same action run and name always give the same id."""
    return "it-" + hashlib.sha256(f"{key}:{name.casefold()}".encode()).hexdigest()[:40]


def _find(qbo: QboClient, name: str) -> dict[str, Any] | None:
    rows = qbo.query(q.select("Item", q.eq("Name", name), q.in_("Active", [True, False]), extra_fields=["Sku"]))
    return next((r for r in rows if str(r.get("Name") or "").casefold() == name.casefold()), None)


def _usable(found: dict[str, Any], name: str) -> dict[str, Any]:
    if found.get("Active") in (False, "false"):
        raise NoItem(f"The QuickBooks product {name!r} is inactive; make it active or choose another.")
    return found


def use_default_item(qbo: QboClient, prep: dict[str, Any], default_item_id: str) -> None:
    """The "use a default item" fallback: every line of `prep` without its own item is booked as the default
    item, with the tax code prepare would have proposed for that item (a VAT company's default product
    carries its VAT code, so the line needs no code of its own). Lines are changed in place."""
    missing = [line for line in prep["lines"] if not line["item"] or line["ambiguous"]]
    if not missing:
        return
    rows = _run_batch(qbo, [("default", "Item", q.select("Item", q.eq("Id", default_item_id)))])
    default = next(iter(rows.get("default") or []), None)
    if default is None or default.get("Active") is False:
        raise NoItem(f"The default QuickBooks product {default_item_id} does not exist or is inactive.")
    parsed = QboItem.from_qbo(default)
    tax = _tax_setup(prep)
    for line in missing:
        line["item"], line["ambiguous"], line["method"] = {"id": parsed.id, "name": parsed.name}, False, "default"
        if not line.get("tax_code"):
            line["tax_code"] = default_line_tax_code(
                tax, item_taxable=parsed.taxable, item_tax_code=parsed.sales_tax_code_id
            )


def create_missing_items(qbo: QboClient, prep: dict[str, Any], key: str, default_item_id: str | None) -> None:
    """Give every line of `prep` (invoice_wizard.prepare's view) that has no item one: the existing item of its
    name, or a new Service item. Lines are changed in place, with the tax code prepare would have proposed."""
    missing = [line for line in prep["lines"] if not line["item"] and not line["ambiguous"]]
    ambiguous = next((line for line in prep["lines"] if line["ambiguous"]), None)
    if ambiguous is not None:
        raise NoItem(f"Several QuickBooks products match the line {ambiguous['name']!r}; choose one in the wizard.")
    if not missing:
        return
    names = list(dict.fromkeys(item_name(line) for line in missing))
    queries = [
        ("names", "Item", q.select("Item", q.in_("Name", names), q.in_("Active", [True, False]), extra_fields=["Sku"])),
        ("accounts", "Account", q.select("Account", q.eq("AccountType", "Income"))),
    ]
    if default_item_id:
        queries.append(("default", "Item", q.select("Item", q.eq("Id", default_item_id))))
    rows = _run_batch(qbo, queries)
    existing = {str(r.get("Name") or "").casefold(): r for r in rows.get("names") or []}
    default = next(iter(rows.get("default") or []), None)
    tax = _tax_setup(prep)
    home_priced = str(prep.get("currency") or "") == str((prep.get("company") or {}).get("home_currency") or "")
    made: dict[str, dict[str, Any]] = {}
    for line in missing:
        name = item_name(line)
        item = made.get(name.casefold())
        if item is None:
            found = existing.get(name.casefold())
            item = _usable(found, name) if found else _create(qbo, line, name, key, rows, default, home_priced)
            made[name.casefold()] = item
        parsed = QboItem.from_qbo(item)
        line["item"] = {"id": parsed.id, "name": parsed.name}
        line["method"] = "created"
        line["tax_code"] = default_line_tax_code(
            tax, item_taxable=parsed.taxable, item_tax_code=parsed.sales_tax_code_id
        )


def _create(
    qbo: QboClient,
    line: dict[str, Any],
    name: str,
    key: str,
    rows: dict[str, list[dict[str, Any]]],
    default: dict[str, Any] | None,
    home_priced: bool,
) -> dict[str, Any]:
    body: dict[str, Any] = {"Name": name, "Type": ITEM_TYPE, "IncomeAccountRef": _income_account(rows, default)}
    sku = str(line.get("sku") or "").strip()[:SKU_MAX]
    if sku:
        body["Sku"] = sku  # the next run matches the line by its SKU
    description = str(line.get("description") or "").strip()[:4000]
    if description:
        body["Description"] = description
    price = line.get("list_price") or line.get("price")  # the product's price, before this deal's discount
    if price is not None and home_priced:  # an item's price is in the home currency
        body["UnitPrice"] = Decimal(str(price))
    if default is not None:
        if default.get("Taxable") is not None:
            body["Taxable"] = default["Taxable"]
        if (default.get("SalesTaxCodeRef") or {}).get("value"):
            body["SalesTaxCodeRef"] = {"value": str(default["SalesTaxCodeRef"]["value"])}
    try:
        created = qbo.create("Item", qbo_json.dumps(body), request_id=_request_id(key, name))
    except ApiError as exc:
        if not _validation_fault(exc):
            raise  # 429/5xx/timeout: the workflow is retried, and the same requestid replays the create
        if str(exc.code) == "6240":  # another run made it first
            found = _find(qbo, name)
            if found is not None:
                return _usable(found, name)
        raise NoItem(f"QuickBooks would not create the product {name!r}: {exc.message}") from None
    logger.info("QuickBooks product created for a workflow line", extra={"item_type": ITEM_TYPE})
    return created
