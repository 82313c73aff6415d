"""Each QBO company's class and location settings for invoices (defaults and the deal properties that name them).

Key: `pk = PORTAL#{hub_id}`, `sk = INVTRACK#{realm}`; `data` (the settings as JSON), `version` (bumped by each
save), `updated_at`. Never saved: no defaults, no mapping (invoices get no class or location from us).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from hubqbo.domain.tracking import TrackingSettings


class StoredTracking(BaseModel):
    model_config = ConfigDict(frozen=True)

    settings: TrackingSettings
    version: int = 0
    updated_at: float | None = None


class TrackingStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(portal_id: int, realm_id: str) -> dict[str, str]:
        return {"pk": f"PORTAL#{portal_id}", "sk": f"INVTRACK#{realm_id}"}

    def settings(self, portal_id: int, realm_id: str) -> StoredTracking:
        item = self._table.get_item(Key=self._key(portal_id, realm_id), ConsistentRead=True).get("Item")
        if not item:
            return StoredTracking(settings=TrackingSettings())
        return StoredTracking(
            settings=TrackingSettings.model_validate_json(item["data"]),
            version=int(item.get("version", 0)),
            updated_at=float(item["updated_at"]) if item.get("updated_at") is not None else None,
        )

    def save(self, portal_id: int, realm_id: str, settings: TrackingSettings, now: float) -> StoredTracking:
        answer = self._table.update_item(
            Key=self._key(portal_id, realm_id),
            UpdateExpression="SET #d = :data, updated_at = :now ADD version :one",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={
                ":data": settings.model_dump_json(),
                ":now": Decimal(str(round(now, 3))),
                ":one": 1,
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return StoredTracking(settings=settings, version=int(answer["version"]), updated_at=now)
