"""HubSpot line items mirrored from a QBO invoice's lines: their values, and what to create, update
or archive so HubSpot's line items match the lines (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hubqbo.domain.field_types import HubSpotProperty, comparable
from hubqbo.domain.mappings import LINE_LINK_PROPERTY, link_value
from hubqbo.domain.money import to_decimal

# what a mirrored line item holds (and is read back by, to compare)
LINE_PROPERTIES = (
    "name",
    "description",
    "quantity",
    "price",
    "hs_line_item_currency_code",
    "hs_product_id",
    LINE_LINK_PROPERTY,
)


def sales_lines(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The invoice's item lines (subtotals, discounts and descriptions are not line items)."""
    return [line for line in raw.get("Line") or [] if line.get("DetailType") == "SalesItemLineDetail"]


def _item_id(line: Mapping[str, Any]) -> str | None:
    value = ((line.get("SalesItemLineDetail") or {}).get("ItemRef") or {}).get("value")
    return str(value) if value else None


def product_keys(realm_id: str, lines: Sequence[Mapping[str, Any]]) -> list[str]:
    """The link values of the products the lines sell, to read them by `Tab.PRODUCTS.link_property`."""
    return [link_value(realm_id, item) for line in lines if (item := _item_id(line))]


def line_values(
    realm_id: str,
    home_currency: str | None,
    raw: Mapping[str, Any],
    line: Mapping[str, Any],
    products: Mapping[str, str],
) -> dict[str, str]:
    """One line item's properties; `products` maps a product's link value to its HubSpot id."""
    detail = line.get("SalesItemLineDetail") or {}
    item = detail.get("ItemRef") or {}
    qty = to_decimal(detail.get("Qty"), to_decimal(1))
    amount = to_decimal(line.get("Amount"), to_decimal(0))
    price = to_decimal(detail.get("UnitPrice"), amount / qty if qty else amount)
    currency = ((raw.get("CurrencyRef") or {}).get("value") or home_currency or "").upper()
    name = item.get("name") or line.get("Description") or f"Line {line.get('LineNum') or line.get('Id')}"
    values = {
        "name": str(name)[:500],
        "description": str(line.get("Description") or ""),
        "quantity": format(qty.normalize(), "f"),
        "price": format(price.normalize(), "f"),
        LINE_LINK_PROPERTY: f"{realm_id}:{raw['Id']}:{line.get('Id')}",
    }
    if currency:
        values["hs_line_item_currency_code"] = currency
    product = products.get(link_value(realm_id, str(item.get("value")))) if item.get("value") else None
    if product is not None:
        values["hs_product_id"] = product
    return values


@dataclass
class LineItemChanges:
    creates: list[dict[str, str]] = field(default_factory=list)  # properties of line items to create
    updates: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (line item id, changed properties)
    archives: list[str] = field(default_factory=list)  # line item ids


def line_item_changes(
    wanted: Sequence[Mapping[str, str]],
    current: Mapping[str, Mapping[str, Any]],
    properties: Mapping[str, HubSpotProperty],
) -> LineItemChanges:
    """From the line items an invoice should have (`wanted`) and those it has (`current`, id ->
    properties): the creates, the updates (changed properties only) and the archives."""
    by_key = {props.get(LINE_LINK_PROPERTY): line_id for line_id, props in current.items()}
    changes = LineItemChanges()
    keys = set()
    for values in wanted:
        key = values[LINE_LINK_PROPERTY]
        keys.add(key)
        if key not in by_key:
            changes.creates.append(dict(values))
            continue
        now = current[by_key[key]]
        changed = {
            k: v
            for k, v in values.items()
            if k not in properties or comparable(properties[k], v) != comparable(properties[k], now.get(k))
        }
        if changed:
            changes.updates.append((by_key[key], changed))
    changes.archives += [line_id for key, line_id in by_key.items() if key not in keys]
    return changes
