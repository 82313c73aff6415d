"""OAuth tokens encrypted with the KMS key before they reach the table (direct KMS encryption).

A token bundle is a few hundred bytes, well under KMS's 4 KB plaintext limit, so no data key is
needed. The encryption context binds each ciphertext to the item it is stored in: a ciphertext
copied to another portal's item does not decrypt.
"""

from __future__ import annotations

import json
from typing import Any


class TokenCipher:
    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms, self._key_id = kms, key_id

    def encrypt(self, secrets: dict[str, str], context: str) -> bytes:
        response = self._kms.encrypt(
            KeyId=self._key_id,
            Plaintext=json.dumps(secrets).encode(),
            EncryptionContext={"purpose": "oauth-tokens", "item": context},
        )
        return bytes(response["CiphertextBlob"])

    def decrypt(self, blob: bytes, context: str) -> dict[str, str]:
        response = self._kms.decrypt(
            CiphertextBlob=bytes(blob),
            KeyId=self._key_id,
            EncryptionContext={"purpose": "oauth-tokens", "item": context},
        )
        return json.loads(response["Plaintext"])
