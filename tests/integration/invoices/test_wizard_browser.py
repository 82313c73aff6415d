"""The wizard in headless Chromium: from the emulated deal page, through every step, to the created
invoice shown on the card (and the deal's properties)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hubqbo.web.i18n import get_translator
from infra.local.emulators.demo_accounts import SUPER_ADMIN_EMAIL
from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US
from tests.integration.invoices.wizard_steps import add_first_product
from tests.support.browser import chromium

EN = get_translator("en")  # the card's formats: the wizard shows amounts the same way


@pytest.mark.browser
def test_the_wizard_walks_from_the_deal_page_to_a_created_invoice_on_the_card(inv):
    deal = inv.seeded_id(US, "deals", "website_redesign")
    before = set(inv.qbo_invoices(REALM_US))
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{inv.hubspot}/_emulator/record/{US}/deals/{deal}?user={SUPER_ADMIN_EMAIL}")
        expect(page.locator("#app-card h2")).to_have_text("QuickBooks invoices")
        page.get_by_role("button", name="Create invoice").click()
        wizard = page.frame_locator("#card-modal-frame")

        expect(wizard.locator("#step-company")).to_be_visible()  # three companies: choose one
        wizard.locator(f"#company-{REALM_US}").check()
        wizard.locator("#next").click()

        expect(wizard.locator("#step-source")).to_be_visible()
        expect(wizard.locator("#quotes .disabled")).to_have_count(2)  # draft and expired, with their reasons
        expect(wizard.get_by_text("Expired on")).to_be_visible()
        wizard.locator("#source-quote").check()
        wizard.locator("#next").click()

        expect(wizard.locator("#step-customer")).to_be_visible()
        expect(wizard.locator("#customer-candidates input:checked")).to_have_count(1)
        expect(wizard.locator("#customer-candidates")).to_contain_text("Melton Johnson")
        wizard.locator("#next").click()

        expect(wizard.locator("#step-products")).to_be_visible()
        expect(wizard.locator("#lines tr")).to_have_count(2)
        add_first_product(wizard, "Rock")
        expect(wizard.locator("#lines tr")).to_have_count(3)
        # the server's figure for the line, formatted as the card formats amounts
        expect(wizard.locator("#line-2-amount")).to_have_text(EN.format_money("275.00", "USD"))
        wizard.locator("#next").click()

        expect(wizard.locator("#step-tax")).to_be_visible()
        wizard.locator("#next").click()

        expect(wizard.locator("#step-terms")).to_be_visible()
        wizard.locator("#term").select_option(label="Net 30")
        expect(wizard.locator("#due-date")).not_to_have_value("")
        wizard.locator("#message").fill("Thanks!")
        wizard.locator("#next").click()

        expect(wizard.locator("#step-review")).to_be_visible()
        expect(wizard.locator("#review-table")).to_contain_text("Melton Johnson")
        expect(wizard.locator("#review-tax")).to_contain_text("QuickBooks calculates the sales tax")
        subtotal = wizard.locator("#review-subtotal td").first.text_content()
        wizard.locator("#review-table button").first.click()  # go back to any step…
        expect(wizard.locator("#step-customer")).to_be_visible()
        for _ in range(4):  # …and forward again
            wizard.locator("#next").click()
        expect(wizard.locator("#step-review")).to_be_visible()
        wizard.locator("#create").click()

        expect(wizard.locator("#step-done")).to_be_visible(timeout=20000)
        [created] = set(inv.qbo_invoices(REALM_US)) - before
        number = inv.qbo_invoices(REALM_US)[created]["DocNumber"]
        expect(wizard.locator("#done-number")).to_contain_text(number)
        with page.expect_navigation():
            wizard.locator("#close").click()
        expect(page.locator("#app-card")).to_contain_text(f"Invoice {number}")
        expect(page.locator("#app-card")).to_contain_text("Waiting to be sent")
        expect(page.locator('[data-property="hubqbo_invoice_number"]')).to_have_text(number)

    stored = inv.qbo_invoices(REALM_US)[created]
    booked_tax = (stored.get("TxnTaxDetail") or {}).get("TotalTax") or 0
    assert subtotal == EN.format_money(stored["TotalAmt"] - booked_tax, "USD")
    assert len([ln for ln in stored["Line"] if ln["DetailType"] == "SalesItemLineDetail"]) == 3
    assert stored["CustomerMemo"] == {"value": "Thanks!"} and stored["EmailStatus"] == "NotSet"


@pytest.mark.browser
def test_the_products_step_refuses_bad_numbers_and_the_uk_review_shows_vat_as_qbo_books_it(inv):
    deal = inv.uk_deal("Pumps by the browser")
    token = inv.token(UK, deal)
    before = set(inv.qbo_invoices(REALM_UK))
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{inv.gateway}/invoices/wizard?token={token}")
        expect(page.locator("#step-source")).to_be_visible()
        page.locator("#next").click()
        expect(page.locator("#step-customer")).to_be_visible()
        expect(page.locator("#customer-candidates")).to_contain_text("Smith & Sons Ltd")
        page.locator("#next").click()

        expect(page.locator("#step-products")).to_be_visible()
        add_first_product(page, "Pump")
        page.locator("#line-0-qty").fill("abc")
        page.locator("#line-0-price").fill("-5")
        page.locator("#line-0-price").dispatch_event("change")
        page.locator("#line-0-qty").dispatch_event("change")
        page.locator("#next").click()
        expect(page.locator('[data-field="lines[0].quantity"]')).to_have_text("Enter the quantity as a number.")
        expect(page.locator('[data-field="lines[0].unit_price"]')).to_have_text("Enter a price of zero or more.")
        expect(page.locator("#step-products")).to_be_visible()  # refused here, not at Create
        page.locator("#line-0-qty").fill("20")
        page.locator("#line-0-qty").dispatch_event("change")
        page.locator("#line-0-price").fill("15.00")
        page.locator("#line-0-price").dispatch_event("change")
        expect(page.locator("#line-0-amount")).to_have_text(EN.format_money(300, "GBP"))
        page.locator("#next").click()

        expect(page.locator("#step-tax")).to_be_visible()
        page.locator("#line-0-tax").select_option(label="20.0% S")
        page.locator("#next").click()
        expect(page.locator("#step-terms")).to_be_visible()
        page.locator("#next").click()

        expect(page.locator("#step-review")).to_be_visible()
        review = page.locator("#review-table")
        expect(review).to_contain_text("[20.0% S]")  # the code's name, not its id
        expect(review).to_contain_text("20.0% S on 300.00")
        expect(page.locator("#review-subtotal")).to_contain_text(EN.format_money(300, "GBP"))
        expect(page.locator("#review-tax")).to_contain_text(EN.format_money(60, "GBP"))
        expect(page.locator("#review-total")).to_contain_text(EN.format_money(360, "GBP"))
        page.locator("#create").click()
        expect(page.locator("#step-done")).to_be_visible(timeout=20000)
    [created] = set(inv.qbo_invoices(REALM_UK)) - before
    assert str(inv.qbo_invoices(REALM_UK)[created]["TotalAmt"]) == "360.00"
