"""The app lifecycle's items: where the journal reader stands, which lifecycle events were applied,
portals waiting to be purged, and the purge itself.

| item                    | pk             | sk                              | attributes                            |
|-------------------------|----------------|---------------------------------|---------------------------------------|
| journal position        | `APP#hubspot`  | `JOURNAL`                       | `offset`, `subscribed` event type ids |
| lifecycle event applied | `PORTAL#{hub}` | `LIFECYCLE#{occurred}#{action}` | `applied_at`, TTL `expires_at`        |
| portal (uninstalled)    | `PORTAL#{hub}` | `PORTAL`                        | `purge_at`, gsi1 `PURGE` / `{t}#{hub}` |

(`{t}`: the purge date in epoch seconds, 12 digits, so "due by now" is one range query on gsi1.)

A purge deletes every item of the portal: its partition `PORTAL#{hub}` (portal, connections, tokens,
parked work, cursors, invoice links and snapshots, number sequences, wizard sessions, payments, sync
settings, mapping status, backfills, schemas, reminders, lifecycle markers, everything a store keeps
there) and its sync log (`SYNCLOG#portal:{hub}`, `SYNCFAIL#portal:{hub}`). What is not keyed by portal
expires on its own: OAuth states (10 minutes), idempotency records (1 and 7 days), realm-scoped log
entries of changes no portal took (90 days).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

POSITION_KEY = {"pk": "APP#hubspot", "sk": "JOURNAL"}
PURGE_INDEX = "PURGE"
MARKER_SECONDS = 60 * 86400  # longer than the journal keeps an entry, and than the retention


def _conditional_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _portal_pk(portal_id: int) -> str:
    return f"PORTAL#{portal_id}"


def _num(value: float) -> Decimal:
    return Decimal(str(round(value, 3)))


def _purge_sort_key(purge_at: float, portal_id: int) -> str:
    return f"{int(purge_at):012d}#{portal_id}"


class JournalPosition(BaseModel):
    offset: str | None = None
    subscribed: frozenset[str] = Field(default_factory=frozenset)


class LifecycleStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    # -- the journal reader -----------------------------------------------------------------------
    def position(self) -> JournalPosition:
        item = self._table.get_item(Key=POSITION_KEY, ConsistentRead=True).get("Item") or {}
        return JournalPosition(offset=item.get("offset"), subscribed=frozenset(item.get("subscribed") or ()))

    def move_offset(self, offset: str, seen: str | None) -> bool:
        """Move the reader to `offset` if it still is where we read it (`seen`): two runs never both move it."""
        condition = "attribute_not_exists(#o)" if seen is None else "#o = :seen"
        values: dict[str, Any] = {":offset": offset}
        if seen is not None:
            values[":seen"] = seen
        try:
            self._table.update_item(
                Key=POSITION_KEY,
                UpdateExpression="SET #o = :offset",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#o": "offset"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _conditional_failure(exc):
                return False
            raise
        return True

    def mark_subscribed(self, event_type_ids: set[str]) -> None:
        self._table.update_item(
            Key=POSITION_KEY,
            UpdateExpression="ADD subscribed :ids",
            ExpressionAttributeValues={":ids": set(event_type_ids)},
        )

    # -- events applied once ----------------------------------------------------------------------
    def event_applied(self, portal_id: int, event_key: str) -> bool:
        item = self._table.get_item(
            Key={"pk": _portal_pk(portal_id), "sk": f"LIFECYCLE#{event_key}"}, ConsistentRead=True
        ).get("Item")
        return item is not None

    def remember_event(self, portal_id: int, event_key: str, now: float) -> None:
        """Written after the event was applied: a crash in between re-applies it, which changes nothing."""
        self._table.put_item(
            Item={
                "pk": _portal_pk(portal_id),
                "sk": f"LIFECYCLE#{event_key}",
                "applied_at": _num(now),
                "expires_at": int(now + MARKER_SECONDS),
            }
        )

    # -- uninstalled portals ----------------------------------------------------------------------
    def mark_uninstalled(self, portal_id: int, *, uninstalled_at: float, purge_at: float, reason: str) -> bool:
        """Status uninstalled with the reason and the purge date (indexed for the purge); False if no portal."""
        try:
            self._table.update_item(
                Key={"pk": _portal_pk(portal_id), "sk": "PORTAL"},
                UpdateExpression=(
                    "SET #s = :s, uninstalled_at = :u, purge_at = :p, status_reason = :r, gsi1pk = :g, gsi1sk = :k"
                ),
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":s": "uninstalled",
                    ":u": _num(uninstalled_at),
                    ":p": _num(purge_at),
                    ":r": reason,
                    ":g": PURGE_INDEX,
                    ":k": _purge_sort_key(purge_at, portal_id),
                },
            )
        except ClientError as exc:
            if _conditional_failure(exc):
                return False
            raise
        return True

    def cancel_purge(self, portal_id: int, reason: str) -> bool:
        """Keep the portal's data (the app was installed again in HubSpot); False if nothing was scheduled."""
        try:
            self._table.update_item(
                Key={"pk": _portal_pk(portal_id), "sk": "PORTAL"},
                UpdateExpression="SET status_reason = :r REMOVE purge_at, gsi1pk, gsi1sk",
                ConditionExpression="attribute_exists(purge_at)",
                ExpressionAttributeValues={":r": reason},
            )
        except ClientError as exc:
            if _conditional_failure(exc):
                return False
            raise
        return True

    def due_purges(self, now: float) -> list[int]:
        """Portals whose purge date has passed, soonest first (one GSI query, no scan)."""
        ids: list[int] = []
        kwargs: dict[str, Any] = {
            "IndexName": "gsi1",
            "KeyConditionExpression": Key("gsi1pk").eq(PURGE_INDEX) & Key("gsi1sk").lte(f"{int(now):012d}#~"),
            "ProjectionExpression": "pk",
        }
        while True:
            response = self._table.query(**kwargs)
            ids += [int(str(i["pk"]).removeprefix("PORTAL#")) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return ids
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def purge(self, portal_id: int) -> int:
        """Delete every item of the portal (the portal item last, so an interrupted purge is resumed by the
        next run); returns how many were deleted."""
        partitions = [_portal_pk(portal_id), f"SYNCLOG#portal:{portal_id}", f"SYNCFAIL#portal:{portal_id}"]
        keys: list[dict[str, str]] = []
        for pk in partitions:
            kwargs: dict[str, Any] = {
                "KeyConditionExpression": Key("pk").eq(pk),
                "ProjectionExpression": "pk, sk",
                "ConsistentRead": True,
            }
            while True:
                response = self._table.query(**kwargs)
                keys += [{"pk": i["pk"], "sk": i["sk"]} for i in response.get("Items", [])]
                if "LastEvaluatedKey" not in response:
                    break
                kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        portal_key = {"pk": _portal_pk(portal_id), "sk": "PORTAL"}
        others = [k for k in keys if k != portal_key]
        with self._table.batch_writer() as batch:
            for key in others:
                batch.delete_item(Key=key)
        if len(others) < len(keys):
            self._table.delete_item(Key=portal_key)
        return len(keys)
