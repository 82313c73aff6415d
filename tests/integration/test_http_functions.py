"""Requests through each HTTP function's resolver, as API Gateway would deliver them."""

import base64
import json

import pytest

from hubqbo.security import intuit_signature
from infra.local.emulators.demo_accounts import QBO_WEBHOOK_VERIFIER_TOKEN
from infra.local.gateway import build_event, read_result
from infra.local.template import Route, read_application

HEALTH_ROUTES = [r for r in read_application().routes if r.path.endswith("/health")]


def call(deployed, route: Route, body: bytes = b"", headers: dict | None = None, path: str | None = None):
    event = build_event(route.method, path or route.path, "", headers or {}, body, route, {}, "hubqbo.example")
    return read_result(deployed.function(route.function).invoke(event))


def webhook_route():
    return next(r for r in read_application().routes if r.route_key == "POST /webhooks/qbo")


def cloud_events(*ids):
    return json.dumps(
        [
            {
                "specversion": "1.0",
                "id": event_id,
                "source": "intuit.test",
                "type": "qbo.invoice.updated.v1",
                "time": "2026-11-29T10:00:00Z",
                "intuitentityid": f"1{n}",
                "intuitaccountid": "9130000000000001",
                "data": {},
            }
            for n, event_id in enumerate(ids)
        ]
    ).encode()


def connect_portal(portal_id: int, realm_id: str = "9130000000000001") -> None:
    """A connection item as the connect flow stores it: the intake fans the realm's events out to it."""
    from hubqbo.config import get_settings
    from hubqbo.store import aws
    from hubqbo.store.connections import Connection, ConnectionStore

    store = ConnectionStore(aws.table(get_settings().table_name))
    store.save_connection(
        Connection(portal_id=portal_id, realm_id=realm_id, company_name="Test Co", connected_at=0, updated_at=0)
    )


def signed(body: bytes, content_type="application/cloudevents+json"):
    return {"intuit-signature": intuit_signature(body, QBO_WEBHOOK_VERIFIER_TOKEN), "content-type": content_type}


@pytest.mark.parametrize("route", HEALTH_ROUTES, ids=lambda r: r.function)
def test_each_http_function_answers_its_health_route(deployed, route):
    status, headers, _, body = call(deployed, route)
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["status"] == "ok"


def test_unknown_path_inside_a_function_is_404(deployed):
    route = HEALTH_ROUTES[0]
    status, _, _, _ = call(deployed, route, path=route.path + "/nope")
    assert status == 404


def test_signed_webhook_is_queued_as_one_message_with_each_event_once(deployed):
    connect_portal(123456)
    body = cloud_events("e-1", "e-2", "e-1")
    status, _, _, payload = call(deployed, webhook_route(), body, signed(body))
    assert status == 200
    assert json.loads(payload) == {"received": 3, "queued": 2, "skipped_entity": 0, "stored": False}
    (queued,) = [json.loads(m["Body"]) for m in deployed.receive_all("SyncQueue")]
    assert queued["kind"] == "qbo.delivery" and queued["stored_parts"] == 0
    assert sorted(c["event_id"] for c in queued["changes"]) == ["e-1", "e-2"]


def test_base64_encoded_webhook_body_is_verified_on_its_raw_bytes(deployed):
    connect_portal(123456)
    body = cloud_events("e-9")
    route = webhook_route()
    event = build_event(route.method, route.path, "", signed(body), body, route, {}, "hubqbo.example")
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    status, _, _, _ = read_result(deployed.function(route.function).invoke(event))
    assert status == 200
    assert len(deployed.receive_all("SyncQueue")) == 1


@pytest.mark.parametrize(
    "headers",
    [{}, {"intuit-signature": "not-a-signature"}, {"intuit-signature": intuit_signature(b"other body", "x")}],
    ids=["missing", "garbage", "wrong"],
)
def test_unsigned_or_badly_signed_webhook_is_401_and_queues_nothing(deployed, headers):
    body = cloud_events("e-1")
    status, _, _, payload = call(deployed, webhook_route(), body, headers)
    assert status == 401
    assert "intuit-signature" in json.loads(payload)["message"]
    assert deployed.receive_all("SyncQueue") == []


@pytest.mark.parametrize("body", [b"{oops", b'{"hello": "world"}'], ids=["malformed", "unknown-shape"])
def test_signed_but_malformed_webhook_is_400_and_queues_nothing(deployed, body):
    status, _, _, _ = call(deployed, webhook_route(), body, signed(body, "application/json"))
    assert status == 400
    assert deployed.receive_all("SyncQueue") == []


def test_webhook_that_cannot_be_queued_is_not_acknowledged(deployed):
    connect_portal(123456)
    deployed.client("sqs").delete_queue(QueueUrl=deployed.physical("SyncQueue"))
    body = cloud_events("e-1")
    status, _, _, _ = call(deployed, webhook_route(), body, signed(body))
    assert status == 500  # Intuit redelivers; a 200 would lose the event
