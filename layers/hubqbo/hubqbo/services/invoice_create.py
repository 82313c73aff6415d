"""Creating the invoice (and a new customer) in QBO once per submission, behind idempotency."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hubqbo.clients.errors import ApiError
from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_json
from hubqbo.domain import qbo_query as q
from hubqbo.domain.invoice_draft import DraftContext, FieldError
from hubqbo.domain.matching import HubSpotParty
from hubqbo.domain.new_customer import new_customer_payload, unique_display_name
from hubqbo.errors import Conflict, Unprocessable
from hubqbo.observability import logger
from hubqbo.services.invoice_commands import CreateInvoiceCommand
from hubqbo.services.invoice_common import (
    FieldProblems,
    _name_queries,
    _qbo,
    _run_batch,
    _today,
    _validation_fault,
    fault_problem,
    invoice_json,
)
from hubqbo.services.invoice_links import InvoicePorts, link_invoices
from hubqbo.services.invoice_review import _keep, _plan, _wizard_state
from hubqbo.store.invoices import WizardSession


def _explain_reference_fault(qbo: QboClient, command: CreateInvoiceCommand, customer_id: str) -> list[FieldError]:
    """QBO refused a reference (610 inactive / 2500 missing): find which customer or items, one batch."""
    item_ids = sorted({line.item_id for line in command.lines if line.item_id})
    everyone = q.in_("Active", [True, False])
    queries = [("c", "Customer", q.select("Customer", q.eq("Id", customer_id), everyone))]
    if item_ids:
        queries.append(("i", "Item", q.select("Item", q.in_("Id", item_ids), everyone)))
    rows = _run_batch(qbo, queries)
    errors: list[FieldError] = []
    customer = next(iter(rows.get("c") or []), None)
    if customer is None:
        errors.append(
            FieldError(field="customer_id", message="This customer no longer exists in QuickBooks; choose another.")
        )
    elif customer.get("Active") in (False, "false"):
        name = customer.get("DisplayName") or customer_id
        errors.append(
            FieldError(field="customer_id", message=f"{name} is inactive in QuickBooks; choose another customer.")
        )
    items = {str(i["Id"]): i for i in rows.get("i") or []}
    for n, line in enumerate(command.lines):
        item = items.get(line.item_id or "")
        if line.item_id and item is None:
            errors.append(
                FieldError(
                    field=f"lines[{n}].item_id", message="This product no longer exists in QuickBooks; choose another."
                )
            )
        elif item is not None and item.get("Active") in (False, "false"):
            errors.append(
                FieldError(
                    field=f"lines[{n}].item_id",
                    message=f"{item.get('Name')} is inactive in QuickBooks; choose another product.",
                )
            )
    return errors


def _create_customer(
    ports: InvoicePorts,
    qbo: QboClient,
    command: CreateInvoiceCommand,
    ctx: DraftContext,
    session: WizardSession,
    currency: str,
) -> str:
    """The new customer's id, in `currency` (checked by the plan): created once per wizard session, 6240 resolved."""
    spec = command.new_customer
    assert spec is not None
    if session.customer_id:
        return session.customer_id
    party = HubSpotParty(
        email=spec.email, first_name=spec.given_name, last_name=spec.family_name, company_name=spec.company_name
    )
    name = spec.display_name
    for attempt in range(3):
        body = new_customer_payload(party, name, ctx.currencies.currency_ref(currency))
        request_id = f"c-{command.idempotency_key}-{session.attempt}-{attempt}"
        try:
            created = qbo.create("Customer", qbo_json.dumps(body), request_id=request_id)
            break
        except ApiError as exc:
            if not _validation_fault(exc):
                raise
            if str(exc.code) != "6240" or attempt == 2:
                bumped = session.model_copy(update={"attempt": session.attempt + 1})
                ports.invoices.save_wizard(command.portal_id, bumped, ports.clock())
                raise FieldProblems([fault_problem(exc)]) from None
            taken = [
                str(r.get("DisplayName") or "") for f in _run_batch(qbo, _name_queries(name, "n")).values() for r in f
            ]
            name = unique_display_name(name, [*taken, name])
    customer_id = str(created["Id"])
    ports.invoices.save_wizard(
        command.portal_id, session.model_copy(update={"customer_id": customer_id}), ports.clock()
    )
    logger.info("QuickBooks customer created for an invoice", extra={"portal_id": command.portal_id})
    return customer_id


