import pytest

from hubqbo.config import ConfigError, load_settings

VALID = {
    "TABLE_NAME": "hubqbo-table",
    "QUEUE_URL": "http://127.0.0.1:9/queue/sync",
    "KMS_KEY_ID": "key-1",
    "SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:app",
}


@pytest.fixture
def env(monkeypatch):
    optional = ("PUBLIC_BASE_URL", "DLQ_URL", "QBO_API_BASE_URL", "HTTP_TIMEOUT_SECONDS", "HUBSPOT_APP_ORIGINS")
    for name in (*VALID, *optional):
        monkeypatch.delenv(name, raising=False)
    for name, value in VALID.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


def test_settings_read_from_environment_with_real_service_defaults(env):
    settings = load_settings()
    assert settings.table_name == "hubqbo-table"
    assert str(settings.qbo_api_base_url).startswith("https://quickbooks.api.intuit.com")
    assert str(settings.hubspot_api_base_url).startswith("https://api.hubapi.com")
    assert settings.public_base_url is None


def test_missing_variable_is_named_in_the_error(env):
    env.delenv("TABLE_NAME")
    env.delenv("KMS_KEY_ID")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert "TABLE_NAME is not set" in str(raised.value)
    assert "KMS_KEY_ID is not set" in str(raised.value)


def test_malformed_url_is_named_in_the_error(env):
    env.setenv("QUEUE_URL", "not a url")
    with pytest.raises(ConfigError, match="QUEUE_URL is malformed"):
        load_settings()


def test_malformed_number_is_named_in_the_error(env):
    env.setenv("HTTP_TIMEOUT_SECONDS", "ten")
    with pytest.raises(ConfigError, match="HTTP_TIMEOUT_SECONDS is malformed"):
        load_settings()


def test_emulator_base_urls_override_the_real_services(env):
    env.setenv("QBO_API_BASE_URL", "http://127.0.0.1:3002")
    settings = load_settings()
    assert settings.url(settings.qbo_api_base_url, "/v3/company/1/query") == "http://127.0.0.1:3002/v3/company/1/query"


def test_empty_public_base_url_means_use_the_request_host(env):
    env.setenv("PUBLIC_BASE_URL", "")
    assert load_settings().public_base_url is None


def test_variable_names_are_read_in_any_case(env):
    env.delenv("TABLE_NAME")
    env.setenv("table_name", "lower-case-table")
    assert load_settings().table_name == "lower-case-table"


def test_a_list_variable_is_read_as_json(env):
    env.setenv("HUBSPOT_APP_ORIGINS", '["http://127.0.0.1:3001", "https://app-eu1.hubspot.com"]')
    assert load_settings().hubspot_app_origins == ("http://127.0.0.1:3001", "https://app-eu1.hubspot.com")


def test_a_list_variable_that_is_not_a_json_list_is_named_in_the_error(env):
    env.setenv("HUBSPOT_APP_ORIGINS", "https://app.hubspot.com")
    with pytest.raises(ConfigError, match="HUBSPOT_APP_ORIGINS is malformed"):
        load_settings()


def test_numbers_and_switches_are_read_from_their_text(env):
    env.setenv("HTTP_TIMEOUT_SECONDS", "2.5")
    env.setenv("XRAY_SDK_TRACING", "true")
    env.setenv("QUEUE_MESSAGE_MAX_BYTES", "2048")
    settings = load_settings()
    assert (settings.http_timeout_seconds, settings.xray_sdk_tracing, settings.queue_message_max_bytes) == (
        2.5,
        True,
        2048,
    )


def test_the_settings_cannot_be_changed_once_read(env):
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.table_name = "other"  # type: ignore[misc]
