"""Invoice links (QBO invoice ↔ HubSpot deal/contact/company), invoice snapshots for the card, the
custom-number sequences, wizard sessions and the deal-property marker. All in the portal's partition.

Keys (pk is always `PORTAL#{hub_id}` except for the idempotency records):

- link, invoice side: `INVLINK#{realm}#{invoice}#{objectType}#{objectId}` ("which records show it")
- link, record side: `RECLINK#{objectType}#{objectId}#{realm}#{invoice}` ("which invoices a card shows")
- invoice snapshot: `INVSNAP#{realm}#{invoice}` (what the card shows; never a full QBO body)
- number sequence: `NUMSEQ#{realm}` (`next_seq`, moved atomically; `pattern`)
- wizard session: `WIZARD#{idempotency key}` (reserved number, created customer; TTL 2 days)
- deal properties created: `DEALPROPS` (`version` of the property definitions)
- create-invoice idempotency: pk `IDEMPOTENCY#invoices`, sk `<function>.<module>.<qualname>#<md5>`
  (Powertools' records, TTL `expires_at`)

Both link items are written and deleted in one transaction, so each side is read with a consistent
`Query` (no GSI, no eventual consistency between "created" and "shown on the card").
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from hubqbo.domain.qbo_invoice import QboInvoice
from hubqbo.store.dynamo import condition_failed

ObjectType = Literal["deals", "contacts", "companies"]
OBJECT_TYPES: tuple[str, ...] = ("deals", "contacts", "companies")
WIZARD_TTL_SECONDS = 2 * 24 * 3600


def _pk(portal_id: int) -> str:
    return f"PORTAL#{portal_id}"


def _num(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


class InvoiceLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    portal_id: int
    realm_id: str
    invoice_id: str
    object_type: str
    object_id: str
    linked_at: float = 0
    source: str = "attached"  # "created" (by the wizard) | "attached" (an existing invoice)


class InvoiceSnapshot(BaseModel):
    """What the card and the deal properties need of one invoice, as last read from QBO."""

    model_config = ConfigDict(frozen=True)

    portal_id: int
    realm_id: str
    invoice: QboInvoice
    company_name: str
    environment: str = "production"
    last_payment_date: date | None = None
    payment_ids: tuple[str, ...] = ()
    refreshed_at: float = 0


class WizardSession(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    realm_id: str | None = None
    customer_id: str | None = None  # a customer this session created (reused by a retry)
    doc_number: str | None = None  # a number reserved from the sequence
    doc_seq: int | None = None
    context: dict[str, Any] | None = None  # the company's currencies, tax setup, terms and tax codes
    attempt: int = 0  # bumped when QBO refused the invoice (nothing created): the next try needs a new requestid


def _query(table: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = table.query(**kwargs)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class InvoiceStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @property
    def table(self) -> Any:
        return self._table

    # -- links -------------------------------------------------------------------------------------
    def link(self, link: InvoiceLink) -> bool:
        """Link an invoice to a record (both items at once); False when it was already linked."""
        base = {
            "realm_id": link.realm_id,
            "invoice_id": link.invoice_id,
            "object_type": link.object_type,
            "object_id": link.object_id,
            "portal_id": link.portal_id,
            "linked_at": _num(link.linked_at),
            "source": link.source,
        }
        pk = _pk(link.portal_id)
        forward = f"INVLINK#{link.realm_id}#{link.invoice_id}#{link.object_type}#{link.object_id}"
        backward = f"RECLINK#{link.object_type}#{link.object_id}#{link.realm_id}#{link.invoice_id}"
        client = self._table.meta.client
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table.name,
                            "Item": {"pk": pk, "sk": sk, **base},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                    for sk in (forward, backward)
                ]
            )
        except ClientError as exc:
            if condition_failed(exc, in_transaction=True):
                return False
            raise
        return True

    def unlink(self, link: InvoiceLink) -> None:
        pk = _pk(link.portal_id)
        with self._table.batch_writer() as batch:
            batch.delete_item(
                Key={"pk": pk, "sk": f"INVLINK#{link.realm_id}#{link.invoice_id}#{link.object_type}#{link.object_id}"}
            )
            batch.delete_item(
                Key={"pk": pk, "sk": f"RECLINK#{link.object_type}#{link.object_id}#{link.realm_id}#{link.invoice_id}"}
            )

    @staticmethod
    def _link(item: dict[str, Any]) -> InvoiceLink:
        return InvoiceLink(
            portal_id=int(item["portal_id"]),
            realm_id=str(item["realm_id"]),
            invoice_id=str(item["invoice_id"]),
            object_type=str(item["object_type"]),
            object_id=str(item["object_id"]),
            linked_at=float(item.get("linked_at", 0)),
            source=str(item.get("source", "attached")),
        )

    def links_for_invoice(self, portal_id: int, realm_id: str, invoice_id: str) -> list[InvoiceLink]:
        items = _query(
            self._table,
            KeyConditionExpression=Key("pk").eq(_pk(portal_id))
            & Key("sk").begins_with(f"INVLINK#{realm_id}#{invoice_id}#"),
            ConsistentRead=True,
        )
        return [self._link(i) for i in items]

    def links_for_record(self, portal_id: int, object_type: str, object_id: str) -> list[InvoiceLink]:
        items = _query(
            self._table,
            KeyConditionExpression=Key("pk").eq(_pk(portal_id))
            & Key("sk").begins_with(f"RECLINK#{object_type}#{object_id}#"),
            ConsistentRead=True,
        )
        return sorted((self._link(i) for i in items), key=lambda link: link.linked_at)

    def links_in_realm(self, portal_id: int, realm_id: str) -> list[InvoiceLink]:
        """Every link of the portal's invoices of one QBO company (one paged Query; the reminders job)."""
        items = _query(
            self._table,
            KeyConditionExpression=Key("pk").eq(_pk(portal_id)) & Key("sk").begins_with(f"INVLINK#{realm_id}#"),
            ConsistentRead=True,
        )
        return [self._link(i) for i in items]

    # -- snapshots ---------------------------------------------------------------------------------
    def put_snapshot(self, snapshot: InvoiceSnapshot) -> bool:
        """Store the snapshot unless a newer state of the invoice is already stored (out-of-order
        changes are harmless); True when written."""
        item = {
            "pk": _pk(snapshot.portal_id),
            "sk": f"INVSNAP#{snapshot.realm_id}#{snapshot.invoice.id}",
            "data": snapshot.model_dump_json(),
            "last_updated": snapshot.invoice.last_updated.isoformat() if snapshot.invoice.last_updated else "",
        }
        try:
            self._table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR last_updated <= :mine",
                ExpressionAttributeValues={":mine": item["last_updated"]},
            )
        except ClientError as exc:
            if condition_failed(exc, in_transaction=True):
                return False
            raise
        return True

    def snapshot(self, portal_id: int, realm_id: str, invoice_id: str) -> InvoiceSnapshot | None:
        item = self._table.get_item(
            Key={"pk": _pk(portal_id), "sk": f"INVSNAP#{realm_id}#{invoice_id}"}, ConsistentRead=True
        ).get("Item")
        return InvoiceSnapshot.model_validate_json(item["data"]) if item else None

    def snapshots(self, portal_id: int, keys: list[tuple[str, str]]) -> dict[tuple[str, str], InvoiceSnapshot]:
        """Snapshots of (realm, invoice) pairs, 100 keys per BatchGetItem."""
        found: dict[tuple[str, str], InvoiceSnapshot] = {}
        unique = list(dict.fromkeys(keys))
        client = self._table.meta.client
        for n in range(0, len(unique), 100):
            request = {
                self._table.name: {
                    "Keys": [{"pk": _pk(portal_id), "sk": f"INVSNAP#{r}#{i}"} for r, i in unique[n : n + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table.name, []):
                    snap = InvoiceSnapshot.model_validate_json(item["data"])
                    found[(snap.realm_id, snap.invoice.id)] = snap
                request = answer.get("UnprocessedKeys") or {}
        return found

    def delete_snapshot(self, portal_id: int, realm_id: str, invoice_id: str) -> None:
        self._table.delete_item(Key={"pk": _pk(portal_id), "sk": f"INVSNAP#{realm_id}#{invoice_id}"})

    # -- numbering ---------------------------------------------------------------------------------
    def number_settings(self, portal_id: int, realm_id: str) -> tuple[str | None, int]:
        """(pattern or None for the default, the next sequence number)."""
        item = self._table.get_item(Key={"pk": _pk(portal_id), "sk": f"NUMSEQ#{realm_id}"}, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            return None, 1
        return item.get("pattern"), int(item.get("next_seq", 1))

    def set_number_settings(self, portal_id: int, realm_id: str, pattern: str, next_seq: int | None = None) -> None:
        names, values = {"#p": "pattern"}, {":p": pattern}
        expression = "SET #p = :p"
        if next_seq is not None:
            names["#n"] = "next_seq"
            values[":n"] = next_seq  # type: ignore[assignment]
            expression += ", #n = :n"
        self._table.update_item(
            Key={"pk": _pk(portal_id), "sk": f"NUMSEQ#{realm_id}"},
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def allocate_sequence(self, portal_id: int, realm_id: str) -> int:
        """The next sequence number, atomically: no two callers ever get the same one."""
        answer = self._table.update_item(
            Key={"pk": _pk(portal_id), "sk": f"NUMSEQ#{realm_id}"},
            UpdateExpression="SET next_seq = if_not_exists(next_seq, :one) + :one",
            ExpressionAttributeValues={":one": 1},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["next_seq"]) - 1

    def skip_sequence_to(self, portal_id: int, realm_id: str, seq: int) -> bool:
        """Claim `seq` (past numbers QBO already uses): move the counter to seq + 1 unless someone
        else already moved it past `seq`. True when `seq` is ours."""
        try:
            self._table.update_item(
                Key={"pk": _pk(portal_id), "sk": f"NUMSEQ#{realm_id}"},
                UpdateExpression="SET next_seq = :after",
                ConditionExpression="attribute_not_exists(next_seq) OR next_seq <= :seq",
                ExpressionAttributeValues={":after": seq + 1, ":seq": seq},
            )
        except ClientError as exc:
            if condition_failed(exc, in_transaction=True):
                return False
            raise
        return True

    # -- wizard sessions -----------------------------------------------------------------------------
    def wizard(self, portal_id: int, key: str) -> WizardSession | None:
        item = self._table.get_item(Key={"pk": _pk(portal_id), "sk": f"WIZARD#{key}"}, ConsistentRead=True).get("Item")
        return WizardSession.model_validate(json.loads(item["data"])) if item else None

    def save_wizard(self, portal_id: int, session: WizardSession, now: float) -> None:
        self._table.put_item(
            Item={
                "pk": _pk(portal_id),
                "sk": f"WIZARD#{session.key}",
                "data": session.model_dump_json(),
                "expires_at": int(now + WIZARD_TTL_SECONDS),
            }
        )

    # -- deal properties marker ------------------------------------------------------------------------
    def deal_properties_version(self, portal_id: int) -> int:
        item = self._table.get_item(Key={"pk": _pk(portal_id), "sk": "DEALPROPS"}, ConsistentRead=True).get("Item")
        return int(item.get("version", 0)) if item else 0

    def set_deal_properties_version(self, portal_id: int, version: int, now: float) -> None:
        self._table.put_item(
            Item={"pk": _pk(portal_id), "sk": "DEALPROPS", "version": version, "created_at": _num(now)}
        )
