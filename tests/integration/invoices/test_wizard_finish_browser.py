"""The wizard and "Add existing invoice" as a sales rep uses them, in English and Polish, in headless Chromium:
progress while QuickBooks is slow, recovery when it fails, errors next to their fields in our words,
amounts and dates in the user's locale, and a sandbox company labelled on every screen and on the card."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from hubqbo.domain.dates import parse_date
from hubqbo.web.i18n import get_translator
from infra.local.emulators import demo_accounts
from infra.local.emulators.demo_accounts import SUPER_ADMIN_EMAIL
from tests.integration.invoices.conftest import REALM_UK, REALM_US, UK, US
from tests.integration.invoices.wizard_steps import add_first_product, to_products
from tests.support.browser import chromium

REALM_SANDBOX = demo_accounts.REALM_SANDBOX.realm_id
LOCALES = {"en": "en-us", "pl": "pl-pl"}
WORDS = {  # what the pages say, in each language (from the catalogs: the tests read what a user reads)
    lang: get_translator(lang).gettext for lang in LOCALES
}


@pytest.fixture(scope="module")
def sandboxed(inv):
    """This module's stack with the sandbox company connected to the US portal (four companies there)."""
    assert inv.connect(US, REALM_SANDBOX).status_code == 200
    return inv


def token(inv, portal_id: int, deal: str, lang: str, action: int = 0) -> str:
    reply = inv.card(portal_id, deal, locale=LOCALES[lang])
    assert reply.status_code == 200, reply.text
    return parse_qs(urlsplit(reply.json()["actions"][action]["href"]).query)["token"][0]


def fault(inv, kind: str, path: str, count: int = 1, delay: float | None = None) -> None:
    body = {"path": path, "kind": kind, "count": count} | ({"delay_seconds": delay} if delay else {})
    requests.post(f"{inv.qbo}/_emulator/faults", json=body, timeout=10).raise_for_status()


def no_faults(inv) -> None:
    requests.delete(f"{inv.qbo}/_emulator/faults", timeout=10).raise_for_status()


def open_wizard(page: Page, inv, portal_id: int, deal: str, lang: str) -> None:
    page.goto(f"{inv.gateway}/invoices/wizard?token={token(inv, portal_id, deal, lang)}")
    expect(page.locator("html")).to_have_attribute("lang", lang)


# -- the loading state ----------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_next_under_a_slow_quickbooks_shows_progress_and_disables_the_form_until_the_answer(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"Slow pumps {lang}")
    with chromium() as browser:
        page = browser.new_page()
        open_wizard(page, inv, UK, deal, lang)
        expect(page.locator("#step-source")).to_be_visible()
        expect(page.locator("#busy")).to_be_hidden()
        fault(inv, "slow", "/batch$", delay=3.0)  # prepare asks QuickBooks everything in one batch call
        page.locator("#next").click()
        expect(page.locator("#busy")).to_be_visible()
        expect(page.locator("#busy")).to_have_text(_("Loading…"))
        expect(page.locator("#next")).to_be_disabled()
        expect(page.locator("#source-scratch")).to_be_disabled()  # every control waits for the answer
        expect(page.locator("#form")).to_have_attribute("aria-busy", "true")
        expect(page.locator("#step-customer")).to_be_visible(timeout=20000)
        expect(page.locator("#busy")).to_be_hidden()
        expect(page.locator("#next")).to_be_enabled()
        expect(page.locator("#previous")).to_be_enabled()


@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_a_quickbooks_failure_is_said_in_our_words_with_its_text_as_a_detail_and_the_page_recovers(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"Failing pumps {lang}")
    with chromium() as browser:
        page = browser.new_page()
        open_wizard(page, inv, UK, deal, lang)
        expect(page.locator("#step-source")).to_be_visible()
        fault(inv, "500", "/batch$", count=10)  # more than the client's retries
        try:
            page.locator("#next").click()
            said = _("%(provider)s could not complete this request, so nothing was changed. Please try again.")
            expect(page.locator("#form-error")).to_contain_text(said % {"provider": "QuickBooks"}, timeout=20000)
            expect(page.locator("#form-error .detail")).to_contain_text("Injected 500")  # QBO's text, as a detail
            expect(page.locator("#form-error")).not_to_contain_text("answered 500")
        finally:
            no_faults(inv)
        expect(page.locator("#step-source")).to_be_visible()  # still where it was, every control usable
        expect(page.locator("#next")).to_be_enabled()
        expect(page.locator("#busy")).to_be_hidden()
        page.locator("#next").click()
        expect(page.locator("#step-customer")).to_be_visible(timeout=20000)
        expect(page.locator("#form-error")).to_have_text("")


