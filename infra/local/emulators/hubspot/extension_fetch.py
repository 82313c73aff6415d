"""`hubspot.fetch` as HubSpot's servers run it for a UI extension: the extension's worker hands the request to
HubSpot, which refuses a URL outside the app's `permittedUrls.fetch`, adds who is asking, signs the request
(v3, see `signing`) and calls the app's backend, with a timeout of at most 15 s and one retry when the
connection fails or the answer is a 5xx.
https://developers.hubspot.com/docs/apps/developer-platform/add-features/ui-extensions/fetching-data

Who is asking: `userId`, `userEmail`, `appId`, `portalId` query parameters, as the record page's card fetch
sends them. The page above documents the signature headers; HubSpot's legacy-card-converter README says
`appId` is added; the exact list of added parameters is not published, so this is our reading, not a quote.

Only JSON request bodies are sent (no custom Content-Type); the extension's `Accept` header is passed on.
The local walkthrough of the settings extension (`infra/hubspot-app/tests/walkthrough/`) calls this through
`POST /_emulator/extension-fetch`, so its requests reach the backend exactly as HubSpot's would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests

from .oauth import AppConfig
from .project import is_permitted
from .signing import sign_request
from .store import Portal, User

MAX_TIMEOUT_SECONDS = 15.0
PASSED_HEADERS = ("accept",)  # what an extension may set; HubSpot fixes the rest


class FetchRefused(Exception):
    """HubSpot does not send the request (the promise in the extension rejects)."""


@dataclass
class FetchAnswer:
    status: int
    content_type: str
    body: str
    attempts: int

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "contentType": self.content_type, "body": self.body, "attempts": self.attempts}


def proxied_url(app: AppConfig, portal: Portal, user: User, url: str) -> str:
    """The URL as the backend receives it: the extension's, plus who is asking."""
    who = urlencode({"userId": user.id, "userEmail": user.email, "appId": str(app.app_id), "portalId": str(portal.id)})
    return f"{url}{'&' if '?' in url else '?'}{who}"


def extension_fetch(
    app: AppConfig,
    portal: Portal,
    user: User,
    url: str,
    options: dict[str, Any],
    now_ms: int,
) -> FetchAnswer:
    """Sends one `hubspot.fetch(url, options)` of `user` in `portal` to the app's backend."""
    if not url.startswith(("http://", "https://")):
        raise FetchRefused(f"hubspot.fetch needs an absolute URL, not {url!r}")
    if app.permitted_fetch is not None and not is_permitted(url, app.permitted_fetch):
        raise FetchRefused(f"{url} is not in the app's permittedUrls.fetch")
    method = str(options.get("method") or "GET").upper()
    body = b"" if options.get("body") is None else json.dumps(options["body"], separators=(",", ":")).encode()
    asked = {str(k).lower(): str(v) for k, v in (options.get("headers") or {}).items()}
    headers = {name.title(): asked[name] for name in PASSED_HEADERS if name in asked}
    if body:
        headers["Content-Type"] = "application/json"
    timeout = min(float(options.get("timeout") or MAX_TIMEOUT_SECONDS * 1000) / 1000, MAX_TIMEOUT_SECONDS)
    target = proxied_url(app, portal, user, url)
    reply: requests.Response | None = None
    attempts = 0
    while attempts < 2:  # HubSpot retries once on a failed connection or a 5xx
        attempts += 1
        signed = sign_request(method, target, body, app.client_secret, now_ms)
        try:
            reply = requests.request(
                method, target, data=body or None, headers={**headers, **signed}, timeout=timeout, allow_redirects=False
            )
        except requests.RequestException as exc:
            if attempts == 2:
                raise FetchRefused(f"The app's backend could not be reached: {exc.__class__.__name__}") from exc
            continue
        if reply.status_code < 500:
            break
    assert reply is not None
    return FetchAnswer(reply.status_code, reply.headers.get("Content-Type", ""), reply.text, attempts)
