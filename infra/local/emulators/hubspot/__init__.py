"""HubSpot emulator package: `HubSpotEmulator` and the v3 request-signing helpers."""

from .app import HubSpotEmulator
from .signing import is_valid_v3, sign_request, signed_get, signed_post

__all__ = ["HubSpotEmulator", "is_valid_v3", "sign_request", "signed_get", "signed_post"]
