"""Signatures already used, so that a signed state-changing request cannot be replayed.

HubSpot's v3 signature is valid for five minutes; within that window the same request would verify
again. The first use claims the signature with a conditional put; a second use finds it and is refused.
The item expires through the table's TTL once the window has passed.

- nonce: pk `NONCE#{scope}`, sk the signature's SHA-256 (hex); `expires_at`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError


class NonceStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    def claim(self, scope: str, signature: str, expires_at: float) -> bool:
        """True the first time `signature` is seen in `scope` (a portal), False on every later use."""
        digest = hashlib.sha256(signature.encode()).hexdigest()
        try:
            self._table.put_item(
                Item={"pk": f"NONCE#{scope}", "sk": digest, "expires_at": int(expires_at) + 1},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True
