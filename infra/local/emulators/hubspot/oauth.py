"""The registered app and OAuth 2.0 as HubSpot runs it (reference §1): the consent page, codes,
30-minute access tokens on the emulator clock, refresh tokens, introspection and revocation.

Refresh tokens are not rotated: a refresh answers with the same refresh token (HubSpot does not
document rotation; clients must store whatever comes back). Uninstalling (admin) revokes them.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from ..core import Request, Response, redirect, route
from ..demo_accounts import HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET
from .access import PUBLIC, requires
from .errors import HubSpotError
from .project import LOCAL_PROFILE, AppProject, load_project
from .versions import numbered_or_dated

if TYPE_CHECKING:
    from .app import HubSpotEmulator

APP_ID = 4_000_123  # the id HubSpot would give our app; demo_accounts names only its client id/secret
ACCESS_TOKEN_SECONDS = 1800
CODE_SECONDS = 600
INSUFFICIENT_SCOPES = (
    "Authorization failed because the provided scopes are insufficient. Please contact the app developer."
)
COULD_NOT_CONNECT = "Couldn't complete the connection"
MISMATCHED_SCOPES = (
    "Authorization failed because there is a mismatch between the scopes in the install URL and the app's "
    "configured scopes. Please contact the app developer."
)


# The token endpoint's `grant_type` enum lists `client_credentials` in OAuth v1, v3 and 2026-03, not in 2026-09
# (`authorization_code`, `refresh_token` only):
# https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Auth/Oauth/Rollouts/279897/2026-09/oauth.json
# https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/Auth/Oauth/Rollouts/279897/2026-03/oauth.json
CLIENT_CREDENTIALS_REFUSED = ("/oauth/2026-09/",)


def _project() -> AppProject:
    return load_project(LOCAL_PROFILE)


@dataclass
class AppConfig:
    """Our app as registered in the developer account (read from `infra/hubspot-app/`, as `hs project
    upload` registers it), plus where its record card lives.

    Scopes always come from the project. Redirect URLs and permitted fetch/iframe origins are enforced
    once a backend URL is set (`backend_url`, the project's `${BACKEND_URL}`); the local stack sets it.
    """

    app_id: int = APP_ID
    client_id: str = HUBSPOT_CLIENT_ID
    client_secret: str = HUBSPOT_CLIENT_SECRET
    project: AppProject = field(default_factory=_project)
    backend_url: str | None = None
    redirect_uris: list[str] = field(default_factory=list)  # empty: any redirect_uri is accepted
    card_url: str | None = None  # what the record page's card fetches (signed)
    page_base_url: str | None = None  # relative hrefs in card JSON resolve against it
    timeline_templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def required_scopes(self) -> tuple[str, ...]:
        return self.project.required_scopes

    @property
    def optional_scopes(self) -> tuple[str, ...]:
        return self.project.optional_scopes + self.project.conditionally_required_scopes

    @property
    def permitted_fetch(self) -> tuple[str, ...] | None:
        """None until a backend URL is set: then the record page fetches nothing else."""
        return self.project.permitted_fetch if self.backend_url else None

    @property
    def permitted_iframe(self) -> tuple[str, ...] | None:
        return self.project.permitted_iframe if self.backend_url else None

    def use_backend(self, backend_url: str) -> None:
        """Registers the project with `${BACKEND_URL}` = `backend_url` (as a profile would set it)."""
        self.backend_url = backend_url.rstrip("/")
        self.project = load_project(LOCAL_PROFILE, {"BACKEND_URL": self.backend_url})
        self.redirect_uris = list(self.project.redirect_urls)

    def update(self, spec: dict[str, Any]) -> None:
        if spec.get("backend_url"):
            self.use_backend(str(spec["backend_url"]))
        for key in ("redirect_uris", "card_url", "page_base_url"):
            if key in spec:
                setattr(self, key, spec[key])
        for template in spec.get("timeline_event_templates", []):
            template = dict(template)
            template.setdefault("id", str(1000 + len(self.timeline_templates) + 1))
            template["id"] = str(template["id"])
            template.setdefault("objectType", "deals")
            template.setdefault("tokens", [])
            self.timeline_templates[template["id"]] = template

    def scope_problem(self, scope: str, optional: str) -> str | None:
        """HubSpot's refusal of an install URL whose scopes differ from the app's, or None.
        https://knowledge.hubspot.com/integrations/resolve-a-request-for-integration-permissions-error"""
        asked, asked_optional = set(scope.split()), set(optional.split())
        required, declared_optional = set(self.required_scopes), set(self.optional_scopes)
        if not required <= asked or required & asked_optional:
            return INSUFFICIENT_SCOPES
        if asked - required or asked_optional - declared_optional:
            return MISMATCHED_SCOPES
        return None

    def granted_scopes(self, optional: str) -> list[str]:
        """A token carries the app's required scopes and the optional ones asked for (every emulated
        portal has access to all of them)."""
        return sorted(set(self.required_scopes) | (set(optional.split()) & set(self.optional_scopes)))

    def to_json(self) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "client_id": self.client_id,
            "backend_url": self.backend_url,
            "redirect_uris": self.redirect_uris,
            "required_scopes": list(self.required_scopes),
            "optional_scopes": list(self.optional_scopes),
            "permitted_urls": {"fetch": self.permitted_fetch, "iframe": self.permitted_iframe},
            "card_url": self.card_url,
            "page_base_url": self.page_base_url,
            "timeline_event_templates": list(self.timeline_templates.values()),
        }


