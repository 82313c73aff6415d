"""Which currency a customer and an invoice are in.

QBO requires an invoice's currency to equal its customer's, and a customer's currency cannot change
once it has transactions. So the currency is chosen on purpose when a customer is created (the
deal's or quote's currency, else the company's home currency) and a mismatch is refused before any
call to QBO, with a message that says what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.errors import BadInput


class CurrencyError(BadInput):
    """A currency that cannot be used; `field` names the wizard field it belongs to."""

    def __init__(self, message: str, field: str = "currency") -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class CompanyCurrencies(BaseModel):
    """A QBO company's currency setup: home currency, multicurrency on/off, the currencies turned on."""

    model_config = ConfigDict(frozen=True)

    home: str
    multicurrency: bool = False
    # Active CompanyCurrency codes besides home; empty means "not known", which does not refuse anything.
    enabled: frozenset[str] = Field(default_factory=frozenset)

    @classmethod
    def from_qbo(
        cls, preferences: dict[str, Any], company_currencies: Iterable[dict[str, Any]] = ()
    ) -> CompanyCurrencies:
        prefs = preferences.get("CurrencyPrefs") or {}
        home = ((prefs.get("HomeCurrency") or {}).get("value") or "USD").upper()
        enabled = frozenset(
            str(c.get("Code", "")).upper() for c in company_currencies if c.get("Active", True) and c.get("Code")
        )
        return cls(home=home, multicurrency=prefs.get("MultiCurrencyEnabled") is True, enabled=enabled)

    def currency_ref(self, currency: str) -> dict[str, str] | None:
        """The `CurrencyRef` to send, only for multicurrency companies (others reject or ignore it)."""
        return {"value": currency} if self.multicurrency else None


def _code(value: str | None) -> str | None:
    text = (value or "").strip().upper()
    return text or None


def _usable(company: CompanyCurrencies, currency: str, field: str) -> str:
    if currency == company.home:
        return currency
    if not company.multicurrency:
        raise CurrencyError(
            f"The QuickBooks company works only in {company.home} (multicurrency is off), "
            f"so an invoice in {currency} cannot be created there.",
            field,
        )
    if company.enabled and currency not in company.enabled:
        raise CurrencyError(
            f"{currency} is not turned on in this QuickBooks company; add it under Settings → Currencies first.",
            field,
        )
    return currency


def new_customer_currency(company: CompanyCurrencies, wanted: str | None) -> str:
    """A new customer's currency: the deal's or quote's currency (`wanted`), else the home currency."""
    return _usable(company, _code(wanted) or company.home, "currency")


def invoice_currency(
    company: CompanyCurrencies, customer_currency: str | None, wanted: str | None, customer_name: str = "This customer"
) -> str:
    """The invoice's currency for an existing customer; refuses one that differs from the customer's.

    `customer_currency` None means the customer carries none (single-currency companies): the home
    currency. `wanted` None means "whatever the customer uses".
    """
    customer = _code(customer_currency) or company.home
    currency = _usable(company, _code(wanted) or customer, "currency")
    if currency != customer:
        raise CurrencyError(
            f"{customer_name} is billed in {customer}, and QuickBooks requires an invoice in the customer's "
            f"currency, but this invoice would be in {currency}. Choose or create a customer that uses {currency}.",
            "customer",
        )
    return currency


def check_priced_currency(
    company: CompanyCurrencies, invoice: str, priced_in: str, convert: bool, customer_name: str = "This customer"
) -> None:
    """Refuses an invoice in another currency than the deal's (or quote's) prices unless the user chose to convert.

    Booking the deal's figures under another currency is never right: a GBP quote would become USD 540.00
    for GBP 540.00. So the user chooses on purpose: a customer in `priced_in`, a new customer in it, or (in
    a multicurrency company, where QBO keeps exchange rates) the prices converted to `invoice`.
    """
    invoice, priced_in = invoice.upper(), priced_in.upper()
    if invoice == priced_in:
        return
    if not company.multicurrency:
        raise CurrencyError(
            f"The prices are in {priced_in}, and the QuickBooks company works only in {company.home} "
            f"(multicurrency is off): an invoice in {priced_in} cannot be created there, and QuickBooks keeps no "
            f"exchange rate to convert the prices. Turn on multicurrency in QuickBooks, or do not invoice this "
            f"deal from this company.",
            "currency",
        )
    if not convert:
        raise CurrencyError(
            f"The prices are in {priced_in}, but {customer_name} is billed in {invoice}. Choose a customer that "
            f"uses {priced_in}, create a new customer in {priced_in}, or convert the prices to {invoice} at "
            f"QuickBooks' exchange rate.",
            "customer",
        )


def deal_currency_problem(company: CompanyCurrencies, priced_in: str) -> str | None:
    """Why no invoice in the deal's currency can be created in this company (None: it can)."""
    try:
        _usable(company, priced_in.upper(), "currency")
    except CurrencyError as exc:
        return exc.message
    return None
