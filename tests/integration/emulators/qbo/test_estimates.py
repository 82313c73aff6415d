"""Estimates as the emulated QBO books them: created, read and queried like invoices, with their own
status, expiration date and number sequence, and totals computed as an invoice's are."""

from __future__ import annotations

from decimal import Decimal

from hubqbo.domain import qbo_query as q
from tests.integration.emulators.qbo.test_business_rules import fault_code, first, line


def _customer(api, name: str) -> dict:
    return first(api, q.select("Customer", q.eq("DisplayName", name)))


def test_an_estimate_is_pending_totalled_like_an_invoice_and_has_no_balance(us):
    customer = _customer(us, "Melton Johnson")
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "Line": [line("1", 3, UnitPrice="12.50")],
        "ExpirationDate": "2026-12-31",
    }
    estimate = us.post("/estimate", body).json()["Estimate"]
    assert estimate["TxnStatus"] == "Pending" and estimate["ExpirationDate"] == "2026-12-31"
    assert Decimal(str(estimate["TotalAmt"])) == Decimal("37.50")
    assert estimate["Line"][-1]["DetailType"] == "SubTotalLineDetail"
    assert "Balance" not in estimate and "DueDate" not in estimate
    assert estimate["CustomerRef"]["name"] == "Melton Johnson"

    read = us.get(f"/estimate/{estimate['Id']}").json()["Estimate"]
    assert read == estimate
    queried = us.rows(q.select("Estimate", q.eq("Id", estimate["Id"])))
    assert [e["Id"] for e in queried] == [estimate["Id"]]


def test_estimates_are_numbered_in_their_own_sequence(us):
    customer = _customer(us, "Melton Johnson")
    invoice = us.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]}).json()["Invoice"]
    first_estimate = us.post("/estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]})
    second = us.post("/estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]})
    numbers = [first_estimate.json()["Estimate"]["DocNumber"], second.json()["Estimate"]["DocNumber"]]
    assert int(numbers[1]) == int(numbers[0]) + 1
    taken = us.post(
        "/estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")], "DocNumber": numbers[0]}
    )
    assert (taken.status_code, fault_code(taken)) == (400, "6210")
    same_as_invoice = us.post(
        "/estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")], "DocNumber": invoice["DocNumber"]}
    )
    assert same_as_invoice.status_code == 200  # an invoice's number is not an estimate's


def test_uk_estimate_totals_include_vat_as_an_invoices_do(uk):
    customer = _customer(uk, "Smith & Sons Ltd")
    standard = first(uk, "SELECT * FROM TaxCode WHERE Name = '20.0% S'")
    design = first(uk, "SELECT * FROM Item WHERE Sku = 'DESIGN-001'")
    lines = [line(design["Id"], 2, TaxCodeRef={"value": standard["Id"]})]
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": lines}
    estimate = uk.post("/estimate", body).json()["Estimate"]
    invoice = uk.post("/invoice", body).json()["Invoice"]
    assert estimate["TxnTaxDetail"] == invoice["TxnTaxDetail"] and estimate["TotalAmt"] == invoice["TotalAmt"]
    missing_vat = uk.post("/estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(design["Id"])]})
    assert missing_vat.status_code == 400 and "VAT" in missing_vat.json()["Fault"]["Error"][0]["Detail"]


def test_an_estimates_status_is_one_of_qbos_four_and_its_dates_are_dates(us):
    customer = _customer(us, "Melton Johnson")
    base = {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]}
    acceptance = {"TxnStatus": "Accepted", "AcceptedBy": "John", "AcceptedDate": "2026-12-01"}
    accepted = us.post("/estimate", base | acceptance)
    assert accepted.json()["Estimate"]["TxnStatus"] == "Accepted"
    assert accepted.json()["Estimate"]["AcceptedBy"] == "John"
    for bad in ({"TxnStatus": "Won"}, {"ExpirationDate": "next week"}):
        refused = us.post("/estimate", base | bad)
        assert (refused.status_code, fault_code(refused)) == (400, "2010")
    nobody = us.post("/estimate", {"Line": [line("1")]})
    assert nobody.status_code == 400
    empty = us.post("/estimate", {"CustomerRef": {"value": customer["Id"]}})
    assert (empty.status_code, fault_code(empty)) == (400, "2020")


def test_an_estimate_is_deleted_not_voided(us):
    customer = _customer(us, "Melton Johnson")
    estimate = us.post("/estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]}).json()["Estimate"]
    keys = {"Id": estimate["Id"], "SyncToken": estimate["SyncToken"]}
    assert us.post("/estimate", keys, operation="void").status_code >= 400
    deleted = us.post("/estimate", keys, operation="delete")
    assert deleted.status_code == 200 and deleted.json()["Estimate"]["status"] == "Deleted"
    assert us.get(f"/estimate/{estimate['Id']}").status_code == 400
