"""Money, dates, numbers and plurals per locale; exact characters, no-break spaces included."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from hubqbo.web.i18n import get_translator, vocabulary
from tests.unit.i18n.conftest import NBSP

PL = get_translator("pl_PL")
EN = get_translator("en")
EN_GB = get_translator("en_GB")


def nb(text: str) -> str:
    """Writes the expected no-break spaces as `~` for readability."""
    return text.replace("~", NBSP)


@pytest.mark.parametrize(
    ("amount", "currency", "polish", "english"),
    [
        ("1250", "PLN", "1~250,00~zł", "PLN~1,250.00"),
        ("1250", "USD", "1~250,00~USD", "USD~1,250.00"),
        ("1250", "GBP", "1~250,00~GBP", "GBP~1,250.00"),
        ("1250", "EUR", "1~250,00~€", "EUR~1,250.00"),
        ("999.99", "PLN", "999,99~zł", "PLN~999.99"),
        ("12345678.9", "GBP", "12~345~678,90~GBP", "GBP~12,345,678.90"),
        ("-1250.5", "USD", "-1~250,50~USD", "-USD~1,250.50"),
        ("0", "PLN", "0,00~zł", "PLN~0.00"),
        ("1250.005", "PLN", "1~250,01~zł", "PLN~1,250.01"),  # half up, like invoices
        ("1250.5", "JPY", "1~251~JPY", "JPY~1,251"),  # the currency's own digits
    ],
)
def test_money(amount, currency, polish, english):
    assert PL.format_money(Decimal(amount), currency) == nb(polish)
    assert EN.format_money(Decimal(amount), currency) == nb(english)


def test_the_issues_examples_exactly():
    assert PL.format_money(Decimal("1250.00"), "PLN") == "1\u00a0250,00\u00a0zł"
    assert EN.format_money(Decimal("1250.00"), "PLN") == "PLN\u00a01,250.00"
    # Normalised to plain spaces, as a reader sees them.
    assert PL.format_money(Decimal(1250), "PLN").replace(NBSP, " ") == "1 250,00 zł"
    assert EN.format_money(Decimal(1250), "PLN").replace(NBSP, " ") == "PLN 1,250.00"


def test_polish_groups_four_digit_amounts_although_cldr_says_minimum_grouping_digits_2():
    # Babel 2.18 ignores minimumGroupingDigits; if an upgrade honours it, this test says so.
    assert PL.format_number(Decimal(1250)) == nb("1~250")


def test_english_money_is_code_first_in_every_english_locale():
    assert EN_GB.format_money(Decimal("1250"), "USD") == nb("USD~1,250.00")
    assert EN_GB.format_money(Decimal("1250"), "gbp") == nb("GBP~1,250.00")


def test_money_accepts_ints_and_strings_but_not_booleans():
    assert EN.format_money(1250, "USD") == nb("USD~1,250.00")
    assert EN.format_money("0.1", "USD") == nb("USD~0.10")
    with pytest.raises(TypeError):
        EN.format_money(True, "USD")


def test_dates():
    day = date(2026, 11, 29)
    assert PL.format_date(day) == "29 lis 2026"
    assert PL.format_date(day, "long") == "29 listopada 2026"
    assert PL.format_date(day, "short") == "29.11.2026"
    assert EN.format_date(day) == "Nov 29, 2026"
    assert EN.format_date(day, "long") == "November 29, 2026"
    assert EN_GB.format_date(day, "long") == "29 November 2026"
    assert EN_GB.format_date(day, "short") == "29/11/2026"
    assert PL.format_date(datetime(2026, 11, 29, 23, 0, tzinfo=UTC), "long") == "29 listopada 2026"


def test_datetimes_in_a_time_zone():
    moment = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)
    assert PL.format_datetime(moment, "short", "Europe/Warsaw") == "30.11.2026, 00:30"
    assert EN.format_datetime(moment, "short", "US/Eastern").replace("\u202f", " ") == "11/29/26, 6:30 PM"


def test_numbers_and_percentages():
    assert PL.format_number(Decimal("1250.5")) == nb("1~250,5")
    assert EN.format_number(Decimal("1250.5")) == "1,250.5"
    assert PL.format_number(Decimal("12500.456"), 2) == nb("12~500,46")
    assert EN.format_number(3, 2) == "3.00"
    assert EN.format_number(Decimal("2.5"), 0) == "3"
    assert PL.format_percent(Decimal("0.23")) == "23%"
    assert PL.format_percent(Decimal("0.0825")) == "8,25%"
    assert EN.format_percent(Decimal("0.0825")) == "8.25%"


@pytest.mark.parametrize(
    ("num", "polish"),
    [(1, "1 faktura"), (2, "2 faktury"), (4, "4 faktury"), (5, "5 faktur"), (12, "12 faktur"), (22, "22 faktury")],
)
def test_polish_plurals_have_three_forms(num, polish):
    assert PL.plural(vocabulary.INVOICE_COUNT, num) == polish
    assert EN.plural(vocabulary.INVOICE_COUNT, num) == f"{num} invoice{'s' if num != 1 else ''}"


def test_messages_and_variables():
    assert PL.gettext(vocabulary.CREATE_INVOICE) == "Utwórz fakturę"
    assert EN.gettext(vocabulary.CREATE_INVOICE) == "Create invoice"
    assert PL.gettext(vocabulary.STEP_OF, step=2, steps=5) == "Krok 2 z 5"
    assert PL.gettext(vocabulary.UPSTREAM_TITLE, provider="QuickBooks") == "QuickBooks nie odpowiada"
    assert PL.gettext("A message nobody translated") == "A message nobody translated"


def test_status_labels_by_machine_word():
    assert PL.invoice_status("waiting_to_be_sent") == "Oczekiwanie na wysłanie"
    assert PL.invoice_status("paid_in_full") == "Opłacono w całości"
    assert EN.invoice_status("overdue") == "Overdue"
    assert PL.invoice_status("something_new") == "something_new"  # never crashes a page
    assert PL.connection_status("reconnect_needed") == "Wymaga ponownego połączenia"
    assert PL.label(vocabulary.ON_DELETE_LABELS, "archive") == "Archiwizuj w HubSpot"


def test_translators_are_cached_per_locale():
    # compared with each other, not with the module's PL: another test may have cleared the cache since import
    assert get_translator("pl_PL") is get_translator("pl_PL")
    assert get_translator("pl_PL") is not get_translator("en_GB")
    assert PL.language == "pl" and EN_GB.language == "en"
