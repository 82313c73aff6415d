"""A QBO payment changed: update every invoice it pays and say so on each linked deal's timeline.

For each invoice the payment is (or was) applied to: re-read the invoice (batched with the rest of
the SQS batch), apply it (status, balance and last payment date on the deal), then post one entry
per deal: "Payment of 1,250.00 GBP received for invoice 1042, balance 0.00" (in the language the Reminders
tab chose for the company's HubSpot tasks: "Płatność 1 250,00 GBP …"). The entry is an app
timeline event when the deployment names a template (`PAYMENT_TIMELINE_TEMPLATE_ID`), otherwise a
note associated with the deal. A voided or deleted payment reverses: the invoice is re-read (its
balance is back) and the deal says "... was voided". Each entry is claimed in the table before it is
posted (`store.payment_events`), so the same payment never appears twice on a deal.
"""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hubqbo.clients.errors import ApiError
from hubqbo.domain.dates import parse_instant
from hubqbo.domain.money import ZERO, round_money, to_decimal
from hubqbo.domain.qbo_invoice import looks_voided
from hubqbo.domain.text import N_, Text
from hubqbo.observability import logger
from hubqbo.services.apply import ApplyContext, apply_invoice
from hubqbo.services.invoice_links import links_for_invoice
from hubqbo.store.payment_events import KnownPayment, PaymentState
from hubqbo.store.sync_log import SyncLogEntry

if TYPE_CHECKING:
    from hubqbo.web.i18n.translator import Translator


def money(amount: Decimal) -> str:
    """1250 → `1,250.00` (the timeline's figures; the currency code follows)."""
    return f"{round_money(amount):,.2f}"


def invoice_lines(raw: dict[str, Any]) -> dict[str, Decimal]:
    """Invoice id → amount applied, from a Payment's `Line[].LinkedTxn`."""
    lines: dict[str, Decimal] = {}
    for line in raw.get("Line") or []:
        amount = to_decimal(line.get("Amount"), ZERO)
        for txn in line.get("LinkedTxn") or []:
            if txn.get("TxnType") == "Invoice" and txn.get("TxnId"):
                invoice_id = str(txn["TxnId"])
                lines[invoice_id] = lines.get(invoice_id, ZERO) + amount
    return lines


def linked_invoice_ids(raw: dict[str, Any] | None) -> list[str]:
    return list(invoice_lines(raw)) if raw else []


_SAYS = {
    "received": N_("Payment of %(amount)s %(currency)s received for invoice %(number)s, balance %(balance)s"),
    "changed": N_(
        "Payment for invoice %(number)s changed from %(amount)s to %(new_amount)s %(currency)s, balance %(balance)s"
    ),
    "removed": N_("Payment of %(amount)s %(currency)s no longer applies to invoice %(number)s, balance %(balance)s"),
    "voided": N_("Payment of %(amount)s %(currency)s for invoice %(number)s was voided, balance %(balance)s"),
    "deleted": N_("Payment of %(amount)s %(currency)s for invoice %(number)s was deleted, balance %(balance)s"),
}


def _text(
    kind: str,
    amount: Decimal,
    currency: str,
    number: str,
    balance: Decimal | None,
    new_amount: Decimal | None,
    t: Translator,
) -> str:
    """What the deal's timeline says, in the translator `t`'s language and number format."""
    if kind == "changed":
        assert new_amount is not None
    figures = {
        "amount": t.format_number(round_money(amount), 2),
        "new_amount": t.format_number(round_money(new_amount), 2) if new_amount is not None else "",
        "balance": t.format_number(round_money(balance), 2) if balance is not None else t.gettext(N_("unknown")),
    }
    return t.text(Text.of(_SAYS[kind], currency=currency, number=number, **figures))


def _posting_key(realm_id: str, payment_id: str, invoice_id: str, deal_id: str, signature: str) -> str:
    raw = f"{realm_id}|{payment_id}|{invoice_id}|{deal_id}|{signature}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def apply_payment(ctx: ApplyContext, payment_id: str) -> list[SyncLogEntry]:
    raw = ctx.reads.get("Payment", payment_id)
    previous = ctx.payments.get_payment(ctx.portal_id, ctx.realm_id, payment_id)
    deleted = raw is None or str(raw.get("status", "")).lower() == "deleted"
    now_lines = {} if deleted else invoice_lines(raw or {})
    voided = not deleted and (
        looks_voided(to_decimal((raw or {}).get("TotalAmt"), ZERO), str((raw or {}).get("PrivateNote") or ""))
        or ctx.message.change.operation == "Void"  # type: ignore[union-attr]
    )
    state: PaymentState = "deleted" if deleted else "voided" if voided else "received"
    known_lines = previous.lines if previous else {}
    # a voided payment's lines are zeroed and a deleted one is gone: then use what we saw before
    lines = now_lines if state == "received" else (known_lines or dict(now_lines))
    currency = (
        ((raw or {}).get("CurrencyRef") or {}).get("value")
        or (previous.currency if previous else None)
        or ctx.connection.home_currency
        or ""
    )
    invoice_ids = list(dict.fromkeys([*lines, *known_lines]))
    if not invoice_ids:
        what = "deleted before we saw which invoices it paid" if deleted else "not applied to any invoice"
        return [ctx.entry("skipped", f"Payment {payment_id} was {what}", "Payment", payment_id)]
    ctx.reads.want("Invoice", invoice_ids)
    when = _timestamp(ctx, raw)
    entries: list[SyncLogEntry] = []
    for invoice_id in invoice_ids:
        entries += _apply_to_invoice(ctx, payment_id, invoice_id, state, lines, known_lines, previous, currency, when)
    ctx.payments.put_payment(
        ctx.portal_id,
        ctx.realm_id,
        KnownPayment(payment_id=payment_id, state=state, lines=lines, currency=currency or None),
    )
    return entries


