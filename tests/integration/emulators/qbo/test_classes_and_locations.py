"""Classes and locations (QBO's Department entity) as the emulator keeps them, and how an invoice's ClassRef and
DepartmentRef are checked against the company's Categories preferences."""

from __future__ import annotations

from infra.local.emulators import demo_accounts

CUSTOM = demo_accounts.REALM_CUSTOM_NUMBERS.realm_id


def _line(item_id: str = "1", **detail) -> dict:
    return {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item_id}, **detail}}


def _invoice(api, **fields) -> object:
    customer = api.rows("SELECT * FROM Customer")[0]
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [_line()], **fields}
    if "DocNumber" not in body and api.root.endswith(CUSTOM):
        body["DocNumber"] = "CL-1"
    return api.post("/invoice", body)


def _set_tracking(api, **prefs) -> None:
    current = api.get("/preferences").json()["Preferences"]
    merged = {**current["AccountingInfoPrefs"], **prefs}
    reply = api.post("/preferences", {"SyncToken": current["SyncToken"], "sparse": True, "AccountingInfoPrefs": merged})
    assert reply.status_code == 200, reply.text


def test_the_tracking_company_has_classes_with_sub_classes_and_inactive_ones(us):
    prefs = us.get("/preferences").json()["Preferences"]["AccountingInfoPrefs"]
    assert prefs == {
        "TrackDepartments": True,
        "DepartmentTerminology": "Location",
        "ClassTrackingPerTxn": True,
        "ClassTrackingPerTxnLine": False,
    }
    active = {c["FullyQualifiedName"]: c for c in us.rows("SELECT * FROM Class")}
    assert "Old Segment" not in active  # a query leaves inactive records out unless Active is filtered
    assert active["Landscaping:Irrigation"]["SubClass"] is True
    assert active["Landscaping:Irrigation"]["ParentRef"]["value"] == active["Landscaping"]["Id"]
    everyone = us.rows("SELECT * FROM Class WHERE Active IN (true, false)")
    assert {c["Name"] for c in everyone if c["Active"] is False} == {"Old Segment"}
    locations = {d["FullyQualifiedName"] for d in us.rows("SELECT * FROM Department")}
    assert locations == {"Mountain View", "San Jose", "San Jose:Downtown"}


def test_companies_that_do_not_track_have_no_classes_and_their_switches_off(uk):
    prefs = uk.get("/preferences").json()["Preferences"]["AccountingInfoPrefs"]
    assert not prefs["ClassTrackingPerTxn"] and not prefs["ClassTrackingPerTxnLine"] and not prefs["TrackDepartments"]
    assert uk.rows("SELECT * FROM Class") == [] and uk.rows("SELECT * FROM Department") == []


def test_a_class_and_a_location_on_the_invoice_are_kept_with_their_full_names(us):
    reply = _invoice(us, ClassRef={"value": "5"}, DepartmentRef={"value": "3"})
    assert reply.status_code == 200, reply.text
    invoice = reply.json()["Invoice"]
    assert invoice["ClassRef"] == {"value": "5", "name": "Landscaping:Irrigation"}
    assert invoice["DepartmentRef"] == {"value": "3", "name": "San Jose:Downtown"}


def test_an_unknown_or_inactive_class_or_location_is_refused_in_qbo_fault_shape(us):
    unknown = _invoice(us, ClassRef={"value": "99"})
    assert unknown.status_code == 400
    error = unknown.json()["Fault"]["Error"][0]
    assert (error["code"], error["element"], unknown.json()["Fault"]["type"]) == ("2500", "ClassRef", "ValidationFault")
    inactive = _invoice(us, ClassRef={"value": "6"})
    assert inactive.status_code == 400 and inactive.json()["Fault"]["Error"][0]["code"] == "610"
    closed = _invoice(us, DepartmentRef={"value": "4"})
    assert closed.status_code == 400 and closed.json()["Fault"]["Error"][0]["code"] == "610"
    missing = _invoice(us, DepartmentRef={"value": "77"})
    assert missing.status_code == 400 and missing.json()["Fault"]["Error"][0]["element"] == "DepartmentRef"


def test_a_class_at_a_level_the_company_does_not_track_is_ignored_without_an_error(us, connect):
    per_txn = _invoice(us, Line=[_line(ClassRef={"value": "2"})])  # per transaction: a line's class is dropped
    assert per_txn.status_code == 200, per_txn.text
    assert "ClassRef" not in per_txn.json()["Invoice"]["Line"][0]["SalesItemLineDetail"]

    _set_tracking(us, ClassTrackingPerTxn=False, ClassTrackingPerTxnLine=True)
    per_line = _invoice(us, ClassRef={"value": "1"}, Line=[_line(ClassRef={"value": "2"}), _line("2")])
    assert per_line.status_code == 200, per_line.text
    invoice = per_line.json()["Invoice"]
    assert "ClassRef" not in invoice  # per line: the header's class is dropped
    assert invoice["Line"][0]["SalesItemLineDetail"]["ClassRef"] == {"value": "2", "name": "Maintenance"}
    assert "ClassRef" not in invoice["Line"][1]["SalesItemLineDetail"]
    discount = {"DetailType": "DiscountLineDetail", "DiscountLineDetail": {"PercentBased": True, "DiscountPercent": 10,
                                                                         "ClassRef": {"value": "2"}}}  # fmt: skip
    discounted = _invoice(us, Line=[_line(ClassRef={"value": "2"}), discount])
    assert discounted.status_code == 200, discounted.text
    kept = next(ln for ln in discounted.json()["Invoice"]["Line"] if ln["DetailType"] == "DiscountLineDetail")
    assert kept["DiscountLineDetail"]["ClassRef"] == {"value": "2", "name": "Maintenance"}
    bad_line = _invoice(us, Line=[_line(ClassRef={"value": "99"})])
    assert bad_line.status_code == 400 and bad_line.json()["Fault"]["Error"][0]["code"] == "2500"

    custom = connect(CUSTOM)  # tracks nothing: both references are ignored, even ones that name nothing
    untracked = _invoice(custom, ClassRef={"value": "99"}, DepartmentRef={"value": "99"})
    assert untracked.status_code == 200, untracked.text
    assert "ClassRef" not in untracked.json()["Invoice"] and "DepartmentRef" not in untracked.json()["Invoice"]


def test_classes_are_created_under_a_parent_and_names_are_unique_per_parent(us):
    parent = us.post("/class", {"Name": "Snow removal"}).json()["Class"]
    child = us.post("/class", {"Name": "Plowing", "ParentRef": {"value": parent["Id"]}})
    assert child.status_code == 200, child.text
    assert child.json()["Class"]["FullyQualifiedName"] == "Snow removal:Plowing"
    again = us.post("/class", {"Name": "Plowing", "ParentRef": {"value": parent["Id"]}})
    assert again.status_code == 400 and again.json()["Fault"]["Error"][0]["code"] == "6240"
    assert us.post("/class", {"Name": "Plowing"}).status_code == 200  # the same name at the top level is another
    assert us.post("/department", {"Name": ""}).status_code == 400
