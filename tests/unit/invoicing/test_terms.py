"""Due dates from payment terms: days after the invoice, or a day of the month."""

from datetime import date

import pytest

from hubqbo.domain.terms import Term, due_date

NET_30 = Term(id="3", name="Net 30", due_days=30)


def test_standard_term_is_due_days_after_the_invoice_date():
    assert due_date(date(2026, 1, 15), NET_30) == date(2026, 2, 14)


def test_due_on_receipt_is_the_invoice_date():
    assert due_date(date(2026, 1, 15), Term(id="1", name="Due on receipt", due_days=0)) == date(2026, 1, 15)
    assert due_date(date(2026, 1, 15), None) == date(2026, 1, 15)


@pytest.mark.parametrize(("issued", "due"), [
    (date(2026, 1, 5), date(2026, 1, 25)),   # 20 days before the 25th: this month
    (date(2026, 1, 16), date(2026, 1, 25)),  # 9 days before: still this month
    (date(2026, 1, 17), date(2026, 2, 25)),  # 8 days before (< 9): next month
    (date(2026, 1, 26), date(2026, 2, 25)),  # after the day: next month
    (date(2026, 12, 20), date(2027, 1, 25)),  # over the year end
])  # fmt: skip
def test_date_driven_term_moves_to_next_month_when_issued_too_close_to_the_day(issued, due):
    term = Term(id="9", name="25th", day_of_month_due=25, due_next_month_days=9)
    assert due_date(issued, term) == due


def test_a_day_past_the_end_of_the_month_means_its_last_day():
    term = Term(id="9", name="31st", day_of_month_due=31, due_next_month_days=5)
    assert due_date(date(2026, 1, 28), term) == date(2026, 2, 28)


def test_term_is_read_from_qbo():
    term = Term.from_qbo({"Id": "3", "Name": "Net 30", "Type": "STANDARD", "DueDays": 30, "Active": True})
    assert term == NET_30
    assert Term.from_qbo({"Id": "4", "Name": "x", "Active": False}).active is False
