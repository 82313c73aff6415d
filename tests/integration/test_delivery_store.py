"""Webhook deliveries too large for SQS, kept in the table in parts (moto, the table from the template)."""

from datetime import UTC, datetime

import pytest

from hubqbo.domain.changes import ChangeEvent
from hubqbo.store.deliveries import DeliveryMissing, DeliveryStore


@pytest.fixture
def table(deployed):
    from hubqbo.config import get_settings
    from hubqbo.store import aws

    return aws.table(get_settings().table_name)


def changes(n: int) -> tuple[ChangeEvent, ...]:
    at = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
    return tuple(
        ChangeEvent(
            event_id=f"e-{i}", realm_id="9", entity="Invoice", entity_id=str(i), operation="Update", occurred_at=at
        )
        for i in range(n)
    )


def test_a_delivery_split_in_parts_reads_back_whole_and_in_order(table):
    store = DeliveryStore(table, clock=lambda: 1_800_000_000, part_chars=500)
    parts = store.put("d-1", changes(40))
    assert parts > 5
    assert store.get("d-1", parts) == changes(40)
    items = table.query(KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": "DELIVERY#d-1"})["Items"]
    assert {int(i["expires_at"]) for i in items} == {1_800_000_000 + 5 * 24 * 3600}  # outlives the queue's 4 days


def test_a_pointer_whose_parts_are_missing_is_an_error_the_worker_retries(table):
    store = DeliveryStore(table, part_chars=500)
    parts = store.put("d-2", changes(10))
    table.delete_item(Key={"pk": "DELIVERY#d-2", "sk": "PART#0000"})
    with pytest.raises(DeliveryMissing):
        store.get("d-2", parts)
    with pytest.raises(DeliveryMissing):
        store.get("never-stored", 1)
