"""Field types on both sides of a mapping, which pairs are compatible, and value coercion.

A QBO field (from the XSDs) and a HubSpot property (from the properties API) each have a *kind*:

| kind        | QBO (XSD)                              | HubSpot (`type` / `fieldType`)                  |
|-------------|----------------------------------------|-------------------------------------------------|
| text        | xs:string, references' value/name      | string, phone_number                            |
| number      | xs:decimal, xs:int, xs:long, xs:double | number                                          |
| date        | xs:date                                | date                                            |
| datetime    | xs:dateTime                            | datetime                                        |
| boolean     | xs:boolean                             | bool, or enumeration shown as booleancheckbox   |
| enumeration | a simpleType with xs:enumeration       | enumeration (select, radio, checkbox)           |

Compatible pairs (QBO → HubSpot): text → text, number → number, date/datetime → date/datetime,
boolean → single checkbox, and text/boolean/enumeration → enumeration through a value map (QBO
value → HubSpot option value; a value the map leaves out is used as it is when HubSpot has that
option). A QBO enumeration may also feed a text property (its value as written). Anything else is
refused with a sentence that says why. HubSpot properties whose values HubSpot calculates, and our
own id properties, can never be mapped.

Coercion turns one QBO value into the string HubSpot stores; a value that cannot be converted raises
`NotConvertible`, and the caller skips that property for that record (the rest of it still syncs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.domain.dates import parse_date, parse_instant
from hubqbo.domain.money import to_decimal
from hubqbo.domain.text import N_, Text

MAX_TEXT = 65_536


class Kind(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"
    BOOLEAN = "boolean"
    ENUMERATION = "enumeration"

    @property
    def words(self) -> Text:
        """How a sentence names a value of this kind."""
        return Text.of(
            {
                Kind.TEXT: N_("text"),
                Kind.NUMBER: N_("a number"),
                Kind.DATE: N_("a date"),
                Kind.DATETIME: N_("a date and time"),
                Kind.BOOLEAN: N_("a yes/no value"),
                Kind.ENUMERATION: N_("a choice from a list"),
            }[self]
        )


class _Refusal(ValueError):
    """A refusal in words: `text` is the message for people (rendered in the reader's language),
    `str(exc)` its English."""

    def __init__(self, message: Text) -> None:
        self.text = message
        super().__init__(message.english())


class IncompatibleMapping(_Refusal):
    """A mapping that cannot be saved; the message is shown to the user as it is."""


class NotConvertible(_Refusal):
    """One value of one record could not be turned into the HubSpot property's type."""


@dataclass(frozen=True)
class HubSpotRecord:
    """A HubSpot CRM record as a batch read or search answers it: its id and the properties asked for."""

    id: str
    properties: Mapping[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_api(cls, result: Mapping[str, Any]) -> HubSpotRecord:
        return cls(id=str(result["id"]), properties=dict(result.get("properties") or {}))


class HubSpotProperty(BaseModel):
    """What a mapping needs of a HubSpot property definition (from `GET /crm/properties/2026-09/{type}`)."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    type: str
    field_type: str = ""
    options: tuple[str, ...] = ()
    read_only: bool = False
    unique: bool = False
    hubspot_defined: bool = False

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> HubSpotProperty:
        meta = body.get("modificationMetadata") or {}
        return cls(
            name=body["name"],
            label=body.get("label") or body["name"],
            type=body.get("type") or "string",
            field_type=body.get("fieldType") or "",
            options=tuple(str(o.get("value")) for o in body.get("options") or [] if not o.get("hidden")),
            read_only=bool(meta.get("readOnlyValue") or body.get("calculated")),
            unique=bool(body.get("hasUniqueValue")),
            hubspot_defined=bool(body.get("hubspotDefined")),
        )

    @property
    def display_label(self) -> Text | str:
        """The label people read: HubSpot's own properties in the reader's language (their catalog
        message), a property someone created under the name they gave it."""
        from hubqbo.domain.hubspot_labels import hubspot_label

        known = hubspot_label(self.name) if self.hubspot_defined else None
        return Text.of(known) if known else self.label

    @property
    def kind(self) -> Kind | None:
        if self.type in ("string", "phone_number"):
            return Kind.TEXT
        if self.type == "number":
            return Kind.NUMBER
        if self.type == "date":
            return Kind.DATE
        if self.type == "datetime":
            return Kind.DATETIME
        if self.type == "bool" or (self.type == "enumeration" and self.field_type == "booleancheckbox"):
            return Kind.BOOLEAN
        if self.type == "enumeration":
            return Kind.ENUMERATION
        return None  # e.g. object_coordinates, json: never mappable


class QboField(BaseModel):
    """One field of a QBO entity a mapping may read: a dotted JSON path, a label and its kind.

    `derived` fields are computed by hubqbo (a contact's first name when QBO has none, an invoice's
    status); their paths start with `@`.
    """

    model_config = ConfigDict(frozen=True)

    path: str
    label: str
    kind: Kind
    values: tuple[str, ...] = Field(default=(), description="The allowed values of an enumeration")
    derived: bool = False

    @property
    def display_label(self) -> Text:
        """The label people read (a catalog message: the label is its English id)."""
        return Text.of(self.label)


# -- compatibility -----------------------------------------------------------------------------------
_DIRECT: dict[Kind, frozenset[Kind]] = {
    Kind.TEXT: frozenset({Kind.TEXT}),
    Kind.NUMBER: frozenset({Kind.NUMBER}),
    Kind.DATE: frozenset({Kind.DATE, Kind.DATETIME}),
    Kind.DATETIME: frozenset({Kind.DATE, Kind.DATETIME}),
    Kind.BOOLEAN: frozenset({Kind.BOOLEAN}),
    Kind.ENUMERATION: frozenset({Kind.TEXT}),
}
_MAPPABLE_TO_ENUMERATION = frozenset({Kind.TEXT, Kind.BOOLEAN, Kind.ENUMERATION})


def check_pair(field: QboField, prop: HubSpotProperty, value_map: Mapping[str, str] | None = None) -> None:
    """Raises IncompatibleMapping (with the reason) unless `field` may feed `prop` with `value_map`."""
    target = prop.kind
    label, field_label = prop.display_label, field.display_label
    if prop.read_only:
        raise IncompatibleMapping(
            Text.of(N_("HubSpot calculates “%(property)s” itself, so nothing can be written to it."), property=label)
        )
    if prop.unique and not prop.hubspot_defined:
        raise IncompatibleMapping(
            Text.of(
                N_("“%(property)s” holds a unique id; hubqbo keeps its own link ids and it cannot be mapped."),
                property=label,
            )
        )
    if target is None:
        raise IncompatibleMapping(
            Text.of(
                N_("HubSpot property “%(property)s” has a type (%(type)s) that cannot be mapped."),
                property=label,
                type=prop.type,
            )
        )
    value_map = dict(value_map or {})
    if target == Kind.ENUMERATION:
        if field.kind not in _MAPPABLE_TO_ENUMERATION:
            raise IncompatibleMapping(
                Text.of(
                    N_(
                        "“%(field)s” is %(kind)s in QuickBooks and “%(property)s” is a choice from a list in "
                        "HubSpot: only text, yes/no and list values can be matched to HubSpot's options."
                    ),
                    field=field_label,
                    kind=field.kind.words,
                    property=label,
                )
            )
        unknown = sorted(v for v in value_map.values() if v not in prop.options)
        if unknown:
            raise IncompatibleMapping(
                Text.of(
                    N_(
                        "The value map names %(values)s, which is not an option of “%(property)s” "
                        "(options: %(options)s)."
                    )
                    if len(unknown) == 1
                    else N_(
                        "The value map names %(values)s, which are not options of “%(property)s” "
                        "(options: %(options)s)."
                    ),
                    values=", ".join(repr(v) for v in unknown),
                    property=label,
                    options=", ".join(prop.options) or Text.of(N_("none")),
                )
            )
        if field.values:
            bad = sorted(k for k in value_map if k not in field.values)
            if bad:
                raise IncompatibleMapping(
                    Text.of(
                        N_(
                            "The value map names %(values)s, which QuickBooks never uses for “%(field)s” "
                            "(its values: %(options)s)."
                        ),
                        values=", ".join(repr(k) for k in bad),
                        field=field_label,
                        options=", ".join(field.values),
                    )
                )
        return
    if value_map:
        raise IncompatibleMapping(
            Text.of(N_("A value map only applies to list properties, and “%(property)s” is not one."), property=label)
        )
    if target not in _DIRECT[field.kind]:
        raise IncompatibleMapping(
            Text.of(
                N_(
                    "“%(field)s” is %(kind)s in QuickBooks but “%(property)s” expects %(expected)s in HubSpot: %(rule)s"
                ),
                field=field_label,
                kind=field.kind.words,
                property=label,
                expected=target.words,
                rule=_rule(field.kind),
            )
        )


def _rule(kind: Kind) -> Text:
    return Text.of(
        {
            Kind.TEXT: N_("text can only feed text properties (or a list property through a value map)."),
            Kind.NUMBER: N_("numbers can only feed number properties."),
            Kind.DATE: N_("dates can only feed date or date-and-time properties."),
            Kind.DATETIME: N_("dates can only feed date or date-and-time properties."),
            Kind.BOOLEAN: N_("yes/no values can only feed single checkboxes (or a list property through a value map)."),
            Kind.ENUMERATION: N_(
                "QuickBooks list values can feed text properties, or a list property through a value map."
            ),
        }[kind]
    )


# -- coercion ----------------------------------------------------------------------------------------
def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return format(Decimal(str(value)), "f")
    return str(value).strip()


def _plain_number(number: Decimal) -> str:
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def coerce(
    value: Any,
    prop: HubSpotProperty,
    value_map: Mapping[str, str] | None = None,
    *,
    zone: str | ZoneInfo = "UTC",
) -> str:
    """The string HubSpot stores for QBO `value` in `prop` ("" clears it); NotConvertible if impossible.

    Dates written to a date-and-time property become the start of that day in `zone` (the portal's
    time zone), so HubSpot shows the same calendar day as QuickBooks.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    kind = prop.kind
    if kind == Kind.TEXT:
        text = _as_text(value)
        if len(text) > MAX_TEXT:
            raise NotConvertible(Text.of(N_("the text is longer than HubSpot's %(limit)s characters"), limit=MAX_TEXT))
        return text
    if kind == Kind.NUMBER:
        try:
            return _plain_number(to_decimal(value))
        except ValueError:
            raise NotConvertible(Text.of(N_("“%(value)s” is not a number"), value=_short(value))) from None
    if kind == Kind.DATE:
        try:
            day = parse_date(value)
        except (ValueError, TypeError):
            raise NotConvertible(Text.of(N_("“%(value)s” is not a date"), value=_short(value))) from None
        return day.isoformat() if day else ""
    if kind == Kind.DATETIME:
        return _datetime_value(value, zone)
    if kind == Kind.BOOLEAN:
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value).strip().lower()
        if text in ("true", "false"):
            return text
        raise NotConvertible(Text.of(N_("“%(value)s” is not a yes/no value"), value=_short(value)))
    if kind == Kind.ENUMERATION:
        key = _as_text(value)
        chosen = (value_map or {}).get(key, key)
        if chosen not in prop.options:
            raise NotConvertible(
                Text.of(
                    N_("“%(value)s” has no matching option in “%(property)s” (add it to the value map)"),
                    value=_short(key),
                    property=prop.display_label,
                )
            )
        return chosen
    raise NotConvertible(
        Text.of(
            N_("“%(property)s” has a type (%(type)s) hubqbo cannot write"), property=prop.display_label, type=prop.type
        )
    )


def _datetime_value(value: Any, zone: str | ZoneInfo) -> str:
    text = value.isoformat() if isinstance(value, date | datetime) else str(value).strip()
    try:
        moment: datetime | None
        if len(text) == 10:  # a QBO date: the start of that day where the portal's users are
            tz = ZoneInfo(zone) if isinstance(zone, str) else zone
            moment = datetime.combine(date.fromisoformat(text), time(0), tz).astimezone(UTC)
        else:
            moment = parse_instant(text)
    except (ValueError, TypeError):
        raise NotConvertible(Text.of(N_("“%(value)s” is not a date and time"), value=_short(value))) from None
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "…"


def comparable(prop: HubSpotProperty, value: str | None) -> Any:
    """A value as compared when deciding whether a record changed (HubSpot may echo `75.00` for `75`)."""
    if value is None or value == "":
        return ""
    kind = prop.kind
    try:
        if kind == Kind.NUMBER:
            return to_decimal(value).normalize()
        if kind == Kind.DATETIME:
            return parse_instant(value)
        if kind == Kind.DATE:
            return parse_date(value[:10])
    except (ValueError, TypeError):
        return value
    if kind == Kind.TEXT and prop.name == "email":
        return value.strip().lower()
    return value
