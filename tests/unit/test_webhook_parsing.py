import json
from datetime import UTC, datetime

import pytest

from hubqbo.domain.changes import parse_webhook
from hubqbo.errors import BadInput
from hubqbo.security import intuit_signature, verify_intuit_signature
from hubqbo.services.intake import coalesce


def cloud_event(event_id="e-1", type_="qbo.invoice.updated.v1", entity_id="130", realm="9130000000000001"):
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": "intuit.abc",
        "type": type_,
        "datacontenttype": "application/json",
        "time": "2026-11-29T10:00:00.123Z",
        "intuitentityid": entity_id,
        "intuitaccountid": realm,
        "data": {},
    }


def test_cloud_events_array_becomes_change_events():
    body = json.dumps([cloud_event(), cloud_event("e-2", "qbo.payment.created.v1", "77")]).encode()
    changes = parse_webhook(body)
    assert [(c.entity, c.entity_id, c.operation) for c in changes] == [
        ("Invoice", "130", "Update"),
        ("Payment", "77", "Create"),
    ]
    assert changes[0].occurred_at == datetime(2026, 11, 29, 10, 0, 0, 123000, tzinfo=UTC)


def test_legacy_event_notifications_become_change_events_with_stable_ids():
    payload = {
        "eventNotifications": [
            {
                "realmId": "9130000000000002",
                "dataChangeEvent": {
                    "entities": [
                        {"name": "Customer", "id": "5", "operation": "Update", "lastUpdated": "2026-11-29T10:00:00Z"},
                        {"name": "Invoice", "id": "9", "operation": "Void", "lastUpdated": "2026-11-29T10:01:00Z"},
                    ]
                },
            }
        ]
    }
    first = parse_webhook(json.dumps(payload).encode())
    again = parse_webhook(json.dumps(payload).encode())
    assert [(c.realm_id, c.entity, c.operation) for c in first] == [
        ("9130000000000002", "Customer", "Update"),
        ("9130000000000002", "Invoice", "Void"),
    ]
    assert [c.event_id for c in first] == [c.event_id for c in again]
    assert first[0].event_id != first[1].event_id


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"something": "else"}', b'"a string"', json.dumps([{"specversion": "1.0"}]).encode()],
    ids=["malformed", "unknown-object", "scalar", "cloud-event-missing-fields"],
)
def test_malformed_or_unknown_bodies_are_refused(body):
    with pytest.raises(BadInput):
        parse_webhook(body)


def test_unknown_cloud_event_verb_is_refused():
    with pytest.raises(BadInput, match="Unknown CloudEvents type"):
        parse_webhook(json.dumps([cloud_event(type_="qbo.invoice.teleported.v1")]).encode())


def test_repeats_inside_one_delivery_are_coalesced():
    events = parse_webhook(
        json.dumps(
            [cloud_event("e-1"), cloud_event("e-1"), cloud_event("e-3"), cloud_event("e-4", entity_id="131")]
        ).encode()
    )
    # e-1 twice (same id) and e-3 (same object at the same instant as e-1) collapse into one.
    assert [e.event_id for e in coalesce(events)] == ["e-1", "e-4"]


def test_intuit_signature_verifies_only_the_exact_body_and_token():
    body = b'[{"id": "1"}]'
    signature = intuit_signature(body, "verifier")
    assert verify_intuit_signature(body, signature, "verifier")
    assert not verify_intuit_signature(body + b" ", signature, "verifier")
    assert not verify_intuit_signature(body, signature, "other-verifier")
    assert not verify_intuit_signature(body, None, "verifier")
    assert not verify_intuit_signature(body, "", "verifier")
    assert not verify_intuit_signature(body, signature, "")
