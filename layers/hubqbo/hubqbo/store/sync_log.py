"""The sync log: what happened to each change (applied, skipped, failed), why and when; kept 90 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

Outcome = Literal["applied", "skipped", "failed"]
RETENTION = timedelta(days=90)


class SyncLogEntry(BaseModel):
    scope: str = Field(description="The tenant the entry belongs to: a portal, or a realm before fan-out")
    outcome: Outcome
    reason: str
    entity: str
    qbo_id: str | None = None
    hubspot_id: str | None = None
    event_id: str | None = None
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class SyncLog:
    def __init__(self, table: Any) -> None:
        self._table = table

    def record(self, entry: SyncLogEntry) -> None:
        stamp = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
        self._table.put_item(
            Item={
                "pk": f"SYNCLOG#{entry.scope}",
                "sk": f"{stamp}#{entry.event_id or '-'}",
                "expires_at": int((entry.at + RETENTION).timestamp()),
                **entry.model_dump(mode="json", exclude_none=True),
            }
        )

    def recent(self, scope: str, limit: int = 50) -> list[SyncLogEntry]:
        response = self._table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": f"SYNCLOG#{scope}"},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [SyncLogEntry.model_validate(item) for item in response.get("Items", [])]
