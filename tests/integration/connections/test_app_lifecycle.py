"""The HubSpot app's lifecycle on the local stack: an uninstall in HubSpot noticed by the scheduler from the
Webhooks Journal, a refused refresh counted as one, the admin uninstall through HubSpot, the retention and
the purge. The purge test moves the HubSpot emulator's clock, so it runs last in this module."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import requests
from boto3.dynamodb.conditions import Attr

from hubqbo.errors import BadInput
from hubqbo.services import connections
from hubqbo.services.lifecycle import ADMIN_UNINSTALL_REASON, UNINSTALLED_REASON, uninstall_from_hubspot
from hubqbo.store.connections import TokenKey
from hubqbo.store.sync_log import SyncLog, SyncLogEntry
from infra.local.emulators import demo_accounts as demo
from infra.local.emulators.hubspot.signing import signed_get

from .conftest import page_outcome

US, UK = demo.PORTAL_US, demo.PORTAL_UK
DAY = 86_400
RETENTION_DAYS = 30  # Settings.uninstalled_data_retention_days' default, documented in docs/connections.md


def fire(flows) -> dict:
    """The AppLifecycle schedule, fired as EventBridge Scheduler would (its Input, no time in it)."""
    reply = requests.post(f"{flows.gateway}/_local/schedules/AppLifecycle", timeout=60)
    assert reply.status_code == 200, reply.text
    result = reply.json()["result"]
    assert result["status"] == "done", result
    return result["detail"]


def run_at(flows, now: datetime) -> dict:
    """The scheduler function with the app-lifecycle job at a given instant (the schedule's time)."""
    event = {"job": "app-lifecycle", "scheduled_at": now.isoformat()}
    result = flows.stack.functions["SchedulerFunction"].invoke(event)
    assert result["status"] == "done", result
    return result["detail"]


def uninstall_in_hubspot(flows, portal_id: int) -> dict:
    reply = requests.post(f"{flows.hubspot}/_emulator/portals/{portal_id}/uninstall", timeout=10)
    reply.raise_for_status()
    return reply.json()


def hubspot_now(flows) -> datetime:
    return datetime.fromisoformat(requests.get(f"{flows.hubspot}/_emulator/clock", timeout=10).json()["now"])


def portal_items(flows, portal_id: int) -> list[dict]:
    """Every item of the table that belongs to the portal, by any key the stores use."""
    mine = (f"PORTAL#{portal_id}", f"SYNCLOG#portal:{portal_id}", f"SYNCFAIL#portal:{portal_id}")
    scan = Attr("pk").is_in(list(mine)) | Attr("gsi1sk").eq(f"PORTAL#{portal_id}")
    items, kwargs = [], {"FilterExpression": scan | Attr("portal_id").eq(portal_id)}
    while True:
        page = flows.table().scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.fixture(scope="module", autouse=True)
def subscribed(flows):
    """A deployment's schedule has run before anyone uninstalls: the app is subscribed to its lifecycle."""
    detail = fire(flows)
    assert detail["pages"] == 0
    journal = requests.get(f"{flows.hubspot}/_emulator/journal", timeout=10).json()
    assert {s["eventTypeId"] for s in journal["subscriptions"]} == {"4-1916193", "4-1909196"}


def test_an_uninstall_in_hubspot_is_noticed_by_the_scheduler_and_a_reinstall_resumes(flows):
    flows.ready(UK, demo.REALM_UK.realm_id)
    flows.ready(UK, demo.REALM_SANDBOX.realm_id)
    fire(flows)  # the install events: nothing to do for an installed portal
    uninstall_in_hubspot(flows, UK)
    before = time.time()
    detail = fire(flows)
    assert detail["uninstalled"] == 1
    ports = flows.ports()
    portal = ports.connections.get_portal(UK)
    assert portal.status == "uninstalled"
    assert before + RETENTION_DAYS * DAY - 5 <= portal.purge_at <= time.time() + RETENTION_DAYS * DAY
    assert ports.tokens.get(TokenKey("hubspot", UK)) is None
    for realm in (demo.REALM_UK.realm_id, demo.REALM_SANDBOX.realm_id):
        assert ports.tokens.get(TokenKey("qbo", UK, realm)) is None
        shown = flows.connection(UK, realm)  # the data is kept: the companies are still listed
        assert (shown["status"], shown["status_reason"]) == ("disconnected", UNINSTALLED_REASON)
    refused = signed_get(f"{flows.gateway}/oauth/qbo/connect?portalId={UK}", allow_redirects=False)
    assert refused.status_code == 404  # connect again only after a reinstall
    assert fire(flows)["uninstalled"] == 0  # the journal's offset moved: nothing is applied twice
    page = flows.install(UK)
    assert "reinstalled" in page.text
    assert ports.connections.get_portal(UK).purge_at is None
    assert page_outcome(flows.connect(UK, demo.REALM_UK.realm_id).text) == "reconnected"
    assert flows.connection(UK, demo.REALM_UK.realm_id)["status"] == "active"


def test_a_hubspot_refresh_answered_invalid_grant_counts_as_an_uninstall(flows):
    realm = demo.REALM_US.realm_id
    flows.ready(US, realm)
    with flows.stack.hubspot.lock:  # access revoked in HubSpot without a journal entry
        flows.stack.hubspot.tokens.revoke_portal(US)
    flows.table().update_item(
        Key={"pk": f"PORTAL#{US}", "sk": "TOKEN#hubspot"},
        UpdateExpression="SET access_expires_at = :t",
        ExpressionAttributeValues={":t": Decimal(0)},
    )
    ports = flows.ports()
    with pytest.raises(connections.ReconnectNeeded):
        connections.hubspot_client(ports, US).account_details()
    portal = ports.connections.get_portal(US)
    assert portal.status == "uninstalled" and "invalid_grant" in portal.status_reason
    assert portal.purge_at > time.time() + (RETENTION_DAYS - 1) * DAY
    assert ports.tokens.get(TokenKey("hubspot", US)) is None
    assert ports.tokens.get(TokenKey("qbo", US, realm)) is None
    assert flows.connection(US, realm)["status_reason"] == UNINSTALLED_REASON
    flows.ready(US, realm)
    assert ports.connections.get_portal(US).status == "installed"


def test_an_admin_uninstalls_through_hubspot_only_once_every_company_is_disconnected(flows):
    from hubqbo import wiring

    realm = demo.REALM_MULTI.realm_id
    flows.ready(US, realm)
    lifecycle = wiring.lifecycle_ports()
    with pytest.raises(BadInput, match="Disconnect every QuickBooks company"):
        uninstall_from_hubspot(lifecycle, US)
    assert lifecycle.connections.connections.get_portal(US).status == "installed"
    for company in flows.connections(US):
        if company["status"] != "disconnected":
            assert flows.disconnect(US, company["realm_id"]).status_code == 200
    calls = requests.get(f"{flows.hubspot}/_emulator/calls", timeout=10).json()["calls"]
    result = uninstall_from_hubspot(lifecycle, US)
    after = requests.get(f"{flows.hubspot}/_emulator/calls", timeout=10).json()["calls"]
    assert after.get("DELETE external_uninstall", 0) - calls.get("DELETE external_uninstall", 0) == 1
    assert result.status == "uninstalled" and result.purge_at is not None
    portal = lifecycle.connections.connections.get_portal(US)
    assert (portal.status, portal.status_reason) == ("uninstalled", ADMIN_UNINSTALL_REASON)
    assert lifecycle.connections.tokens.get(TokenKey("hubspot", US)) is None
    assert not [g for g, _ in flows.stack.hubspot.tokens.access.values() if g.portal_id == US]  # gone in HubSpot
    detail = fire(flows)  # HubSpot journals that uninstall too: already applied
    assert detail["uninstalled"] == 0 and detail["unchanged"] >= 1
    flows.ready(US, realm)


def test_an_install_in_hubspot_after_an_uninstall_cancels_the_purge(flows):
    flows.ready(UK, demo.REALM_UK.realm_id)
    uninstall_in_hubspot(flows, UK)
    assert fire(flows)["uninstalled"] == 1
    consent = flows.consent_hubspot(flows.start_install(), UK, demo.SUPER_ADMIN_EMAIL)
    assert consent.status_code == 302  # installed in HubSpot; our callback not reached (the tab was closed)
    assert fire(flows)["purge_cancelled"] == 1
    portal = flows.ports().connections.get_portal(UK)
    assert portal.status == "uninstalled" and portal.purge_at is None
    assert requests.get(consent.headers["Location"], timeout=20).status_code == 200  # the install completes
    assert flows.ports().connections.get_portal(UK).status == "installed"


def test_an_uninstall_older_than_a_reinstall_is_not_applied(flows):
    flows.ready(UK, demo.REALM_UK.realm_id)
    uninstall_in_hubspot(flows, UK)
    flows.ready(UK, demo.REALM_UK.realm_id)  # reinstalled before the job ran
    detail = fire(flows)
    assert detail["uninstalled"] == 0 and detail["stale"] == 1
    assert flows.ports().connections.get_portal(UK).status == "installed"
    assert flows.connection(UK, demo.REALM_UK.realm_id)["status"] == "active"


def test_a_run_with_nothing_new_costs_one_journal_call_and_reuses_the_app_token(flows):
    fire(flows)
    before = requests.get(f"{flows.hubspot}/_emulator/calls", timeout=10).json()["calls"]
    detail = fire(flows)
    after = requests.get(f"{flows.hubspot}/_emulator/calls", timeout=10).json()["calls"]
    spent = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert spent == {"GET journal_next": 1}  # no token request, no re-subscription, a 204
    assert detail["pages"] == 0


def test_an_offset_the_journal_no_longer_knows_is_read_again_from_the_earliest_entry(flows):
    flows.ready(UK, demo.REALM_UK.realm_id)
    flows.table().update_item(
        Key={"pk": "APP#hubspot", "sk": "JOURNAL"},
        UpdateExpression="SET #o = :o",
        ExpressionAttributeNames={"#o": "offset"},
        ExpressionAttributeValues={":o": "an-offset-from-another-journal"},
    )
    uninstall_in_hubspot(flows, UK)
    detail = fire(flows)
    assert detail["offset_lost"] == 1
    assert detail["uninstalled"] == 1  # the events already applied before are skipped as duplicates or stale
    assert detail["duplicates"] + detail["stale"] + detail["unchanged"] >= 1
    flows.ready(UK, demo.REALM_UK.realm_id)


def test_an_uninstalled_portals_data_is_purged_after_the_retention_and_other_portals_are_untouched(flows):
    flows.ready(US, demo.REALM_US.realm_id)
    flows.ready(UK, demo.REALM_UK.realm_id)
    log = SyncLog(flows.table())
    for portal_id in (US, UK):
        for outcome in ("applied", "failed"):
            log.record(
                SyncLogEntry(
                    scope=SyncLogEntry.portal_scope(portal_id), outcome=outcome, reason="test", entity="Invoice"
                )
            )
        flows.table().put_item(
            Item={"pk": f"PORTAL#{portal_id}", "sk": f"INVSNAP#{demo.REALM_UK.realm_id}#1", "portal_id": portal_id}
        )
    ports = flows.ports()
    ports.connections.park(UK, demo.REALM_UK.realm_id, "{}", time.time())
    us_items = portal_items(flows, US)
    assert len(portal_items(flows, UK)) >= 6
    uninstall_in_hubspot(flows, UK)
    assert fire(flows)["uninstalled"] == 1
    kept = run_at(flows, hubspot_now(flows) + timedelta(days=RETENTION_DAYS - 1))
    assert kept["purged"] == 0
    assert ports.connections.get_portal(UK) is not None
    requests.post(
        f"{flows.hubspot}/_emulator/clock", json={"advance_seconds": (RETENTION_DAYS + 1) * DAY}, timeout=10
    ).raise_for_status()
    detail = run_at(flows, hubspot_now(flows))  # the app's token expired at HubSpot meanwhile: asked for again
    assert detail["purged"] == 1 and detail["purged_items"] >= 6
    assert portal_items(flows, UK) == []
    assert portal_items(flows, US) == us_items
    assert run_at(flows, hubspot_now(flows))["purged"] == 0


def test_no_app_or_portal_token_appears_in_any_log(flows):
    issued = set(flows.stack.hubspot.tokens.access) | set(flows.stack.hubspot.tokens.refresh)
    assert any(token.startswith("CC") for token in issued)  # the app's client-credentials tokens are in the scan
    assert any("App lifecycle job finished" in line for line in flows.capture.lines)
    logged = "\n".join(flows.capture.lines)
    assert [token[:6] + "..." for token in issued if token in logged] == []
