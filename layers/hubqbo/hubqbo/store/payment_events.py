"""What we know of each QBO payment, and which timeline entries were already posted for it.

- payment as last seen: pk `PORTAL#{hub_id}`, sk `PAYMENT#{realm}#{payment id}`; `state`,
  `lines` (invoice id → amount applied), `currency`.
- timeline entry posted: pk `PORTAL#{hub_id}`, sk `PAYPOST#{key}`; `status` (pending, posted),
  `hubspot_id` (note or event id), `kind` (note, event), `text`, `lease_until` while pending.

The payment item remembers which invoices a payment paid, so that a deleted payment (which QBO no
longer returns) can still be reversed on the right deals. A posting is claimed with a conditional
write before the note or event is created and marked posted after: the same payment never appears
twice on a deal, even when the change is applied again or two workers apply it at once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from hubqbo.store.dynamo import condition_failed

PaymentState = Literal["received", "voided", "deleted"]


class KnownPayment(BaseModel):
    model_config = ConfigDict(frozen=True)

    payment_id: str
    state: PaymentState
    lines: dict[str, Decimal]  # invoice id → amount applied to it
    currency: str | None = None


class PaymentEvents:
    def __init__(self, table: Any) -> None:
        self._table = table

    # -- payments as last seen --------------------------------------------------------------------
    def get_payment(self, portal_id: int, realm_id: str, payment_id: str) -> KnownPayment | None:
        item = self._table.get_item(
            Key={"pk": f"PORTAL#{portal_id}", "sk": f"PAYMENT#{realm_id}#{payment_id}"}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        return KnownPayment(
            payment_id=payment_id,
            state=item["state"],
            lines={k: Decimal(str(v)) for k, v in (item.get("lines") or {}).items()},
            currency=item.get("currency"),
        )

    def put_payment(self, portal_id: int, realm_id: str, payment: KnownPayment) -> None:
        item: dict[str, Any] = {
            "pk": f"PORTAL#{portal_id}",
            "sk": f"PAYMENT#{realm_id}#{payment.payment_id}",
            "state": payment.state,
            "lines": {k: str(v) for k, v in payment.lines.items()},
        }
        if payment.currency:
            item["currency"] = payment.currency
        self._table.put_item(Item=item)

    # -- postings -----------------------------------------------------------------------------------
    def claim(self, portal_id: int, key: str, now: float, lease_seconds: float = 300) -> bool:
        """True if this caller may post entry `key` now: nobody posted it and nobody is posting it."""
        try:
            self._table.update_item(
                Key={"pk": f"PORTAL#{portal_id}", "sk": f"PAYPOST#{key}"},
                UpdateExpression="SET #s = :pending, lease_until = :until",
                ConditionExpression="attribute_not_exists(#s) OR (#s = :pending AND lease_until < :now)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":pending": "pending",
                    ":until": Decimal(str(round(now + lease_seconds, 3))),
                    ":now": Decimal(str(round(now, 3))),
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def posted(self, portal_id: int, key: str, hubspot_id: str, kind: str, text: str) -> None:
        self._table.update_item(
            Key={"pk": f"PORTAL#{portal_id}", "sk": f"PAYPOST#{key}"},
            UpdateExpression="SET #s = :posted, hubspot_id = :id, kind = :kind, #t = :text REMOVE lease_until",
            ExpressionAttributeNames={"#s": "status", "#t": "text"},
            ExpressionAttributeValues={":posted": "posted", ":id": hubspot_id, ":kind": kind, ":text": text},
        )

    def release(self, portal_id: int, key: str) -> None:
        """Give a claim back after the post failed, so the retry may post."""
        try:
            self._table.delete_item(
                Key={"pk": f"PORTAL#{portal_id}", "sk": f"PAYPOST#{key}"},
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":pending": "pending"},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
