"""Batch, change data capture (with deletes and the 30-day window) and requestid de-duplication."""

from __future__ import annotations

from datetime import datetime, timedelta


def emulator_now(admin) -> datetime:
    return datetime.fromisoformat(admin.get("/clock")["now"])


def test_batch_runs_each_item_with_its_own_fault(us):
    customer = us.rows("SELECT * FROM Customer ORDERBY Id")[0]
    items = [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
        {"bId": "2", "operation": "create", "Customer": {"DisplayName": customer["DisplayName"]}},
        {
            "bId": "3",
            "operation": "update",
            "Customer": {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "n"},
        },
        {"bId": "4", "Query": "SELECT * FROM Term WHERE Name = 'Net 30'"},
    ]
    answer = us.post("/batch", {"BatchItemRequest": items})
    assert answer.status_code == 200
    by_id = {r["bId"]: r for r in answer.json()["BatchItemResponse"]}
    assert by_id["1"]["Customer"]["DisplayName"] == "Batch One"
    assert by_id["2"]["Fault"]["Error"][0]["code"] == "6240"
    assert by_id["3"]["Customer"]["Notes"] == "n"
    assert by_id["4"]["QueryResponse"]["Term"][0]["Name"] == "Net 30"


def test_batch_of_more_than_30_items_is_rejected(us):
    items = [{"bId": str(n), "Query": "SELECT * FROM Term"} for n in range(31)]
    answer = us.post("/batch", {"BatchItemRequest": items})
    assert answer.status_code == 400 and "Fault" in answer.json()


def test_cdc_returns_changed_objects_and_deleted_stubs(us, admin):
    since = (emulator_now(admin) + timedelta(seconds=1)).isoformat()
    admin.advance(10)
    payment = us.rows("SELECT * FROM Payment ORDERBY Id")[0]
    us.post("/payment", {"Id": payment["Id"], "SyncToken": payment["SyncToken"]}, operation="delete")
    answer = us.get("/cdc", entities="Invoice,Payment,Customer", changedSince=since)
    assert answer.status_code == 200, answer.text
    sections = answer.json()["CDCResponse"][0]["QueryResponse"]
    payments = next(s["Payment"] for s in sections if "Payment" in s)
    assert payments == [
        {"Id": payment["Id"], "status": "Deleted", "domain": "QBO", "MetaData": payments[0]["MetaData"]}
    ]
    invoices = next(s["Invoice"] for s in sections if "Invoice" in s)  # its balance went back up
    assert [i["Id"] for i in invoices] == [payment["Line"][0]["LinkedTxn"][0]["TxnId"]]
    assert not any("Customer" in s for s in sections)


def test_cdc_older_than_30_days_is_refused(us, admin):
    too_old = (emulator_now(admin) - timedelta(days=31)).isoformat()
    answer = us.get("/cdc", entities="Invoice", changedSince=too_old)
    assert answer.status_code == 400
    assert "older than" in answer.json()["Fault"]["Error"][0]["Detail"]


def test_cdc_refuses_entities_it_does_not_cover(us, admin):
    answer = us.get("/cdc", entities="TaxCode", changedSince=emulator_now(admin).isoformat())
    assert answer.status_code == 400


def test_same_requestid_returns_the_first_response_without_a_second_object(us):
    body = {"DisplayName": "Idempotent Ltd"}
    first = us.post("/customer", body, requestid="req-123")
    again = us.post("/customer", body, requestid="req-123")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(us.rows("SELECT * FROM Customer WHERE DisplayName = 'Idempotent Ltd'")) == 1
    other = us.post("/customer", body, requestid="req-456")  # a new request id is a new request
    assert other.json()["Fault"]["Error"][0]["code"] == "6240"


def test_minorversion_below_75_is_accepted(us):
    assert us.get("/customer/1", minorversion=40).status_code == 200
