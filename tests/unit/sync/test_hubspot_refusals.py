"""How a batch write reads HubSpot's per-record refusals: a property that cannot take its value is
dropped (the record written again without it); a value the portal's validation rules refuse fails
the record finally, with the rules' own words, whether HubSpot lists the details in `errors` or only
in the message (the body its changelog documents)."""

from __future__ import annotations

import json

from hubqbo.clients.hubspot import BatchWrite, HubSpotClient, WriteFailed, WriteInput

RECORD = WriteInput("t1", "realm:1", {"firstname": "Pat2", "lastname": "Quinn", "hubqbo_link": "realm:1"})


def _error(details: list[dict], *, with_errors: bool) -> dict:
    body = {
        "status": "error",
        "category": "VALIDATION_ERROR",
        "message": f"Property values were not valid: {json.dumps(details)}",
        "context": {"objectWriteTraceId": ["t1"]},
    }
    if with_errors:
        body["errors"] = [
            {"message": d["message"], "code": d["error"], "context": {"propertyName": [d["name"]]}} for d in details
        ]
    return body


def _refuse(error: dict, *, last: bool = False) -> tuple[BatchWrite, list[WriteInput]]:
    outcome = BatchWrite()
    retry = HubSpotClient._refused(error, {"t1": RECORD}, "hubqbo_link", outcome, last=last)
    return outcome, retry


def test_a_rule_refusal_documented_only_in_the_message_fails_the_record_with_the_rules_words():
    rule = {"isValid": False, "message": "Enter only letters", "error": "INVALID_ALPHA", "name": "firstname"}
    outcome, retry = _refuse(_error([rule], with_errors=False))
    assert retry == [] and outcome.dropped == []
    assert outcome.outcomes == [WriteFailed("t1", "rule", "firstname: Enter only letters", ("firstname",))]


def test_a_rule_refusal_listed_in_errors_is_final_too():
    rule = {"isValid": False, "message": "Enter only letters", "error": "INVALID_ALPHA", "name": "firstname"}
    outcome, retry = _refuse(_error([rule], with_errors=True))
    assert retry == [] and [o.kind for o in outcome.outcomes] == ["rule"]


def test_a_value_of_the_wrong_type_is_dropped_and_the_record_written_again():
    bad = {"isValid": False, "message": "x is no option", "error": "INVALID_OPTION", "name": "lastname"}
    outcome, retry = _refuse(_error([bad], with_errors=True))
    assert [d.property for d in outcome.dropped] == ["lastname"]
    assert retry == [WriteInput("t1", "realm:1", {"firstname": "Pat2", "hubqbo_link": "realm:1"})]


def test_a_rule_and_a_wrong_type_together_fail_the_record_naming_only_the_rule():
    rule = {"isValid": False, "message": "Enter only letters", "error": "INVALID_ALPHA", "name": "firstname"}
    bad = {"isValid": False, "message": "not an option", "error": "INVALID_OPTION", "name": "lastname"}
    outcome, retry = _refuse(_error([rule, bad], with_errors=True))
    assert retry == [] and outcome.outcomes[0].properties == ("firstname",)
