"""Payment terms and the due date they give an invoice.

A standard term is due `DueDays` after the invoice date. A date-driven term is due on day
`DayOfMonthDue` of the month, moving to the next month when the invoice is issued fewer than
`DueNextMonthDays` days before that day (or after it). A day past the month's end means its last day.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict


class Term(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    active: bool = True
    due_days: int | None = None
    day_of_month_due: int | None = None
    due_next_month_days: int | None = None

    @classmethod
    def from_qbo(cls, raw: dict[str, Any]) -> Term:
        def number(key: str) -> int | None:
            value = raw.get(key)
            return None if value is None or value == "" else int(value)

        return cls(
            id=str(raw["Id"]),
            name=str(raw.get("Name") or ""),
            active=raw.get("Active", True) not in (False, "false"),
            due_days=number("DueDays"),
            day_of_month_due=number("DayOfMonthDue"),
            due_next_month_days=number("DueNextMonthDays"),
        )


def _on_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def due_date(invoice_date: date, term: Term | None) -> date:
    """The due date `term` gives an invoice dated `invoice_date`; no term means due on receipt."""
    if term is None:
        return invoice_date
    if term.day_of_month_due is None or term.due_days is not None:
        return invoice_date + timedelta(days=term.due_days or 0)
    this_month = _on_day(invoice_date.year, invoice_date.month, term.day_of_month_due)
    if (this_month - invoice_date).days >= (term.due_next_month_days or 0):
        return this_month
    year, month = (
        (invoice_date.year + 1, 1) if invoice_date.month == 12 else (invoice_date.year, invoice_date.month + 1)
    )
    return _on_day(year, month, term.day_of_month_due)
