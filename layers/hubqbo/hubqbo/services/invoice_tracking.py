"""Class and location on invoices: the company's settings (read, saved, checked against QBO) and the choice
for one invoice that the wizard's prepare keeps in its session (the review shows it, create applies it).

A company that tracks neither in QBO has nothing to set; one that has saved nothing gets nothing from us
(QBO leaves the fields empty, as before). The choice rules are `domain/tracking.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hubqbo.clients import qbo_tracking
from hubqbo.clients.qbo import QboClient
from hubqbo.domain.invoice_draft import FieldError
from hubqbo.domain.text import N_, Text
from hubqbo.domain.tracking import (
    ClassMode,
    Segment,
    TrackingChoice,
    TrackingPrefs,
    TrackingSettings,
    apply_tracking,
    choose_tracking,
)
from hubqbo.errors import FieldProblem, InvalidFields, NotFound
from hubqbo.observability import logger
from hubqbo.store.tracking import StoredTracking, TrackingStore

OPTIONAL_ID = r"^(\d{1,20})?$"  # "" clears the default
OPTIONAL_PROPERTY = r"^([a-z0-9_]{1,100})?$"  # "" removes the mapping


class TrackingChange(BaseModel):
    """A PUT body: what is left out keeps its value; an empty string clears it."""

    model_config = ConfigDict(extra="forbid")

    default_class_id: str | None = Field(default=None, pattern=OPTIONAL_ID)
    default_location_id: str | None = Field(default=None, pattern=OPTIONAL_ID)
    class_property: str | None = Field(default=None, pattern=OPTIONAL_PROPERTY)
    location_property: str | None = Field(default=None, pattern=OPTIONAL_PROPERTY)


NO_CHANGE = TrackingChange()
NOT_TRACKED = {
    "class": N_("This QuickBooks company does not track classes (Settings → Advanced → Categories)."),
    "location": N_("This QuickBooks company does not track locations (Settings → Advanced → Categories)."),
}
NO_PROPERTY = N_("HubSpot has no deal property with this internal name.")
PROPERTY_TYPES = ("string", "enumeration")  # what can hold a class's or location's name or id
# Deal property definitions by name; `fresh` re-reads them (a property created a moment ago).
DealProperties = Callable[[bool], dict[str, Any]]
NOT_ACTIVE = {
    "class": N_("Choose an active class of this QuickBooks company."),
    "location": N_("Choose an active location of this QuickBooks company."),
}


def _connected(connections: Any, portal_id: int, realm_id: str) -> None:
    if connections.get_connection(portal_id, realm_id) is None:
        raise NotFound(
            Text.of(N_("No QuickBooks company %(realm)s is connected to this HubSpot account."), realm=realm_id)
        )


def _option(segment: Segment) -> dict[str, Any]:
    return {"id": segment.id, "name": segment.full_name, "active": segment.active}


def _view(
    realm_id: str,
    stored: StoredTracking,
    prefs: TrackingPrefs,
    classes: list[Segment],
    locations: list[Segment],
    properties: dict[str, Any],
) -> dict[str, Any]:
    settings = stored.settings

    def current(segment_id: str | None, found: list[Segment]) -> dict[str, Any] | None:
        if not segment_id:
            return None
        match = next((s for s in found if s.id == segment_id), None)
        return _option(match) if match else {"id": segment_id, "name": None, "active": False}

    return {
        "realm_id": realm_id,
        "tracks": {
            "classes": str(prefs.classes),
            "locations": prefs.locations,
            "location_term": prefs.location_term,
        },
        **settings.model_dump(),
        "default_class": current(settings.default_class_id, classes),
        "default_location": current(settings.default_location_id, locations),
        "classes": [_option(s) for s in classes if s.active],
        "locations": [_option(s) for s in locations if s.active],
        "deal_properties": sorted(
            ({"name": p.name, "label": p.label} for p in properties.values() if p.type in PROPERTY_TYPES),
            key=lambda p: str(p["label"]).casefold(),
        ),
        "version": stored.version,
    }


def settings_view(
    store: TrackingStore,
    connections: Any,
    qbo: QboClient,
    deal_properties: DealProperties,
    portal_id: int,
    realm_id: str,
) -> dict[str, Any]:
    """The company's switches, its active classes and locations (one QBO batch call), the deal properties that
    can name them (HubSpot's definitions, cached per process) and what was saved."""
    _connected(connections, portal_id, realm_id)
    prefs, classes, locations = qbo_tracking.read_tracking(qbo)
    stored = store.settings(portal_id, realm_id)
    return _view(realm_id, stored, prefs, classes, locations, deal_properties(False))


def update_settings(
    store: TrackingStore,
    connections: Any,
    qbo: QboClient,
    deal_properties: DealProperties,
    portal_id: int,
    realm_id: str,
    change: TrackingChange,
    now: float,
) -> dict[str, Any]:
    """Merge `change` into the saved settings; a default must be an active class / location of a company that
    tracks it (InvalidFields, 400, names each field at fault)."""
    _connected(connections, portal_id, realm_id)
    prefs, classes, locations = qbo_tracking.read_tracking(qbo)
    merged = store.settings(portal_id, realm_id).settings.model_dump()
    for name in change.model_fields_set:
        merged[name] = getattr(change, name) or None
    problems: list[FieldProblem] = []
    checks = (
        ("class", "default_class_id", prefs.classes is not ClassMode.OFF, classes),
        ("location", "default_location_id", prefs.locations, locations),
    )
    for kind, field, tracked, found in checks:
        wanted = merged[field]
        if wanted and field in change.model_fields_set:
            if not tracked:
                problems.append(FieldProblem(field, NOT_TRACKED[kind]))
            elif not any(s.id == wanted and s.active for s in found):
                problems.append(FieldProblem(field, NOT_ACTIVE[kind]))
    properties = deal_properties(False)
    named = [f for f in ("class_property", "location_property") if f in change.model_fields_set and merged[f]]
    if any(merged[f] not in properties for f in named):
        properties = deal_properties(True)  # perhaps created since the definitions were read
    problems += [FieldProblem(f, NO_PROPERTY) for f in named if merged[f] not in properties]
    if problems:
        raise InvalidFields(problems)
    stored = store.save(portal_id, realm_id, TrackingSettings.model_validate(merged), now)
    logger.info("Class and location settings saved", extra={"portal_id": portal_id, "version": stored.version})
    return _view(realm_id, stored, prefs, classes, locations, properties)


# -- the choice for one invoice (the wizard's prepare keeps it in the session) --------------------------------
def settings_for(store: TrackingStore | None, portal_id: int, realm_id: str) -> TrackingSettings:
    """The saved settings, or none when the ports carry no store (nothing configured)."""
    return store.settings(portal_id, realm_id).settings if store is not None else TrackingSettings()


def prepare_queries(settings: TrackingSettings) -> list[tuple[str, str, str]]:
    """The batch items the wizard's one QBO batch adds when the company has settings (none otherwise)."""
    return qbo_tracking.segment_queries("tracking_") if settings.configured else []


def prepare_choice(
    settings: TrackingSettings,
    preferences: dict[str, Any],
    rows: dict[str, list[dict[str, Any]]],
    deal_properties: dict[str, Any],
) -> dict[str, Any] | None:
    """The choice as the session keeps it (JSON), from the batch's rows and the deal's properties."""
    if not settings.configured:
        return None
    prefs = qbo_tracking.tracking_prefs(preferences)
    classes = qbo_tracking.segments(rows.get("tracking_classes") or [])
    locations = qbo_tracking.segments(rows.get("tracking_locations") or [])
    choice = choose_tracking(prefs, settings, deal_properties, classes, locations)
    return {**choice.model_dump(mode="json"), "location_term": prefs.location_term}


def recover_choice(
    store: TrackingStore | None,
    hubspot: Callable[[], Any],
    qbo: QboClient,
    portal_id: int,
    realm_id: str,
    deal_id: str,
) -> dict[str, Any] | None:
    """The choice again when the wizard session that kept it was lost (expired): the deal's mapped properties
    (one HubSpot read) and the company's switches and lists (one QBO batch), only if the company has settings."""
    settings = settings_for(store, portal_id, realm_id)
    if not settings.configured:
        return None
    wanted = settings.deal_properties()
    deal = hubspot().crm_object("deals", deal_id, wanted) if wanted else {}
    items = [("prefs", "Preferences", "SELECT * FROM Preferences"), *prepare_queries(settings)]
    answers = qbo.batch([{"bId": bid, "Query": statement} for bid, _, statement in items])
    rows = {bid: ((answers.get(bid) or {}).get("QueryResponse") or {}).get(entity) or [] for bid, entity, _ in items}
    return prepare_choice(settings, (rows["prefs"] or [{}])[0], rows, deal.get("properties") or {})


def _choice(kept: dict[str, Any] | None) -> TrackingChoice | None:
    if not kept:
        return None
    return TrackingChoice.model_validate({k: v for k, v in kept.items() if k != "location_term"})


def apply_choice(body: dict[str, Any] | None, kept: dict[str, Any] | None) -> list[FieldError]:
    """Put the kept choice on the invoice's body (when there is one); the problems it carries."""
    choice = _choice(kept)
    if choice is None:
        return []
    if body is not None:
        apply_tracking(body, choice)
    return list(choice.errors)


def review_view(kept: dict[str, Any] | None) -> dict[str, Any] | None:
    """What the review shows: the class (and whether on each line) and the location, and where each came from."""
    choice = _choice(kept)
    if choice is None or (choice.chosen_class is None and choice.location is None):
        return None

    def shown(chosen: Any) -> dict[str, Any] | None:
        return None if chosen is None else {"name": chosen.segment.full_name, "source": chosen.source}

    return {
        "class": shown(choice.chosen_class),
        "class_per_line": choice.class_mode is ClassMode.LINE,
        "location": shown(choice.location),
        "location_term": (kept or {}).get("location_term") or "Location",
    }
