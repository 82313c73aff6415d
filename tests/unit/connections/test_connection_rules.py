"""Pure connection rules: who may install, when to refresh, keep-alive and hard-expiry flags."""

import pytest

from hubqbo.domain.connections import (
    DAY,
    hard_expiry_flag,
    may_install,
    needs_keep_alive,
    needs_refresh,
    sync_allowed,
)

NOW = 1_800_000_000.0


def test_a_super_admin_may_install():
    assert may_install({"id": "1", "superAdmin": True})


def test_a_user_with_app_marketplace_access_may_install():
    assert may_install({"id": "2", "superAdmin": False, "appMarketplaceAccess": True})


@pytest.mark.parametrize("user", [{}, {"superAdmin": False}, {"superAdmin": "true"}, {"roleIds": ["1"]}])
def test_anyone_else_may_not_install(user):
    assert not may_install(user)


def test_hubspot_tokens_refresh_five_minutes_before_they_expire():
    expires = NOW + 1800
    assert not needs_refresh("hubspot", expires, expires - 5 * 60 - 1)
    assert needs_refresh("hubspot", expires, expires - 5 * 60)


def test_qbo_tokens_refresh_ten_minutes_before_they_expire():
    expires = NOW + 3600
    assert not needs_refresh("qbo", expires, expires - 10 * 60 - 1)
    assert needs_refresh("qbo", expires, expires - 10 * 60)
    assert needs_refresh("qbo", expires, expires + 1)


def test_keep_alive_refreshes_connections_idle_for_more_than_30_days():
    assert not needs_keep_alive(NOW - 30 * DAY, NOW)
    assert needs_keep_alive(NOW - 30 * DAY - 1, NOW)
    assert needs_keep_alive(None, NOW)


@pytest.mark.parametrize(
    ("days_left", "flag"),
    [(400, None), (31, None), (30, 30), (15, 30), (14, 14), (2, 14), (1, 1), (0.5, 1), (0, 0), (-3, 0)],
)
def test_hard_expiry_is_flagged_at_30_14_and_1_days(days_left, flag):
    assert hard_expiry_flag(NOW + days_left * DAY, NOW) == flag


def test_an_unknown_hard_expiry_is_not_flagged():
    assert hard_expiry_flag(None, NOW) is None


def test_only_active_connections_sync():
    assert sync_allowed("active")
    assert not sync_allowed("reconnect_needed")
    assert not sync_allowed("disconnected")
