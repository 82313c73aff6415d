"""The settings page in headless Chromium, opened the way HubSpot's settings iframe opens it: toggle
the contact sync, add a mapping (refused first for incompatible types), and see a contact synced
through the real path (QBO UI change → webhook → SQS → worker → sync engine)."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.integration.sync.conftest import REALM
from tests.support.browser import chromium


def test_toggle_add_a_mapping_see_it_refused_then_a_synced_contact(sync):
    sync.reset_tab("contacts")
    url = sync.api("GET", "/settings/session").json()["url"]
    with chromium() as browser:
        page = browser.new_page()
        page.goto(url)
        switch = page.locator("#sync-enabled")
        expect(switch).not_to_be_checked()
        switch.check()
        expect(page.locator("#status")).to_have_text("Settings saved")
        expect(page.locator("#sync-state")).to_have_text("On")
        assert sync.tab("contacts")["enabled"] is True

        page.click("#add-mapping")
        page.select_option("#hubspot-property", "jobtitle")
        page.select_option("#qbo-field", "Balance")
        page.click("#save-mapping")
        expect(page.locator("#mapping-error")).to_contain_text("numbers can only feed number properties")

        page.select_option("#qbo-field", "Title")
        page.click("#save-mapping")
        expect(page.locator('#mappings tr[data-property="jobtitle"]')).to_contain_text("Title")

        tag = uuid.uuid4().hex[:6]
        customer = sync.qbo_ui(
            "Customer",
            {
                "DisplayName": f"Rosa Vale {tag}",
                "GivenName": "Rosa",
                "FamilyName": f"Vale{tag}",
                "Title": "Florist",
                "PrimaryEmailAddr": {"Address": f"rosa.{tag}@example.com"},
            },
        )
        contact = sync.wait_for(
            "the contact", lambda: sync.find("contacts", "hubqbo_qbo_customer_id", f"{REALM}:{customer['Id']}"), 40
        )[0]
        assert contact["properties"]["jobtitle"] == "Florist"

        page.reload()
        expect(page.locator(f'#log li[data-qbo-id="{customer["Id"]}"]')).to_contain_text(
            re.compile(f"Created contact {contact['id']}")
        )
        expect(page.locator('#mappings tr[data-property="jobtitle"] td.state-synced')).to_be_visible()
        expect(page.locator("#switches")).to_be_visible()
