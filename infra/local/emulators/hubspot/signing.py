"""Sign outbound requests exactly as HubSpot signs webhooks, card fetches and `hubspot.fetch` calls.

v3 (reference §6): `X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client_secret,
METHOD + URI + body + timestamp)) and `X-HubSpot-Request-Timestamp` = epoch ms. The URI is the full
URL as called, with only `%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B` percent-decoded, which
is what a validator rebuilds. The legacy v2 headers are sent alongside, as HubSpot does for
card fetches. Importable without a server; tests and the record page use it to call our backend.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from typing import Any

import requests

from ..demo_accounts import HUBSPOT_CLIENT_SECRET

_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ESCAPE = re.compile("|".join(_DECODED))  # exactly the documented (upper-case) escapes

# Whose time a signature's timestamp carries: HubSpot's. The machine's clock unless the local stack points
# it at the emulators' clock (which the product reads too), so that moving that clock keeps signatures fresh.
_clock: Callable[[], float] = time.time


def point_at(source: Callable[[], float] | None) -> Callable[[], float]:
    """Stamp and check signatures with `source` (epoch seconds; `None`: the machine's clock); returns the
    previous one."""
    global _clock
    previous, _clock = _clock, source or time.time
    return previous


def canonical_uri(url: str) -> str:
    """The URI as it enters the v3 string to sign: only the listed escapes decoded."""
    return _ESCAPE.sub(lambda m: _DECODED[m.group(0)], url)


def _text(body: bytes | str | None) -> str:
    if body is None:
        return ""
    return body.decode("utf-8") if isinstance(body, bytes) else body


def signature_v3(method: str, url: str, body: bytes | str | None, client_secret: str, timestamp_ms: int) -> str:
    message = f"{method.upper()}{canonical_uri(url)}{_text(body)}{timestamp_ms}"
    digest = hmac.new(client_secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign_request(
    method: str,
    url: str,
    body: bytes | str | None,
    client_secret: str,
    timestamp_ms: int | None = None,
) -> dict[str, str]:
    """The headers HubSpot adds to a request it sends to an app."""
    timestamp = int(_clock() * 1000) if timestamp_ms is None else int(timestamp_ms)
    v2 = hashlib.sha256(f"{client_secret}{method.upper()}{url}{_text(body)}".encode()).hexdigest()
    return {
        "X-HubSpot-Signature-v3": signature_v3(method, url, body, client_secret, timestamp),
        "X-HubSpot-Request-Timestamp": str(timestamp),
        "X-HubSpot-Signature": v2,
        "X-HubSpot-Signature-Version": "v2",
    }


def is_valid_v3(
    signature: str,
    method: str,
    url: str,
    body: bytes | str | None,
    client_secret: str,
    timestamp_ms: str | int,
    *,
    now_ms: int | None = None,
    max_age_ms: int = 300_000,
) -> bool:
    """What a receiving app checks: fresh timestamp (≤ 5 min) and a constant-time signature match."""
    now = int(_clock() * 1000) if now_ms is None else now_ms
    try:
        stamp = int(timestamp_ms)
    except (TypeError, ValueError):
        return False
    if now - stamp > max_age_ms:
        return False
    return hmac.compare_digest(signature_v3(method, url, body, client_secret, stamp), signature)


def _send(
    method: str, url: str, body: bytes, client_secret: str, headers: dict[str, str], **kw: Any
) -> requests.Response:
    signed = sign_request(method, url, body, client_secret)
    return requests.request(
        method, url, data=body or None, headers={**headers, **signed}, timeout=kw.pop("timeout", 15), **kw
    )


def signed_get(url: str, client_secret: str = HUBSPOT_CLIENT_SECRET, **kw: Any) -> requests.Response:
    """GET `url` (query already in it) the way HubSpot would call our backend."""
    return _send("GET", url, b"", client_secret, kw.pop("headers", {}), **kw)


def signed_post(
    url: str, json_body: Any = None, client_secret: str = HUBSPOT_CLIENT_SECRET, **kw: Any
) -> requests.Response:
    """POST a JSON body, signing the exact bytes sent (HubSpot's `hubspot.fetch` only sends JSON)."""
    body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    return _send("POST", url, body, client_secret, headers, **kw)
