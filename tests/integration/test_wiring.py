"""Adapters are built once per process and reused by every warm invocation (moto, tables from the template)."""

import pytest

from hubqbo import wiring


def test_two_calls_share_one_http_session_and_the_same_port_set(deployed):
    assert wiring.http_session() is wiring.http_session()
    first, second = wiring.connection_ports(), wiring.connection_ports()
    assert first is second
    assert wiring.connection_ports(timeout=3.0) is wiring.connection_ports(timeout=3.0) is not first
    assert wiring.pipeline_ports() is wiring.pipeline_ports()
    assert wiring.scheduler_ports() is wiring.scheduler_ports()
    assert wiring.sync_log() is wiring.sync_log() and wiring.settings_store() is wiring.settings_store()


def test_port_sets_that_count_calls_are_per_request_over_the_same_adapters(deployed):
    one, two = wiring.invoice_ports(), wiring.invoice_ports()
    assert one is not two and one.calls() == {} and one.invoices is two.invoices
    assert one.connections is two.connections is wiring.connection_store()
    assert wiring.sync_ports().settings is wiring.sync_ports().settings


def test_a_changed_setting_or_dropped_clients_build_new_adapters(deployed, monkeypatch):
    from hubqbo.config import get_settings
    from hubqbo.store import aws

    before, session = wiring.connection_ports(), wiring.http_session()
    monkeypatch.setenv("HTTP_TIMEOUT_SECONDS", "7")
    get_settings.cache_clear()
    changed = wiring.connection_ports()
    assert changed is not before and changed is wiring.connection_ports()
    aws.forget_clients()
    assert wiring.connection_ports() is not changed
    assert wiring.http_session() is session  # the connection pool lives as long as the process


@pytest.fixture(autouse=True)
def _settings_back(monkeypatch):
    yield
    from hubqbo.config import get_settings

    get_settings.cache_clear()
