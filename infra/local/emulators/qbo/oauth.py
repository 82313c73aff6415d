"""Intuit's OAuth 2.0 server: consent page, token endpoint with refresh-token rotation, revoke, discovery.

Paths match the real hosts (`/connect/oauth2` of appcenter, `/oauth2/v1/tokens/bearer` of
oauth.platform, `/v2/oauth2/tokens/revoke` of developer.api), all on the emulator's one server.
Lifetimes run on the emulator clock: access tokens 3600 s; each refresh issues a new refresh token
and the previous one keeps working for `refresh_grace_seconds` (24 h, the figure in Intuit's Node
client README), after which it gives `invalid_grant`.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .. import demo_accounts
from ..core import Request, Response, redirect, route

ACCESS_SECONDS = 3600
REFRESH_ROLLING_SECONDS = 8_726_400  # 101 days, as observed in real responses
REFRESH_HARD_SECONDS = 5 * 365 * 86_400  # the 5-year cap announced in Nov 2025
CODE_SECONDS = 600
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
SCOPE_ACCOUNTING = "com.intuit.quickbooks.accounting"


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass
class Grant:
    """One consent (a token family): every access and refresh token issued from it."""

    realm_id: str
    hard_expires_at: float
    latest_refresh: str = ""
    revoked: bool = False


@dataclass
class RefreshToken:
    grant: Grant
    expires_at: float
    superseded_at: float | None = None
    forced_invalid: bool = False


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float


class TokenAuthority:
    """Issues, rotates and checks tokens; all times are emulator timestamps."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.refresh_grace_seconds = 86_400.0
        self.access_seconds = float(ACCESS_SECONDS)
        self.codes: dict[str, tuple[str, str, float]] = {}  # code → (realm, redirect_uri, expires_at)
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.access_tokens: dict[str, AccessToken] = {}

    def issue_code(self, realm_id: str, redirect_uri: str, now: float) -> str:
        code = "AB11" + secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = (realm_id, redirect_uri, now + CODE_SECONDS)
        return code

    def exchange_code(self, code: str, redirect_uri: str, now: float, hard: bool) -> dict[str, Any]:
        with self.lock:
            found = self.codes.pop(code, None)  # single use
        if found is None or found[2] < now:
            raise OAuthError("invalid_grant", "Invalid authorization code")
        realm_id, expected_uri, _ = found
        if redirect_uri != expected_uri:
            raise OAuthError("invalid_grant", "Redirect URI does not match the one used to authorize")
        return self.grant(realm_id, now, hard)

    def grant(self, realm_id: str, now: float, hard: bool = False) -> dict[str, Any]:
        return self._issue(Grant(realm_id, now + REFRESH_HARD_SECONDS), now, hard)

    def refresh(self, token: str, now: float, hard: bool) -> dict[str, Any]:
        with self.lock:
            found = self.refresh_tokens.get(token)
            if found is None or found.forced_invalid or found.grant.revoked or not self._alive(found, now):
                raise OAuthError("invalid_grant", "Incorrect or invalid refresh token")
            found.superseded_at = found.superseded_at or now
        return self._issue(found.grant, now, hard)

    def _alive(self, token: RefreshToken, now: float) -> bool:
        if now >= min(token.expires_at, token.grant.hard_expires_at):
            return False
        return token.superseded_at is None or now < token.superseded_at + self.refresh_grace_seconds

    def _issue(self, grant: Grant, now: float, hard: bool) -> dict[str, Any]:
        access, refresh = "eyJ" + secrets.token_urlsafe(48), "RT1-" + secrets.token_urlsafe(36)
        with self.lock:
            previous = self.refresh_tokens.get(grant.latest_refresh)
            if previous is not None and previous.superseded_at is None:
                previous.superseded_at = now
            self.access_tokens[access] = AccessToken(grant, now + self.access_seconds)
            rolling = min(now + REFRESH_ROLLING_SECONDS, grant.hard_expires_at)
            self.refresh_tokens[refresh] = RefreshToken(grant, rolling)
            grant.latest_refresh = refresh
        body: dict[str, Any] = {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "bearer",
            "expires_in": int(self.access_seconds),
            "x_refresh_token_expires_in": int(rolling - now),
        }
        if hard:
            body["x_refresh_token_hard_expires_in"] = int(grant.hard_expires_at - now)
        return body

    def revoke(self, token: str) -> None:
        """Revoking either token disconnects the app: the whole grant stops working."""
        with self.lock:
            found = self.refresh_tokens.get(token) or self.access_tokens.get(token)
            if found is not None:
                found.grant.revoked = True

    def invalidate(self, refresh_token: str | None = None, realm_id: str | None = None) -> int:
        with self.lock:
            hits = [
                t
                for value, t in self.refresh_tokens.items()
                if value == refresh_token or (realm_id is not None and t.grant.realm_id == realm_id)
            ]
            for token in hits:
                token.forced_invalid = True
        return len(hits)

    def realm_for(self, access_token: str, now: float) -> str | None:
        found = self.access_tokens.get(access_token)
        if found is None or found.grant.revoked or now >= found.expires_at:
            return None
        return found.grant.realm_id


def _basic_client(request: Request) -> bool:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return False
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return False
    return (client_id, secret) == (demo_accounts.QBO_CLIENT_ID, demo_accounts.QBO_CLIENT_SECRET)


