"""The HubSpot emulator: a real HTTP server holding many portals in memory, answering the APIs our
integration uses with HubSpot's shapes, status codes, scopes and rate limits.

Start it with `HubSpotEmulator().start(port=0)`; point `hubspot.HubSpot(access_token=...,
host=emulator.base_url)` at it. Admin routes live under `/_emulator/` (see `AdminRoutes`).

Deliberate differences from HubSpot: requested properties that have no value are left out of
`properties` (HubSpot sends `null`, which its own OpenAPI schema does not allow); search sees
writes at once (HubSpot's index lags a few seconds); refresh tokens are not rotated.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from ..core import ADMIN_PREFIX, Clock, Emulator, Request, Response, route
from ..demo_accounts import SUPER_ADMIN_EMAIL
from . import catalog, record_page, seed
from .access import ACCESS_ATTR, POLICY_ATTR, PUBLIC, RateLimits, missing_scopes, rate_limit_error, scopes_for
from .account import AccountRoutes
from .associations import AssociationRoutes
from .crm import CrmRoutes, object_json
from .errors import CORE_KINDS, HubSpotError, not_found, validation
from .extension_fetch import FetchRefused, extension_fetch
from .journal import Journal, JournalRoutes
from .oauth import CODE_SECONDS, AppConfig, Grant, OAuthRoutes, Tokens
from .properties_api import PropertiesRoutes
from .rules import RuleRoutes, ValidationRules
from .store import Portal
from .workflows import Execution, Workflow, WorkflowRoutes

DEFAULT_PORT = 3001  # the local stack's HubSpot; tests use port 0
PORTAL = ADMIN_PREFIX + r"/portals/(?P<portalId>\d+)"


class AdminRoutes:
    """`/_emulator/...` beyond core's reset/seed/calls/faults/clock: app configuration, rate
    limits, tokens without the consent page, "product UI" edits, object listings, the record page."""

    def admin_portal(self: HubSpotEmulator, request: Request) -> Portal:
        portal = self.portals.get(int(request.params["portalId"]))
        if portal is None:
            raise not_found(f"No portal {request.params['portalId']}")
        return portal

    def admin_type(self: HubSpotEmulator, request: Request) -> catalog.ObjectType:
        t = catalog.object_type(request.params["objectType"])
        if t is None:
            raise validation(f"Unknown object type {request.params['objectType']}")
        return t

    @route("GET", ADMIN_PREFIX + r"/app")
    def admin_app(self: HubSpotEmulator, request: Request) -> Response:
        return Response(body=self.app.to_json())

    @route("PUT", ADMIN_PREFIX + r"/app")
    def admin_configure_app(self: HubSpotEmulator, request: Request) -> Response:
        """Body: {"backend_url" (the project's ${BACKEND_URL}: sets redirect URLs and permitted URLs from
        infra/hubspot-app), "card_url", "page_base_url", "redirect_uris": [..], "timeline_event_templates":
        [{"id"?, "name", "objectType", "tokens": [{"name", "label", "type"}]}]}; keys left out keep their value."""
        with self.lock:
            self.app.update(request.json() or {})
        return Response(body=self.app.to_json())

    @route("GET", ADMIN_PREFIX + r"/rate-limits")
    def admin_rate_limits(self: HubSpotEmulator, request: Request) -> Response:
        return Response(body=self.limits.to_json())

    @route("POST", ADMIN_PREFIX + r"/rate-limits")
    def admin_set_rate_limits(self: HubSpotEmulator, request: Request) -> Response:
        """Body: {"enabled": bool, "burst": 110, "window_seconds": 10, "search_per_second": 5}."""
        with self.lock:
            self.limits.configure(request.json() or {})
        return Response(body=self.limits.to_json())

    def _admin_scopes(self: HubSpotEmulator, spec: dict[str, Any]) -> list[str]:
        """The scopes a test asked for (e.g. too few, to see MISSING_SCOPES), else exactly the app's."""
        if spec.get("scopes"):
            return sorted(set(spec["scopes"]))
        return self.app.granted_scopes(" ".join(self.app.optional_scopes))

    @route("POST", ADMIN_PREFIX + r"/oauth/tokens")
    def admin_issue_token(self: HubSpotEmulator, request: Request) -> Response:
        """Body: {"portal_id", "user_email"?, "scopes"?: [..]} → the token endpoint's response (default
        scopes: the app's)."""
        spec = request.json() or {}
        portal = self.portals.get(int(spec.get("portal_id", 0)))
        if portal is None:
            raise not_found(f"No portal {spec.get('portal_id')}")
        user = portal.user(spec.get("user_email") or SUPER_ADMIN_EMAIL)
        if user is None:
            raise not_found(f"No user {spec.get('user_email')} in portal {portal.id}")
        grant = Grant(portal.id, user.id, user.email, self._admin_scopes(spec))
        with self.lock:
            self.app_installed(portal.id, int(user.id))
            return Response(body=self.tokens.issue(grant, self.clock.timestamp()))

    @route("POST", ADMIN_PREFIX + r"/oauth/codes")
    def admin_issue_code(self: HubSpotEmulator, request: Request) -> Response:
        """Body: {"portal_id", "user_email", "redirect_uri", "scopes"?} → {"code"}: an auth code for any user,
        skipping the consent page's own permission check (so an app's check of the installer can be tested)."""
        spec = request.json() or {}
        portal = self.portals.get(int(spec.get("portal_id", 0)))
        user = portal.user(spec.get("user_email") or SUPER_ADMIN_EMAIL) if portal else None
        if portal is None or user is None or not spec.get("redirect_uri"):
            raise not_found("Need an existing portal_id and user_email, and a redirect_uri")
        code = secrets.token_urlsafe(24)
        grant = Grant(portal.id, user.id, user.email, self._admin_scopes(spec))
        with self.lock:
            self.tokens.codes[code] = (grant, spec["redirect_uri"], self.clock.timestamp() + CODE_SECONDS)
        return Response(body={"code": code})

    @route("GET", ADMIN_PREFIX + r"/portals")
    def admin_portals(self: HubSpotEmulator, request: Request) -> Response:
        return Response(
            body={
                "results": [
                    {
                        "portalId": p.id,
                        "name": p.name,
                        "companyCurrency": p.currency,
                        "timeZone": p.time_zone,
                        "counts": {t.name: len(p.live(t.name)) for t in catalog.OBJECT_TYPES},
                    }
                    for p in self.portals.values()
                ]
            }
        )

    @route("GET", PORTAL + r"/objects/(?P<objectType>[\w-]+)")
    def admin_objects(self: HubSpotEmulator, request: Request) -> Response:
        """Every record of a type with all properties and association ids, for test assertions."""
        portal, t = self.admin_portal(request), self.admin_type(request)
        archived = request.arg("archived", "false") == "true"
        with self.lock:
            results = []
            for obj in portal.live(t.name, archived=archived):
                body = object_json(portal, obj, everything=True)
                body["associations"] = {
                    other.name: list(ids)
                    for other in catalog.OBJECT_TYPES
                    if (ids := portal.associations(t.name, obj.id, other.name))
                }
                results.append(body)
        return Response(body={"results": results, "total": len(results)})

    @route("POST", PORTAL + r"/objects/(?P<objectType>[\w-]+)")
    def admin_ui_create(self: HubSpotEmulator, request: Request) -> Response:
        """A user creates a record in the UI. Body: {"properties", "associations": [{"type", "id"}]}."""
        portal, t = self.admin_portal(request), self.admin_type(request)
        spec = request.json() or {}
        with self.lock:
            obj = portal.create(t, portal.validate(t.name, spec.get("properties") or {}), self.clock.now())
            for link in spec.get("associations") or []:
                self.ui_associate(portal, t.name, obj.id, link["type"], str(link["id"]))
            return Response(status=201, body=object_json(portal, obj, everything=True))

    @route("PATCH", PORTAL + r"/objects/(?P<objectType>[\w-]+)/(?P<objectId>\d+)")
    def admin_ui_edit(self: HubSpotEmulator, request: Request) -> Response:
        """A user edits a record in the UI (e.g. changes a deal's amount). Body: {"properties": {...}}."""
        portal, t = self.admin_portal(request), self.admin_type(request)
        with self.lock:
            obj = portal.get(t, request.params["objectId"])
            props = portal.validate(t.name, (request.json() or {}).get("properties") or {}, existing=obj)
            before = dict(obj.properties)
            portal.update(obj, props, self.clock.now())
            body = object_json(portal, obj, everything=True)
        self.enroll(portal.id, t.name, obj.id, before, dict(obj.properties))
        return Response(body=body)

    @route("DELETE", PORTAL + r"/objects/(?P<objectType>[\w-]+)/(?P<objectId>\d+)")
    def admin_ui_delete(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.admin_portal(request), self.admin_type(request)
        with self.lock:
            portal.archive(portal.get(t, request.params["objectId"]), self.clock.now())
        return Response(status=204)

    @route("POST", PORTAL + r"/associations")
    def admin_ui_associate(self: HubSpotEmulator, request: Request) -> Response:
        """Body: {"from_type", "from_id", "to_type", "to_id", "type_id"?} (default type when left out)."""
        portal, spec = self.admin_portal(request), request.json() or {}
        with self.lock:
            self.ui_associate(
                portal,
                spec["from_type"],
                str(spec["from_id"]),
                spec["to_type"],
                str(spec["to_id"]),
                spec.get("type_id"),
            )
        return Response(status=201, body={"associated": True})

    def ui_associate(
        self: HubSpotEmulator,
        portal: Portal,
        from_name: str,
        from_id: str,
        to_name: str,
        to_id: str,
        type_id: int | None = None,
    ) -> None:
        from_t, to_t = catalog.object_type(from_name), catalog.object_type(to_name)
        if from_t is None or to_t is None:
            raise validation(f"Unknown object type in {from_name} → {to_name}")
        kind = (
            catalog.association_type(from_t.name, to_t.name, int(type_id))
            if type_id is not None
            else catalog.default_association(from_t.name, to_t.name)
        )
        if kind is None:
            raise validation(f"{from_t.name} cannot be associated with {to_t.name} that way")
        portal.get(from_t, from_id)
        portal.get(to_t, to_id)
        portal.associate(kind, from_id, to_id)

    @route("POST", PORTAL + r"/quotes/(?P<objectId>\d+)/publish")
    def admin_publish_quote(self: HubSpotEmulator, request: Request) -> Response:
        """A user publishes a quote: status APPROVAL_NOT_NEEDED, locked, with its public links."""
        portal = self.admin_portal(request)
        quotes = catalog.object_type("quotes")
        assert quotes is not None
        with self.lock:
            quote = portal.get(quotes, request.params["objectId"])
            props = {"hs_status": "APPROVAL_NOT_NEEDED", **seed.publish_links(portal, quote)}
            portal.update(quote, portal.validate("quotes", props, allow_read_only=True), self.clock.now())
            return Response(body=object_json(portal, quote, everything=True))

    @route("GET", PORTAL + r"/timeline-events")
    def admin_timeline_events(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.admin_portal(request)
        return Response(body={"results": list(portal.timeline_events.values())})

    @route("POST", ADMIN_PREFIX + r"/extension-fetch")
    def admin_extension_fetch(self: HubSpotEmulator, request: Request) -> Response:
        """A UI extension's `hubspot.fetch`, sent on as HubSpot sends it (see `extension_fetch`). Body:
        {"portal_id", "user_email"? (default: super admin), "url", "options": {"method", "headers", "body",
        "timeout"}} → {"status", "contentType", "body", "attempts"}; a refused request answers 403."""
        spec = request.json() or {}
        portal = self.portals.get(int(spec.get("portal_id") or 0))
        user = portal.user(spec.get("user_email") or SUPER_ADMIN_EMAIL) if portal else None
        if portal is None or user is None:
            raise not_found("Need an existing portal_id and user_email")
        try:
            answer = extension_fetch(
                self.app,
                portal,
                user,
                str(spec.get("url") or ""),
                spec.get("options") or {},
                int(self.clock.timestamp() * 1000),
            )
        except FetchRefused as exc:
            raise HubSpotError(403, "FETCH_REFUSED", str(exc)) from exc
        return Response(body=answer.to_json())

    @route("GET", ADMIN_PREFIX + r"/record/(?P<portalId>\d+)/(?P<objectType>[\w-]+)/(?P<objectId>\d+)")
    def admin_record_page(self: HubSpotEmulator, request: Request) -> Response:
        """The record page with our card; `?user=<email or user id>` picks who is looking (default: super admin)
        and `?locale=pl-pl` overrides that user's locale for the card and the pages it opens."""
        portal, t = self.admin_portal(request), self.admin_type(request)
        if t.name not in record_page.RECORD_TYPES:
            raise validation(f"Record pages exist for {sorted(record_page.RECORD_TYPES)}")
        user = portal.user(request.arg("user") or SUPER_ADMIN_EMAIL)
        if user is None:
            raise not_found(f"No user {request.arg('user')} in portal {portal.id}")
        with self.lock:
            obj = portal.get(t, request.params["objectId"])
            related = {
                other.name: list(portal.associations(t.name, obj.id, other.name)) for other in catalog.OBJECT_TYPES
            }
        locale = request.arg("locale")
        if locale is not None and not re.fullmatch(r"[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*", locale):
            raise validation(f"Not a locale: {locale!r}")
        query = record_page.card_query(self.app, portal, user, t, obj, locale)
        card, error = record_page.fetch_card(self.app, query, int(self.clock.timestamp() * 1000))
        page = record_page.render_page(portal, t, obj, user, record_page.render_card(self.app, card, error), related)
        return Response(body=page, content_type="text/html; charset=utf-8")


class HubSpotEmulator(
    AdminRoutes,
    RuleRoutes,
    CrmRoutes,
    PropertiesRoutes,
    AssociationRoutes,
    AccountRoutes,
    OAuthRoutes,
    JournalRoutes,
    WorkflowRoutes,
    Emulator,
):
    """HubSpot for local runs and tests. `HubSpotEmulator(seeded=False)` starts with no portals."""

    name = "hubspot"

    def __init__(self, *, seeded: bool = True, clock: Clock | None = None) -> None:
        super().__init__(clock)  # calls reset_state, which creates portals, tokens, app config and limits
        if seeded:
            self.seed({})

    # -- state -------------------------------------------------------------------------------
    def reset_state(self) -> None:
        self.portals: dict[int, Portal] = {}
        self.tokens = Tokens()
        self.app = AppConfig()
        self.limits = RateLimits()
        self.rules = ValidationRules()  # the portals' property validation rules (admin-configured)
        self.journal = Journal()
        self.executions: dict[str, Execution] = {}  # workflow action runs, for the workflow history
        self.workflows: list[Workflow] = []  # workflows with a property trigger and our action
        self.last_seed: dict[str, Any] = {}

    def seed(self, options: dict[str, Any]) -> dict[str, Any]:
        """Rebuilds the demo portals (tokens and app configuration survive, so a connected app stays connected)."""
        now = self.clock.now()
        self.portals = seed.new_portals(now)
        self.last_seed = seed.seed_all(self.portals, now)
        return self.last_seed

    @route("GET", ADMIN_PREFIX + r"/seed")
    def admin_seed_summary(self, request: Request) -> Response:
        return Response(body=self.last_seed)

    # -- per request -------------------------------------------------------------------------
    def portal_of(self, request: Request) -> Portal:
        grant: Grant = request.grant  # type: ignore[attr-defined]
        portal = self.portals.get(grant.portal_id)
        if portal is None:
            raise HubSpotError(401, "INVALID_AUTHENTICATION", f"The portal {grant.portal_id} does not exist")
        return portal

    def before_route(self, request: Request, route_name: str) -> Response | None:
        handler = getattr(type(self), route_name)
        kind = getattr(handler, ACCESS_ATTR, PUBLIC)
        if kind == PUBLIC:
            return None
        now = self.clock.timestamp()
        try:
            grant = self.tokens.authenticate(request.headers.get("authorization"), now)
        except HubSpotError as exc:
            return exc.response()
        request.grant = grant  # type: ignore[attr-defined]
        if self.limits.enabled:
            key = str(grant.portal_id)
            if getattr(handler, POLICY_ATTR) == "SECONDLY":
                allowed, _ = self.limits.search_window.hit(key, now)
                if not allowed:
                    return self.rate_limited_response(policy="SECONDLY")
            else:
                allowed, remaining = self.limits.burst_window.hit(key, now)
                request.rate_headers = self.limits.headers(remaining)  # type: ignore[attr-defined]
                if not allowed:
                    return self.rate_limited_response()
        required = scopes_for(kind, request)
        if required and not set(required) & set(grant.scopes):
            return missing_scopes(required).response()
        return None

    def dispatch(self, request: Request) -> Response:
        """Core dispatch, plus HubSpot errors raised by handlers and the rate-limit headers."""
        try:
            response = super().dispatch(request)
        except HubSpotError as exc:
            response = exc.response()
        headers = getattr(request, "rate_headers", None)
        if headers:
            response.headers = {**headers, **response.headers}
        return response

    def error_body(self, status: int, message: str, kind: str) -> Response:
        return HubSpotError(status, CORE_KINDS.get(kind, "ERROR"), message).response()

    def rate_limited_response(self, **context: Any) -> Response:
        response = rate_limit_error(context.get("policy", "TEN_SECONDLY_ROLLING")).response()
        if self.limits.enabled and context.get("policy", "TEN_SECONDLY_ROLLING") == "TEN_SECONDLY_ROLLING":
            response.headers.update(self.limits.headers(0))
        return response
