"""Account-level APIs: account info (§10), settings users and roles, CRM owners, timeline events (§4.1).

Timeline events only work for templates registered in the app configuration (admin), as in HubSpot
where only apps with existing v3 templates may send them; an unknown template answers 404.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ..core import Request, Response, route
from . import catalog
from .access import requires
from .crm import batch_envelope
from .errors import HubSpotError, not_found, validation
from .store import Portal, User
from .values import iso, parse_instant
from .versions import numbered_or_dated

if TYPE_CHECKING:
    from .app import HubSpotEmulator

USERS = numbered_or_dated("/settings/v3/users", "/settings/users")
OWNERS = numbered_or_dated("/crm/v3/owners", "/crm/owners")
# Template timeline events have no dated path (the dated timeline API is App Events, another model).
TIMELINE_PREFIXES = (r"/integrators/timeline/v3/events", r"/crm/v3/timeline/events")


def account_json(portal: Portal, now: datetime) -> dict[str, Any]:
    offset = now.astimezone(ZoneInfo(portal.time_zone)).utcoffset()
    assert offset is not None
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return {
        "portalId": portal.id,
        "accountType": portal.account_type,
        "timeZone": portal.time_zone,
        "companyCurrency": portal.currency,
        "additionalCurrencies": portal.additional_currencies,
        "utcOffset": f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
        "utcOffsetMilliseconds": minutes * 60_000,
        "uiDomain": portal.ui_domain,
        "dataHostingLocation": portal.data_hosting,
    }


def owner_json(user: User, created: datetime) -> dict[str, Any]:
    return {
        "id": user.owner_id,
        "email": user.email,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "userId": int(user.id),
        "userIdIncludingInactive": int(user.id),
        "type": "PERSON",
        "createdAt": iso(created),
        "updatedAt": iso(created),
        "archived": False,
        "teams": [],
    }


class AccountRoutes:
    """Route mixin of `HubSpotEmulator` for account info, users, owners and timeline events."""

    @route("GET", numbered_or_dated("/account-info/v3", "/account-info") + r"/details")
    @requires("oauth")
    def account_details(self: HubSpotEmulator, request: Request) -> Response:
        return Response(body=account_json(self.portal_of(request), self.clock.now()))

    # -- users and owners ----------------------------------------------------------------------
    @route("GET", USERS + r"/?")
    @requires("users")
    def users_list(self: HubSpotEmulator, request: Request) -> Response:
        return Response(body={"results": [u.to_json() for u in self.portal_of(request).users]})

    @route("GET", USERS + r"/roles")
    @requires("users")
    def users_roles(self: HubSpotEmulator, request: Request) -> Response:
        return Response(body={"results": self.portal_of(request).roles})

    @route("GET", USERS + r"/(?P<userId>(?!roles$|teams$)[^/]+)")
    @requires("users")
    def users_read(self: HubSpotEmulator, request: Request) -> Response:
        portal, key = self.portal_of(request), request.params["userId"]
        by_email = request.arg("idProperty", "USER_ID") == "EMAIL"
        user = next((u for u in portal.users if (u.email if by_email else u.id) == key), None)
        if user is None:
            raise not_found(f"No user {key}")
        return Response(body=user.to_json())

    @route("GET", OWNERS + r"/?")
    @requires("owners")
    def owners_list(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        email = request.arg("email")
        users = [u for u in portal.users if email is None or u.email == email]
        return Response(body={"results": [owner_json(u, portal.created_at or self.clock.now()) for u in users]})

    @route("GET", OWNERS + r"/(?P<ownerId>\d+)")
    @requires("owners")
    def owners_read(self: HubSpotEmulator, request: Request) -> Response:
        portal, key = self.portal_of(request), request.params["ownerId"]
        by_user = request.arg("idProperty", "id") == "userId"
        user = next((u for u in portal.users if (u.id if by_user else u.owner_id) == key), None)
        if user is None:
            raise not_found(f"No owner {key}")
        return Response(body=owner_json(user, portal.created_at or self.clock.now()))

    # -- timeline ------------------------------------------------------------------------------
    def record_event(self: HubSpotEmulator, portal: Portal, spec: dict[str, Any]) -> dict[str, Any]:
        template = self.app.timeline_templates.get(str(spec.get("eventTemplateId", "")))
        if template is None:
            raise not_found(f"Event template {spec.get('eventTemplateId')} does not exist for this app")
        t = catalog.object_type(template["objectType"])
        assert t is not None
        object_id = str(spec.get("objectId") or "")
        if not object_id and t.name == "contacts" and spec.get("email"):
            found = portal.find_by("contacts", "email", str(spec["email"]).lower())
            object_id = found.id if found else ""
        target = portal.objects[t.name].get(object_id)
        if target is None or target.archived:
            raise not_found(f"No {t.singular} {object_id or '(missing objectId)'} for this event")
        tokens = spec.get("tokens") or {}
        known = {tok["name"] for tok in template.get("tokens", [])}
        unknown = sorted(set(tokens) - known)
        if unknown:
            raise validation(f"Tokens {unknown} are not defined on event template {template['id']}")
        event_id = str(spec.get("id") or uuid.uuid4()).replace("{{uuid}}", str(uuid.uuid4()))
        when = parse_instant(str(spec["timestamp"])) if spec.get("timestamp") else self.clock.now()
        event = {
            "id": event_id,
            "eventTemplateId": template["id"],
            "objectType": t.name,
            "objectId": object_id,
            "tokens": {k: str(v) for k, v in tokens.items()},
            "extraData": spec.get("extraData") or {},
            "timestamp": iso(when or self.clock.now()),
            "createdAt": iso(self.clock.now()),
        }
        if spec.get("timelineIFrame"):
            event["timelineIFrame"] = spec["timelineIFrame"]
        portal.timeline_events[(template["id"], event_id)] = event
        return event

    @route("POST", TIMELINE_PREFIXES[0])
    @route("POST", TIMELINE_PREFIXES[1])
    @requires("timeline")
    def timeline_create(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        with self.lock:
            return Response(status=201, body=self.record_event(portal, request.json() or {}))

    @route("POST", TIMELINE_PREFIXES[0] + r"/batch/create")
    @route("POST", TIMELINE_PREFIXES[1] + r"/batch/create")
    @requires("timeline")
    def timeline_batch_create(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        started = iso(self.clock.now())
        results, errors = [], []
        with self.lock:
            for spec in (request.json() or {}).get("inputs") or []:
                try:
                    results.append(self.record_event(portal, spec))
                except HubSpotError as exc:
                    errors.append(exc.batch_error())
        status = 207 if errors else 201
        return Response(status=status, body=batch_envelope(results, errors, started, iso(self.clock.now())))

    @route("GET", TIMELINE_PREFIXES[0] + r"/(?P<templateId>[^/]+)/(?P<eventId>[^/]+)")
    @route("GET", TIMELINE_PREFIXES[1] + r"/(?P<templateId>[^/]+)/(?P<eventId>[^/]+)")
    @requires("timeline")
    def timeline_read(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        event = portal.timeline_events.get((request.params["templateId"], request.params["eventId"]))
        if event is None:
            raise not_found("Timeline event not found")
        return Response(body=event)
