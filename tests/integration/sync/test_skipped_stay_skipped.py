""" "Update existing only" and "Do nothing" are final for the changes they skip: turning "Create and
update" back on does not let the catch-up create those records later; only new changes sync, and
"Sync existing records" brings the earlier ones in when the admin asks for it. Through the real
path: QBO UI change → webhook → SQS → worker, then the CDC catch-up job and a backfill run."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.sync.conftest import REALM

TAB = f"/settings/companies/{REALM}/tabs/contacts"


def _linked(sync, customer_id: str) -> list[dict]:
    return sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer_id}")


def _log_for(sync, customer_id: str) -> list[dict]:
    entries = sync.api("GET", f"/settings/companies/{REALM}/log?tab=contacts&limit=100").json()["entries"]
    return [e for e in entries if e.get("qbo_id") == customer_id]


@pytest.mark.parametrize("setting", ["update_only", "do_nothing"])
def test_a_change_skipped_by_the_setting_is_not_created_by_the_catch_up_after_it_changes_back(sync, setting):
    sync.reset_tab("contacts")
    sync.stack.scheduler.fire("CdcCatchUp")  # what the stack found before this test is caught up first
    sync.wait_for("what it queued to be applied", sync.stack.queues_idle, 60)  # else the next catch-up re-finds it
    sync.set_tab("contacts", enabled=True, on_change=setting)
    tag = uuid.uuid4().hex[:6]
    customer = sync.qbo_ui(
        "Customer",
        {"DisplayName": f"Skipped {tag}", "PrimaryEmailAddr": {"Address": f"skipped.{tag}@example.com"}},
    )
    skipped = sync.wait_for("the skip in the sync log", lambda: _log_for(sync, customer["Id"]), 40)
    assert [e["outcome"] for e in skipped] == ["skipped"]

    sync.set_tab("contacts", on_change="create_and_update")
    caught_up = sync.stack.scheduler.fire("CdcCatchUp")
    assert caught_up["status"] == "done"
    assert caught_up["detail"]["queued"] == 0, caught_up  # the skipped change counts as handled
    assert caught_up["detail"]["already_applied"] >= 1
    assert _linked(sync, customer["Id"]) == []

    # The admin asks for the existing records: now it is created.
    reply = sync.api("POST", f"{TAB}/backfill", {"action": "run"})
    assert reply.status_code == 202, reply.text
    sync.wait_for(
        "the backfill to finish", lambda: sync.api("GET", f"{TAB}/backfill").json()["backfill"]["status"] == "done", 90
    )
    assert len(_linked(sync, customer["Id"])) == 1
    sync.reset_tab("contacts")
