"""Portal validation rules in the emulator: configured per portal, object and property; enforced on
writes through API version 2026-09 with HubSpot's 400 body; numbered and 2026-03 writes unchecked."""

from __future__ import annotations

import json

import pytest

from infra.local.emulators.demo_accounts import PORTAL_UK, PORTAL_US

RULES = f"/portals/{PORTAL_US}/property-validations/contacts"


@pytest.fixture
def letters_only(admin):
    reply = admin("PUT", f"{RULES}/firstname/rule-type/ALPHANUMERIC", json={"ruleArguments": ["ALPHA_ONLY"]})
    assert reply.status_code == 204, reply.text


def test_a_2026_09_write_breaking_a_rule_is_refused_with_hubspots_body(api, letters_only, validate_response):
    reply = api("POST", "/crm/objects/2026-09/contacts", json={"properties": {"firstname": "R2D2"}})
    assert reply.status_code == 400
    validate_response("objects-2026-09", reply)
    body = reply.json()
    assert body["category"] == "VALIDATION_ERROR"
    [detail] = json.loads(body["message"].removeprefix("Property values were not valid: "))
    assert detail == {
        "isValid": False,
        "message": "Enter only letters",
        "error": "INVALID_ALPHA",
        "name": "firstname",
        "localizedErrorMessage": "Enter only letters",
    }
    expected = {"message": "Enter only letters", "code": "INVALID_ALPHA", "context": {"propertyName": ["firstname"]}}
    assert body["errors"] == [expected]


def test_numbered_and_2026_03_writes_are_not_checked(api, letters_only):
    for path in ("/crm/v3/objects/contacts", "/crm/objects/2026-03/contacts"):
        assert api("POST", path, json={"properties": {"firstname": "R2D2"}}).status_code == 201


def test_in_a_traced_batch_the_refusal_is_that_records_error(api, letters_only, admin):
    inputs = [
        {"properties": {"firstname": "Ann", "email": "ann.rule@example.com"}, "objectWriteTraceId": "ok"},
        {"properties": {"firstname": "B0b", "email": "bob.rule@example.com"}, "objectWriteTraceId": "bad"},
    ]
    reply = api("POST", "/crm/objects/2026-09/contacts/batch/create", json={"inputs": inputs})
    assert reply.status_code == 201
    body = reply.json()
    assert [r["objectWriteTraceId"] for r in body["results"]] == ["ok"]
    [error] = body["errors"]
    assert error["context"]["objectWriteTraceId"] == ["bad"] and error["errors"][0]["code"] == "INVALID_ALPHA"
    # updates are checked too, and emptying a value never breaks a rule
    contact_id = body["results"][0]["id"]
    patch = api("PATCH", f"/crm/objects/2026-09/contacts/{contact_id}", json={"properties": {"firstname": "4nn"}})
    assert patch.status_code == 400
    assert api("PATCH", f"/crm/objects/2026-09/contacts/{contact_id}", json={"properties": {"firstname": ""}}).ok


def test_rules_belong_to_one_portal_and_can_be_listed_and_removed(api, letters_only, admin, issue_token):
    rule = {"ruleType": "ALPHANUMERIC", "ruleArguments": ["ALPHA_ONLY"]}
    assert admin("GET", RULES).json()["results"] == [{"propertyName": "firstname", "propertyValidationRules": [rule]}]
    uk = issue_token(portal_id=PORTAL_UK)["access_token"]
    other = api.session.post(
        f"{api.base_url}/crm/objects/2026-09/contacts",
        json={"properties": {"firstname": "R2D2"}},
        headers={"Authorization": f"Bearer {uk}"},
        timeout=10,
    )
    assert other.status_code == 201
    assert admin("DELETE", f"{RULES}/firstname/rule-type/ALPHANUMERIC").status_code == 204
    assert api("POST", "/crm/objects/2026-09/contacts", json={"properties": {"firstname": "R2D2"}}).status_code == 201


@pytest.mark.parametrize(
    ("rule_type", "args", "value", "code"),
    [
        ("MAX_LENGTH", ["4"], "Alexander", "MAX_LENGTH"),
        ("MIN_LENGTH", ["3"], "Al", "MIN_LENGTH"),
        ("REGEX", ["[A-Z][a-z]+", "Start with a capital letter"], "alex", "INVALID_REGEX"),
    ],
)
def test_length_and_pattern_rules(api, admin, rule_type, args, value, code):
    assert admin("PUT", f"{RULES}/firstname/rule-type/{rule_type}", json={"ruleArguments": args}).status_code == 204
    reply = api("POST", "/crm/objects/2026-09/contacts", json={"properties": {"firstname": value}})
    assert reply.status_code == 400 and reply.json()["errors"][0]["code"] == code


@pytest.mark.parametrize(
    ("target", "args", "status"),
    [
        ("firstname/rule-type/ALPHANUMERIC", ["EMOJI"], 400),
        ("firstname/rule-type/UNHEARD_OF", ["1"], 400),
        ("firstname/rule-type/MAX_LENGTH", ["many"], 400),
        ("no_such_property/rule-type/MAX_LENGTH", ["1"], 404),
    ],
)
def test_a_badly_configured_rule_is_refused(admin, target, args, status):
    assert admin("PUT", f"{RULES}/{target}", json={"ruleArguments": args}).status_code == status
