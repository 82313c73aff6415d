"""Money stays Decimal from QBO's JSON to HubSpot's strings and back into QBO's request bodies."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from hubqbo.domain import qbo_json
from hubqbo.domain.dates import hubspot_date, hubspot_date_ms, local_today, parse_date, parse_instant, zone_or_utc
from hubqbo.domain.money import hubspot_number, round_money, to_decimal


@pytest.mark.parametrize(("raw", "expected"), [
    (0.1, "0.1"), (362.07, "362.07"), (10, "10"), ("12.50", "12.50"), (Decimal("3.333"), "3.333"),
])  # fmt: skip
def test_numbers_from_json_become_exact_decimals(raw, expected):
    assert to_decimal(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_missing_numbers_take_the_default(raw):
    assert to_decimal(raw, Decimal(0)) == 0
    with pytest.raises(ValueError):
        to_decimal(raw)


@pytest.mark.parametrize("raw", ["abc", True, "NaN", "Infinity"])
def test_non_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        to_decimal(raw)


@pytest.mark.parametrize(("amount", "rounded"), [
    ("0.005", "0.01"), ("0.004", "0.00"), ("2.675", "2.68"), ("-2.675", "-2.68"), ("10", "10.00"),
])  # fmt: skip
def test_money_rounds_half_up_to_cents(amount, rounded):
    assert round_money(Decimal(amount)) == Decimal(rounded)


def test_hubspot_numbers_are_plain_strings_with_cents():
    assert hubspot_number(Decimal("1E+3")) == "1000.00"
    assert hubspot_number(Decimal("0.1")) == "0.10"


def test_local_today_is_the_day_in_the_zone():
    moment = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    assert local_today(moment, "America/New_York") == date(2025, 12, 31)
    assert local_today(moment, ZoneInfo("Asia/Tokyo")) == date(2026, 1, 1)


def test_local_today_refuses_a_naive_time():
    with pytest.raises(ValueError):
        local_today(datetime(2026, 1, 1), "UTC")


def test_a_missing_or_unknown_zone_is_utc():
    assert zone_or_utc("Europe/London") == ZoneInfo("Europe/London")
    assert zone_or_utc("Europe/London").key == "Europe/London"
    for name in (None, "", "Mars/Olympus_Mons", "../etc"):
        assert zone_or_utc(name) == ZoneInfo("UTC")


def test_qbo_dates_and_timestamps_are_read_exactly():
    assert parse_date("2026-03-31") == date(2026, 3, 31)
    assert parse_date(None) is None
    assert parse_instant("2026-03-02T10:00:00-08:00") == datetime(2026, 3, 2, 18, tzinfo=UTC)
    assert parse_instant("2026-03-02T18:00:00Z") == datetime(2026, 3, 2, 18, tzinfo=UTC)
    assert parse_instant("1772474400000") == datetime(2026, 3, 2, 18, tzinfo=UTC)
    assert parse_instant(datetime(2026, 3, 2, 19, tzinfo=timezone(timedelta(hours=1)))).hour == 18


def test_hubspot_dates_are_iso_days_or_midnight_utc_milliseconds():
    assert hubspot_date(date(2026, 3, 31)) == "2026-03-31"
    assert hubspot_date(None) == ""
    assert hubspot_date_ms(date(2026, 3, 31)) == 1774915200000


def test_qbo_json_writes_decimals_as_exact_numbers():
    body = {"Amount": Decimal("12.50"), "Qty": Decimal("3"), "Line": [{"X": Decimal("1E+2")}], "On": date(2026, 1, 2)}
    text = qbo_json.dumps(body)
    assert text == '{"Amount":12.50,"Qty":3,"Line":[{"X":100}],"On":"2026-01-02"}'
    assert json.loads(text, parse_float=Decimal)["Amount"] == Decimal("12.50")


def test_qbo_json_escapes_text_and_keeps_plain_values():
    text = qbo_json.dumps({"Note": 'O\'Brien "quoted" \\ ünï', "Ok": True, "None": None, "N": 3})
    assert json.loads(text) == {"Note": 'O\'Brien "quoted" \\ ünï', "Ok": True, "None": None, "N": 3}


def test_qbo_json_refuses_floats_and_non_finite_decimals():
    with pytest.raises(TypeError):
        qbo_json.dumps({"Amount": 1.5})
    with pytest.raises(ValueError):
        qbo_json.dumps({"Amount": Decimal("NaN")})
