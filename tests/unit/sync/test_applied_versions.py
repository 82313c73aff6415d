"""What the catch-up treats as applied already: a QBO object's version against the one the worker applied."""

from __future__ import annotations

from datetime import UTC, datetime

from hubqbo.clients.errors import ApiError, RateLimited, Unavailable, refused_what_was_sent
from hubqbo.store.versions import Version

AT = "2026-03-01T10:00:00-08:00"


def _raw(token: str | None, at: str | None = AT, **more) -> dict:
    raw = {"Id": "7", **more}
    if token is not None:
        raw["SyncToken"] = token
    if at is not None:
        raw["MetaData"] = {"LastUpdatedTime": at}
    return raw


def test_an_applied_sync_token_covers_that_version_and_older_ones_but_not_a_newer_one():
    applied = Version.of(_raw("3"))
    assert applied.covers(Version.of(_raw("3"))) and applied.covers(Version.of(_raw("2")))
    assert not applied.covers(Version.of(_raw("4")))


def test_without_sync_tokens_the_last_updated_time_decides():
    applied = Version.of(_raw(None, "2026-03-01T10:00:00-08:00"))
    assert applied.covers(Version.of(_raw(None, "2026-03-01T18:00:00Z")))  # the same instant
    assert not applied.covers(Version.of(_raw(None, "2026-03-01T18:00:01Z")))
    assert not Version.of(_raw(None, None)).covers(Version.of(_raw(None)))  # nothing to compare: queue it


def test_a_deletion_is_covered_only_by_an_applied_deletion_and_covers_what_came_before():
    deleted = Version.of({"Id": "7", "status": "Deleted", "MetaData": {"LastUpdatedTime": AT}})
    assert deleted.deleted and deleted.covers(Version.of(_raw("9")))
    assert not Version.of(_raw("9")).covers(deleted)
    gone = Version.of(None, deleted_at=datetime(2026, 3, 1, tzinfo=UTC))
    assert gone.deleted and gone.covers(deleted)


def test_only_a_4xx_about_what_was_sent_is_a_final_refusal():
    assert refused_what_was_sent(ApiError("hubspot", 400, "Property values were not valid"))
    assert refused_what_was_sent(ApiError("hubspot", 409, "conflict"))
    for transient in (
        Unavailable("hubspot", 500, "Injected 500"),
        Unavailable("hubspot", 504, "no answer (ReadTimeout)"),
        RateLimited("hubspot", 10.0),
        ApiError("hubspot", 401, "expired"),
        ApiError("hubspot", 403, "missing scopes"),
    ):
        assert not refused_what_was_sent(transient)
