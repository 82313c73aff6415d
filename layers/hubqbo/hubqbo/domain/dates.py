"""Dates and times at the edges: QBO dates are company-local days, HubSpot dates are `YYYY-MM-DD`.

Nothing here reads a clock: callers pass `now` (a UTC-aware datetime) and the zone that decides
which calendar day it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo


def local_today(now: datetime, zone: ZoneInfo | str) -> date:
    """The calendar day `now` falls on in `zone` (an IANA name such as "US/Eastern" or a ZoneInfo)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    return now.astimezone(tz).date()


def zone_or_utc(name: str | None) -> ZoneInfo:
    """The portal's time zone, or UTC when it has none or an unknown name: a bad setting must not stop a job."""
    try:
        return ZoneInfo(name or "UTC")
    except Exception:
        return ZoneInfo("UTC")


def parse_date(value: Any) -> date | None:
    """A QBO date (`2026-01-31`) or None when absent; a full timestamp keeps only its own day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return date.fromisoformat(text[:10])


def parse_instant(value: Any) -> datetime | None:
    """A QBO or HubSpot timestamp as an aware UTC datetime: ISO 8601 (any offset, `Z`) or epoch ms."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        moment = datetime.fromtimestamp(int(value) / 1000, UTC)
    else:
        moment = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment.astimezone(UTC)


def hubspot_date(day: date | None) -> str:
    """A HubSpot `date` property value; "" clears the property."""
    return day.isoformat() if day else ""


def hubspot_date_ms(day: date) -> int:
    """The same day as HubSpot's other date encoding: epoch milliseconds at midnight UTC."""
    return int(datetime.combine(day, time(0), UTC).timestamp() * 1000)
