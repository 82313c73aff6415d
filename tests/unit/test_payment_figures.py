from decimal import Decimal

from hubqbo.services.payments import money


def test_timeline_amounts_round_half_up_like_invoices():
    assert money(Decimal("0.005")) == "0.01"
    assert money(Decimal("2.125")) == "2.13"


def test_timeline_amounts_group_thousands_with_two_places():
    assert money(Decimal("1250")) == "1,250.00"
