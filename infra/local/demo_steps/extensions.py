"""The settings extension in the emulated HubSpot: the real `Settings.jsx` connects the sandbox company (Intuit's
consent in a new tab), opens the sync settings page in its iframe modal and disconnects the company, every
hubspot.fetch going through the HubSpot emulator (signed, permittedUrls enforced) to the backend."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from infra.local.demo_steps import Demo, Step, check
from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import signed_get
from infra.local.walkthrough import run_settings_walkthrough

PORTAL = demo_accounts.PORTAL_US
REALM = demo_accounts.REALM_SANDBOX  # no other step uses it, so connecting and disconnecting it changes nothing else


def settings_walkthrough(demo: Demo) -> None:
    started = time.monotonic()
    report = run_settings_walkthrough(demo.stack, PORTAL, REALM.realm_id)
    for step in report["steps"]:
        demo.say(f"{step['step']}: {step['detail']}")
    calls = ", ".join(f"{f['method']} {urlsplit(f['url']).path} {f['status']}" for f in report["fetches"])
    demo.say(f"hubspot.fetch via HubSpot (signed): {calls}")
    demo.say(f"walkthrough took {time.monotonic() - started:.1f} s")
    shown = next(c for c in _connections(demo) if c["realm_id"] == REALM.realm_id)
    check(shown["status"] == "disconnected", f"the backend shows {REALM.realm_id} as {shown['status']}")


def _connections(demo: Demo) -> list[dict]:
    return list(signed_get(f"{demo.gateway}/oauth/qbo/connections?portalId={PORTAL}").json()["connections"])


STEPS: list[Step] = [("The settings extension: connect, open sync settings, disconnect", settings_walkthrough)]
