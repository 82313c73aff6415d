"""`python -m infra.local.emulators.hubspot [port]`: the HubSpot emulator alone, seeded, on 127.0.0.1."""

from __future__ import annotations

import sys

from ..core import run_forever
from .app import DEFAULT_PORT, HubSpotEmulator

if __name__ == "__main__":
    run_forever([(HubSpotEmulator(), int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PORT)])
