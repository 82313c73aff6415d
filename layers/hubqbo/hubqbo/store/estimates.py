"""Estimates created by the "Create QuickBooks estimate" workflow action: one per deal and company.

Key: pk `PORTAL#{hub_id}`, sk `ESTLINK#deals#{deal}#{realm}` (the estimate's id and number, when it was made).
Written once (conditional put) after QBO created the estimate, so a later run of the action on the same deal
answers with that estimate instead of making another.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict

from hubqbo.store.dynamo import condition_failed


class EstimateLink(BaseModel):
    model_config = ConfigDict(frozen=True)

    portal_id: int
    realm_id: str
    deal_id: str
    estimate_id: str
    doc_number: str | None = None
    linked_at: float = 0


def _key(portal_id: int, deal_id: str, realm_id: str) -> dict[str, str]:
    return {"pk": f"PORTAL#{portal_id}", "sk": f"ESTLINK#deals#{deal_id}#{realm_id}"}


class EstimateStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def link(self, link: EstimateLink) -> bool:
        """Remember the deal's estimate; False when the deal already has one in this company."""
        item = {
            **_key(link.portal_id, link.deal_id, link.realm_id),
            "portal_id": link.portal_id,
            "realm_id": link.realm_id,
            "deal_id": link.deal_id,
            "estimate_id": link.estimate_id,
            "linked_at": Decimal(str(round(link.linked_at, 3))),
        }
        if link.doc_number:
            item["doc_number"] = link.doc_number
        try:
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def for_deal(self, portal_id: int, deal_id: str, realm_id: str) -> EstimateLink | None:
        item = self._table.get_item(Key=_key(portal_id, deal_id, realm_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        return EstimateLink(
            portal_id=int(item["portal_id"]),
            realm_id=str(item["realm_id"]),
            deal_id=str(item["deal_id"]),
            estimate_id=str(item["estimate_id"]),
            doc_number=item.get("doc_number"),
            linked_at=float(item.get("linked_at", 0)),
        )
