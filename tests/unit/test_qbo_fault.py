"""QBO's Fault body becomes a typed error with the code and the element it names."""

from __future__ import annotations

import requests

from hubqbo.clients.errors import AuthFailed, QboFault
from hubqbo.clients.qbo import QboClient
from hubqbo.clients.tokens import StaticTokens

FAULT = {
    "Error": [
        {
            "Message": "Duplicate Document Number Error",
            "Detail": "1001 is taken",
            "code": "6210",
            "element": "DocNumber",
        }
    ],
    "type": "ValidationFault",
}


def _client() -> QboClient:
    return QboClient(requests.Session(), "http://127.0.0.1:9", StaticTokens("t", "qbo"), "r1")


def test_a_validation_fault_carries_its_code_element_and_message():
    error = _client()._fault_error(400, FAULT, "tid-1")
    assert isinstance(error, QboFault)
    assert (error.code, error.element, error.http_status) == ("6210", "DocNumber", 400)
    assert error.message == "Duplicate Document Number Error: 1001 is taken"
    assert error.correlation_id == "tid-1"


def test_an_authentication_fault_is_auth_failed_and_a_fault_without_errors_still_reads():
    assert isinstance(_client()._fault_error(401, FAULT, None), AuthFailed)
    bare = _client()._fault_error(500, {"type": "SystemFault"}, None)
    assert isinstance(bare, QboFault)
    assert (bare.message, bare.element) == ("SystemFault", "")
