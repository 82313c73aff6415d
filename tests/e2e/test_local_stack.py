"""The local stack starts from a clean state, serves the template's routes over real HTTP, and stops cleanly."""

import json
import time

import boto3
import requests

from hubqbo.security import intuit_signature
from infra.local.emulators.demo_accounts import QBO_WEBHOOK_VERIFIER_TOKEN, REALM_US
from infra.local.stack import StackConfig
from tests.e2e.conftest import port_is_free


def test_stack_serves_a_route_over_http_and_shuts_down_releasing_its_ports(running_stack):
    gateway = f"http://127.0.0.1:{running_stack.ports['GATEWAY']}"
    response = requests.get(f"{gateway}/oauth/health", timeout=10)
    assert response.status_code == 200
    assert response.json()["function"] == "oauth"
    assert requests.get(f"{gateway}/not-a-route", timeout=10).status_code == 404

    assert running_stack.stop() == 0
    assert all(port_is_free(port) for port in running_stack.ports.values())


def test_signed_webhook_travels_api_to_queue_to_worker_to_table(running_stack):
    gateway = f"http://127.0.0.1:{running_stack.ports['GATEWAY']}"
    body = json.dumps(
        [
            {
                "specversion": "1.0",
                "id": "e2e-1",
                "source": "intuit.e2e",
                "type": "qbo.customer.updated.v1",
                "time": "2026-11-29T10:00:00Z",
                "intuitentityid": "58",
                "intuitaccountid": REALM_US.realm_id,
            }
        ]
    ).encode()
    signature = intuit_signature(body, QBO_WEBHOOK_VERIFIER_TOKEN)
    response = requests.post(f"{gateway}/webhooks/qbo", data=body, headers={"intuit-signature": signature}, timeout=10)
    assert response.json() == {"received": 1, "queued": 1}

    dynamodb = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{running_stack.ports['MOTO']}")
    table = dynamodb.list_tables()["TableNames"][0]
    key = {":pk": {"S": f"SYNCLOG#realm:{REALM_US.realm_id}"}}
    deadline = time.monotonic() + 20
    items = []
    while not items and time.monotonic() < deadline:
        items = dynamodb.query(TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=key)[
            "Items"
        ]
        time.sleep(0.2)
    assert [item["event_id"]["S"] for item in items] == ["e2e-1"]


def test_default_ports_are_3000_3001_3002_and_overridable(monkeypatch):
    for name in ("HUBQBO_GATEWAY_PORT", "HUBQBO_HUBSPOT_PORT", "HUBQBO_QBO_PORT"):
        monkeypatch.delenv(name, raising=False)
    defaults = StackConfig.from_env()
    assert (defaults.gateway_port, defaults.hubspot_port, defaults.qbo_port) == (3000, 3001, 3002)
    monkeypatch.setenv("HUBQBO_GATEWAY_PORT", "4100")
    assert StackConfig.from_env().gateway_port == 4100
