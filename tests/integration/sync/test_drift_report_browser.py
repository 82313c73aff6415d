"""The Drift report tab in headless Chromium, as an admin uses it: Run now, Fix on one row, Fix all
(with its confirmation), each reloading the stored report."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.integration.sync.conftest import REALM
from tests.integration.sync.test_drift_report import _deal, _hubspot_edit, _linked_world, _qbo_webhooks
from tests.support.browser import chromium

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def quiet_tabs(sync):
    _qbo_webhooks(sync, enabled=False)
    for tab in ("contacts", "products", "invoices"):
        sync.reset_tab(tab)
    yield
    _qbo_webhooks(sync, enabled=True)


def test_run_now_fix_one_row_then_fix_all_from_the_page(sync):
    world = _linked_world(sync)
    deal_id = world["deals"][0]
    _hubspot_edit(sync, "deals", deal_id, hubqbo_invoice_amount="1.00")
    _hubspot_edit(sync, "contacts", world["contact"]["id"], company="Someone Else Ltd")
    url = sync.api("GET", "/settings/session?userLocale=en-us").json()["url"] + f"&tab=drift&realm={REALM}"
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url)
        page.locator("#drift-run").click()
        amount = page.locator(f'#drift-rows tr[data-rule="deal_property"]:has-text("{deal_id}")').first
        expect(amount).to_be_visible(timeout=20_000)
        expect(amount).to_contain_text("Invoice amount (hubqbo_invoice_amount)")
        amount.locator("button.drift-fix").click()
        expect(page.locator(f'#drift-rows tr[data-fixed="true"]:has-text("{deal_id}")').first).to_be_visible(
            timeout=20_000
        )
        assert _deal(sync, deal_id)["hubqbo_invoice_amount"] in ("120", "120.00")
        page.locator("#drift-fix-all").click()
        page.locator("#confirm-yes").click()
        expect(page.locator("#drift-rows button.drift-fix")).to_have_count(0, timeout=20_000)
        expect(page.locator("#drift-summary")).to_contain_text("fixed:")
    [contact] = sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{world['customer']['Id']}")
    assert contact["properties"]["company"] == "Drift Co"
