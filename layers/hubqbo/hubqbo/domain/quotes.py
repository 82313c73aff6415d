"""Which HubSpot quotes an invoice can be created from: published ones that have not expired.

"Expired" is judged on the calendar of the portal's time zone: a quote expiring on 30 September can
be used until midnight at the end of 30 September there, whatever the UTC time.
Published statuses: APPROVAL_NOT_NEEDED and APPROVED (legacy quotes, published at `hs_quote_link`)
and ACCEPTED (CPQ quotes the buyer accepted, which were published to be accepted).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.dates import local_today, parse_instant
from hubqbo.domain.invoice_totals import Discount
from hubqbo.domain.money import ZERO, round_money, to_decimal

PUBLISHED_STATUSES = frozenset({"APPROVAL_NOT_NEEDED", "APPROVED", "ACCEPTED"})
QUOTE_PROPERTIES = (
    "hs_title",
    "hs_status",
    "hs_expiration_date",
    "hs_quote_number",
    "hs_currency",
    "hs_quote_amount",
    "hs_quote_link",
)


class HubSpotQuote(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str = ""
    status: str | None = None
    expires_on: date | None = None  # the last day it can be used, in the portal's calendar
    quote_number: str | None = None
    currency: str | None = None
    link: str | None = None

    @classmethod
    def from_hubspot(cls, quote_id: str, properties: dict[str, Any], zone: ZoneInfo | str) -> HubSpotQuote:
        """From the quote's `properties` (see QUOTE_PROPERTIES); `zone` reads a timestamp expiry."""
        return cls(
            id=str(quote_id),
            title=str(properties.get("hs_title") or ""),
            status=(properties.get("hs_status") or None),
            expires_on=expiry_day(properties.get("hs_expiration_date"), zone),
            quote_number=properties.get("hs_quote_number") or None,
            currency=properties.get("hs_currency") or None,
            link=properties.get("hs_quote_link") or None,
        )


def expiry_day(value: Any, zone: ZoneInfo | str) -> date | None:
    """`hs_expiration_date` as a day: `YYYY-MM-DD`, midnight-UTC (HubSpot's date encoding, ISO or
    epoch ms) as that day, any other instant as the day it falls on in the portal's zone."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if len(text) == 10 and text[4] == "-":
        return date.fromisoformat(text)
    moment = parse_instant(value)
    assert moment is not None
    if moment.time() == time(0):
        return moment.date()
    return local_today(moment.astimezone(UTC), zone)


class Unusable(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    REJECTED = "rejected"
    NOT_PUBLISHED = "not_published"
    EXPIRED = "expired"


class QuoteOption(BaseModel):
    """A quote as the wizard lists it: usable, or disabled with the reason shown next to it."""

    model_config = ConfigDict(frozen=True)

    quote: HubSpotQuote
    usable: bool
    reason: Unusable | None = None
    message: str | None = None


_NOT_PUBLISHED = {
    "DRAFT": (Unusable.DRAFT, "Draft: publish the quote in HubSpot to invoice it."),
    "PENDING_APPROVAL": (Unusable.PENDING_APPROVAL, "Waiting for approval: it can be invoiced once published."),
    "REJECTED": (Unusable.REJECTED, "Rejected: it cannot be invoiced."),
}


def quote_option(quote: HubSpotQuote, today: date) -> QuoteOption:
    status = (quote.status or "").upper()
    if status not in PUBLISHED_STATUSES:
        reason, message = _NOT_PUBLISHED.get(status, (Unusable.NOT_PUBLISHED, "Not published yet."))
        return QuoteOption(quote=quote, usable=False, reason=reason, message=message)
    if quote.expires_on is not None and quote.expires_on < today:
        message = f"Expired on {quote.expires_on.isoformat()}."
        return QuoteOption(quote=quote, usable=False, reason=Unusable.EXPIRED, message=message)
    return QuoteOption(quote=quote, usable=True)


def quote_options(quotes: Iterable[HubSpotQuote], *, now: datetime, zone: ZoneInfo | str) -> list[QuoteOption]:
    """Every quote with whether it can be used `now` in the portal's `zone`; usable ones first,
    otherwise in the order given."""
    today = local_today(now, zone)
    options = [quote_option(quote, today) for quote in quotes]
    return sorted(options, key=lambda o: not o.usable)


# -- a quote's discounts ------------------------------------------------------------------------------------
# https://developers.hubspot.com/docs/api-reference/crm-discounts-v3/guide: `hs_type` PERCENT or FIXED,
# `hs_value`; a quote's discounts apply before its fees and taxes.
DISCOUNT_PROPERTIES = ("hs_label", "hs_type", "hs_value", "hs_sort_order")


class QuoteDiscount(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str = ""
    percent: bool = False
    value: Decimal = ZERO

    @classmethod
    def from_hubspot(cls, properties: dict[str, Any]) -> QuoteDiscount:
        try:
            value = to_decimal(properties.get("hs_value"), ZERO)
        except ValueError:
            value = ZERO
        return cls(
            label=str(properties.get("hs_label") or ""),
            percent=str(properties.get("hs_type") or "").upper() == "PERCENT",
            value=value,
        )


def invoice_discount(discounts: Iterable[QuoteDiscount], lines_total: Decimal) -> Discount | None:
    """The quote's discounts as the invoice's one discount line (QBO books one per invoice).

    One percentage stays a percentage, so QBO computes it on the invoice's subtotal; fixed amounts are added
    up; several discounts with a percentage among them become one amount, each percentage taken of the lines'
    total (not of what an earlier discount left). Discounts of zero or less are no discount."""
    found = [d for d in discounts if d.value > ZERO]
    if not found:
        return None
    if len(found) == 1 and found[0].percent:
        return Discount(percent=min(found[0].value, Decimal(100)))
    amount = sum((round_money(lines_total * d.value / 100) if d.percent else d.value for d in found), ZERO)
    return Discount(amount=min(round_money(amount), lines_total))
