"""The reminders job against the emulators, days passing on QBO's clock: a task for an overdue invoice
exactly once, closed when the invoice is paid, never duplicated by reruns or concurrent runs; unsent
invoices; repeats every M days; a run that died between claiming and recording; the settings API.

Every test advances the clock before its first run, so each one judges a day no other test has used."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.integration.reminders.conftest import REALM_UK, UK, wait_for


def test_an_invoice_three_days_overdue_gets_exactly_one_task_for_the_deal_owner(rem):
    due = rem.qbo_today()
    invoice, deal = rem.invoice_on_deal(due)
    rem.days_pass(2)
    rem.run()
    assert rem.tasks_on(deal) == []  # two days past due: not yet

    now = rem.days_pass(1)
    first = rem.run(now)
    [task] = rem.tasks_on(deal)
    props = task["properties"]
    number = invoice["DocNumber"]
    assert props["hs_task_subject"].startswith(f"Payment reminder: invoice {number}, GBP\u00a01,250.00 due from ")
    assert props["hubspot_owner_id"] == rem.owner_id()
    assert props["hs_task_status"] == "NOT_STARTED"
    assert props["hs_timestamp"].startswith((due + timedelta(days=3)).isoformat())  # due today (09:00 London)
    # what a sales rep reads is the reminder only: no key or marker of ours in the title or the notes
    assert "hubqbo" not in props["hs_task_subject"] + props["hs_task_body"]
    assert "payment:" not in props["hs_task_body"]
    assert first["created"] >= 1
    assert any("task created (payment:" in e["reason"] for e in rem.reminder_log(invoice["Id"]))

    again = rem.run(now)  # the same local day: the company is done for today
    assert again["already_checked"] >= 1 and again["created"] == 0
    rem.run(now + timedelta(days=1))  # the next day: still the same period (no repeat by default)
    assert len(rem.tasks_on(deal)) == 1


def test_paying_the_invoice_in_quickbooks_closes_the_task_and_stops_further_reminders(rem):
    assert rem.reminder_settings({"payment": {"repeat": True, "repeat_every_days": 1}}).status_code == 200
    try:
        invoice, deal = rem.invoice_on_deal(rem.qbo_today())
        rem.run(rem.days_pass(3))
        [task] = rem.tasks_on(deal)

        rem.pay(REALM_UK, invoice["Id"])  # QBO UI → signed webhook → gateway → SQS → worker → snapshot
        wait_for("the payment on the deal", lambda: rem.status(UK, deal) == "paid_in_full")
        result = rem.run()  # the same day (hourly run): closes what was settled
        assert result["closed"] >= 1
        [closed] = rem.tasks_on(deal)
        assert closed["id"] == task["id"] and closed["properties"]["hs_task_status"] == "COMPLETED"
        assert any("task closed: the invoice was paid" in e["reason"] for e in rem.reminder_log(invoice["Id"]))

        for _ in range(3):  # a repeat would be due every day if the invoice were still unpaid
            rem.run(rem.days_pass(1))
        assert len(rem.tasks_on(deal)) == 1
    finally:
        rem.reminder_settings({"payment": {"repeat": False}})


def test_the_repeat_creates_the_next_task_only_after_m_days(rem):
    assert rem.reminder_settings({"payment": {"repeat": True, "repeat_every_days": 2}}).status_code == 200
    try:
        invoice, deal = rem.invoice_on_deal(rem.qbo_today())
        rem.run(rem.days_pass(3))
        assert len(rem.tasks_on(deal)) == 1
        rem.run(rem.days_pass(1))
        assert len(rem.tasks_on(deal)) == 1  # one day later: same period
        rem.run(rem.days_pass(1))
        tasks = rem.tasks_on(deal)
        assert len(tasks) == 2  # two days later: the second reminder
        reasons = [e["reason"] for e in rem.reminder_log(invoice["Id"])]
        assert any(f"(payment:{invoice['Id']}:1)" in r for r in reasons)
    finally:
        rem.reminder_settings({"payment": {"repeat": False}})


def test_two_runs_at_once_create_one_task(rem):
    _invoice, deal = rem.invoice_on_deal(rem.qbo_today())
    now = rem.days_pass(4)
    # two different days, so the company's daily claim does not stop either: only the period key can
    results: list[dict] = []
    runs = [
        threading.Thread(target=lambda at=at: results.append(rem.run(at)))
        for at in (now, now + timedelta(days=1), now, now + timedelta(days=1))
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    assert len(results) == 4
    assert len(rem.tasks_on(deal)) == 1


def test_an_unsent_invoice_created_from_hubspot_gets_one_task_after_two_days_and_it_closes_when_sent(rem):
    far = rem.qbo_today() + timedelta(days=30)
    invoice, deal = rem.invoice_on_deal(far, source="created")
    rem.run(rem.days_pass(1))
    assert rem.tasks_on(deal) == []
    rem.run(rem.days_pass(1))
    [task] = rem.tasks_on(deal)
    assert task["properties"]["hs_task_subject"].startswith(f"Unsent invoice reminder: invoice {invoice['DocNumber']}")
    rem.run(rem.days_pass(1))
    assert len(rem.tasks_on(deal)) == 1

    rem.qbo_ui(REALM_UK, f"invoice/{invoice['Id']}/send")
    wait_for("the send on the deal", lambda: rem.status(UK, deal) == "sent_to_customer")
    rem.run()
    [closed] = rem.tasks_on(deal)
    assert closed["properties"]["hs_task_status"] == "COMPLETED"


def test_an_attached_invoice_gets_no_unsent_reminder(rem):
    _invoice, deal = rem.invoice_on_deal(rem.qbo_today() + timedelta(days=30), source="attached")
    rem.run(rem.days_pass(5))
    assert rem.tasks_on(deal) == []


def test_a_run_that_died_after_creating_the_task_is_recovered_without_a_duplicate(rem):
    from hubqbo import wiring

    store = wiring.reminder_store()
    invoice, deal = rem.invoice_on_deal(rem.qbo_today())
    key = f"payment:{invoice['Id']}:0"
    # the dead run: claimed the period, created the task on the deal (its title names the invoice, as
    # every reminder's does), never recorded it
    claim = store.claim(UK, REALM_UK, key, now=0.0, lease_seconds=1.0)  # its lease ran out long ago
    assert claim is not None
    subject = f"Payment reminder: invoice {invoice['DocNumber']}, GBP 1,250.00 due from Smith"
    task_id = rem.hubspot_create(
        UK, "tasks", {"hs_task_subject": subject, "hs_task_body": "<p>Still unpaid.</p>"}, [("deals", deal)]
    )
    result = rem.run(rem.days_pass(3))
    assert result["recovered"] >= 1
    assert [t["id"] for t in rem.tasks_on(deal)] == [task_id]
    assert store.existing(UK, REALM_UK, [key])[key].task_id == task_id


def test_a_task_an_interrupted_run_created_is_found_and_closed_once_the_invoice_is_paid(rem):
    from hubqbo import wiring

    store = wiring.reminder_store()
    invoice, deal = rem.invoice_on_deal(rem.qbo_today())
    key = f"payment:{invoice['Id']}:0"
    assert store.claim(UK, REALM_UK, key, now=0.0, lease_seconds=1.0) is not None  # claimed, created, died
    subject = f"Payment reminder: invoice {invoice['DocNumber']}, GBP 1,250.00 due from Smith"
    task_id = rem.hubspot_create(UK, "tasks", {"hs_task_subject": subject}, [("deals", deal)])
    rem.pay(REALM_UK, invoice["Id"])
    wait_for("the payment on the deal", lambda: rem.status(UK, deal) == "paid_in_full")
    result = rem.run()
    assert result["recovered"] >= 1 and result["closed"] >= 1
    [closed] = rem.tasks_on(deal)
    assert closed["id"] == task_id and closed["properties"]["hs_task_status"] == "COMPLETED"


def test_a_run_that_died_before_creating_the_task_is_retried_once_its_claim_expires(rem):
    from hubqbo import wiring

    store = wiring.reminder_store()
    invoice, deal = rem.invoice_on_deal(rem.qbo_today())
    key = f"payment:{invoice['Id']}:0"
    assert store.claim(UK, REALM_UK, key, now=0.0, lease_seconds=1.0) is not None  # claimed, then died
    rem.run(rem.days_pass(3))
    [task] = rem.tasks_on(deal)
    assert store.existing(UK, REALM_UK, [key])[key].task_id == task["id"]


def test_reminder_settings_are_read_saved_and_validated_per_company(rem):
    defaults = rem.reminder_settings().json()
    assert defaults["payment"]["days_after_due"] == 3 and defaults["unsent"]["days_waiting"] == 2
    saved = rem.reminder_settings({"unsent": {"days_waiting": 4}, "language": "pl"})
    assert saved.status_code == 200 and saved.json()["unsent"]["days_waiting"] == 4
    assert saved.json()["payment"] == defaults["payment"]  # untouched parts keep their values
    bad = rem.reminder_settings({"payment": {"days_after_due": -2}})
    assert bad.status_code == 400 and "days_after_due" in bad.json()["message"]
    assert rem.reminder_settings({"payment": {"colour": "red"}}).status_code == 400
    other = rem.reminder_settings(realm="999999999")
    assert other.status_code == 404
    assert rem.reminder_settings({"unsent": {"days_waiting": 2}, "language": "en"}).status_code == 200


def test_polish_task_language_writes_the_task_in_polish(rem):
    assert rem.reminder_settings({"language": "pl"}).status_code == 200
    try:
        invoice, deal = rem.invoice_on_deal(rem.qbo_today())
        rem.run(rem.days_pass(3))
        [task] = rem.tasks_on(deal)
        subject = task["properties"]["hs_task_subject"]
        assert subject.startswith(f"Przypomnienie o płatności: faktura {invoice['DocNumber']}, 1\u00a0250,00\u00a0GBP")
    finally:
        rem.reminder_settings({"language": "en"})