def create_invoice(ports: InvoicePorts, command: CreateInvoiceCommand) -> dict[str, Any]:
    """Create the draft invoice in QBO, link it to the deal, set the deal's properties."""
    connection, qbo = _qbo(ports, command.portal_id, command.realm_id)
    session, ctx, context = _wizard_state(ports, qbo, command)
    plan = _plan(ports, qbo, command, session, ctx, context)
    _keep(ports, command, session, context)
    if plan.errors or plan.body is None:
        raise FieldProblems(plan.errors or [FieldError(field="form", message="The invoice cannot be created.")])
    body = plan.body
    session = ports.invoices.wizard(command.portal_id, command.idempotency_key) or session
    if plan.new_customer:
        assert plan.customer is not None
        customer_id = _create_customer(ports, qbo, command, ctx, session, plan.customer.currency or plan.currency)
        body["CustomerRef"] = {"value": customer_id}
        session = ports.invoices.wizard(command.portal_id, command.idempotency_key) or session
    else:
        customer_id = command.customer_id or ""
    try:
        request_id = f"i-{command.idempotency_key}-{session.attempt}"
        created = qbo.create("Invoice", qbo_json.dumps(body), request_id=request_id)
    except ApiError as exc:
        if not _validation_fault(exc):
            raise  # 429/5xx/timeout: perhaps created; the same requestid replays it on the user's retry
        # QBO refused the content, so nothing exists: a corrected submission must not replay this refusal
        ports.invoices.save_wizard(
            command.portal_id, session.model_copy(update={"attempt": session.attempt + 1}), ports.clock()
        )
        if str(exc.code) in ("610", "2500"):
            problems = _explain_reference_fault(qbo, command, customer_id)
            if problems:
                raise FieldProblems(problems) from None
        raise FieldProblems([fault_problem(exc)]) from None
    snaps, deals = link_invoices(
        ports,
        command.portal_id,
        connection,
        [created],
        "deals",
        command.deal_id,
        source="workflow" if command.origin == "workflow" else "created",
        client=qbo,
    )
    logger.info(
        "Invoice created from a deal",
        extra={"portal_id": command.portal_id, "realm_id": command.realm_id, "api_calls": ports.calls()},
    )
    snap = snaps[0]
    return {
        "invoice": invoice_json(snap, _today(ports, command.portal_id)),
        "customer_id": customer_id,
        "deal_properties_updated": bool(deals),
        "api_calls": ports.calls(),
    }


def create_invoice_once(
    ports: InvoicePorts,
    command: CreateInvoiceCommand,
    idempotent: Callable[..., Any],
    *,
    wait_seconds: float = 25.0,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """`create_invoice` behind Powertools idempotency (`idempotent` wraps it); a second submission
    while the first is still running waits for the first one's answer. The same key with another request
    (another deal, other lines ...) is refused: the key names one submission, not any."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    waited = 0.0
    while True:
        try:
            created: dict[str, Any] = idempotent(ports=ports, command=command)
            return created
        except IdempotencyValidationError:
            logger.info("Idempotency key reused with another request", extra={"portal_id": command.portal_id})
            raise Unprocessable(
                "This idempotency key was already used for a different invoice request. "
                "Start a new invoice from the deal's card."
            ) from None
        except IdempotencyAlreadyInProgressError:
            if waited >= wait_seconds:
                raise Conflict("This invoice is still being created; check the deal's card in a moment.") from None
            sleep(0.25)
            waited += 0.25
