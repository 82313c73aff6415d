"""The last drift report of each portal's QBO company.

Key: pk `PORTAL#{hub_id}`, sk `DRIFT#{realm}`; `data` is the report as JSON, `version` is bumped by
every write (a fix that read an older report than the one stored is refused, not lost). A report
keeps at most `MAX_STORED_ROWS` rows (an item holds 400 KB); `total_rows` says how many were found.
"""

from __future__ import annotations

from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from hubqbo.domain.drift import DriftRow
from hubqbo.store.dynamo import condition_failed

MAX_STORED_ROWS = 500


class Gap(BaseModel):
    """A part of the run that could not be read: which, why, and from which provider."""

    part: str  # invoices | contacts | products | unattached
    reason: Literal["rate_limited", "unavailable", "refused", "time"]
    provider: str = ""  # hubspot | qbo


class DriftReport(BaseModel):
    portal_id: int
    realm_id: str
    started_at: float
    finished_at: float | None = None
    complete: bool = True  # False: a part could not be read (rate limit, outage); its rows are missing
    incomplete_parts: list[str] = Field(default_factory=list)  # e.g. ["contacts: RateLimited (hubspot)"], for logs
    gaps: list[Gap] = Field(default_factory=list)  # the same, for the page to say in the reader's language
    checked: dict[str, int] = Field(default_factory=dict)  # records compared, per part
    rows: list[DriftRow] = Field(default_factory=list)
    total_rows: int = 0
    api_calls: dict[str, int] = Field(default_factory=dict)  # per provider, for the run
    fixed: int = 0  # rows fixed since the run
    fix_calls: dict[str, int] = Field(default_factory=dict)
    source: str = "manual"  # manual | schedule
    version: int = 0


class DriftReports:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _key(portal_id: int, realm_id: str) -> dict[str, str]:
        return {"pk": f"PORTAL#{portal_id}", "sk": f"DRIFT#{realm_id}"}

    def last(self, portal_id: int, realm_id: str) -> DriftReport | None:
        item = self._table.get_item(Key=self._key(portal_id, realm_id), ConsistentRead=True).get("Item")
        if not item:
            return None
        return DriftReport.model_validate_json(item["data"]).model_copy(update={"version": int(item["version"])})

    def save(self, report: DriftReport) -> DriftReport | None:
        """Store the report as the next version of the one it was read as (`report.version`); None when
        another write came first."""
        kept = report.rows[:MAX_STORED_ROWS]
        stored = report.model_copy(update={"rows": kept, "version": report.version + 1})
        try:
            self._table.put_item(
                Item={
                    **self._key(report.portal_id, report.realm_id),
                    "data": stored.model_dump_json(),
                    "version": stored.version,
                },
                ConditionExpression="attribute_not_exists(pk) OR version = :read",
                ExpressionAttributeValues={":read": report.version},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return stored
