"""Conditional writes refused by DynamoDB come back as typed errors (moto, tables from the template)."""

import pytest

from hubqbo.domain.mappings import Tab
from hubqbo.store.dynamo import AlreadyRunning, ConditionFailed, VersionConflict
from hubqbo.store.settings import BackfillRun, SettingsStore


@pytest.fixture
def store(deployed) -> SettingsStore:
    from hubqbo.config import get_settings
    from hubqbo.store import aws

    return SettingsStore(aws.table(get_settings().table_name))


def test_a_stale_version_is_a_version_conflict_not_a_value_error(store):
    tab = store.tab(1, "9", Tab.CONTACTS)
    saved = store.save_tab(1, "9", tab.model_copy(update={"enabled": True}), expected_version=tab.version)
    with pytest.raises(VersionConflict) as refused:
        store.save_tab(1, "9", tab.model_copy(update={"enabled": False}), expected_version=tab.version)
    assert not isinstance(refused.value, ValueError)  # a pydantic ValidationError is one; this must not be
    assert store.tab(1, "9", Tab.CONTACTS).version == saved.version


def test_a_second_backfill_while_one_runs_is_already_running(store):
    run = BackfillRun(run_id="a", tab=Tab.PRODUCTS, mode="run", chunks=2, started_at=0)
    store.start_backfill(1, "9", run)
    with pytest.raises(AlreadyRunning):
        store.start_backfill(1, "9", run.model_copy(update={"run_id": "b"}))
    assert issubclass(AlreadyRunning, ConditionFailed) and store.backfill(1, "9", Tab.PRODUCTS).run_id == "a"


def test_concurrent_conditional_updates_of_one_item_pass_their_condition_one_at_a_time(deployed):
    """DynamoDB checks a condition and writes atomically; so must the moto the tests run against (the
    shared rate budget and every lease rely on it). A tiny switch interval lets threads interleave
    inside each request: without the lock most rounds grant more than the condition allows."""
    import sys
    import threading

    import boto3
    from botocore.exceptions import ClientError

    table = boto3.resource("dynamodb", region_name="us-east-1").Table(deployed.physical("AppTable"))
    allowed, rounds, granted = 3, 20, []
    interval = sys.getswitchinterval()

    def take(sk: str) -> None:
        try:
            table.update_item(
                Key={"pk": "RATE#race", "sk": sk},
                UpdateExpression="ADD used :one",
                ConditionExpression="attribute_not_exists(used) OR used < :allowed",
                ExpressionAttributeValues={":one": 1, ":allowed": allowed},
            )
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return
        granted.append(sk)

    sys.setswitchinterval(1e-6)
    try:
        for n in range(rounds):
            threads = [threading.Thread(target=take, args=(f"SLOT#{n}",)) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    finally:
        sys.setswitchinterval(interval)
    per_round = [granted.count(f"SLOT#{n}") for n in range(rounds)]
    assert per_round == [allowed] * rounds
    stored = [int(table.get_item(Key={"pk": "RATE#race", "sk": f"SLOT#{n}"})["Item"]["used"]) for n in range(rounds)]
    assert stored == [allowed] * rounds