@dataclass
class Grant:
    """What an install gave the app: one portal, as one user, with these scopes."""

    portal_id: int
    user_id: str
    user_email: str
    scopes: list[str]
    app_level: bool = False  # a client-credentials token: the app itself, no portal


@dataclass
class Tokens:
    codes: dict[str, tuple[Grant, str, float]] = field(default_factory=dict)  # code -> grant, redirect, expiry
    access: dict[str, tuple[Grant, float]] = field(default_factory=dict)  # token -> grant, expiry
    refresh: dict[str, Grant] = field(default_factory=dict)

    def issue(self, grant: Grant, now: float, refresh_token: str | None = None) -> dict[str, Any]:
        access_token = "C" + secrets.token_urlsafe(150)  # HubSpot's tokens are long; allow ≥ 300 chars
        self.access[access_token] = (grant, now + ACCESS_TOKEN_SECONDS)
        if refresh_token is None:
            refresh_token = f"na1-{secrets.token_hex(2)}-{secrets.token_hex(2)}-{secrets.token_hex(16)}"
            self.refresh[refresh_token] = grant
        return {
            "access_token": access_token,
            "refresh_token": refresh_token,
            "expires_in": ACCESS_TOKEN_SECONDS,
            "token_type": "bearer",
            "token_use": "access_token",
            "hub_id": grant.portal_id,
            "user_id": int(grant.user_id),
            "scopes": grant.scopes,
        }

    def authenticate(self, header: str | None, now: float) -> Grant:
        """The grant behind `Authorization: Bearer ...`, or HubSpot's 401."""
        if not header or not header.lower().startswith("bearer "):
            raise HubSpotError(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        token = header.split(" ", 1)[1].strip()
        found = self.access.get(token)
        if found is None:
            raise HubSpotError(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials are invalid. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        grant, expires = found
        if now >= expires:
            ago = int(now - expires)
            raise HubSpotError(
                401,
                "EXPIRED_AUTHENTICATION",
                f"The OAuth token used to make this call expired {ago} second(s) ago.",
                context={"expire time": [str(int(expires * 1000))]},
            )
        return grant

    def revoke_portal(self, portal_id: int) -> None:
        for store in (self.access, self.refresh, self.codes):
            for key in [k for k, v in store.items() if (v if isinstance(v, Grant) else v[0]).portal_id == portal_id]:
                del store[key]


def oauth_error(status_word: str, error: str, message: str, http_status: int = 400) -> HubSpotError:
    """Token endpoint errors: RFC 6749 fields plus HubSpot's legacy `status`/`message`."""
    return HubSpotError(
        http_status,
        "VALIDATION_ERROR",
        message,
        extra={"status": status_word, "error": error, "error_description": message},
    )


class OAuthRoutes:
    """Route mixin of `HubSpotEmulator` for /oauth/..."""

    # -- consent -------------------------------------------------------------------------------
    @route("GET", r"/oauth/authorize")
    @route("GET", r"/oauth/(?P<pinned>\d+)/authorize")
    @requires(PUBLIC)
    def oauth_authorize_form(self: HubSpotEmulator, request: Request) -> Response:
        client_id = request.arg("client_id", "")
        redirect_uri = request.arg("redirect_uri", "")
        if client_id != self.app.client_id:
            return _page(400, "Authorization failed", f"Unknown client_id {client_id!r}.")
        if self.app.redirect_uris and redirect_uri not in self.app.redirect_uris:
            return _page(400, "Authorization failed", f"redirect_uri {redirect_uri!r} does not match the app.")
        scope = request.arg("scope", "") or ""
        optional = request.arg("optional_scope", "") or ""
        problem = self.app.scope_problem(scope, optional)
        if problem:
            return _page(400, COULD_NOT_CONNECT, problem)
        pinned = request.params.get("pinned")
        portals = [p for p in self.portals.values() if pinned is None or str(p.id) == pinned]
        if not portals:
            return _page(404, "Authorization failed", f"No HubSpot account {pinned}.")
        options = "".join(
            f'<option value="{p.id}:{u.id}">{html.escape(p.name)} ({p.id}) — {html.escape(u.email)}'
            f"{' (Super Admin)' if u.super_admin else ''}</option>"
            for p in portals
            for u in p.users
        )
        hidden = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(v or "")}">'
            for k, v in (
                ("client_id", client_id),
                ("redirect_uri", redirect_uri),
                ("scope", scope),
                ("optional_scope", optional),
                ("state", request.arg("state", "")),
            )
        )
        scopes = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in (scope + " " + optional).split())
        body = (
            "<h1>Connect app</h1><p>The app is requesting access to:</p>"
            f"<ul>{scopes}</ul>"
            f'<form method="post" action="/oauth/authorize">{hidden}'
            f'<label>Account and user <select name="account" id="account">{options}</select></label> '
            '<button type="submit" name="decision" value="allow" id="connect">Connect app</button> '
            '<button type="submit" name="decision" value="deny" id="deny">Cancel</button></form>'
        )
        return _page(200, "Connect app", body)

    @route("POST", r"/oauth/authorize")
    @requires(PUBLIC)
    def oauth_authorize_submit(self: HubSpotEmulator, request: Request) -> Response:
        form = request.form()
        redirect_uri, state = form.get("redirect_uri", ""), form.get("state", "")
        if form.get("client_id") != self.app.client_id or not redirect_uri:
            return _page(400, "Authorization failed", "Missing client_id or redirect_uri.")
        if self.app.redirect_uris and redirect_uri not in self.app.redirect_uris:
            return _page(400, "Authorization failed", "redirect_uri does not match the app.")
        problem = self.app.scope_problem(form.get("scope", ""), form.get("optional_scope", ""))
        if problem:
            return _page(400, COULD_NOT_CONNECT, problem)
        back = {"state": state} if state else {}
        if form.get("decision") != "allow":
            return redirect(_with_query(redirect_uri, {"error": "access_denied", **back}))
        portal_id, _, user_id = form.get("account", "").partition(":")
        portal = self.portals.get(int(portal_id)) if portal_id.isdigit() else None
        user = portal.user(user_id) if portal else None
        if portal is None or user is None:
            return _page(400, "Authorization failed", "Choose an account and a user.")
        if not user.can_install_apps:
            return _page(
                403,
                "You can't connect this app",
                "Only Super Admins or users with App Marketplace Access permissions can install apps. "
                "Ask a Super Admin in this account to install it.",
            )
        code = secrets.token_urlsafe(24)
        grant = Grant(portal.id, user.id, user.email, self.app.granted_scopes(form.get("optional_scope", "")))
        self.tokens.codes[code] = (grant, redirect_uri, self.clock.timestamp() + CODE_SECONDS)
        self.app_installed(portal.id, int(user.id))  # journal.py: APP_INSTALL
        return redirect(_with_query(redirect_uri, {"code": code, **back}))

    # -- tokens --------------------------------------------------------------------------------
    @route("POST", r"/oauth/v1/token")
    @route("POST", numbered_or_dated("/oauth/v3", "/oauth") + r"/token")
    @requires(PUBLIC)
    def oauth_token(self: HubSpotEmulator, request: Request) -> Response:
        form = request.form()
        if request.path.startswith("/oauth/v1/"):  # v1 also took parameters in the query string
            form = {**{k: v[0] for k, v in request.query.items()}, **form}
        self._check_client(form)
        now = self.clock.timestamp()
        grant_type = form.get("grant_type")
        with self.lock:
            if grant_type == "authorization_code":
                found = self.tokens.codes.pop(form.get("code", ""), None)
                if found is None or found[2] < now:
                    raise oauth_error("BAD_AUTH_CODE", "invalid_grant", "missing or unknown auth code")
                grant, redirect_uri, _ = found
                if form.get("redirect_uri") != redirect_uri:
                    raise oauth_error("BAD_REDIRECT_URI", "invalid_grant", "redirect_uri does not match")
                return Response(body=self.tokens.issue(grant, now))
            if grant_type == "refresh_token":
                refresh = form.get("refresh_token", "")
                grant = self.tokens.refresh.get(refresh)
                if grant is None:
                    raise oauth_error(
                        "BAD_REFRESH_TOKEN", "invalid_grant", "refresh token is invalid, expired or revoked"
                    )
                return Response(body=self.tokens.issue(grant, now, refresh_token=refresh))
            if grant_type == "client_credentials" and not request.path.startswith(CLIENT_CREDENTIALS_REFUSED):
                return self.client_credentials(form, now)  # journal.py
        raise oauth_error("BAD_GRANT_TYPE", "unsupported_grant_type", f"unsupported grant_type {grant_type!r}")

    def _check_client(self: HubSpotEmulator, form: dict[str, str]) -> None:
        if form.get("client_id") != self.app.client_id:
            raise oauth_error("BAD_CLIENT_ID", "invalid_client", "missing or invalid client_id")
        if form.get("client_secret") != self.app.client_secret:
            raise oauth_error("BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client_secret")

    @route("POST", numbered_or_dated("/oauth/v3", "/oauth") + r"/token/introspect")
    @requires(PUBLIC)
    def oauth_introspect(self: HubSpotEmulator, request: Request) -> Response:
        form = request.form()
        self._check_client(form)
        token = form.get("token") or form.get("access_token") or form.get("refresh_token") or ""
        if token in self.tokens.refresh:
            return Response(body=self._refresh_info(token, v3=True))
        return Response(body=self._access_info(token, v3=True))

    @route("GET", r"/oauth/v1/access-tokens/(?P<token>[^/]+)")
    @requires(PUBLIC)
    def oauth_v1_access_token(self: HubSpotEmulator, request: Request) -> Response:
        return Response(body=self._access_info(request.params["token"], v3=False))

    @route("GET", r"/oauth/v1/refresh-tokens/(?P<token>[^/]+)")
    @requires(PUBLIC)
    def oauth_v1_refresh_token(self: HubSpotEmulator, request: Request) -> Response:
        return Response(body=self._refresh_info(request.params["token"], v3=False))

    @route("DELETE", r"/oauth/v1/refresh-tokens/(?P<token>[^/]+)")
    @requires(PUBLIC)
    def oauth_v1_revoke(self: HubSpotEmulator, request: Request) -> Response:
        if self.tokens.refresh.pop(request.params["token"], None) is None:
            raise oauth_error("BAD_REFRESH_TOKEN", "invalid_grant", "refresh token is invalid, expired or revoked", 404)
        return Response(status=204)

    @route("POST", numbered_or_dated("/oauth/v3", "/oauth") + r"/token/revoke")
    @requires(PUBLIC)
    def oauth_revoke(self: HubSpotEmulator, request: Request) -> Response:
        form = request.form()
        self._check_client(form)
        if self.tokens.refresh.pop(form.get("token", ""), None) is None:
            raise oauth_error("BAD_REFRESH_TOKEN", "invalid_grant", "refresh token is invalid, expired or revoked")
        return Response(status=204)

    def _access_info(self: HubSpotEmulator, token: str, *, v3: bool) -> dict[str, Any]:
        found = self.tokens.access.get(token)
        now = self.clock.timestamp()
        if found is None or found[1] <= now:
            raise oauth_error(
                "BAD_ACCESS_TOKEN", "invalid_token", "access token is invalid or expired", 404 if not v3 else 400
            )
        grant, expires = found
        info = self._token_info(grant, token)
        info.update(expires_in=int(expires - now), token_type="access" if not v3 else "bearer")
        if v3:
            info.update(
                token_use="access_token",
                is_private_distribution=False,
                signed_access_token={
                    "appId": self.app.app_id,
                    "appInstallId": f"{grant.portal_id}-{self.app.app_id}",
                    "audience": "api",
                    "expiresAt": int(expires * 1000),
                    "hubId": grant.portal_id,
                    "hublet": "na1",
                    "installingUserId": int(grant.user_id),
                    "isPrivateDistribution": False,
                    "isServiceAccount": False,
                    "isUserLevel": False,
                    "newSignature": secrets.token_urlsafe(16),
                    "scopeToScopeGroupPks": "",
                    "scopes": " ".join(grant.scopes),
                    "signature": secrets.token_urlsafe(16),
                    "trialScopeToScopeGroupPks": "",
                    "trialScopes": "",
                    "userId": int(grant.user_id),
                },
            )
        return info

    def _refresh_info(self: HubSpotEmulator, token: str, *, v3: bool) -> dict[str, Any]:
        grant = self.tokens.refresh.get(token)
        if grant is None:
            raise oauth_error(
                "BAD_REFRESH_TOKEN",
                "invalid_grant",
                "refresh token is invalid, expired or revoked",
                404 if not v3 else 400,
            )
        info = self._token_info(grant, token)
        info["token_type"] = "refresh" if not v3 else "bearer"
        if v3:
            info["token_use"] = "refresh_token"
        return info

    def _token_info(self: HubSpotEmulator, grant: Grant, token: str) -> dict[str, Any]:
        return {
            "active": True,
            "token": token,
            "user": grant.user_email,
            "user_id": int(grant.user_id),
            "hub_id": grant.portal_id,
            "hub_domain": f"portal-{grant.portal_id}.hubspot.example",
            "app_id": self.app.app_id,
            "client_id": self.app.client_id,
            "scopes": grant.scopes,
        }


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _page(status: int, title: str, content: str) -> Response:
    """An HTML page: `content` is markup for the consent form, plain text (escaped) for errors."""
    inner = content if status == 200 else f"<h1>{html.escape(title)}</h1><p>{html.escape(content)}</p>"
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:2em auto'>{inner}</body></html>"
    )
    return Response(status=status, body=page, content_type="text/html; charset=utf-8")
