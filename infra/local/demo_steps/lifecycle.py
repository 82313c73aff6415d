"""The HubSpot app's lifecycle: an uninstall in HubSpot, noticed by the scheduler.

The `app-lifecycle` job runs once (as its 15-minute schedule does) and subscribes the app to its
lifecycle events in HubSpot's Webhooks Journal. A user then uninstalls the app from the UK portal in
HubSpot (the emulator journals APP_UNINSTALL and revokes the portal's tokens); the next run reads the
journal with the app's client-credentials token, stops the portal's QBO connection, deletes its tokens
and keeps its data until the purge date. Reinstalling and reconnecting puts everything back.
"""

from __future__ import annotations

from datetime import UTC, datetime

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.demo_steps import connections as connection_steps
from infra.local.demo_steps.uk_company import REALM, UK, ensure_connected


def _fire(demo: Demo) -> dict[str, int]:
    reply = requests.post(f"{demo.gateway}/_local/schedules/AppLifecycle", timeout=60)
    check(reply.status_code == 200, f"the AppLifecycle schedule answered {reply.status_code}")
    result = reply.json()["result"]
    check(result["status"] == "done", f"the app-lifecycle job answered {result}")
    return result["detail"]


def uninstall_noticed(demo: Demo) -> None:
    from hubqbo import wiring
    from hubqbo.store.connections import TokenKey

    ensure_connected(demo)
    _fire(demo)
    demo.say("the app-lifecycle job subscribed the app to its install/uninstall events in HubSpot's journal")
    hubspot = demo.stack.urls["hubspot"]
    requests.post(f"{hubspot}/_emulator/portals/{UK}/uninstall", timeout=10).raise_for_status()
    demo.say(f"a user uninstalled the app from HubSpot portal {UK}")
    detail = _fire(demo)
    ports = wiring.connection_ports()
    portal = demo.wait_for("the portal to be marked uninstalled", lambda: _uninstalled(ports, UK))
    connection = ports.connections.get_connection(UK, REALM)
    check(connection is not None and connection.status == "disconnected", "the company was not disconnected")
    check(ports.tokens.get(TokenKey("hubspot", UK)) is None, "the HubSpot tokens were not deleted")
    check(ports.tokens.get(TokenKey("qbo", UK, REALM)) is None, "the QuickBooks tokens were not deleted")
    purge = datetime.fromtimestamp(portal.purge_at, UTC).date().isoformat()
    demo.say(
        f"the scheduler read {detail['pages']} journal page(s): portal {UK} uninstalled, "
        f"{connection.company_name} disconnected ({connection.status_reason}), tokens deleted, data kept until {purge}"
    )
    connection_steps.install(demo, UK)
    connection_steps.connect(demo, UK, REALM)
    check(ports.connections.get_portal(UK).purge_at is None, "the reinstall did not cancel the purge")
    demo.say("reinstalled and reconnected: the purge is cancelled and the company syncs again")


def _uninstalled(ports, portal_id: int):
    portal = ports.connections.get_portal(portal_id)
    return portal if portal is not None and portal.status == "uninstalled" else None


STEPS: list[Step] = [("App lifecycle: an uninstall in HubSpot is noticed by the scheduler", uninstall_noticed)]
