"""Every word a Polish user reads comes from the Polish catalog: pages, JSON messages, task texts, log lines.

The product runs with a pseudo-Polish (`tests/support/pseudo_locale.py`): the real `pl` catalog with
every translation wrapped in ⟦…⟧. Headless Chromium then walks what a Polish user sees — the record
card, the wizard and "Add existing invoice" it opens, each settings tab (mappings with a failing one,
the field lists of "Add new mapping", the activity log, Reminders) — and the JSON messages the pages
and HubSpot's extensions show (refusals and errors of the settings API), and the reminder task the job
creates in HubSpot. Whatever is left once the marked messages and data are removed (numbers, amounts,
dates, ids, URLs, and the names the records carry) bypassed gettext: the test names it and where.

One stack for the module (the pipeline stack: UK portal installed, its company connected), seeded with
an overdue invoice on an owned deal, a synced contact with one failing mapping, and a synced product.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import requests
from playwright.sync_api import Page

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import signed_get
from tests.integration.connections.conftest import Capture
from tests.integration.reminders.conftest import REALM_UK, UK, Reminders
from tests.support.browser import chromium
from tests.support.pseudo_locale import CLOSE, OPEN, leftovers, pseudo_polish

pytestmark = pytest.mark.browser

# Every text node of the page (hidden panels too: they appear on a click), the attributes people
# read, and the title. Scripts and styles are not text; nor is a provider's own text, which the pages show
# only as a detail after our sentence (`.detail`, `.mapping-detail`, a dead letter's reason).
TEXTS = """(root) => {
  const out = root === document.body ? [document.title] : [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (parent && ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(parent.tagName)) continue;
    if (parent && parent.closest(".detail, .mapping-detail, #dlq-reasons .muted")) continue;
    if (node.textContent.trim()) out.push(node.textContent);
  }
  for (const el of root.querySelectorAll("[title], [placeholder], [aria-label], [alt]"))
    for (const name of ["title", "placeholder", "aria-label", "alt"])
      if (el.getAttribute(name)) out.push(el.getAttribute(name));
  for (const el of root.querySelectorAll("input[type=button], input[type=submit]")) out.push(el.value);
  return out;
}"""


@dataclass
class Site:
    flows: Reminders
    deal: str
    invoice: dict[str, Any]
    failing_property: str
    data: set[str] = field(default_factory=set)

    def data_now(self) -> set[str]:
        """The names and values the records carry: data, whatever language they are in."""
        return self.data | record_data(self.flows)


def record_data(flows: Reminders) -> set[str]:
    found: set[str] = set()
    for realm in flows.stack.qbo.realms.values():
        for table in realm.objects.values():
            for record in table.values():
                found.update(_strings(record))
        found.add(realm.realm.name)
    portal = flows.stack.hubspot.portals[UK]
    found.update({portal.name, *(f"{u.first_name} {u.last_name}" for u in portal.users)})
    for objects in portal.objects.values():
        for record in objects.values():
            found.update(v for v in record.properties.values() if isinstance(v, str))
    for properties in portal.properties.values():
        for prop in properties.values():
            found.add(f"({prop.name})")  # shown after a label; alone, a name is not data (it may be a word)
            found.update(str(o.get("value")) for o in prop.options)
            if not prop.hubspot_defined:  # a property someone created is named by them
                found.add(prop.label)
                found.update(str(o.get("label")) for o in prop.options)
    from hubqbo.domain.mappings import QBO_FIELDS

    for fields in QBO_FIELDS.values():  # QuickBooks' own enumeration values, shown in value maps
        for qbo_field in fields:
            found.update(qbo_field.values)
    # The task-language choice names each language in itself ("English", "Polski"), as language pickers do.
    found.update({"English", "Polski"})
    return {f for f in found if f and len(f) < 200}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _seed(flows: Reminders) -> Site:
    from hubqbo import wiring
    from hubqbo.services.sync_engine import apply_changes

    today = flows.qbo_today()
    invoice, deal = flows.invoice_on_deal(today - timedelta(days=12))
    # contacts: a list property fed through a value map that does not know every QBO value → failing
    name = f"qbo_tier_{uuid.uuid4().hex[:6]}"
    wiring.sync_ports().hubspot(UK).create_property(
        "contacts",
        {
            "name": name,
            "label": "Tier",
            "type": "enumeration",
            "fieldType": "select",
            "groupName": "contactinformation",
            "options": [{"label": "Gold", "value": "gold"}],
        },
    )
    for tab in ("contacts", "products"):
        assert flows.settings_api("PUT", f"/settings/companies/{REALM_UK}/tabs/{tab}", {"enabled": True}).ok
    mapped = flows.settings_api(
        "POST",
        f"/settings/companies/{REALM_UK}/tabs/contacts/mappings",
        {"hubspot_property": name, "qbo_field": "Taxable", "value_map": {"true": "gold"}},
    )
    assert mapped.status_code == 201, mapped.text
    customer = flows.qbo_ui(
        REALM_UK,
        "customer",
        {
            "DisplayName": "Kowalski Budownictwo",
            "Taxable": False,
            "PrimaryEmailAddr": {"Address": "biuro@kowalski.example"},
        },
    )
    customer = customer.get("Customer", customer)
    apply_changes(wiring.sync_ports(), UK, REALM_UK, "Customer", [customer], [])
    item = flows.qbo_ui(
        REALM_UK,
        "item",
        {"Name": "Montaż okien", "Type": "Service", "UnitPrice": "350", "IncomeAccountRef": {"value": "1"}},
    )
    item = item.get("Item", item)
    apply_changes(wiring.sync_ports(), UK, REALM_UK, "Item", [item], [])
    # reminders in Polish, due today for the overdue invoice
    settings = flows.reminder_settings({"language": "pl", "payment": {"enabled": True, "days_after_due": 1}})
    assert settings.status_code == 200, settings.text
    return Site(flows, deal, invoice, name)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    from tests.integration.reminders.conftest import start_pipeline_stack, stop_pipeline_stack

    with pseudo_polish():
        pipeline = start_pipeline_stack(Capture())
        flows = Reminders(pipeline.stack, pipeline.capture)
        try:
            yield _seed(flows)
        finally:
            stop_pipeline_stack(flows)


def _untranslated(site: Site, texts: list[str], where: str) -> None:
    left = leftovers(texts, site.data_now())
    assert not left, f"not from the Polish catalog on the {where}:\n  " + "\n  ".join(left)


def _listen(page: Page, site: Site) -> list[str]:
    """The `message` of every JSON answer from our gateway to this page (what it shows on a refusal)."""
    gateway, messages = site.flows.gateway, []

    def keep(response: Any) -> None:
        if not response.url.startswith(gateway) or "json" not in (response.headers.get("content-type") or ""):
            return
        try:
            body = response.json()
        except ValueError:  # a body that is not JSON carries no message
            return
        messages.extend(_messages(body))

    page.on("response", keep)
    return messages


def _messages(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    found = [str(body["message"])] if body.get("message") else []
    for error in body.get("errors") or []:
        if isinstance(error, dict) and error.get("message"):
            found.append(str(error["message"]))
    return found


def settings_url(site: Site, tab: str) -> str:
    flows = site.flows
    answer = signed_get(f"{flows.gateway}/settings/session?portalId={UK}&userId=5000001&userLocale=pl-pl")
    assert answer.status_code == 200, answer.text
    return answer.json()["url"] + f"&tab={tab}&realm={REALM_UK}"


def test_the_pseudo_locale_marks_polish_and_leaves_english_alone(site):
    from hubqbo.web.i18n import get_translator, vocabulary

    assert get_translator("pl_PL").gettext(vocabulary.CREATE_INVOICE) == f"{OPEN}Utwórz fakturę{CLOSE}"
    assert get_translator("en").gettext(vocabulary.CREATE_INVOICE) == "Create invoice"
    assert leftovers([f"{OPEN}Utwórz fakturę{CLOSE} 1 250,00 zł 29 lis 2026 HS-2026-00001"]) == []
    assert leftovers(["Create invoice"]) != []


def _open_card(page: Page, site: Site) -> None:
    page.goto(f"{site.flows.hubspot}/_emulator/record/{UK}/deals/{site.deal}?locale=pl-pl")
    page.locator("#app-card h2").wait_for()


def test_the_record_card(site):
    with chromium() as browser:
        page = browser.new_page()
        _open_card(page, site)
        texts = page.locator("#app-card").evaluate(TEXTS)
        _untranslated(site, texts, "record card")


def test_the_wizard_step_by_step(site):
    with chromium() as browser:
        page = browser.new_page()
        messages = _listen(page, site)
        _open_card(page, site)
        page.locator("button.card-action").first.click()
        wizard = page.frame_locator("#card-modal-frame")
        wizard.locator("h1").wait_for()
        page.wait_for_timeout(1500)
        frame = wizard.locator("body")
        texts = frame.evaluate(TEXTS)
        for _ in range(5):  # each step as far as Next goes (a refusal's message is text to check too)
            wizard.locator("#next").click()
            page.wait_for_timeout(1200)
            texts += frame.evaluate(TEXTS)
        _untranslated(site, texts + messages, "wizard")


def test_add_existing_invoice(site):
    with chromium() as browser:
        page = browser.new_page()
        messages = _listen(page, site)
        _open_card(page, site)
        page.locator("button.card-action").last.click()
        attach = page.frame_locator("#card-modal-frame")
        attach.locator("h1").wait_for()
        attach.locator("#search").click()
        page.wait_for_timeout(1500)
        texts = attach.locator("body").evaluate(TEXTS)
        attach.locator("#add").click()  # nothing ticked: whatever it says is text to check
        page.wait_for_timeout(800)
        texts += attach.locator("body").evaluate(TEXTS)
        _untranslated(site, texts + messages, "add-existing page")


@pytest.mark.parametrize("tab", ["contacts", "products", "invoices", "reminders", "routing"])
def test_each_settings_tab(site, tab):
    with chromium() as browser:
        page = browser.new_page()
        messages = _listen(page, site)
        page.goto(settings_url(site, tab))
        page.locator("h1").wait_for()
        page.evaluate("() => document.getElementById('log')?.remove()")  # the log has its own test below
        _untranslated(site, page.locator("body").evaluate(TEXTS) + messages, f"settings page, {tab} tab")


def test_the_drift_report_tab_with_a_difference_and_a_part_that_could_not_be_read(site):
    flows = site.flows
    edit = requests.patch(
        f"{flows.hubspot}/_emulator/portals/{UK}/objects/deals/{site.deal}",
        json={"properties": {"hubqbo_invoice_amount": "1.00"}},
        timeout=10,
    )
    assert edit.ok, edit.text
    fault = {"path": r"/crm/objects/[^/]+/contacts/batch/read", "kind": "429", "count": 50, "method": "POST"}
    assert requests.post(f"{flows.hubspot}/_emulator/faults", json=fault, timeout=10).ok
    try:
        run = flows.settings_api("POST", f"/settings/companies/{REALM_UK}/drift")
    finally:
        requests.delete(f"{flows.hubspot}/_emulator/faults", timeout=10)
    assert run.ok and run.json()["report"]["complete"] is False and run.json()["report"]["rows"], run.text[:300]
    with chromium() as browser:
        page = browser.new_page()
        messages = _listen(page, site)
        page.goto(settings_url(site, "drift"))
        page.locator("#drift-rows").wait_for()
        assert page.locator("#drift-incomplete li").count() == 1
        _untranslated(site, page.locator("body").evaluate(TEXTS) + messages, "settings page, drift tab")


def test_the_failing_mapping_says_why_in_polish(site):
    with chromium() as browser:
        page = browser.new_page()
        page.goto(settings_url(site, "contacts"))
        row = page.locator(f'#mappings tr[data-property="{site.failing_property}"]')
        assert "Tier" in row.inner_text()
        error = row.locator(".mapping-error").inner_text()
        assert error.startswith(OPEN), error  # the stored reason is rendered from the catalog
        _untranslated(site, [error], "failing mapping's reason")


def test_a_refused_mapping_is_explained_in_polish(site):
    with chromium() as browser:
        page = browser.new_page()
        messages = _listen(page, site)
        page.goto(settings_url(site, "products"))
        page.locator("#add-mapping").click()
        page.locator("#hubspot-property").select_option("price")
        page.locator("#qbo-field").select_option("Name")  # text into a number
        page.locator("#save-mapping").click()
        error = page.locator("#mapping-error")
        error.filter(has_text=re.compile(".+")).wait_for()
        _untranslated(site, [error.inner_text(), *messages], "refused mapping")


def test_json_messages_of_the_settings_api(site):
    flows = site.flows
    asked = [
        ("GET", f"/settings/companies/{REALM_UK}/tabs/nope"),
        ("GET", "/settings/companies/999999/tabs/contacts"),
        ("POST", f"/settings/companies/{REALM_UK}/tabs/contacts/mappings", {"hubspot_property": "x", "qbo_field": "Y"}),
        (
            "POST",
            f"/settings/companies/{REALM_UK}/tabs/contacts/mappings",
            {"hubspot_property": "BAD NAME!", "qbo_field": "Y"},
        ),
        ("POST", f"/settings/companies/{REALM_UK}/invoice-properties", {"label": "Poziom", "type": "select"}),
        (
            "PUT",
            f"/settings/companies/{REALM_UK}/tabs/contacts/mappings/nothing",
            {"hubspot_property": "city", "qbo_field": "BillAddr.City"},
        ),
    ]
    asked += [
        ("GET", "/settings/companies/999999/reminders"),
        ("POST", f"/settings/companies/{REALM_UK}/tabs/invoices/backfill", {"action": "resume"}),
        ("POST", "/oauth/qbo/connections/999999/disconnect"),
    ]
    messages = []
    for method, path, *body in asked:
        reply = signed_json(flows, method, path + "?userLocale=pl-pl", body[0] if body else None)
        assert 400 <= reply.status_code < 500, (path, reply.status_code, reply.text)
        messages.extend(_messages(reply.json()))
    assert messages
    _untranslated(site, messages, "settings API's JSON messages")


def signed_json(flows: Reminders, method: str, path: str, body: Any = None) -> requests.Response:
    import json

    from infra.local.emulators.hubspot.signing import sign_request

    sep = "&" if "?" in path else "?"
    url = f"{flows.gateway}{path}{sep}portalId={UK}&userId=5000001"
    raw = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        **sign_request(method, url, raw, demo_accounts.HUBSPOT_CLIENT_SECRET),
    }
    return requests.request(method, url, data=raw or None, headers=headers, timeout=30)


def test_the_reminder_task_in_polish(site):
    flows = site.flows
    flows.run()
    tasks = flows.tasks_on(site.deal)
    assert tasks, "the overdue invoice's payment reminder was not created"
    texts = []
    for task in tasks:
        props = task["properties"]
        texts.append(props.get("hs_task_subject") or "")
        texts.append(re.sub(r"<[^>]+>", "\n", props.get("hs_task_body") or ""))
    _untranslated(site, texts, "reminder task")


def test_the_activity_log_in_polish(site):
    with chromium() as browser:
        page = browser.new_page()
        page.goto(settings_url(site, "contacts"))
        log = page.locator("#log")
        _untranslated(site, log.evaluate(TEXTS), "activity log")


def test_a_payment_note_on_the_deal_in_polish(site):
    """The deal's timeline is written in the language the Reminders tab chose for the company (here pl)."""
    from tests.integration.reminders.conftest import wait_for

    flows = site.flows
    flows.pay(REALM_UK, site.invoice["Id"], "200.00")
    notes = wait_for("the payment's note on the deal", lambda: flows.deal_notes(UK, site.deal), timeout=60)
    texts = [re.sub(r"<[^>]+>", "\n", note) for note in notes]
    assert any("200,00" in t for t in texts), texts  # Polish figures
    _untranslated(site, texts, "payment note")
