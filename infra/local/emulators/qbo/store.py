"""In-memory state of every emulated QBO company (realm), plus the value helpers all modules share.

Objects are stored as plain dicts shaped like QBO's JSON, with money as `Decimal`. Ids are per realm
and per entity type, counting from 1 (as in QBO), so runs are deterministic.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from ..demo_accounts import Realm

CENT = Decimal("0.01")
# QBO stamps times in the company's time zone; a fixed offset per country keeps tests stable (no DST).
COUNTRY_UTC_OFFSET_HOURS = {"US": -8, "GB": 0}


def dec(value: Any, default: str = "0") -> Decimal:
    """Any JSON number or numeric string as a Decimal (python-quickbooks sends Decimals as strings)."""
    if value is None or value == "":
        return Decimal(default)
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def money(value: Any) -> Decimal:
    return dec(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _plain(value: Any) -> Any:
    """Decimals become JSON numbers as QBO writes them (150 or 75.5), never strings."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    return json.dumps(_plain(value)).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw or b"null", parse_float=Decimal)


def parse_time(text: str) -> datetime:
    """An ISO date or date-time; naive values are taken as UTC."""
    parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class RealmState:
    realm: Realm
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    deleted: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    ids: Counter[str] = field(default_factory=Counter)
    request_ids: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # requestid → first response
    exchange_rates: dict[str, Decimal] = field(default_factory=dict)  # home units per foreign unit

    @property
    def tz(self) -> timezone:
        return timezone(timedelta(hours=COUNTRY_UTC_OFFSET_HOURS.get(self.realm.country, 0)))

    def stamp(self, moment: datetime) -> str:
        """`2026-11-29T07:12:01-08:00`: QBO's MetaData format, in the company's offset."""
        return moment.astimezone(self.tz).replace(microsecond=0).isoformat()

    def today(self, moment: datetime) -> str:
        return moment.astimezone(self.tz).date().isoformat()

    def new_id(self, entity: str) -> str:
        self.ids[entity] += 1
        return str(self.ids[entity])

    def table(self, entity: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(entity, {})

    def get(self, entity: str, object_id: Any) -> dict[str, Any] | None:
        return self.objects.get(entity, {}).get(str(object_id))

    def all(self, entity: str) -> list[dict[str, Any]]:
        return list(self.objects.get(entity, {}).values())

    def singleton(self, entity: str) -> dict[str, Any]:
        return next(iter(self.objects[entity].values()))

    @property
    def home_currency(self) -> str:
        return self.realm.currency

    @property
    def custom_txn_numbers(self) -> bool:
        return bool(self.singleton("Preferences")["SalesFormsPrefs"].get("CustomTxnNumbers"))

    @property
    def online_payments(self) -> bool:
        """QuickBooks Payments is on: new invoices allow paying online, and get a pay link."""
        return bool(self.singleton("Preferences")["SalesFormsPrefs"].get("ETransactionPaymentEnabled"))

    @property
    def multicurrency(self) -> bool:
        return bool(self.singleton("Preferences")["CurrencyPrefs"].get("MultiCurrencyEnabled"))

    @property
    def us(self) -> bool:
        return self.realm.country == "US"
