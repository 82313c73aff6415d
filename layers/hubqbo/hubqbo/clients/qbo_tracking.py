"""QBO's classes, locations and the Categories switches: the queries and how QBO's JSON reads.

- Preferences `AccountingInfoPrefs`: `ClassTrackingPerTxn` (one class per transaction), `ClassTrackingPerTxnLine`
  (one per line), `TrackDepartments` (locations on; the UI's "Track locations") and `DepartmentTerminology` (the
  company's word for a location): https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/preferences
  and https://developer.intuit.com/app/developer/qbo/docs/workflows/categorize-income-and-expenses ("set either
  Preferences.AccountingInfoPrefs.ClassTrackingPerTxn or ...ClassTrackingPerTxnLine to true").
- Class and Department (locations are QBO's Department entity,
  https://developer.intuit.com/app/developer/qbo/docs/workflows/manage-business-units): `Name`, `FullyQualifiedName`
  (`Parent:Child`), `SubClass`/`SubDepartment`, `ParentRef`, `Active`. A query leaves inactive ones out unless
  `Active` is filtered, so the lists ask for both (an inactive default must be named as such).
- On the invoice: `DepartmentRef` on the header only; `ClassRef` on the header when classes are tracked per
  transaction, `Line[].SalesItemLineDetail.ClassRef` when per line ("Available if ... is set to true",
  https://developer.intuit.com/app/developer/qbo/docs/api/accounting/most-commonly-used/invoice).
"""

from __future__ import annotations

from typing import Any

from hubqbo.clients.qbo import QboClient
from hubqbo.domain import qbo_query as q
from hubqbo.domain.tracking import ClassMode, Segment, TrackingPrefs

CLASS, LOCATION = "Class", "Department"


def segment_queries(prefix: str = "") -> list[tuple[str, str, str]]:
    """Batch query items (bid, entity, statement) listing every class and location, active or not."""
    everyone = q.in_("Active", [True, False])
    return [
        (f"{prefix}classes", CLASS, q.select(CLASS, everyone, max_results=q.MAX_RESULTS)),
        (f"{prefix}locations", LOCATION, q.select(LOCATION, everyone, max_results=q.MAX_RESULTS)),
    ]


def tracking_prefs(preferences: dict[str, Any] | None) -> TrackingPrefs:
    """The Categories switches from a Preferences object (absent switches are off)."""
    info = (preferences or {}).get("AccountingInfoPrefs") or {}
    per_line = _true(info.get("ClassTrackingPerTxnLine"))
    per_txn = _true(info.get("ClassTrackingPerTxn"))
    mode = ClassMode.LINE if per_line else ClassMode.TRANSACTION if per_txn else ClassMode.OFF
    term = str(info.get("DepartmentTerminology") or "").strip() or "Location"
    return TrackingPrefs(classes=mode, locations=_true(info.get("TrackDepartments")), location_term=term)


def segments(rows: list[dict[str, Any]]) -> list[Segment]:
    """Class or Department rows as segments, by full name."""
    found = [
        Segment(
            id=str(r["Id"]),
            name=str(r.get("Name") or ""),
            full_name=str(r.get("FullyQualifiedName") or r.get("Name") or ""),
            active=r.get("Active", True) not in (False, "false"),
        )
        for r in rows
        if r.get("Id") is not None
    ]
    return sorted(found, key=lambda s: s.full_name.casefold())


def read_tracking(client: QboClient) -> tuple[TrackingPrefs, list[Segment], list[Segment]]:
    """The switches, classes and locations of one company in one batch call."""
    items = [("prefs", "Preferences", "SELECT * FROM Preferences"), *segment_queries()]
    answers = client.batch([{"bId": bid, "Query": statement} for bid, _, statement in items])
    rows = {bid: ((answers.get(bid) or {}).get("QueryResponse") or {}).get(entity) or [] for bid, entity, _ in items}
    prefs = tracking_prefs((rows["prefs"] or [{}])[0])
    return prefs, segments(rows["classes"]), segments(rows["locations"])


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
