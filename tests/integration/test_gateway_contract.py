"""The local gateway's events have the shape AWS gives an HTTP API (payload format 2.0).

The reference is the event the SAM CLI generates (`sam local generate-event apigateway http-api-proxy`,
from the tools venv), and Powertools' own model and data class must read ours without loss.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from infra.local.gateway import build_event
from infra.local.template import Route

ROOT = Path(__file__).resolve().parents[2]
SAM = ROOT / ".venv-sam" / "bin" / "sam"
# Present in AWS's event only with a mutual-TLS domain, a JWT/Lambda authorizer or stage variables; the
# template's API has none of them.
NOT_IN_THIS_API = ("requestContext.authentication", "requestContext.authorizer", "stageVariables")


@pytest.fixture(scope="module")
def aws_event() -> dict[str, Any]:
    assert SAM.exists(), "the SAM CLI comes from `make template-check` (the tools venv)"
    out = subprocess.run(  # noqa: S603 - our own venv's SAM CLI, fixed arguments
        [str(SAM), "local", "generate-event", "apigateway", "http-api-proxy"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"SAM_CLI_TELEMETRY": "0", "PATH": "/usr/bin:/bin", "HOME": str(ROOT)},
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def local_event() -> dict[str, Any]:
    """A request with everything an event can carry: query, cookies, path parameters and a body."""
    route = Route("POST", "/settings/companies/{realm}/mappings", "SettingsFunction")
    return build_event(
        "POST",
        "/settings/companies/9130/mappings",
        "a=1&a=2&b=x",
        {"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2", "User-Agent": "test"},
        b'{"x": 1}',
        route,
        {"realm": "9130"},
        "abc123.execute-api.us-east-1.amazonaws.com",
    )


def _shape(value: Any, prefix: str = "") -> dict[str, type]:
    """Every key path of a JSON document with the JSON type of its value (header names are data, not shape)."""
    shape: dict[str, type] = {prefix: type(value)} if prefix else {}
    if isinstance(value, dict) and not prefix.endswith(("headers", "claims", "Parameters")):
        for key, inner in value.items():
            shape |= _shape(inner, f"{prefix}.{key}" if prefix else key)
    return shape


def test_local_events_have_every_field_aws_sends_with_the_same_types(aws_event, local_event):
    expected = {k: t for k, t in _shape(aws_event).items() if not k.startswith(NOT_IN_THIS_API)}
    actual = _shape(local_event)
    assert {k: expected[k] for k in expected if k not in actual} == {}, "fields AWS sends that we do not"
    assert {k: actual[k] for k in actual if k not in expected} == {}, "fields we send that AWS does not"
    assert {k: (expected[k], actual[k]) for k in expected if expected[k] is not actual[k]} == {}


def test_local_event_values_are_formatted_as_aws_formats_them(aws_event, local_event):
    time_format = re.compile(r"^\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} \+0000$")
    assert time_format.match(aws_event["requestContext"]["time"])
    assert time_format.match(local_event["requestContext"]["time"])
    assert local_event["requestContext"]["stage"] == aws_event["requestContext"]["stage"] == "$default"
    assert local_event["version"] == aws_event["version"] == "2.0"
    assert local_event["queryStringParameters"] == {"a": "1,2", "b": "x"}  # repeated keys joined as AWS joins them
    assert local_event["cookies"] == ["c1=v1", "c2=v2"]  # cookies move out of the headers, as in AWS
    assert "cookie" not in local_event["headers"]
    assert all(name == name.lower() for name in local_event["headers"])  # HTTP APIs lower-case header names


def test_powertools_reads_the_local_event_as_it_reads_an_aws_event(local_event):
    model = APIGatewayProxyEventV2Model.model_validate(local_event)
    assert model.requestContext.http.method == "POST"
    assert model.pathParameters == {"realm": "9130"}
    event = APIGatewayProxyEventV2(local_event)
    assert event.route_key == "POST /settings/companies/{realm}/mappings"
    assert event.path == "/settings/companies/9130/mappings"
    assert event.json_body == {"x": 1}
    assert event.get_query_string_value("b") == "x"


def test_a_body_that_is_not_utf8_is_passed_base64_encoded_whatever_its_content_type():
    import base64

    route = Route("POST", "/invoices/api/create", "InvoicesFunction")
    body = b'{"x": "\xff\xfe"}'
    event = build_event("POST", route.path, "", {"Content-Type": "application/json"}, body, route, {}, "h")
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == body
    text = build_event("POST", route.path, "", {"Content-Type": "application/json"}, b'{"x": 1}', route, {}, "h")
    assert text["isBase64Encoded"] is False and text["body"] == '{"x": 1}'
