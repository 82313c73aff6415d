"""Checks on everything that arrives from outside, done on raw bytes before any parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac


def intuit_signature(body: bytes, verifier_token: str) -> str:
    """What Intuit puts in `intuit-signature`: base64 of HMAC-SHA256 of the raw body."""
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_intuit_signature(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """Constant-time check of a QBO webhook's signature; a missing header never verifies."""
    if not signature or not verifier_token:
        return False
    return hmac.compare_digest(intuit_signature(body, verifier_token).encode(), signature.strip().encode())
