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
