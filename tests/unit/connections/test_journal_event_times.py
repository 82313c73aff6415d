"""A journal event's `occurredAt` is read as one instant whether HubSpot writes it as an ISO 8601 string (what a
public journal client expects) or as epoch milliseconds (the v3 webhooks' encoding)."""

from datetime import UTC, datetime

import pytest

from hubqbo.clients.hubspot_journal import JournalEvent

AT = datetime(2026, 10, 1, 9, 30, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("occurred_at", ["2026-10-01T09:30:00.123Z", "2026-10-01T09:30:00.123+00:00", 1790847000123])
def test_occurred_at_as_iso_or_epoch_milliseconds_is_the_same_instant(occurred_at):
    event = JournalEvent.model_validate({"type": "app_lifecycle_event", "occurredAt": occurred_at, "portalId": 1})
    assert event.occurred_at == AT


def test_an_event_without_a_readable_time_is_refused():
    with pytest.raises(ValueError):
        JournalEvent.model_validate({"type": "app_lifecycle_event", "occurredAt": "yesterday"})
