"""Only published quotes that have not expired, in the portal's time zone, can be invoiced."""

from datetime import UTC, date, datetime

import pytest

from hubqbo.domain.quotes import HubSpotQuote, Unusable, expiry_day, quote_options

NY = "America/New_York"


def quote(qid="1", status="APPROVAL_NOT_NEEDED", expires=date(2026, 9, 30)) -> HubSpotQuote:
    return HubSpotQuote(id=qid, title=f"Quote {qid}", status=status, expires_on=expires)


def usable_at(q: HubSpotQuote, now: datetime, zone: str = NY) -> bool:
    (option,) = quote_options([q], now=now, zone=zone)
    return option.usable


@pytest.mark.parametrize("status", ["APPROVAL_NOT_NEEDED", "APPROVED", "ACCEPTED"])
def test_published_quote_before_expiry_is_usable(status):
    assert usable_at(quote(status=status), datetime(2026, 9, 1, tzinfo=UTC))


@pytest.mark.parametrize(("status", "reason"), [
    ("DRAFT", Unusable.DRAFT), ("PENDING_APPROVAL", Unusable.PENDING_APPROVAL), ("REJECTED", Unusable.REJECTED),
    (None, Unusable.NOT_PUBLISHED), ("SOMETHING_NEW", Unusable.NOT_PUBLISHED),
])  # fmt: skip
def test_unpublished_quotes_are_disabled_with_the_reason(status, reason):
    (option,) = quote_options([quote(status=status)], now=datetime(2026, 9, 1, tzinfo=UTC), zone=NY)
    assert not option.usable and option.reason is reason and option.message


def test_expired_quote_is_disabled_with_its_expiry_date():
    (option,) = quote_options([quote()], now=datetime(2026, 10, 2, tzinfo=UTC), zone=NY)
    assert option.reason is Unusable.EXPIRED and option.message == "Expired on 2026-09-30."


def test_quote_is_usable_through_the_last_minute_of_its_expiry_day_in_the_portal_zone():
    q = quote()
    assert usable_at(q, datetime(2026, 10, 1, 3, 59, tzinfo=UTC))  # 23:59 on 30 Sept in New York
    assert not usable_at(q, datetime(2026, 10, 1, 4, 0, tzinfo=UTC))  # midnight in New York


def test_the_same_instant_is_expired_in_warsaw_but_not_in_new_york():
    moment = datetime(2026, 9, 30, 23, 0, tzinfo=UTC)
    assert not usable_at(quote(), moment, "Europe/Warsaw")
    assert usable_at(quote(), moment, NY)


def test_quote_without_expiry_never_expires():
    assert usable_at(quote(expires=None), datetime(2030, 1, 1, tzinfo=UTC))


def test_draft_reason_wins_over_expiry():
    (option,) = quote_options([quote(status="DRAFT", expires=date(2020, 1, 1))], now=datetime.now(UTC), zone=NY)
    assert option.reason is Unusable.DRAFT


def test_usable_quotes_are_listed_first_keeping_the_given_order():
    quotes = [quote("1", "DRAFT"), quote("2"), quote("3", expires=date(2026, 1, 1)), quote("4")]
    options = quote_options(quotes, now=datetime(2026, 9, 1, tzinfo=UTC), zone=NY)
    assert [o.quote.id for o in options] == ["2", "4", "1", "3"]


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        quote_options([quote()], now=datetime(2026, 9, 1), zone=NY)


@pytest.mark.parametrize(("raw", "day"), [
    ("2026-09-30", date(2026, 9, 30)),
    ("2026-09-30T00:00:00Z", date(2026, 9, 30)),  # HubSpot's date encoding: midnight UTC is the day itself
    ("1790726400000", date(2026, 9, 30)),
    ("2026-10-01T03:59:59.999Z", date(2026, 9, 30)),  # end of the day in New York
    (None, None), ("", None),
])  # fmt: skip
def test_expiration_values_are_read_as_the_day_in_the_portal_calendar(raw, day):
    assert expiry_day(raw, NY) == day


def test_quote_is_read_from_hubspot_properties():
    q = HubSpotQuote.from_hubspot("9", {"hs_title": "Q", "hs_status": "APPROVED", "hs_expiration_date": "2026-09-30",
                                        "hs_currency": "EUR", "hs_quote_link": "https://q"}, NY)  # fmt: skip
    assert (q.id, q.status, q.expires_on, q.currency, q.link) == (
        "9",
        "APPROVED",
        date(2026, 9, 30),
        "EUR",
        "https://q",
    )
