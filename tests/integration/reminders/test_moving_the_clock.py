"""One clock: moving the emulators' time moves the product's. Nothing here tells the product what time
it is: the schedules fire with their template inputs (no `scheduled_at`), as EventBridge sends them, and
the product reads "now" from the local stack's one clock. Invoices fall due and turn Overdue, repeat
reminders come round M days later, access tokens expire and are refreshed before use, and the keep-alive
job sees a connection idle for 31 days.

The tests run in order on one stack and only move the clock forward (37 days in all, well inside QBO's
100-day rolling refresh-token expiry)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.integration.reminders.conftest import REALM_UK, UK, Reminders, wait_for

HOUR = 3600


def fire(rem: Reminders, schedule: str) -> dict:
    """The schedule's own input, as the template says (`{"job": ...}`, no instant)."""
    result = rem.stack.scheduler.fire(schedule)
    assert result["status"] == "done", result
    return result["detail"]


def product_now() -> datetime:
    from hubqbo import clock

    return clock.now_utc()


def london_today(rem: Reminders) -> date:
    from hubqbo.domain.dates import local_today

    return local_today(product_now(), "Europe/London")


def test_the_products_clock_is_the_emulators_clock(rem):
    assert abs(product_now() - rem.qbo_now()) < timedelta(seconds=5)
    before = product_now()
    moved = rem.days_pass(1)  # moved on QBO's admin API
    assert abs(product_now() - moved) < timedelta(seconds=5)
    assert product_now() - before >= timedelta(days=1)
    hubspot = rem.stack.hubspot.clock.now()  # HubSpot's emulator keeps the same time
    assert abs(hubspot - moved) < timedelta(seconds=5)


def test_an_invoice_turns_overdue_when_the_clock_passes_its_due_date(rem):
    due = london_today(rem)
    invoice, deal = rem.invoice_on_deal(due)
    fire(rem, "OverdueSweep")  # due today: not past due yet
    assert rem.status(UK, deal) != "overdue"

    rem.days_pass(1)
    swept = fire(rem, "OverdueSweep")
    assert swept["swept"] == 1 and swept["invoices_queued"] >= 1

    def swept_entries() -> list[dict]:
        return [e for e in rem.sync_log(UK) if e["source"] == "overdue-sweep" and e["hubspot_id"] == deal]

    entries = wait_for("the sweep's change applied to the deal", swept_entries, timeout=30)
    assert rem.status(UK, deal) == "overdue"
    # the log is stamped on the product's clock: the day after the due date, not the machine's day
    assert datetime.fromisoformat(entries[0]["at"]).date() >= due + timedelta(days=1)
    assert invoice["Id"] in {e["qbo_id"] for e in entries}


def test_a_repeat_reminder_follows_m_days_after_the_first_on_the_moved_clock(rem):
    assert rem.reminder_settings({"payment": {"repeat": True, "repeat_every_days": 2}}).status_code == 200
    try:
        due = london_today(rem)
        invoice, deal = rem.invoice_on_deal(due)
        rem.days_pass(3)
        fire(rem, "Reminders")
        [first] = rem.tasks_on(deal)
        assert first["properties"]["hs_timestamp"].startswith((due + timedelta(days=3)).isoformat())

        rem.days_pass(1)
        fire(rem, "Reminders")
        assert len(rem.tasks_on(deal)) == 1  # one day on: the same period

        rem.days_pass(1)
        fire(rem, "Reminders")
        tasks = rem.tasks_on(deal)
        assert len(tasks) == 2  # M = 2 days on: the repeat
        second = next(t for t in tasks if t["id"] != first["id"])
        assert second["properties"]["hs_timestamp"].startswith((due + timedelta(days=5)).isoformat())
        assert any(f"(payment:{invoice['Id']}:1)" in e["reason"] for e in rem.reminder_log(invoice["Id"]))
    finally:
        rem.reminder_settings({"payment": {"repeat": False}})


def test_access_tokens_that_expired_on_the_moved_clock_are_refreshed_before_use_without_a_401(rem):
    from hubqbo import wiring
    from hubqbo.services import connections

    ports = wiring.connection_ports()
    assert connections.qbo_client(ports, UK, REALM_UK).company_info()["CompanyName"]
    connections.hubspot_client(ports, UK).account_details()
    # a worker still applying the tests before might hold a token it checked before the move: that 401
    # (answered by a refresh and a retry) is the jump's doing, not a token used after it expired
    wait_for("the queues to empty", rem.stack.queues_idle, timeout=60)
    qbo_seen, hubspot_seen = rem.stack.qbo.last_request_seq(), rem.stack.hubspot.last_request_seq()

    rem.advance_qbo_clock(2 * HOUR)  # past QBO's one hour and HubSpot's 30 minutes
    assert connections.qbo_client(ports, UK, REALM_UK).company_info()["CompanyName"]
    connections.hubspot_client(ports, UK).account_details()

    # the worker may be the first to need a token after the move: either way one refresh per token
    qbo = rem.stack.qbo.requests_after(qbo_seen)
    hubspot = rem.stack.hubspot.requests_after(hubspot_seen)
    assert [r["status"] for r in qbo if r["path"] == "/oauth2/v1/tokens/bearer"] == [200]
    assert [r["status"] for r in hubspot if r["path"].endswith("/token")] == [200]
    unauthorised = [r for r in qbo + hubspot if r["status"] == 401]
    assert not unauthorised, f"a token was used after it expired: {unauthorised}"


def test_keep_alive_refreshes_a_connection_left_idle_for_31_days_on_the_moved_clock(rem):
    from hubqbo import wiring
    from hubqbo.store.connections import TokenKey

    ports = wiring.connection_ports()
    key = TokenKey("qbo", UK, REALM_UK)
    version = ports.tokens.get(key).version
    assert fire(rem, "TokenKeepAlive")["refreshed"] == 0  # refreshed an hour ago (the test before)

    moved = rem.days_pass(31)
    result = fire(rem, "TokenKeepAlive")
    assert result["refreshed"] >= 1 and result["failed"] == 0
    after = ports.tokens.get(key)
    assert after.version == version + 1
    assert after.tokens.refreshed_at == pytest.approx(moved.timestamp(), abs=60)
