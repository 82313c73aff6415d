"""The invoice's number: the sequence a wizard reserves, and the company-wide pattern an admin sets."""

from __future__ import annotations

from datetime import date
from typing import Any

from hubqbo.domain.invoice_draft import FieldError
from hubqbo.domain.numbering import DEFAULT_PATTERN, NumberingError, candidate_numbers, parse_pattern
from hubqbo.services.invoice_common import FieldProblems, WizardToken, _connection, _today
from hubqbo.services.invoice_links import InvoicePorts
from hubqbo.store.invoices import WizardSession


def _reserve_number(
    ports: InvoicePorts, portal_id: int, realm_id: str, session: WizardSession | None, on: date
) -> tuple[int, list[tuple[int, str]], Any]:
    pattern_text, _ = ports.invoices.number_settings(portal_id, realm_id)
    pattern = parse_pattern(pattern_text or DEFAULT_PATTERN)
    seq = (
        session.doc_seq
        if session is not None and session.doc_seq
        else ports.invoices.allocate_sequence(portal_id, realm_id)
    )
    return seq, candidate_numbers(pattern, on, seq, 10), pattern


# -- the company-wide pattern ----------------------------------------------------------------------------------
def set_numbering(
    ports: InvoicePorts, token: WizardToken, realm_id: str, pattern: str, next_seq: int | None
) -> dict[str, Any]:
    _connection(ports, token.portal_id, realm_id)
    try:
        parsed = parse_pattern(pattern)
    except NumberingError as exc:
        raise FieldProblems([FieldError(field=exc.field, message=exc.message)]) from None
    if next_seq is not None and not 1 <= next_seq <= parsed.max_sequence:
        raise FieldProblems([FieldError(field="next_seq", message=f"Choose a number from 1 to {parsed.max_sequence}.")])
    ports.invoices.set_number_settings(token.portal_id, realm_id, parsed.text, next_seq)
    current, upcoming = ports.invoices.number_settings(token.portal_id, realm_id)
    return {
        "pattern": current,
        "next_seq": upcoming,
        "example": parsed.render(_today(ports, token.portal_id), upcoming),
    }
