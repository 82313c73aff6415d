"""Class and location on an invoice: which ones, where they go, and why one cannot be used.

QBO tracks classes either once per invoice or once per line, and locations (its Department entity) once
per invoice; a company may track neither. The choice for one invoice: the value of the deal property the
company mapped, when the deal has one, else the company's default. A deal that names a class or location
QBO does not have (or has made inactive) is refused with the reason rather than booked under the default:
revenue filed under the wrong segment is worse for finance than an invoice that waits to be corrected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.domain.invoice_draft import FieldError

PROPERTY_NAME = r"^[a-z0-9_]{1,100}$"  # a HubSpot property's internal name


class ClassMode(StrEnum):
    OFF = "off"
    TRANSACTION = "transaction"  # one class on the invoice (header ClassRef)
    LINE = "line"  # one class per line (SalesItemLineDetail.ClassRef)


class TrackingPrefs(BaseModel):
    """The company's Categories switches, as read from QBO."""

    model_config = ConfigDict(frozen=True)

    classes: ClassMode = ClassMode.OFF
    locations: bool = False
    location_term: str = "Location"  # what the company calls its locations (Department, Division, …)

    @property
    def tracks_anything(self) -> bool:
        return self.classes is not ClassMode.OFF or self.locations


class Segment(BaseModel):
    """One QBO class or location."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    full_name: str  # `Parent:Child`
    active: bool = True


class TrackingSettings(BaseModel):
    """What the company's admin chose: defaults by QBO id, and the deal properties that override them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_class_id: str | None = Field(default=None, max_length=20)
    default_location_id: str | None = Field(default=None, max_length=20)
    class_property: str | None = Field(default=None, pattern=PROPERTY_NAME)
    location_property: str | None = Field(default=None, pattern=PROPERTY_NAME)

    @property
    def configured(self) -> bool:
        return any((self.default_class_id, self.default_location_id, self.class_property, self.location_property))

    def deal_properties(self) -> tuple[str, ...]:
        return tuple(p for p in (self.class_property, self.location_property) if p)


Source = Literal["deal", "default"]


class Chosen(BaseModel):
    model_config = ConfigDict(frozen=True)

    segment: Segment
    source: Source


class TrackingChoice(BaseModel):
    """What one invoice gets; `errors` name the field (`class` / `location`) and say why."""

    model_config = ConfigDict(frozen=True)

    class_mode: ClassMode = ClassMode.OFF
    chosen_class: Chosen | None = None
    location: Chosen | None = None
    errors: tuple[FieldError, ...] = ()


def find_segment(value: str, segments: Sequence[Segment]) -> Segment | None:
    """The class or location `value` names: its QBO id, its full name (`Parent:Child`) or, if only one has it,
    its own name; letter case and surrounding blanks do not matter. Inactive ones are found too (to say so)."""
    wanted = value.strip()
    if not wanted:
        return None
    by_id = next((s for s in segments if s.id == wanted), None)
    if by_id is not None:
        return by_id
    folded = wanted.casefold()
    by_full = [s for s in segments if s.full_name.casefold() == folded]
    if by_full:
        return sorted(by_full, key=lambda s: not s.active)[0]
    by_name = [s for s in segments if s.name.casefold() == folded]
    return by_name[0] if len(by_name) == 1 else None


def _pick(
    kind: Literal["class", "location"],
    default_id: str | None,
    prop: str | None,
    deal: Mapping[str, Any],
    segments: Sequence[Segment],
    errors: list[FieldError],
) -> Chosen | None:
    named = str(deal.get(prop) or "").strip() if prop else ""
    if named:
        found = find_segment(named, segments)
        if found is None:
            errors.append(
                FieldError(
                    field=kind,
                    message=f"The deal's {prop} is {named}, which is no {kind} in QuickBooks; "
                    f"correct the deal or the {kind} settings.",
                )
            )
            return None
        if not found.active:
            errors.append(
                FieldError(
                    field=kind,
                    message=f"The deal's {prop} is {named}, which is an inactive {kind} in QuickBooks; "
                    f"correct the deal or the {kind} settings.",
                )
            )
            return None
        return Chosen(segment=found, source="deal")
    if not default_id:
        return None
    default = next((s for s in segments if s.id == default_id), None)
    if default is None or not default.active:
        errors.append(
            FieldError(
                field=kind,
                message=f"The default {kind} of this QuickBooks company is no longer active; "
                "choose another in the settings.",
            )
        )
        return None
    return Chosen(segment=default, source="default")


def choose_tracking(
    prefs: TrackingPrefs,
    settings: TrackingSettings,
    deal: Mapping[str, Any],
    classes: Sequence[Segment],
    locations: Sequence[Segment],
) -> TrackingChoice:
    """The class and location for one invoice; nothing for what the company does not track."""
    errors: list[FieldError] = []
    chosen_class = None
    if prefs.classes is not ClassMode.OFF:
        chosen_class = _pick("class", settings.default_class_id, settings.class_property, deal, classes, errors)
    chosen_location = None
    if prefs.locations:
        chosen_location = _pick(
            "location", settings.default_location_id, settings.location_property, deal, locations, errors
        )
    return TrackingChoice(
        class_mode=prefs.classes, chosen_class=chosen_class, location=chosen_location, errors=tuple(errors)
    )


def apply_tracking(body: dict[str, Any], choice: TrackingChoice) -> dict[str, Any]:
    """`body` (QBO's invoice) with the choice in place: `DepartmentRef` on the invoice; `ClassRef` on the
    invoice or on each item (and discount) line, as the company tracks classes. Nothing is added for what was
    not chosen."""
    if choice.location is not None:
        body["DepartmentRef"] = _ref(choice.location.segment)
    chosen = choice.chosen_class
    if chosen is None:
        return body
    if choice.class_mode is ClassMode.TRANSACTION:
        body["ClassRef"] = _ref(chosen.segment)
    elif choice.class_mode is ClassMode.LINE:
        # Every item line, and the discount line too (Finance.xsd DiscountLineDetail.ClassRef, "the Class for
        # the discount"), so the discount lands in the same class as the revenue it reduces.
        for line in body.get("Line") or []:
            kind = line.get("DetailType")
            detail = line.get(kind) if kind in ("SalesItemLineDetail", "DiscountLineDetail") else None
            if isinstance(detail, dict):
                detail["ClassRef"] = _ref(chosen.segment)
    return body


def _ref(segment: Segment) -> dict[str, str]:
    return {"value": segment.id, "name": segment.full_name}