# -- errors next to their fields -----------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_field_errors_sit_next_to_their_field_in_the_users_language_and_go_once_fixed(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"Typo pumps {lang}")
    with chromium() as browser:
        page = browser.new_page()
        open_wizard(page, inv, UK, deal, lang)
        to_products(page)
        add_first_product(page, "Pump")
        page.locator("#line-0-qty").fill("abc")
        page.locator("#line-0-price").fill("-5")
        page.locator("#next").click()

        quantity = page.locator('[data-field="lines[0].quantity"]')
        price = page.locator('[data-field="lines[0].unit_price"]')
        expect(quantity).to_have_text(_("Enter the quantity as a number."))
        expect(price).to_have_text(_("Enter a price of zero or more."))
        expect(page.locator("#form-error")).to_have_text(_("Some details need your attention."))
        expect(page.locator("#line-0-qty")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#step-products")).to_be_visible()

        page.locator("#line-0-qty").fill("3")  # fixed: its message goes at once, the other stays
        expect(quantity).to_have_text("")
        expect(price).to_have_text(_("Enter a price of zero or more."))
        page.locator("#line-0-price").fill("15")
        expect(price).to_have_text("")
        expect(page.locator("#form-error")).to_have_text("")  # the summary goes with the last message

        page.locator("#line-0-qty").fill("100")  # the amount as the card formats one: grouped, the user's separator
        page.locator("#line-0-qty").dispatch_event("change")
        page.locator("#line-0-price").fill("12,50" if lang == "pl" else "12.50")
        page.locator("#line-0-price").dispatch_event("change")
        expect(page.locator("#line-0-amount")).to_have_text(get_translator(lang).format_money(1250, "GBP"))
        page.locator("#next").click()
        expect(page.locator("#step-tax")).to_be_visible()


@pytest.mark.parametrize("lang", LOCALES)
def test_the_api_answers_our_own_messages_never_pydantics_and_names_fields_as_the_page_does(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"Raw API pumps {lang}")
    wizard = token(inv, UK, deal, lang)
    key, prep = inv.prepare(wizard, REALM_UK)
    not_a_number = inv.submission(key, prep, lines=[{"item_id": "1", "quantity": True, "unit_price": "1"}])
    too_long = inv.submission(key, prep, customer_message="x" * 1001)
    for path in ("review", "create"):
        for body, field, message in (
            (not_a_number, "lines[0].quantity", _("Enter a number.")),  # one message, not one per union member
            (too_long, "customer_message", _("Enter at most %(max)s characters.") % {"max": 1000}),
        ):
            reply = inv.api(wizard, "POST", path, body)
            assert reply.status_code == 400, reply.text
            answer = reply.json()
            assert {e["field"]: e["message"] for e in answer["errors"]} == {field: message}
            assert answer["message"] == _("Some details need your attention.")
            assert "should" not in reply.text and "Input" not in reply.text  # pydantic's "Input should be ..."


@pytest.mark.parametrize("lang", LOCALES)
def test_a_duplicate_number_is_refused_in_our_words_with_quickbooks_text_as_the_detail(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    realm = demo_accounts.REALM_CUSTOM_NUMBERS.realm_id
    deal = inv.seeded_id(US, "deals", "website_redesign")
    wizard = token(inv, US, deal, lang)
    key, prep = inv.prepare(wizard, realm)
    taken = next(i["DocNumber"] for i in inv.qbo_invoices(realm).values() if i.get("DocNumber"))
    customer = prep["customer"]["best"] or inv.ok(wizard, "GET", "customers", realm=realm, q="")["customers"][0]
    body = inv.submission(
        key, prep, doc_number=taken, customer_id=customer["id"], customer_currency=customer["currency"], bill_email=None
    )
    reply = inv.api(wizard, "POST", "create", body)
    assert reply.status_code == 400, reply.text
    [error] = reply.json()["errors"]
    assert error["field"] == "doc_number"
    assert error["message"] == _("Another invoice already has this number; enter another.")
    assert "Duplicate Document Number" in error["detail"]


# -- words instead of code words, and what a deal without quotes or lines shows ----------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_matched_by_is_said_in_words(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.seeded_id(US, "deals", "website_redesign")
    with chromium() as browser:
        page = browser.new_page()
        open_wizard(page, inv, US, deal, lang)
        page.locator(f"#company-{REALM_US}").check()
        page.locator("#next").click()
        page.locator("#next").click()
        candidates = page.locator("#customer-candidates")
        expect(candidates).to_contain_text("Melton Johnson")
        expect(candidates).to_contain_text(_("Matched by %(how)s") % {"how": ""})
        expect(candidates).to_contain_text(_("email address"))
        for code_word in ("email,", "company_name", "person_name"):
            expect(candidates).not_to_contain_text(code_word)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_a_deal_without_quotes_or_lines_offers_scratch_only_and_an_empty_products_step_that_says_what_to_do(
    sandboxed, lang
):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"Empty deal {lang}")
    with chromium() as browser:
        page = browser.new_page()
        open_wizard(page, inv, UK, deal, lang)
        expect(page.locator("#step-source")).to_be_visible()
        expect(page.locator("#source-quote")).to_be_disabled()
        expect(page.locator("#source-scratch")).to_be_checked()
        expect(page.locator("#no-quotes")).to_have_text(_("This deal has no quotes: create the invoice from scratch."))
        page.locator("#next").click()
        page.locator("#next").click()
        expect(page.locator("#step-products")).to_be_visible()
        expect(page.locator("#lines tr")).to_have_count(0)
        expect(page.locator("#no-lines")).to_have_text(
            _("This deal has no line items yet: add products from QuickBooks below.")
        )
        expect(page.locator("#step-products")).not_to_contain_text(_("Choose a QuickBooks product for this line."))
        page.locator("#next").click()
        expect(page.locator('[data-field="lines"]')).to_have_text(_("Add at least one product."))
        add_first_product(page, "Pump")
        expect(page.locator("#no-lines")).to_be_hidden()


# -- Add existing invoice ---------------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_add_existing_lists_the_latest_invoices_at_once_formatted_and_says_when_nothing_is_ticked(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    t = get_translator(lang)
    deal = inv.uk_deal(f"Attach {lang}")
    books = inv.qbo_invoices(REALM_UK)
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{inv.gateway}/invoices/attach?token={token(inv, UK, deal, lang, action=1)}")
        rows = page.locator("#results tr")
        expect(rows.first).to_be_visible()  # without pressing Search
        expect(page.locator("#results-note")).to_have_text(
            _("The latest invoices of this QuickBooks company. Search to find others.")
        )
        first_id = rows.first.get_attribute("id").removeprefix("invoice-")
        raw = books[first_id]
        cells = rows.first.locator("td")
        currency = (raw.get("CurrencyRef") or {}).get("value") or "GBP"
        expect(cells.nth(4)).to_have_text(t.format_money(Decimal(str(raw["TotalAmt"])), currency))
        expect(cells.nth(3)).to_have_text(t.format_date(parse_date(raw["TxnDate"])))

        page.locator("#add").click()
        nothing = page.locator('[data-field="invoice_ids"]')
        expect(nothing).to_have_text(_("Tick the invoices to add first."))
        status = cells.nth(5).text_content()
        page.locator(f"#pick-{first_id}").check()
        expect(nothing).to_have_text("")
        page.locator("#add").click()
        expect(page.locator("#added")).to_have_text(_("Invoices linked: %(num)s") % {"num": 1})
        linked = page.locator(f"#invoice-{first_id}")
        expect(linked.locator(f"#linked-{first_id}")).to_have_text(_("Already linked"))
        expect(linked.locator("td.status")).to_have_text(status)  # the status column keeps the status
        expect(page.locator(f"#pick-{first_id}")).to_be_disabled()


@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_add_existing_shows_progress_while_quickbooks_is_slow(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"Slow attach {lang}")
    with chromium() as browser:
        page = browser.new_page()
        page.goto(f"{inv.gateway}/invoices/attach?token={token(inv, UK, deal, lang, action=1)}")
        expect(page.locator("#results tr").first).to_be_visible()
        fault(inv, "slow", "/query", delay=3.0)
        page.locator("#search").click()
        expect(page.locator("#busy")).to_have_text(_("Loading…"))
        expect(page.locator("#add")).to_be_disabled()
        expect(page.locator("#search")).to_be_disabled()
        expect(page.locator("#busy")).to_be_hidden(timeout=20000)
        expect(page.locator("#add")).to_be_enabled()


# -- the PDF and the sandbox ------------------------------------------------------------------------------------------
def test_the_pdf_is_named_after_the_invoice_number(sandboxed):
    inv = sandboxed
    deal = inv.uk_deal("PDF name")
    wizard = token(inv, UK, deal, "en")
    chosen = next(i for i in inv.qbo_invoices(REALM_UK).values() if i.get("DocNumber"))
    inv.ok(wizard, "POST", "attach", {"realm_id": REALM_UK, "invoice_ids": [chosen["Id"]]})
    reply = requests.get(
        f"{inv.gateway}/invoices/pdf", params={"token": wizard, "realm": REALM_UK, "invoice": chosen["Id"]}, timeout=30
    )
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/pdf")
    disposition = reply.headers["content-disposition"]
    assert f'filename="invoice-{chosen["DocNumber"]}.pdf"' in disposition
    assert f"invoice-{chosen['Id']}.pdf" not in disposition or chosen["Id"] == chosen["DocNumber"]


@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_a_sandbox_company_is_labelled_in_the_wizard_in_add_existing_and_on_the_card(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.new_deal(US, f"Sandbox {lang}", "USD", None, None)
    with chromium() as browser:
        page = browser.new_page()
        open_wizard(page, inv, US, deal, lang)
        sandbox = page.locator(f"#company-{REALM_SANDBOX}").locator("xpath=..")
        expect(sandbox.locator(".tag.sandbox")).to_have_text(_("Sandbox company"))
        expect(page.locator(f"#company-{REALM_US}").locator("xpath=..").locator(".tag")).to_have_count(0)
        banner = page.locator("#sandbox-banner")
        expect(banner).to_be_hidden()  # the first company (a production one) is chosen
        page.locator(f"#company-{REALM_SANDBOX}").check()
        expect(banner).to_be_visible()  # as soon as it is chosen ...
        expect(banner).to_contain_text(demo_accounts.REALM_SANDBOX.name)
        page.locator("#next").click()
        expect(page.locator("#step-source")).to_be_visible()
        expect(banner).to_be_visible()  # ... and on every step after

        page.goto(f"{inv.gateway}/invoices/attach?token={token(inv, US, deal, lang, action=1)}")
        expect(page.locator("#company option", has_text=_("Sandbox company"))).to_have_count(1)
        page.locator("#company").select_option(REALM_SANDBOX)
        expect(page.locator("#sandbox-banner")).to_be_visible()
        expect(page.locator("#results tr").first).to_be_visible()
        page.locator("#results input[type=checkbox]").first.check()
        page.locator("#add").click()
        expect(page.locator("#added")).to_have_text(_("Invoices linked: %(num)s") % {"num": 1})

        record = f"{inv.hubspot}/_emulator/record/{US}/deals/{deal}?user={SUPER_ADMIN_EMAIL}&locale={LOCALES[lang]}"
        page.goto(record)
        expect(page.locator("#app-card .card-section")).to_contain_text(_("Sandbox company"))

    card = inv.card(US, deal, locale=LOCALES[lang]).json()
    [section] = card["sections"]
    labels = {i["key"]: i for i in section["items"]}
    assert labels["environment"]["value"] == _("Sandbox company")
    assert labels["environment"]["label"] == _("QuickBooks environment")


@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_a_first_load_that_fails_offers_try_again_and_then_works(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"First load {lang}")
    wizard = token(inv, UK, deal, lang)
    deal_read = {"path": r"/crm/objects/[^/]+/deals/\d+$", "kind": "500", "count": 10}  # beyond the client's retries
    requests.post(f"{inv.hubspot}/_emulator/faults", json=deal_read, timeout=10).raise_for_status()
    try:
        with chromium() as browser:
            page = browser.new_page()
            page.goto(f"{inv.gateway}/invoices/wizard?token={wizard}")
            said = _("%(provider)s could not complete this request, so nothing was changed. Please try again.")
            expect(page.locator("#form-error")).to_contain_text(said % {"provider": "HubSpot"}, timeout=20000)
            retry = page.locator("#retry")
            expect(retry).to_have_text(_("Try again"))
            requests.delete(f"{inv.hubspot}/_emulator/faults", timeout=10).raise_for_status()
            retry.click()
            expect(page.locator("#step-source")).to_be_visible(timeout=20000)
            expect(retry).to_be_hidden()
            expect(page.locator("#form-error")).to_have_text("")
    finally:
        requests.delete(f"{inv.hubspot}/_emulator/faults", timeout=10)


@pytest.mark.browser
@pytest.mark.parametrize("lang", LOCALES)
def test_create_under_a_slow_quickbooks_disables_the_form_and_creates_one_invoice(sandboxed, lang):
    inv, _ = sandboxed, WORDS[lang]
    deal = inv.uk_deal(f"Slow create {lang}")
    before = set(inv.qbo_invoices(REALM_UK))
    with chromium() as browser:
        page = browser.new_page()
        open_wizard(page, inv, UK, deal, lang)
        to_products(page)
        add_first_product(page, "Pump")
        page.locator("#next").click()
        expect(page.locator("#step-tax")).to_be_visible()
        page.locator("#line-0-tax").select_option(index=1)
        for step in ("terms", "review"):
            page.locator("#next").click()
            expect(page.locator(f"#step-{step}")).to_be_visible()
        fault(inv, "slow", "/invoice$", delay=3.0)
        page.locator("#create").click()
        expect(page.locator("#create")).to_be_disabled()
        expect(page.locator("#previous")).to_be_disabled()
        expect(page.locator("#busy")).to_have_text(_("Loading…"))
        page.locator("#create").click(force=True)  # a second click while pending does nothing
        expect(page.locator("#step-done")).to_be_visible(timeout=20000)
        expect(page.locator("#busy")).to_be_hidden()
    assert len(set(inv.qbo_invoices(REALM_UK)) - before) == 1
