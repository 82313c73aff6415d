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


from hubqbo.security.hubspot import hubspot_signature_v3, verify_hubspot_v3  # noqa: E402
from hubqbo.security.signing import SignedValueError, Signer  # noqa: E402
from hubqbo.security.tokens import TokenCipher  # noqa: E402

__all__ = [
    "SignedValueError",
    "Signer",
    "TokenCipher",
    "hubspot_signature_v3",
    "intuit_signature",
    "verify_hubspot_v3",
    "verify_intuit_signature",
]
