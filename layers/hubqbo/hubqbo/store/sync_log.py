"""The sync log: what happened to each change (applied, skipped, failed), why and when; kept 90 days.

Keys (one table): every entry `pk = SYNCLOG#<scope>`, `sk = <UTC ISO time>#<event id>#<record>`;
a failed entry is also written under `SYNCFAIL#<scope>` so that "the last failures" is one query.
Scope is `portal:<hub id>`, or `realm:<realm id>` for a change no portal could take.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, ConditionBase, Key
from pydantic import BaseModel, ConfigDict, Field

from hubqbo import clock as product_clock

Outcome = Literal["applied", "skipped", "failed"]
RETENTION = timedelta(days=90)
MAX_PAGE_READS = 8  # DynamoDB reads one page of the log may take when filters leave most items out


class SyncLogEntry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    scope: str = Field(description="The tenant the entry belongs to: a portal, or a realm before fan-out")
    outcome: Outcome
    reason: str
    entity: str
    qbo_id: str | None = None
    hubspot_id: str | None = None
    hubspot_type: str | None = None  # "deals", "contacts", ... when hubspot_id is set
    realm_id: str | None = None
    event_id: str | None = None
    source: str | None = None  # webhook, cdc, resync, overdue-sweep, replay
    attempt: int | None = None  # the SQS receive that produced a failure
    at: datetime = Field(default_factory=product_clock.now_utc)

    @staticmethod
    def portal_scope(portal_id: int | str) -> str:
        return f"portal:{portal_id}"


class SyncLog:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _item(entry: SyncLogEntry, prefix: str) -> dict[str, Any]:
        stamp = entry.at.astimezone(UTC).isoformat(timespec="microseconds")
        record = entry.hubspot_id or entry.qbo_id or "-"
        return {
            "pk": f"{prefix}#{entry.scope}",
            "sk": f"{stamp}#{entry.event_id or '-'}#{record}",
            "expires_at": int((entry.at + RETENTION).timestamp()),
            **entry.model_dump(mode="json", exclude_none=True),
        }

    def record(self, entry: SyncLogEntry) -> None:
        self._table.put_item(Item=self._item(entry, "SYNCLOG"))
        if entry.outcome == "failed":
            self._table.put_item(Item=self._item(entry, "SYNCFAIL"))

    def record_many(self, entries: list[SyncLogEntry]) -> None:
        """Several entries in BatchWriteItem calls of 25 (the intake's skips)."""
        with self._table.batch_writer() as batch:
            for entry in entries:
                batch.put_item(Item=self._item(entry, "SYNCLOG"))
                if entry.outcome == "failed":
                    batch.put_item(Item=self._item(entry, "SYNCFAIL"))

    def recent(self, scope: str, limit: int = 50) -> list[SyncLogEntry]:
        """The newest entries of a scope, newest first."""
        return self._query("SYNCLOG", scope, limit)

    def recent_failures(self, scope: str, limit: int = 20) -> list[SyncLogEntry]:
        """The newest failures of a scope (what the settings page shows), newest first."""
        return self._query("SYNCFAIL", scope, limit)

    def page(
        self,
        scope: str,
        *,
        limit: int = 20,
        after: str | None = None,
        realm_id: str | None = None,
        entities: tuple[str, ...] = (),
        outcome: Outcome | None = None,
        max_reads: int = MAX_PAGE_READS,
    ) -> tuple[list[SyncLogEntry], str | None]:
        """One page of a scope's entries, newest first, filtered on the server; the sort key to pass as
        `after` for the next page (None at the end). Filters apply after DynamoDB reads a page, so a page
        may take several reads; `max_reads` bounds them and the cursor then resumes where reading stopped."""
        condition: ConditionBase | None = None

        def both(extra: ConditionBase) -> ConditionBase:
            return extra if condition is None else condition & extra

        if realm_id:
            condition = both(Attr("realm_id").not_exists() | Attr("realm_id").eq(realm_id))
        if entities:
            condition = both(Attr("entity").is_in(list(entities)))
        if outcome:
            condition = both(Attr("outcome").eq(outcome))
        pk = f"SYNCLOG#{scope}"
        found: list[SyncLogEntry] = []
        start = {"pk": pk, "sk": after} if after else None
        for _ in range(max_reads):
            request: dict[str, Any] = {
                "KeyConditionExpression": Key("pk").eq(pk),
                "ScanIndexForward": False,
                "Limit": max(limit * 3, 25),
            }
            if condition is not None:
                request["FilterExpression"] = condition
            if start:
                request["ExclusiveStartKey"] = start
            response = self._table.query(**request)
            for item in response.get("Items", []):
                found.append(SyncLogEntry.model_validate(item))
                if len(found) == limit:
                    return found, str(item["sk"])
            start = response.get("LastEvaluatedKey")
            if not start:
                return found, None
        return found, str(start["sk"]) if start else None

    def _query(self, prefix: str, scope: str, limit: int) -> list[SyncLogEntry]:
        response = self._table.query(
            KeyConditionExpression=Key("pk").eq(f"{prefix}#{scope}"),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [SyncLogEntry.model_validate(item) for item in response.get("Items", [])]
