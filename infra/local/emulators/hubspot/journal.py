"""The app lifecycle as HubSpot reports it: the Webhooks Journal (2026-09), its subscriptions, the
app's client-credentials token, and the uninstall API.

- A client-credentials token (`POST /oauth/2026-03/token`, `grant_type=client_credentials`; also v1 and v3)
  names the app, not a portal, and carries only the `developer.webhooks_journal.*` scopes it asked for. The
  2026-09 token endpoint does not list that grant type and answers `unsupported_grant_type` (see oauth.py).
  https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Auth/Oauth/Rollouts/279897/2026-03/oauth.json
- `POST /webhooks-journal/subscriptions/2026-09` upserts an app-level subscription; only subscribed
  lifecycle events (4-1909196 install, 4-1916193 uninstall) are written to the journal.
- `GET /webhooks-journal/journal/2026-09/{earliest|latest|offset/{offset}/next}` answer
  `{currentOffset, expiresAt, url}` or 204; the `url` is a presigned link on this server (no
  Authorization header allowed, as S3 refuses a second auth mechanism) serving
  `{offset, journalEvents, publishedAt}`. Entries older than the retention (3 days) are gone.
  https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Webhooks%20Journal/Webhooks%20Journal/Rollouts/284944/2026-09/webhooksJournal.json
  https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/guide
- `DELETE /appinstalls/2026-09/external-install` with a portal's token uninstalls the app there: 204.
  https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/CRM/App%20Uninstalls/Rollouts/209039/2026-09/appUninstalls.json

An uninstall (a user in HubSpot's UI, the admin route, or the uninstall API) revokes every token of
the portal, so a refresh answers `invalid_grant` / `BAD_REFRESH_TOKEN`, and journals APP_UNINSTALL
at the emulator clock's time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..core import ADMIN_PREFIX, Request, Response, route
from .access import PUBLIC, requires
from .errors import HubSpotError, not_found, validation
from .oauth import Grant, oauth_error

if TYPE_CHECKING:
    from .app import HubSpotEmulator

VERSION = "2026-09"
JOURNAL_SCOPES = (
    "developer.webhooks_journal.read",
    "developer.webhooks_journal.subscriptions.read",
    "developer.webhooks_journal.subscriptions.write",
    "developer.webhooks_journal.snapshots.read",
    "developer.webhooks_journal.snapshots.write",
)
INSTALL_EVENT_TYPE = "4-1909196"
UNINSTALL_EVENT_TYPE = "4-1916193"
LIFECYCLE_EVENT_TYPES = {INSTALL_EVENT_TYPE: "APP_INSTALL", UNINSTALL_EVENT_TYPE: "APP_UNINSTALL"}
RETENTION = timedelta(days=3)
PRESIGNED_SECONDS = 300
APP_TOKEN_SECONDS = 1800
JOURNAL = rf"/webhooks-journal/journal/{VERSION}"
PAGE_PATH = "/_journal-data/pages"  # stands in for the presigned S3 object HubSpot links to


def _iso(at: datetime) -> str:
    """`occurredAt`/`publishedAt` as ISO 8601 strings with milliseconds, as a public journal CLI reads them
    (https://github.com/sejal27/sej-webhooks-journal/blob/main/src/types/api.ts; the OpenAPI file is silent)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class JournalPage:
    offset: str
    published_at: datetime
    events: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {"offset": self.offset, "journalEvents": self.events, "publishedAt": _iso(self.published_at)}


@dataclass
class Journal:
    """Subscriptions, the journal's pages (oldest first) and which portals have the app installed."""

    signing_key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    subscriptions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    pages: list[JournalPage] = field(default_factory=list)
    installed: set[int] = field(default_factory=set)

    def subscribed(self, event_type_id: str) -> bool:
        return ("APP_LIFECYCLE_EVENT", event_type_id) in self.subscriptions

    def publish(self, event: dict[str, Any], now: datetime) -> JournalPage | None:
        if not self.subscribed(str(event["eventTypeId"])):
            return None
        page = JournalPage(str(uuid.uuid4()), now, [event])
        self.pages.append(page)
        return page

    def retained(self, now: datetime) -> list[JournalPage]:
        return [p for p in self.pages if p.published_at > now - RETENTION]

    def sign(self, offset: str, expires: int) -> str:
        return hmac.new(self.signing_key, f"{offset}:{expires}".encode(), hashlib.sha256).hexdigest()


def lifecycle_event(action: str, portal_id: int, user_id: int | None, app_id: int, at: datetime) -> dict[str, Any]:
    event_type = next(t for t, a in LIFECYCLE_EVENT_TYPES.items() if a == action)
    return {
        "type": "app_lifecycle_event",
        "action": action,
        "portalId": portal_id,
        "occurredAt": _iso(at),
        "eventTypeId": event_type,
        "properties": {
            "hs_app_id": str(app_id),
            "hs_app_install_level": "PORTAL",
            "hs_initiating_user_id": str(user_id) if user_id is not None else None,
            "hs_user_id": str(user_id) if user_id is not None else None,
        },
    }


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    return Response(status=status, body=body, content_type="application/xml")


class JournalRoutes:
    """Route mixin of `HubSpotEmulator`: the journal, subscriptions, uninstall, and their admin actions."""

    # -- what the rest of the emulator calls -----------------------------------------------------
    def app_installed(self: HubSpotEmulator, portal_id: int, user_id: int | None) -> None:
        """The consent page (or an admin token) installed the app: journal APP_INSTALL once."""
        with self.lock:
            if portal_id in self.journal.installed:
                return
            self.journal.installed.add(portal_id)
            event = lifecycle_event("APP_INSTALL", portal_id, user_id, self.app.app_id, self.clock.now())
            self.journal.publish(event, self.clock.now())

    def app_uninstalled(self: HubSpotEmulator, portal_id: int, user_id: int | None) -> dict[str, Any]:
        """The app is gone from the portal: every token of it stops working; APP_UNINSTALL is journaled."""
        with self.lock:
            self.tokens.revoke_portal(portal_id)
            self.journal.installed.discard(portal_id)
            event = lifecycle_event("APP_UNINSTALL", portal_id, user_id, self.app.app_id, self.clock.now())
            page = self.journal.publish(event, self.clock.now())
        return {"uninstalled": portal_id, "journaled": page is not None, "event": event}

    def client_credentials(self: HubSpotEmulator, form: dict[str, str], now: float) -> Response:
        """The app's own token: only journal scopes, no portal (client id/secret checked by the caller)."""
        asked = (form.get("scope") or "").split()
        unknown = sorted(set(asked) - set(JOURNAL_SCOPES))
        if not asked or unknown:
            raise oauth_error("BAD_SCOPES", "invalid_scope", f"scopes not allowed for client_credentials: {unknown}")
        grant = Grant(0, "0", "", sorted(set(asked)), app_level=True)
        token = "CC" + secrets.token_urlsafe(120)
        with self.lock:
            self.tokens.access[token] = (grant, now + APP_TOKEN_SECONDS)
        return Response(
            body={
                "access_token": token,
                "expires_in": APP_TOKEN_SECONDS,
                "token_type": "bearer",
                "token_use": "client_credentials",
            }
        )

    def _app_grant(self: HubSpotEmulator, request: Request) -> None:
        if not getattr(request.grant, "app_level", False):  # type: ignore[attr-defined]
            raise HubSpotError(
                401, "INVALID_AUTHENTICATION", "This API needs the app's client credentials token, not a portal token"
            )

    # -- subscriptions ---------------------------------------------------------------------------
    @route("POST", rf"/webhooks-journal/subscriptions/{VERSION}")
    @requires("journal_subscriptions_write")
    def journal_subscribe(self: HubSpotEmulator, request: Request) -> Response:
        self._app_grant(request)
        body = request.json() or {}
        kind, event_type = body.get("subscriptionType"), str(body.get("eventTypeId") or "")
        if kind != "APP_LIFECYCLE_EVENT" or event_type not in LIFECYCLE_EVENT_TYPES:
            raise validation(
                f"subscriptionType must be APP_LIFECYCLE_EVENT with eventTypeId in {sorted(LIFECYCLE_EVENT_TYPES)}"
            )
        if not isinstance(body.get("properties", []), list):
            raise validation("properties must be a list")
        now = _iso(self.clock.now())
        with self.lock:
            existing = self.journal.subscriptions.get((kind, event_type))
            subscription = {
                "id": existing["id"] if existing else len(self.journal.subscriptions) + 1,
                "appId": self.app.app_id,
                "subscriptionType": kind,
                "eventTypeId": event_type,
                "properties": list(body.get("properties") or []),
                "createdAt": existing["createdAt"] if existing else now,
                "updatedAt": now,
            }
            self.journal.subscriptions[(kind, event_type)] = subscription
        return Response(status=200 if existing else 201, body=subscription)

    @route("GET", rf"/webhooks-journal/subscriptions/{VERSION}")
    @requires("journal_subscriptions_read")
    def journal_subscriptions(self: HubSpotEmulator, request: Request) -> Response:
        self._app_grant(request)
        return Response(body={"results": list(self.journal.subscriptions.values())})

    # -- the journal -----------------------------------------------------------------------------
    def _pointer(self: HubSpotEmulator, page: JournalPage | None, request: Request) -> Response:
        if page is None:
            return Response(status=204)
        expires = int(self.clock.timestamp()) + PRESIGNED_SECONDS
        signature = self.journal.sign(page.offset, expires)
        url = f"{self.base_url}{PAGE_PATH}/{page.offset}?X-Amz-Expires={expires}&X-Amz-Signature={signature}"
        expires_at = _iso(datetime.fromtimestamp(expires, UTC))
        return Response(body={"currentOffset": page.offset, "expiresAt": expires_at, "url": url})

    def _portal_pages(self: HubSpotEmulator, request: Request) -> list[JournalPage]:
        pages = self.journal.retained(self.clock.now())
        portal = request.arg("installPortalId")
        if portal is None:
            return pages
        if not portal.isdigit():
            raise validation("installPortalId must be a number")
        return [p for p in pages if any(e["portalId"] == int(portal) for e in p.events)]

    @route("GET", JOURNAL + r"/earliest")
    @requires("journal_read")
    def journal_earliest(self: HubSpotEmulator, request: Request) -> Response:
        self._app_grant(request)
        with self.lock:
            pages = self._portal_pages(request)
        return self._pointer(pages[0] if pages else None, request)

    @route("GET", JOURNAL + r"/latest")
    @requires("journal_read")
    def journal_latest(self: HubSpotEmulator, request: Request) -> Response:
        self._app_grant(request)
        with self.lock:
            pages = self._portal_pages(request)
        return self._pointer(pages[-1] if pages else None, request)

    @route("GET", JOURNAL + r"/offset/(?P<offset>[^/]+)/next")
    @requires("journal_read")
    def journal_next(self: HubSpotEmulator, request: Request) -> Response:
        """The entry after `offset`; an offset this journal never issued is 404 (one that aged out of
        the retention still has a place, so the next retained entry follows it)."""
        self._app_grant(request)
        offset = request.params["offset"]
        with self.lock:
            order = {p.offset: i for i, p in enumerate(self.journal.pages)}
            if offset not in order:
                raise not_found(f"Offset {offset} was not found in the journal")
            retained = {p.offset for p in self._portal_pages(request)}
            later = [p for p in self.journal.pages[order[offset] + 1 :] if p.offset in retained]
        return self._pointer(later[0] if later else None, request)

    @route("GET", PAGE_PATH + r"/(?P<offset>[^/]+)")
    @requires(PUBLIC)
    def journal_page(self: HubSpotEmulator, request: Request) -> Response:
        """The presigned object: refused with a second auth mechanism, a bad signature or after expiry."""
        if request.headers.get("authorization"):
            return _s3_error(400, "InvalidArgument", "Only one auth mechanism allowed")
        offset, expires = request.params["offset"], request.arg("X-Amz-Expires", "") or ""
        signature = request.arg("X-Amz-Signature", "") or ""
        if not expires.isdigit() or not hmac.compare_digest(signature, self.journal.sign(offset, int(expires))):
            return _s3_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match")
        if self.clock.timestamp() > int(expires):
            return _s3_error(403, "AccessDenied", "Request has expired")
        with self.lock:
            page = next((p for p in self.journal.retained(self.clock.now()) if p.offset == offset), None)
        if page is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return Response(body=page.to_json())

    # -- uninstalling ------------------------------------------------------------------------------
    @route("DELETE", rf"/appinstalls/{VERSION}/external-install")
    @requires("install")
    def external_uninstall(self: HubSpotEmulator, request: Request) -> Response:
        grant = request.grant  # type: ignore[attr-defined]
        if getattr(grant, "app_level", False):
            raise HubSpotError(401, "INVALID_AUTHENTICATION", "Uninstalling needs the portal's OAuth access token")
        self.app_uninstalled(grant.portal_id, int(grant.user_id))
        return Response(status=204)

    @route("POST", ADMIN_PREFIX + r"/portals/(?P<portalId>\d+)/uninstall")
    def admin_uninstall(self: HubSpotEmulator, request: Request) -> Response:
        """A user uninstalls the app from the portal in HubSpot. Body (optional): {"user_id"}."""
        portal = self.admin_portal(request)
        user = (request.json() or {}).get("user_id") or (portal.users[0].id if portal.users else None)
        return Response(body=self.app_uninstalled(portal.id, int(user) if user is not None else None))

    @route("GET", ADMIN_PREFIX + r"/journal")
    def admin_journal(self: HubSpotEmulator, request: Request) -> Response:
        """Every journal entry (retained or not) and the subscriptions, for test assertions."""
        with self.lock:
            return Response(
                body={
                    "subscriptions": list(self.journal.subscriptions.values()),
                    "pages": [p.to_json() for p in self.journal.pages],
                    "installed": sorted(self.journal.installed),
                }
            )