def _oauth_error(exc: OAuthError) -> Response:
    return Response(status=exc.status, body={"error": exc.error, "error_description": exc.description})


_CONSENT_PAGE = """<!doctype html><html><head><title>Intuit - Connect to QuickBooks</title></head>
<body><h1>Connect your QuickBooks company</h1><p>The app <b>{client}</b> wants access to: {scope}</p>
<form method="post" action="/connect/oauth2">{hidden}<fieldset><legend>Choose a company</legend>{choices}</fieldset>
<button type="submit" name="decision" value="connect">Connect</button>
<button type="submit" name="decision" value="deny">Cancel</button></form></body></html>"""


class OAuthRoutes:
    """Route mixin for `QboEmulator`; expects `self.tokens` (TokenAuthority) and `self.clock`."""

    tokens: TokenAuthority

    def _discovery(self, request: Request) -> Response:
        base = f"http://{request.headers.get('host', '127.0.0.1')}"
        return Response(
            body={
                "issuer": "https://oauth.platform.intuit.com/op/v1",
                "authorization_endpoint": base + "/connect/oauth2",
                "token_endpoint": base + "/oauth2/v1/tokens/bearer",
                "userinfo_endpoint": base + "/v1/openid_connect/userinfo",
                "revocation_endpoint": base + "/v2/oauth2/tokens/revoke",
                "jwks_uri": base + "/op/v1/jwks",
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "email", "profile", "address", "phone"],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
                "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
            }
        )

    @route("GET", r"/\.well-known/openid_(?:sandbox_)?configuration/?")
    def oauth_discovery(self, request: Request) -> Response:
        return self._discovery(request)

    @route("GET", "/connect/oauth2")
    def oauth_consent_page(self, request: Request) -> Response:
        if request.arg("client_id") != demo_accounts.QBO_CLIENT_ID:
            return Response(status=400, body="<h1>invalid_client</h1>", content_type="text/html")
        if not request.arg("redirect_uri") or request.arg("response_type") != "code":
            return Response(status=400, body="<h1>invalid_request</h1>", content_type="text/html")
        keep = ("client_id", "redirect_uri", "state", "scope")
        hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(request.arg(k) or "")}">' for k in keep)
        choices = "".join(
            f'<label><input type="radio" name="realmId" value="{r.realm_id}"{" checked" if i == 0 else ""}>'
            f"{html.escape(r.name)}{' (sandbox)' if r.sandbox else ''}</label><br>"
            for i, r in enumerate(demo_accounts.REALMS)
        )
        page = _CONSENT_PAGE.format(
            client=html.escape(demo_accounts.QBO_CLIENT_ID),
            scope=html.escape(request.arg("scope") or ""),
            hidden=hidden,
            choices=choices,
        )
        return Response(body=page, content_type="text/html; charset=utf-8")

    @route("POST", "/connect/oauth2")
    def oauth_consent_decision(self, request: Request) -> Response:
        form = request.form()
        redirect_uri, state = form.get("redirect_uri", ""), form.get("state", "")
        sep = "&" if "?" in redirect_uri else "?"
        if form.get("decision") == "deny":
            query = {"error": "access_denied", "error_description": "User denied access", "state": state}
            return redirect(redirect_uri + sep + urlencode(query))
        realm_id = form.get("realmId", "")
        if realm_id not in {r.realm_id for r in demo_accounts.REALMS} | set(self.realms):  # type: ignore[attr-defined]
            return Response(status=400, body="<h1>Choose a company</h1>", content_type="text/html")
        code = self.tokens.issue_code(realm_id, redirect_uri, self.clock.timestamp())  # type: ignore[attr-defined]
        return redirect(redirect_uri + sep + urlencode({"code": code, "state": state, "realmId": realm_id}))

    @route("POST", "/oauth2/v1/tokens/bearer")
    def oauth_token(self, request: Request) -> Response:
        if not _basic_client(request):
            return _oauth_error(OAuthError("invalid_client", "Client authentication failed", 401))
        form, now = request.form(), self.clock.timestamp()  # type: ignore[attr-defined]
        hard = request.headers.get(HARD_EXPIRY_HEADER, "").lower() == "true"
        try:
            if form.get("grant_type") == "authorization_code":
                body = self.tokens.exchange_code(form.get("code", ""), form.get("redirect_uri", ""), now, hard)
            elif form.get("grant_type") == "refresh_token":
                body = self.tokens.refresh(form.get("refresh_token", ""), now, hard)
            else:
                raise OAuthError("unsupported_grant_type", f"grant_type {form.get('grant_type')!r}")
        except OAuthError as exc:
            return _oauth_error(exc)
        return Response(body=body, headers={"Cache-Control": "no-store"})

    @route("POST", "/v2/oauth2/tokens/revoke")
    def oauth_revoke(self, request: Request) -> Response:
        if not _basic_client(request):
            return _oauth_error(OAuthError("invalid_client", "Client authentication failed", 401))
        try:
            token = json.loads(request.body or b"{}").get("token", "")
        except ValueError:
            token = request.form().get("token", "")
        if not token:
            return _oauth_error(OAuthError("invalid_request", "token is required"))
        self.tokens.revoke(token)
        return Response(body=None)
