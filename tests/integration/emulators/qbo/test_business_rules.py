"""QBO's business rules as the emulator enforces them, through the raw HTTP API."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from infra.local.emulators import demo_accounts

CUSTOM = demo_accounts.REALM_CUSTOM_NUMBERS.realm_id
MULTI = demo_accounts.REALM_MULTI.realm_id


def fault_code(response) -> str:
    return response.json()["Fault"]["Error"][0]["code"]


def first(api, statement):
    return api.rows(statement)[0]


def line(item_id: str, qty: int = 1, **detail) -> dict:
    return {
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": qty, **detail},
    }


def test_sync_token_increments_on_each_change_and_a_stale_one_is_rejected_with_5010(us):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Bill\\'s Windsurf Shop'")
    body = {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "first"}
    updated = us.post("/customer", body).json()["Customer"]
    assert int(updated["SyncToken"]) == int(customer["SyncToken"]) + 1
    assert updated["DisplayName"] == customer["DisplayName"]  # sparse keeps what was not sent

    stale = us.post("/customer", body | {"Notes": "second"})
    assert stale.status_code == 400
    assert fault_code(stale) == "5010"
    assert stale.json()["Fault"]["type"] == "ValidationFault"


def test_a_full_update_clears_fields_that_are_not_sent(us):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Bill\\'s Windsurf Shop'")
    updated = us.post("/customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "DisplayName": "Bill"})
    assert "CompanyName" not in updated.json()["Customer"]


def test_customer_display_names_are_unique_even_against_inactive_customers(us):
    taken = us.post("/customer", {"DisplayName": "amy's bird sanctuary"})
    assert (taken.status_code, fault_code(taken)) == (400, "6240")
    assert "Duplicate Name Exists" in taken.json()["Fault"]["Error"][0]["Message"]
    inactive = us.post("/customer", {"DisplayName": "Old Client LLC"})
    assert fault_code(inactive) == "6240"


def test_referencing_an_inactive_customer_or_item_gives_610(us):
    old_customer = first(us, "SELECT * FROM Customer WHERE Active = false")
    item = first(us, "SELECT * FROM Item WHERE Sku = 'DESIGN-001'")
    with_customer = us.post("/invoice", {"CustomerRef": {"value": old_customer["Id"]}, "Line": [line(item["Id"])]})
    assert (with_customer.status_code, fault_code(with_customer)) == (400, "610")

    old_item = first(us, "SELECT * FROM Item WHERE Active = false")
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Melton Johnson'")
    with_item = us.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line(old_item["Id"])]})
    assert fault_code(with_item) == "610"


def test_invoices_are_auto_numbered_and_a_duplicate_doc_number_gives_6210(us):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Melton Johnson'")
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]}
    numbers = [int(i["DocNumber"]) for i in us.rows("SELECT * FROM Invoice")]
    created = us.post("/invoice", body).json()["Invoice"]
    assert int(created["DocNumber"]) == max(numbers) + 1

    duplicate = us.post("/invoice", body | {"DocNumber": created["DocNumber"]})
    assert (duplicate.status_code, fault_code(duplicate)) == (400, "6210")


def test_with_custom_transaction_numbers_an_invoice_without_doc_number_gets_none(connect):
    api = connect(CUSTOM)
    assert api.get("/preferences").json()["Preferences"]["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    customer = first(api, "SELECT * FROM Customer")
    created = api.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]}).json()["Invoice"]
    assert "DocNumber" not in created
    forced = api.post(
        "/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")], "DocNumber": "AUTO_GENERATE"}
    )
    assert forced.json()["Invoice"]["DocNumber"].isdigit()


def test_non_us_company_requires_a_tax_code_on_every_sales_line(uk):
    customer = first(uk, "SELECT * FROM Customer WHERE DisplayName = 'Smith & Sons Ltd'")
    missing = uk.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")]})
    assert missing.status_code == 400
    assert fault_code(missing).startswith("6")
    assert "VAT" in missing.json()["Fault"]["Error"][0]["Detail"]


def test_uk_invoice_totals_include_vat_from_the_tax_rates(uk):
    customer = first(uk, "SELECT * FROM Customer WHERE DisplayName = 'Smith & Sons Ltd'")
    standard = first(uk, "SELECT * FROM TaxCode WHERE Name = '20.0% S'")
    reduced = first(uk, "SELECT * FROM TaxCode WHERE Name = '5.0% R'")
    design = first(uk, "SELECT * FROM Item WHERE Sku = 'DESIGN-001'")
    lines = [
        line(design["Id"], 2, TaxCodeRef={"value": standard["Id"]}),
        line(design["Id"], 1, UnitPrice=40, TaxCodeRef={"value": reduced["Id"]}),
    ]
    invoice = uk.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": lines}).json()["Invoice"]
    net = Decimal(str(design["UnitPrice"])) * 2
    expected_tax = net * Decimal("0.20") + Decimal(40) * Decimal("0.05")
    assert Decimal(str(invoice["TxnTaxDetail"]["TotalTax"])) == expected_tax
    assert Decimal(str(invoice["TotalAmt"])) == net + 40 + expected_tax
    assert invoice["Balance"] == invoice["TotalAmt"]
    assert {t["TaxLineDetail"]["TaxPercent"] for t in invoice["TxnTaxDetail"]["TaxLine"]} == {20, 5}


def test_line_amount_is_qty_times_unit_price_and_a_mismatch_is_rejected(us):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Melton Johnson'")
    invoice = us.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1", 3, UnitPrice="12.50")]})
    sales = invoice.json()["Invoice"]["Line"][0]
    assert Decimal(str(sales["Amount"])) == Decimal("37.50")
    wrong = [line("1", 3, UnitPrice="12.50") | {"Amount": 10}]
    assert us.post("/invoice", {"CustomerRef": {"value": customer["Id"]}, "Line": wrong}).status_code == 400


def test_due_date_follows_the_sales_term_when_not_given(us):
    customer = first(us, "SELECT * FROM Customer WHERE DisplayName = 'Melton Johnson'")
    net15 = first(us, "SELECT * FROM Term WHERE Name = 'Net 15'")
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [line("1")], "TxnDate": "2026-03-01"}
    invoice = us.post("/invoice", body | {"SalesTermRef": {"value": net15["Id"]}}).json()["Invoice"]
    assert date.fromisoformat(invoice["DueDate"]) == date(2026, 3, 1) + timedelta(days=15)


def test_a_payment_lowers_the_invoice_balance_and_bumps_its_sync_token_and_void_restores_it(us, admin):
    invoice = first(us, "SELECT * FROM Invoice WHERE Balance > '0' ORDERBY Id")
    customer_id = invoice["CustomerRef"]["value"]
    admin.advance(60)
    link = {"Amount": 10, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}
    payment = us.post("/payment", {"CustomerRef": {"value": customer_id}, "TotalAmt": 10, "Line": [link]})
    assert payment.status_code == 200, payment.text
    paid = us.get(f"/invoice/{invoice['Id']}").json()["Invoice"]
    assert Decimal(str(paid["Balance"])) == Decimal(str(invoice["Balance"])) - 10
    assert int(paid["SyncToken"]) == int(invoice["SyncToken"]) + 1
    assert paid["MetaData"]["LastUpdatedTime"] > invoice["MetaData"]["LastUpdatedTime"]

    created = payment.json()["Payment"]
    void = us.post(
        "/payment",
        {"Id": created["Id"], "SyncToken": created["SyncToken"], "sparse": True},
        operation="update",
        include="void",
    )
    assert void.status_code == 200, void.text
    assert void.json()["Payment"]["TotalAmt"] == 0
    assert us.get(f"/invoice/{invoice['Id']}").json()["Invoice"]["Balance"] == invoice["Balance"]


def test_deleting_a_payment_restores_the_invoice_balance(us):
    payment = first(us, "SELECT * FROM Payment ORDERBY Id")
    invoice_id = payment["Line"][0]["LinkedTxn"][0]["TxnId"]
    before = us.get(f"/invoice/{invoice_id}").json()["Invoice"]
    deleted = us.post("/payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete")
    assert deleted.json()["Payment"]["status"] == "Deleted"
    after = us.get(f"/invoice/{invoice_id}").json()["Invoice"]
    assert after["Balance"] == before["Balance"] + payment["Line"][0]["Amount"]


def test_foreign_currency_invoice_has_home_total_from_the_exchange_rate(connect):
    api = connect(MULTI)
    prefs = api.get("/preferences").json()["Preferences"]["CurrencyPrefs"]
    assert prefs["MultiCurrencyEnabled"] is True
    euro = first(api, "SELECT * FROM Customer WHERE CurrencyRef = 'EUR'")
    body = {"CustomerRef": {"value": euro["Id"]}, "Line": [line("1", 2)], "ExchangeRate": "1.10"}
    invoice = api.post("/invoice", body).json()["Invoice"]
    assert invoice["CurrencyRef"]["value"] == "EUR"
    assert Decimal(str(invoice["HomeTotalAmt"])) == (Decimal(str(invoice["TotalAmt"])) * Decimal("1.10")).quantize(
        Decimal("0.01")
    )
    assert {c["Code"] for c in api.rows("SELECT * FROM CompanyCurrency")} >= {"EUR", "GBP", "PLN"}


def test_send_marks_the_invoice_email_sent_with_delivery_info(us):
    invoice = first(us, "SELECT * FROM Invoice ORDERBY Id")
    assert invoice["EmailStatus"] == "NotSet"
    sent = us.session.post(f"{us.root}/invoice/{invoice['Id']}/send", params={"sendTo": "ap@example.com"}, timeout=10)
    body = sent.json()["Invoice"]
    assert (body["EmailStatus"], body["BillEmail"]["Address"]) == ("EmailSent", "ap@example.com")
    assert body["DeliveryInfo"]["DeliveryType"] == "Email"


def test_pdf_is_served_as_application_pdf(us):
    response = us.session.get(f"{us.root}/invoice/1/pdf", headers={"Accept": "application/pdf"}, timeout=10)
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_void_invoice_zeroes_amounts_but_keeps_the_record(us):
    invoice = first(us, "SELECT * FROM Invoice WHERE Balance > '0' ORDERBY Id")
    voided = us.post("/invoice", {"Id": invoice["Id"], "SyncToken": invoice["SyncToken"]}, operation="void").json()[
        "Invoice"
    ]
    assert (voided["TotalAmt"], voided["Balance"]) == (0, 0)
    assert us.get(f"/invoice/{invoice['Id']}").status_code == 200


def test_metadata_times_use_the_company_offset(us, uk):
    assert first(us, "SELECT * FROM Customer")["MetaData"]["CreateTime"].endswith("-08:00")
    assert first(uk, "SELECT * FROM Customer")["MetaData"]["CreateTime"].endswith("+00:00")


def test_reading_an_unknown_object_gives_610_object_not_found(us):
    missing = us.get("/customer/99999")
    assert (missing.status_code, fault_code(missing)) == (400, "610")


def test_seeded_data_has_the_shared_people_and_products(us, uk):
    for person in demo_accounts.SHARED_PEOPLE:
        api = (
            us
            if person.realm_id == demo_accounts.REALM_US.realm_id
            else uk
            if person.realm_id == demo_accounts.REALM_UK.realm_id
            else None
        )
        if api is None:
            continue
        found = first(api, f"SELECT * FROM Customer WHERE PrimaryEmailAddr = '{person.email}'")  # noqa: S608
        assert (found["GivenName"], found["FamilyName"], found["CompanyName"]) == (
            person.first,
            person.last,
            person.company,
        )
        assert found["BillAddr"]["City"]
    skus = {i.get("Sku") for i in us.rows("SELECT *, Sku FROM Item")}
    assert {p.sku for p in demo_accounts.SHARED_PRODUCTS} <= skus
    same_email = us.rows("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'dukes@dukesbasketball.example'")
    assert len(same_email) == 2
    balances = sorted(
        Decimal(str(i["Balance"])) / Decimal(str(i["TotalAmt"])) for i in us.rows("SELECT * FROM Invoice")
    )
    assert balances[0] == 0 and Decimal(0) < balances[1] < 1  # one paid, one partially paid
    overdue = [i for i in us.rows("SELECT * FROM Invoice") if i["DueDate"] < date.today().isoformat() and i["Balance"]]
    assert overdue