def _timestamp(ctx: ApplyContext, raw: dict[str, Any] | None) -> str:
    updated = parse_instant(((raw or {}).get("MetaData") or {}).get("LastUpdatedTime"))
    moment = updated or datetime.fromtimestamp(ctx.clock(), UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _apply_to_invoice(
    ctx: ApplyContext,
    payment_id: str,
    invoice_id: str,
    state: PaymentState,
    lines: dict[str, Decimal],
    known_lines: dict[str, Decimal],
    previous: KnownPayment | None,
    currency: str,
    when: str,
) -> list[SyncLogEntry]:
    # the invoice first: status, balance and last payment date on every linked deal
    invoice_entries = apply_invoice(ctx, invoice_id)
    deal_links = [
        link
        for link in links_for_invoice(ctx.invoices, ctx.portal_id, ctx.realm_id, invoice_id)
        if link.object_type == "deals"
    ]
    if not deal_links:
        return [e.model_copy(update={"entity": "Payment", "qbo_id": payment_id}) for e in invoice_entries]
    invoice = ctx.reads.get("Invoice", invoice_id) or {}
    number = str(invoice.get("DocNumber") or invoice_id)
    balance_due = to_decimal(invoice.get("Balance"), ZERO) if invoice else None
    balance = money(balance_due) if balance_due is not None else "unknown"
    amount = lines.get(invoice_id, known_lines.get(invoice_id, ZERO))
    new_amount = None
    if state == "received" and invoice_id not in lines:
        kind = "removed"
        amount = known_lines[invoice_id]
    elif state == "received" and previous and previous.state == "received" and invoice_id in known_lines:
        kind = "received" if known_lines[invoice_id] == amount else "changed"
        if kind == "changed":
            amount, new_amount = known_lines[invoice_id], lines[invoice_id]
    else:
        kind = state
    # the same receipt (or reversal, or change) posts once however often the payment is applied
    signature = f"{kind}:{amount}" + (f":{new_amount}" if new_amount is not None else "")
    # the deal's timeline in the language the company's HubSpot content is written in; the log in English
    from hubqbo.web.i18n import get_translator

    english = get_translator("en")
    language = ctx.writing_language()
    said = get_translator("pl_PL") if language == "pl" else english
    text = _text(kind, amount, currency, number, balance_due, new_amount, english)
    posted_text = _text(kind, amount, currency, number, balance_due, new_amount, said)
    entries = []
    for link in deal_links:
        key = _posting_key(ctx.realm_id, payment_id, invoice_id, link.object_id, signature)
        posted = _post(ctx, link.object_id, key, posted_text, when, kind, amount, currency, number, balance)
        reason = text if posted else f"{text} (already on the deal's timeline)"
        entries.append(
            ctx.entry("applied", reason, "Payment", payment_id, hubspot_id=link.object_id, hubspot_type="deals")
        )
    return entries


def _post(
    ctx: ApplyContext,
    deal_id: str,
    key: str,
    text: str,
    when: str,
    kind: str,
    amount: Decimal,
    currency: str,
    number: str,
    balance: str,
) -> bool:
    """Post the entry once; False when it was already posted (or is being posted right now)."""
    if not ctx.payments.claim(ctx.portal_id, key, ctx.clock()):
        return False
    client = ctx.invoices.hubspot_client(ctx.portal_id)
    try:
        if ctx.payment_template_id:
            answer = client.create_timeline_event(
                {
                    "eventTemplateId": ctx.payment_template_id,
                    "objectId": deal_id,
                    "id": f"hubqbo-{key}",
                    "timestamp": when,
                    "tokens": {
                        "message": text,
                        "action": kind,
                        "amount": str(amount),
                        "currency": currency,
                        "invoice_number": number,
                        "balance": balance,
                    },
                }
            )
            hubspot_id, posted_as = str(answer.get("id") or f"hubqbo-{key}"), "event"
        else:
            answer = client.create_note(deal_id, f"<p>{html.escape(text)}</p>", when)
            hubspot_id, posted_as = str(answer.get("id")), "note"
    except ApiError as exc:
        if exc.http_status == 409 and ctx.payment_template_id:  # HubSpot already holds this event id
            ctx.payments.posted(ctx.portal_id, key, f"hubqbo-{key}", "event", text)
            return False
        ctx.payments.release(ctx.portal_id, key)
        raise
    except Exception:
        ctx.payments.release(ctx.portal_id, key)
        raise
    ctx.payments.posted(ctx.portal_id, key, hubspot_id, posted_as, text)
    logger.info("Payment posted on the deal", extra={"portal_id": ctx.portal_id, "kind": posted_as, "action": kind})
    return True
