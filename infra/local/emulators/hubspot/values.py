"""Property values as HubSpot keeps them: every value is a string, checked against its property type.

number → a decimal string; bool → "true"/"false"; date → `YYYY-MM-DD` (written as that or as
midnight-UTC epoch ms); datetime → ISO 8601 UTC with milliseconds (written as ISO or epoch ms);
enumeration → one of the options (`;`-separated for checkbox fields).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_STRING = 65_536


class InvalidValue(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def iso(moment: datetime) -> str:
    """HubSpot's timestamp format: `2026-01-31T12:00:00.123Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def parse_instant(raw: str) -> datetime | None:
    """Epoch milliseconds, an ISO datetime or an ISO date; None when it is none of these."""
    text = raw.strip()
    if text.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def as_text(raw: Any) -> str:
    """JSON scalars become strings the way HubSpot echoes them."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def normalize(prop_type: str, field_type: str, options: list[str], raw: Any) -> str:
    """The stored string for `raw`, or `InvalidValue` saying why HubSpot would refuse it."""
    text = as_text(raw)
    if text == "":
        return ""  # clearing a property is always allowed
    if prop_type == "number":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidValue("INVALID_DECIMAL", f"{text} was not a valid number.") from None
        if not number.is_finite():
            raise InvalidValue("INVALID_DECIMAL", f"{text} was not a valid number.")
        return text
    if prop_type == "bool":
        if text.lower() not in ("true", "false"):
            raise InvalidValue("INVALID_BOOLEAN", f"{text} was not a valid boolean (use true or false).")
        return text.lower()
    if prop_type == "date":
        return _date(text)
    if prop_type == "datetime":
        moment = parse_instant(text)
        if moment is None:
            raise InvalidValue("INVALID_DATETIME", f"{text} was not a valid datetime (ISO 8601 or epoch ms).")
        return iso(moment)
    if prop_type == "enumeration" and options:
        chosen = [v for v in text.lstrip(";").split(";")] if field_type == "checkbox" else [text]
        bad = [v for v in chosen if v not in options]
        if bad:
            raise InvalidValue(
                "INVALID_OPTION",
                f"{bad[0]} was not one of the allowed options: [{', '.join(options)}]",
            )
        return ";".join(chosen)
    if len(text) > MAX_STRING:
        raise InvalidValue("INVALID_STRING", f"Value is longer than {MAX_STRING} characters.")
    return text


def _date(text: str) -> str:
    if text.lstrip("-").isdigit():
        moment = datetime.fromtimestamp(int(text) / 1000, UTC)
        if moment.time() != time(0):
            raise InvalidValue(
                "INVALID_DATE",
                f"{text} is not a valid date: date values must be midnight UTC in epoch milliseconds.",
            )
        return moment.date().isoformat()
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise InvalidValue("INVALID_DATE", f"{text} was not a valid date (YYYY-MM-DD or midnight UTC ms).") from None


def sort_key(prop_type: str, value: str | None) -> tuple[int, Any]:
    """Orders values of one property: missing first, then by the type's natural order."""
    if value is None or value == "":
        return (0, "")
    comparable = comparable_value(prop_type, value)
    return (1, comparable) if comparable is not None else (2, value.lower())


def comparable_value(prop_type: str, value: str) -> Any:
    """Numbers as Decimal, dates and datetimes as epoch ms, everything else case-folded."""
    if prop_type == "number":
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    if prop_type in ("date", "datetime"):
        moment = parse_instant(value)
        return to_ms(moment) if moment else None
    return value.lower()
