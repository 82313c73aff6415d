"""What the wizard submits: the create command and the review's (the fields, their limits and patterns)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class NewCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(min_length=1, max_length=100)
    currency: str | None = Field(default=None, pattern=r"^[A-Za-z]{3}$")
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    company_name: str | None = Field(default=None, max_length=1024)
    email: str | None = Field(default=None, max_length=100)


Number = Decimal | str | None  # typed text is read by the step that shows it, so "abc" is refused next to its field
CURRENCY_CODE = r"^[A-Za-z]{3}$"


def typed_number(value: Any) -> Any:
    """What the user typed, kept as text (bounded) for the step that checks it; a float as its exact text."""
    if isinstance(value, str):
        return value[:40]
    if isinstance(value, float):
        return str(value)
    return value


class LineChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: str | None = Field(default=None, max_length=20)
    quantity: Number = Field(default=None, union_mode="left_to_right")
    unit_price: Number = Field(default=None, union_mode="left_to_right")
    # The currency `unit_price` is in: the deal's (or quote's) by default; a QBO item's price is in the home currency.
    price_currency: str | None = Field(default=None, pattern=CURRENCY_CODE)
    description: str | None = Field(default=None, max_length=4000)
    tax_code: str | None = Field(default=None, max_length=20)

    @field_validator("quantity", "unit_price", mode="before")
    @classmethod
    def _text_or_number(cls, value: Any) -> Any:
        return typed_number(value)


class DiscountChoice(BaseModel):
    """The invoice's discount: a percentage of the subtotal, or an amount in the currency the prices are in
    (the deal's or quote's; converted with the prices when the user converts them). Typed text is read by the
    products step, so a bad value is refused next to its field."""

    model_config = ConfigDict(extra="forbid")

    percent: Number = Field(default=None, union_mode="left_to_right")
    amount: Number = Field(default=None, union_mode="left_to_right")

    @field_validator("percent", "amount", mode="before")
    @classmethod
    def _text_or_number(cls, value: Any) -> Any:
        return typed_number(value)


class CreateInvoiceCommand(BaseModel):
    """The wizard's final submission (portal and deal come from the token, never from the body).

    `currency` is the invoice's currency as the user chose it: always sent, never guessed. When it is not
    the currency the deal's prices are in, `convert_prices` says the user chose to convert them at QBO's
    exchange rate; `exchange_rates` holds rates the user entered where QBO has none (home units per unit).
    """

    model_config = ConfigDict(extra="forbid")

    portal_id: int
    user_id: int | None = None
    deal_id: str
    idempotency_key: str = Field(pattern=r"^[A-Za-z0-9_-]{8,40}$")
    realm_id: str = Field(pattern=r"^\d{1,20}$")
    quote_id: str | None = None
    customer_id: str | None = Field(default=None, max_length=20)
    customer_currency: str | None = Field(default=None, pattern=CURRENCY_CODE)  # the page's; QBO's is what counts
    new_customer: NewCustomer | None = None
    currency: str = Field(pattern=CURRENCY_CODE)
    convert_prices: bool = False
    exchange_rates: dict[str, Number] = Field(default_factory=dict, max_length=10)
    lines: list[LineChoice] = Field(default_factory=list, max_length=250)
    discount: DiscountChoice | None = None
    term_id: str | None = Field(default=None, max_length=20)
    invoice_date: date | None = None
    due_date: date | None = None
    customer_message: str | None = Field(default=None, max_length=1000)
    doc_number: str | None = Field(default=None, max_length=50)
    bill_email: str | None = Field(default=None, max_length=100)
    origin: Literal["wizard", "workflow"] = "wizard"  # who asked: the card's wizard or a HubSpot workflow

    @field_validator("exchange_rates", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).upper()[:3]: (str(v)[:40] if isinstance(v, str | float) else v) for k, v in value.items()}
        return value


class ReviewCommand(CreateInvoiceCommand):
    """The wizard's choices up to `step`: each step checks its own fields (and the earlier steps')."""

    step: str = Field(default="review", pattern=r"^(customer|products|tax|terms|review)$")
