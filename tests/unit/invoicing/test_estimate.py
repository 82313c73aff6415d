"""An estimate is the invoice the wizard's rules build, as QBO's Estimate: pending, with an expiration date
and no due date; and the pieces of the "create the item" fallback that decide without QBO."""

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hubqbo.domain.estimate import estimate_body, expiration
from hubqbo.services.workflow_estimate import EstimateInputs
from hubqbo.services.workflow_items import NoItem, _income_account, _request_id, item_name

TODAY = date(2026, 12, 3)


def test_an_estimate_is_the_invoice_body_pending_without_a_due_date():
    invoice = {"CustomerRef": {"value": "7"}, "Line": [{"Amount": Decimal("30.00")}], "TxnDate": "2026-12-03",
               "DueDate": "2027-01-02", "SalesTermRef": {"value": "3"}, "EmailStatus": "NotSet"}  # fmt: skip
    body = estimate_body(invoice, date(2026, 12, 31))
    assert "DueDate" not in body and body["TxnStatus"] == "Pending" and body["ExpirationDate"] == "2026-12-31"
    assert {k: v for k, v in body.items() if k not in ("TxnStatus", "ExpirationDate")} == {
        k: v for k, v in invoice.items() if k != "DueDate"
    }
    assert "DueDate" in invoice  # the invoice body is left as it was
    assert "ExpirationDate" not in estimate_body(invoice, None)


@pytest.mark.parametrize(
    ("valid_days", "quote_expires", "expected"),
    [
        (14, None, date(2026, 12, 17)),
        (14, date(2027, 3, 1), date(2026, 12, 17)),  # the days asked win over the quote's date
        (0, None, TODAY),
        (None, date(2027, 3, 1), date(2027, 3, 1)),
        (None, date(2026, 12, 1), None),  # a date already past is no expiry to give
        (None, None, None),
    ],
)
def test_how_long_an_estimate_stands(valid_days, quote_expires, expected):
    assert expiration(TODAY, valid_days, quote_expires) == expected


@pytest.mark.parametrize(("given", "days"), [("14", 14), ("14.0", 14), (" 7 ", 7), ("", None), (None, None)])
def test_the_valid_days_input_reads_what_a_number_field_sends(given, days):
    assert EstimateInputs.model_validate({"valid_days": given}).valid_days == days


@pytest.mark.parametrize("given", ["soon", "-1", "14.5", "99999"])
def test_valid_days_that_are_no_whole_number_of_days_are_refused(given):
    with pytest.raises(ValidationError):
        EstimateInputs.model_validate({"valid_days": given})


def test_the_estimate_defaults_to_the_quote_and_stops_on_a_missing_product():
    inputs = EstimateInputs.model_validate({})
    assert (inputs.source, inputs.missing_item) == ("quote", "fail")


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ({"name": "Laser alignment: on site"}, "Laser alignment - on site"),
        ({"name": "  Two\tlines\nname "}, "Two - lines - name"),
        ({"name": "", "sku": "SKU-9"}, "SKU-9"),
        ({"name": "", "sku": None, "line_id": "42"}, "HubSpot line item 42"),
        ({"name": "x" * 150}, "x" * 100),
    ],
)
def test_a_created_items_name_is_the_lines_made_storable(line, name):
    assert item_name(line) == name


def test_the_income_account_is_the_default_items_else_the_services_income_account():
    accounts = [
        {"Id": "9", "AccountSubType": "SalesOfProductIncome"},
        {"Id": "12", "AccountSubType": "ServiceFeeIncome"},
        {"Id": "4", "AccountSubType": "ServiceFeeIncome", "Active": False},
        {"Id": "3", "AccountSubType": "OtherPrimaryIncome"},
    ]
    assert _income_account({"accounts": accounts}, {"IncomeAccountRef": {"value": "5"}}) == {"value": "5"}
    assert _income_account({"accounts": accounts}, None) == {"value": "12"}
    assert _income_account({"accounts": accounts[:1] + accounts[3:]}, {}) == {"value": "9"}
    with pytest.raises(NoItem):
        _income_account({"accounts": [accounts[2]]}, None)


def test_a_created_items_request_id_fits_qbo_and_names_one_run_and_name():
    rid = _request_id("we-" + "a" * 32, "Pump")
    assert len(rid) <= 50
    assert rid == _request_id("we-" + "a" * 32, "PUMP") and rid != _request_id("we-" + "b" * 32, "Pump")
