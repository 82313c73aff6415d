"""HubSpot's v3 request signature: what HubSpot sends with card fetches, `hubspot.fetch` and webhooks.

`X-HubSpot-Signature-v3` = base64(HMAC-SHA256(client_secret, METHOD + URI + body + timestamp)), with
`X-HubSpot-Request-Timestamp` in epoch milliseconds; requests older than five minutes are refused.
URI is the full URL as HubSpot called it with only a fixed set of escapes decoded (reference §6).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

MAX_AGE_MS = 300_000
MAX_CLOCK_SKEW_MS = 60_000  # a timestamp this far in the future is refused as well

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
_ESCAPES = re.compile("|".join(_DECODED), re.IGNORECASE)


def canonical_uri(url: str) -> str:
    """The URI as it enters the string to sign: only HubSpot's listed escapes are decoded."""
    return _ESCAPES.sub(lambda m: _DECODED[m.group(0).upper()], url)


def hubspot_signature_v3(method: str, url: str, body: bytes, client_secret: str, timestamp_ms: int) -> str:
    message = method.upper().encode() + canonical_uri(url).encode() + body + str(timestamp_ms).encode()
    digest = hmac.new(client_secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_hubspot_v3(
    *,
    method: str,
    url: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    client_secret: str,
    now_ms: int,
) -> bool:
    """True only for a fresh (≤ 5 minutes old) request whose signature matches, compared in constant time."""
    if not signature or not timestamp or not client_secret:
        return False
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if now_ms - stamp > MAX_AGE_MS or stamp - now_ms > MAX_CLOCK_SKEW_MS:
        return False
    expected = hubspot_signature_v3(method, url, body, client_secret, stamp)
    return hmac.compare_digest(expected.encode(), signature.strip().encode())
