"""The QBO version of each object the worker applied, per portal: what the catch-up compares a CDC or
resync record with before queueing it again.

| item            | pk                | sk                                  | notes                          |
|-----------------|-------------------|-------------------------------------|--------------------------------|
| applied version | `PORTAL#{hub_id}` | `APPLIED#{realm}#{entity}#{qbo id}` | SyncToken, updated, deleted; TTL |

Written after the worker applied a change, with the version of the object it read (not the event's
time), and only moved forwards: a late, older change never hides a newer one from the catch-up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from hubqbo import clock as product_clock
from hubqbo.domain.dates import parse_instant

KEEP_SECONDS = 40 * 24 * 3600  # longer than CDC looks back (30 days)
BATCH_GET = 100  # DynamoDB BatchGetItem's limit


@dataclass(frozen=True)
class Version:
    """A QBO object's version: its SyncToken (bumped by every write) and MetaData.LastUpdatedTime."""

    sync_token: int | None
    updated_at: datetime | None
    deleted: bool = False

    @classmethod
    def of(cls, raw: dict[str, Any] | None, *, deleted_at: datetime | None = None) -> Version:
        raw = raw or {}
        deleted = not raw or str(raw.get("status", "")).lower() == "deleted"
        token = str(raw.get("SyncToken") or "")
        updated = parse_instant((raw.get("MetaData") or {}).get("LastUpdatedTime")) or deleted_at
        return cls(int(token) if token.isdigit() else None, updated, deleted)

    def covers(self, other: Version) -> bool:
        """Whether having applied this version means `other` was applied too (it is no newer)."""
        if other.deleted:
            return self.deleted
        if self.deleted:
            return True  # a record deleted after that version: nothing left to apply
        if self.sync_token is not None and other.sync_token is not None:
            return self.sync_token >= other.sync_token
        return self.updated_at is not None and other.updated_at is not None and self.updated_at >= other.updated_at


def _sk(realm_id: str, entity: str, object_id: str) -> str:
    return f"APPLIED#{realm_id}#{entity}#{object_id}"


class AppliedVersions:
    def __init__(self, table: Any, clock: Any = product_clock.now) -> None:
        self._table, self._clock = table, clock

    def record(self, portal_id: int, realm_id: str, entity: str, object_id: str, version: Version) -> None:
        """Store the version applied, unless a newer one is stored already."""
        item: dict[str, Any] = {
            "pk": f"PORTAL#{portal_id}",
            "sk": _sk(realm_id, entity, object_id),
            "deleted": version.deleted,
            "expires_at": int(self._clock()) + KEEP_SECONDS,
        }
        condition = "attribute_not_exists(pk)"
        values: dict[str, Any] = {}
        if version.sync_token is not None:
            item["sync_token"] = version.sync_token
            condition += " OR attribute_not_exists(sync_token) OR sync_token <= :token"
            values[":token"] = version.sync_token
        if version.updated_at is not None:
            item["updated_at"] = version.updated_at.astimezone(UTC).isoformat()
        if version.deleted:  # a deletion is the last word
            condition, values = "attribute_not_exists(pk) OR attribute_exists(pk)", {}
        try:
            self._table.put_item(
                Item=item, ConditionExpression=condition, **({"ExpressionAttributeValues": values} if values else {})
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def applied(self, portal_id: int, realm_id: str, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Version]:
        """(entity, id) -> the version applied, for those of `keys` that were applied."""
        wanted = list(dict.fromkeys(keys))
        found: dict[tuple[str, str], Version] = {}
        name = self._table.name
        client = self._table.meta.client
        for start in range(0, len(wanted), BATCH_GET):
            request: dict[str, Any] = {
                name: {
                    "Keys": [
                        {"pk": f"PORTAL#{portal_id}", "sk": _sk(realm_id, e, i)}
                        for e, i in wanted[start : start + BATCH_GET]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(name, []):
                    _, _, entity, object_id = str(item["sk"]).split("#", 3)
                    token = item.get("sync_token")
                    found[(entity, object_id)] = Version(
                        int(token) if token is not None else None,
                        parse_instant(item.get("updated_at")),
                        bool(item.get("deleted")),
                    )
                request = answer.get("UnprocessedKeys") or {}
        return found
