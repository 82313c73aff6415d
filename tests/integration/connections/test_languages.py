"""The OAuth pages in Polish and English: the installed and connected pages and the error pages speak
the browser's language (Accept-Language; the callbacks carry no HubSpot locale), English by default,
and a HubSpot user's locale given to /oauth/qbo/connect rides through the OAuth state to the callback.
A Polish page is checked for English left untranslated: no English message of the catalogs (of two
words or more, that Polish words differently) may appear in its text."""

from __future__ import annotations

import re
from html import unescape

import requests

from infra.local.emulators import demo_accounts as demo
from infra.local.emulators.hubspot.signing import signed_get
from tests.support.i18n import english_messages

from .conftest import binding_cookie, page_outcome
from .test_bad_input import with_query

UK, US = demo.PORTAL_UK, demo.PORTAL_US
REALM_UK = demo.REALM_UK.realm_id
POLISH = {"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}


def text_of(html: str) -> str:
    """The page's words: tags dropped, entities decoded, whitespace collapsed."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def assert_no_english(html: str, where: str, allowed: tuple[str, ...] = ()) -> None:
    text = text_of(html)
    for kept in allowed:  # the English "Details:" line of a provider or service
        text = text.replace(kept, "")
    left = [m for m in english_messages() if text_of(m) in text]
    assert not left, f"untranslated on the Polish {where}: {left}"


def install_page(flows, portal_id: int, headers: dict[str, str]) -> requests.Response:
    consent = flows.consent_hubspot(flows.start_install(), portal_id, demo.SUPER_ADMIN_EMAIL)
    assert consent.status_code == 302, consent.text
    return requests.get(consent.headers["Location"], headers=headers, timeout=20)


def test_the_installed_page_in_polish(flows):
    page = install_page(flows, UK, POLISH)
    assert page.status_code == 200, page.text
    assert page_outcome(page.text) == "installed"
    assert '<html lang="pl">' in page.text
    assert "Co dalej" in page.text
    assert f"zainstalowane na koncie HubSpot {UK}" in page.text
    assert "Waluta firmy" in page.text and "GBP" in page.text and 'id="currency"' in page.text
    assert "What next" not in page.text
    assert_no_english(page.text, "installed page")


def test_the_installed_page_is_english_by_default(flows):
    for headers in ({}, ENGLISH, {"Accept-Language": "de-DE,de;q=0.9"}):
        page = install_page(flows, UK, headers)
        assert page.status_code == 200, page.text
        assert '<html lang="en">' in page.text
        assert "What next" in page.text
        assert "Co dalej" not in page.text


def test_the_connected_page_in_polish(flows):
    assert install_page(flows, UK, POLISH).status_code == 200
    page = flows.callback(flows.callback_url(UK, REALM_UK), headers=POLISH)
    assert page.status_code == 200, page.text
    assert page_outcome(page.text) in ("connected", "reconnected")
    assert '<html lang="pl">' in page.text
    assert "Firma produkcyjna" in page.text or "Firma testowa (sandbox)" in page.text
    assert "Waluta główna" in page.text
    assert "Możesz zamknąć to okno i wrócić do HubSpot." in page.text
    assert_no_english(page.text, "connected page")


def test_the_connected_page_in_english(flows):
    assert install_page(flows, UK, ENGLISH).status_code == 200
    page = flows.callback(flows.callback_url(UK, REALM_UK), headers=ENGLISH)
    assert page.status_code == 200, page.text
    assert '<html lang="en">' in page.text
    assert "Home currency" in page.text
    assert "You can close this window and go back to HubSpot." in page.text


def test_the_hubspot_users_locale_rides_through_the_oauth_state_to_the_callback_page(flows):
    assert install_page(flows, UK, ENGLISH).status_code == 200
    start = signed_get(
        f"{flows.gateway}/oauth/qbo/connect?portalId={UK}&userId=5000001&userLocale=pl-pl", allow_redirects=False
    )
    assert start.status_code == 302, start.text
    flows.browser_cookie = binding_cookie(start)
    consent = flows.consent_qbo(start.headers["Location"], REALM_UK)
    page = flows.callback(consent.headers["Location"], headers=ENGLISH)  # the browser says English
    assert page.status_code == 200, page.text
    assert '<html lang="pl">' in page.text
    assert_no_english(page.text, "connected page (locale from the state)")


def test_a_start_again_page_in_polish(flows):
    response = requests.get(f"{flows.gateway}/oauth/hubspot/callback?code=abc&state=nope", headers=POLISH, timeout=10)
    assert response.status_code == 400, response.text
    assert page_outcome(response.text) == "problem"
    assert '<html lang="pl">' in response.text
    assert "To żądanie jest nieprawidłowe lub wygasło" in response.text
    assert "Zacznij od nowa" in response.text
    assert f'href="{flows.gateway}/oauth/hubspot/install"' in response.text
    assert 'id="correlation-id"' in response.text
    assert "Szczegóły:" in response.text  # the service's own English words, below the Polish ones
    details = re.search(r'id="details"[^>]*>(.*?)</p>', response.text, re.S)
    assert details, response.text
    assert_no_english(response.text, "start-again page", allowed=(text_of(details.group(1)),))


def test_a_start_again_page_in_english(flows):
    response = requests.get(f"{flows.gateway}/oauth/hubspot/callback?code=abc&state=nope", timeout=10)
    assert response.status_code == 400, response.text
    assert '<html lang="en">' in response.text
    assert "This request is invalid or has expired" in response.text
    assert "Start again" in response.text
    assert "The sign-in link is missing, altered or expired." in response.text  # the details


def test_a_failed_exchange_page_in_polish_keeps_the_providers_reason_and_references(flows):
    assert install_page(flows, UK, POLISH).status_code == 200
    callback = with_query(flows.callback_url(UK, REALM_UK), code="not-a-real-code")
    page = flows.callback(callback, headers=POLISH)
    assert page.status_code == 502, page.text
    assert '<html lang="pl">' in page.text
    assert "Nie udało się dokończyć połączenia" in page.text
    assert "Invalid authorization code" in page.text  # Intuit's reason, untranslatable
    assert "Identyfikator QuickBooks:" in page.text
    assert 'id="provider-correlation-id"' in page.text and 'id="correlation-id"' in page.text


def test_the_connect_route_answers_a_browser_with_a_translated_page(flows):
    unsigned = requests.get(f"{flows.gateway}/oauth/qbo/connect?portalId={US}", headers=POLISH, timeout=10)
    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"].startswith("text/html")
    assert "To żądanie jest nieprawidłowe lub wygasło" in unsigned.text
    as_json = requests.get(
        f"{flows.gateway}/oauth/qbo/connect?portalId={US}", headers={"Accept": "application/json"}, timeout=10
    )
    assert as_json.status_code == 401
    assert "message" in as_json.json()
