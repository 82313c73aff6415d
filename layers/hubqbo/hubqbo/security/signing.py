"""Short signed values we hand out and take back: OAuth state and settings-page sessions.

A value is `base64url(json payload) "." base64url(HMAC-SHA256)`; the key is derived from an app
secret and a purpose label, so a state can never be replayed as a session or the other way round.
Expiry is checked against an explicit `now` (epoch seconds). Single use is the caller's job (the
state's nonce is also stored and consumed once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class SignedValueError(ValueError):
    """The value is missing, malformed, forged, for another purpose, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    def __init__(self, secret: str, purpose: str) -> None:
        if not secret:
            raise ValueError("a signing secret is required")
        self.purpose = purpose
        self._key = hmac.new(secret.encode(), f"hubqbo/{purpose}/v1".encode(), hashlib.sha256).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def sign(self, payload: dict[str, Any], *, expires_at: int) -> str:
        body = json.dumps({**payload, "exp": int(expires_at), "pur": self.purpose}, separators=(",", ":")).encode()
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def verify(self, value: str | None, *, now: float) -> dict[str, Any]:
        """The payload of a genuine, unexpired value; raises SignedValueError otherwise."""
        if not value or value.count(".") != 1 or len(value) > 4096:
            raise SignedValueError("missing or malformed")
        body_text, mac_text = value.split(".")
        try:
            body, mac = _unb64(body_text), _unb64(mac_text)
        except ValueError as exc:
            raise SignedValueError("malformed") from exc
        if not hmac.compare_digest(self._mac(body), mac):
            raise SignedValueError("signature does not match")
        payload = json.loads(body)
        if payload.get("pur") != self.purpose:
            raise SignedValueError("wrong purpose")
        if float(payload.get("exp", 0)) <= now:
            raise SignedValueError("expired")
        return payload
