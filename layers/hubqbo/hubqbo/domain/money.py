"""Money as `Decimal`, never float: reading QBO's JSON numbers, rounding, and HubSpot's number strings."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal(0)


def to_decimal(value: Any, default: Decimal | None = None) -> Decimal:
    """A QBO or HubSpot number (JSON float, int, str or Decimal) as an exact Decimal.

    Floats go through `str` so 0.1 stays 0.1 (json gives floats; their shortest repr is what QBO sent).
    Missing or blank values give `default`; anything else unreadable raises ValueError.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if default is None:
            raise ValueError("a number is required")
        return default
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    if not result.is_finite():
        raise ValueError(f"{value!r} is not a finite number")
    return result


def round_money(amount: Decimal) -> Decimal:
    """Two places, half up (0.005 → 0.01), the way invoices are rounded."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def hubspot_number(amount: Decimal) -> str:
    """HubSpot keeps numbers as strings; write plain notation (never `1E+3`) with cents."""
    return format(round_money(amount), "f")
