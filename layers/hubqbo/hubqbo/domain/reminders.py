"""Reminders as pure rules: which HubSpot task an invoice needs today, and what it says.

Two rules, per QBO company (settings in `store.reminders`):

- **Payment reminder**: `days_after_due` days (default 3) after the invoice's due date, while it still
  has a balance; with `repeat` on, one more every `repeat_every_days` days until it is paid.
- **Unsent invoice reminder**: an invoice created from HubSpot (the wizard) that is still waiting to be
  sent `days_waiting` days (default 2) after it was created.

Periods
-------
Each reminder belongs to a period, and its key `"{rule}:{invoice id}:{n}"` is what the job claims
(once per invoice, rule and period, ever). The payment reminder's period `n` counts the repetitions:
`n = (days past due - days_after_due) // repeat_every_days` with repeat on, always 0 with it off, so
a run that was missed on the day catches up with the current period and never makes two. The unsent
reminder has one period, 0.

Dates are company-local calendar days (the caller's `today`, in the zone that judges due dates);
"N days after" means `today >= day + N`. An invoice with no due date is judged by its invoice date.

Settled
-------
A reminder no longer applies (no new one is made, an open task is closed) once:
payment → voided, or no balance left; unsent → sent (QBO `EmailStatus` EmailSent), voided, or no
balance left (paid without ever being sent).

Task text comes from a translator (`gettext`, `format_money`, `format_date`): the job passes the one
of the language chosen on the Reminders tab (English by default; see `docs/reminders.md`).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.domain.money import ZERO
from hubqbo.domain.qbo_invoice import QboInvoice

Rule = Literal["payment", "unsent"]
RULES: tuple[Rule, ...] = ("payment", "unsent")
MAX_DAYS = 365

# Task text (message ids; the catalogs carry English and Polish). Marked for extraction with N_.


def N_(message: str) -> str:
    return message


PAYMENT_SUBJECT = N_("Payment reminder: invoice %(number)s, %(amount)s due from %(customer)s")
PAYMENT_BODY = N_(
    "Invoice %(number)s to %(customer)s was due on %(due_date)s and %(amount)s is still unpaid. "
    "Follow up with the customer."
)
UNSENT_SUBJECT = N_("Unsent invoice reminder: invoice %(number)s for %(customer)s is waiting to be sent")
UNSENT_BODY = N_(
    "Invoice %(number)s to %(customer)s (%(amount)s) was created on %(created)s and has not been sent. "
    "Send it from QuickBooks."
)
OPEN_IN_QUICKBOOKS = N_("Open in QuickBooks")


# -- settings ----------------------------------------------------------------------------------------
class PaymentRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    days_after_due: int = Field(default=3, ge=0, le=MAX_DAYS)
    repeat: bool = False
    repeat_every_days: int = Field(default=7, ge=1, le=MAX_DAYS)


class UnsentRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    days_waiting: int = Field(default=2, ge=0, le=MAX_DAYS)


class ReminderSettings(BaseModel):
    """Both rules of one QBO company, and the language the tasks are written in."""

    model_config = ConfigDict(extra="forbid")

    payment: PaymentRule = Field(default_factory=PaymentRule)
    unsent: UnsentRule = Field(default_factory=UnsentRule)
    language: Literal["en", "pl"] = "en"


# -- what a rule looks at ------------------------------------------------------------------------------
class InvoiceFacts(BaseModel):
    """One linked invoice as the rules see it (from the card's snapshot and the invoice's links)."""

    model_config = ConfigDict(frozen=True)

    invoice_id: str
    number: str
    customer: str
    currency: str
    total: Decimal = ZERO
    balance: Decimal = ZERO
    due_date: date | None = None
    invoice_date: date | None = None
    sent: bool = False
    voided: bool = False
    created_from_hubspot: bool = False
    created_on: date | None = None  # the company-local day the wizard created it

    @classmethod
    def of(
        cls, invoice: QboInvoice, *, created_from_hubspot: bool = False, created_on: date | None = None
    ) -> InvoiceFacts:
        return cls(
            invoice_id=invoice.id,
            number=invoice.doc_number or invoice.id,
            customer=invoice.customer_name or invoice.customer_id,
            currency=invoice.currency or "",
            total=invoice.total,
            balance=invoice.balance,
            due_date=invoice.due_date,
            invoice_date=invoice.txn_date,
            sent=invoice.email_status == "EmailSent",
            voided=invoice.voided,
            created_from_hubspot=created_from_hubspot,
            created_on=created_on,
        )


class DueReminder(BaseModel):
    model_config = ConfigDict(frozen=True)

    rule: Rule
    invoice_id: str
    period: int
    since: date  # the day this period began

    @property
    def key(self) -> str:
        return period_key(self.rule, self.invoice_id, self.period)


def period_key(rule: Rule, invoice_id: str, period: int) -> str:
    return f"{rule}:{invoice_id}:{period}"


# -- the rules -----------------------------------------------------------------------------------------
def settled_reason(rule: Rule, facts: InvoiceFacts) -> str | None:
    """Why a reminder of `rule` no longer applies to the invoice ("paid", "sent", "voided"), or None."""
    if facts.voided:
        return "voided"
    if facts.balance <= ZERO:
        return "paid"
    if rule == "unsent" and facts.sent:
        return "sent"
    return None


def payment_reminder(facts: InvoiceFacts, rule: PaymentRule, today: date) -> DueReminder | None:
    if not rule.enabled or settled_reason("payment", facts):
        return None
    due = facts.due_date or facts.invoice_date
    if due is None:
        return None
    first = due + timedelta(days=rule.days_after_due)
    if today < first or today <= due:  # never before the invoice is actually past due
        return None
    period = (today - first).days // rule.repeat_every_days if rule.repeat else 0
    since = first + timedelta(days=period * rule.repeat_every_days)
    return DueReminder(rule="payment", invoice_id=facts.invoice_id, period=period, since=since)


def unsent_reminder(facts: InvoiceFacts, rule: UnsentRule, today: date) -> DueReminder | None:
    if not rule.enabled or not facts.created_from_hubspot or facts.created_on is None:
        return None
    if settled_reason("unsent", facts):
        return None
    first = facts.created_on + timedelta(days=rule.days_waiting)
    if today < first:
        return None
    return DueReminder(rule="unsent", invoice_id=facts.invoice_id, period=0, since=first)


def due_reminders(facts: InvoiceFacts, settings: ReminderSettings, today: date) -> list[DueReminder]:
    """The reminders the invoice needs on `today` (at most one per rule), payment first."""
    found = [payment_reminder(facts, settings.payment, today), unsent_reminder(facts, settings.unsent, today)]
    return [r for r in found if r is not None]


# -- the task ------------------------------------------------------------------------------------------
class Speaks(Protocol):
    def gettext(self, message: str, **variables: Any) -> str: ...

    def format_money(self, amount: Any, currency: str) -> str: ...

    def format_date(self, value: date, format: str = "medium") -> str: ...


class TaskText(BaseModel):
    model_config = ConfigDict(frozen=True)

    subject: str
    body: str  # plain text; the service escapes it into the task's HTML body


def task_text(reminder: DueReminder, facts: InvoiceFacts, t: Speaks) -> TaskText:
    """Subject and body of the task, in the translator's language. The amount is the balance due."""
    amount = t.format_money(facts.balance, facts.currency) if facts.currency else str(facts.balance)
    values: dict[str, Any] = {"number": facts.number, "customer": facts.customer, "amount": amount}
    if reminder.rule == "payment":
        due = facts.due_date or facts.invoice_date
        values["due_date"] = t.format_date(due) if due else ""
        return TaskText(subject=t.gettext(PAYMENT_SUBJECT, **values), body=t.gettext(PAYMENT_BODY, **values))
    values["created"] = t.format_date(facts.created_on) if facts.created_on else ""
    return TaskText(subject=t.gettext(UNSENT_SUBJECT, **values), body=t.gettext(UNSENT_BODY, **values))
