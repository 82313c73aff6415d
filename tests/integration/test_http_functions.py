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


def cloud_event_list(*ids, realm="9130000000000001"):
    return json.loads(cloud_events(*ids).decode().replace("9130000000000001", realm))


OUT_OF_BOUNDS_EVENTS = {
    "an id of 100,000 characters": {"id": "x" * 100_000},
    "a type of 100,000 characters": {"type": "qbo.invoice.updated.v1" + "x" * 100_000},
    "an entity id of 100,000 characters": {"intuitentityid": "1" * 100_000},
    "a realm id that is not a number": {"intuitaccountid": "r" * 10_000},
}


@pytest.mark.parametrize("realm", ["9130000000000001", "9130000000000777"], ids=["connected", "unknown-realm"])
@pytest.mark.parametrize("case", OUT_OF_BOUNDS_EVENTS)
def test_a_signed_event_out_of_bounds_is_a_logged_skip_and_the_valid_events_are_queued(deployed, case, realm):
    connect_portal(123456)
    events = cloud_event_list("e-1", "e-2", realm=realm)
    events.insert(1, {**cloud_event_list("e-bad", realm=realm)[0], **OUT_OF_BOUNDS_EVENTS[case]})
    body = json.dumps(events).encode()
    status, _, _, payload = call(deployed, webhook_route(), body, signed(body))
    assert status == 200, payload[:300]
    answer = json.loads(payload)
    assert (answer["received"], answer["skipped_invalid"]) == (2, 1), answer
    [delivery] = [json.loads(m["Body"]) for m in deployed.receive_all("SyncQueue")]  # one message per delivery
    assert delivery["kind"] == "qbo.delivery"
    assert sorted(c["event_id"] for c in delivery["changes"]) == ["e-1", "e-2"]  # the worker fans out by realm


def test_a_signed_delivery_of_only_out_of_bounds_events_is_400_and_queues_nothing(deployed):
    connect_portal(123456)
    body = json.dumps([{**cloud_event_list("e-1")[0], "id": "x" * 100_000}]).encode()
    status, _, _, payload = call(deployed, webhook_route(), body, signed(body))
    assert status == 400 and "id" in json.loads(payload)["message"], payload[:300]
    assert deployed.receive_all("SyncQueue") == []


def test_a_signed_delivery_of_more_events_than_intuit_sends_is_400_and_queues_nothing(deployed):
    connect_portal(123456)
    body = cloud_events(*[f"e-{n}" for n in range(101)])
    status, _, _, payload = call(deployed, webhook_route(), body, signed(body))
    assert status == 400 and "100" in json.loads(payload)["message"], payload[:300]
    assert deployed.receive_all("SyncQueue") == []


def test_a_signed_webhook_nested_1000_deep_is_400(deployed):
    body = b"[" * 1000 + b"]" * 1000
    status, _, _, payload = call(deployed, webhook_route(), body, signed(body))
    assert status == 400, payload[:300]
    body = b"[" * 100_000
    status, _, _, payload = call(deployed, webhook_route(), body, signed(body))
    assert status == 400, payload[:300]
