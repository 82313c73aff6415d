"""The one settings model: every function reads its configuration from the environment through it.

API base URLs have the real services as defaults and are overridden by the local stack so that the
emulators stand in for HubSpot and QuickBooks Online.

The model is a plain pydantic model read from the environment by `Settings.from_environment`, not a
pydantic-settings `BaseSettings`: we read environment variables alone (no .env, secrets directory or
CLI source), and importing pydantic-settings loads every source it supports (dotenv, TOML, argparse,
asyncio, the cloud providers), which measured 25-50 ms of each function's cold start (docs/pipeline.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache

from aws_lambda_powertools.utilities import parameters
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, ValidationError, field_validator


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a usable deployment; names each variable."""


class Settings(BaseModel):
    """Each field is read from the environment variable of the same name in any case (`TABLE_NAME`)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=3, description="The single DynamoDB table")
    queue_url: AnyHttpUrl = Field(description="The sync queue")
    backfill_queue_url: AnyHttpUrl | None = Field(
        default=None, description="The backfill parts' queue (unset: they go on the sync queue)"
    )
    dlq_url: AnyHttpUrl | None = Field(default=None, description="The sync queue's dead-letter queue")
    kms_key_id: str = Field(min_length=1, description="KMS key that encrypts OAuth tokens")
    secret_arn: str = Field(min_length=1, description="Secret with client ids/secrets and the webhook verifier")
    public_base_url: AnyHttpUrl | None = Field(
        default=None, description="Where HubSpot and Intuit reach us; unset means the request's own host"
    )

    hubspot_api_base_url: AnyHttpUrl = AnyHttpUrl("https://api.hubapi.com")
    hubspot_auth_base_url: AnyHttpUrl = AnyHttpUrl("https://app.hubspot.com")
    # Who may frame our pages (CSP frame-ancestors): HubSpot's app, one origin per data-hosting Hublet
    # (https://product.hubspot.com/blog/developing-an-eu-data-center); the local stack names its emulator.
    hubspot_app_origins: tuple[str, ...] = Field(
        default=(
            "https://app.hubspot.com",
            "https://app-eu1.hubspot.com",
            "https://app-na2.hubspot.com",
            "https://app-ap1.hubspot.com",
        ),
        min_length=1,
    )
    qbo_api_base_url: AnyHttpUrl = AnyHttpUrl("https://quickbooks.api.intuit.com")
    qbo_sandbox_api_base_url: AnyHttpUrl = AnyHttpUrl("https://sandbox-quickbooks.api.intuit.com")
    qbo_auth_base_url: AnyHttpUrl = AnyHttpUrl("https://appcenter.intuit.com")
    qbo_oauth_base_url: AnyHttpUrl = AnyHttpUrl("https://oauth.platform.intuit.com")
    qbo_revoke_base_url: AnyHttpUrl = AnyHttpUrl("https://developer.api.intuit.com")

    http_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    # The change pipeline.
    payment_timeline_template_id: str = Field(
        default="", description="The app's timeline event template for payments; empty: payments become notes"
    )
    retry_delay_scale: float = Field(
        default=1.0, gt=0, le=1, description="Scales the waits the worker asks SQS for; the local stack lowers it"
    )
    xray_sdk_tracing: bool = Field(
        default=False,
        description="Wrap handlers in Powertools' Tracer (X-Ray SDK subsegments); Lambda's active tracing needs none",
    )
    queue_message_max_bytes: int = Field(
        default=262_144,
        ge=1024,
        le=262_144,
        description="The sync queue's MaximumMessageSize; a larger webhook delivery is stored in the table",
    )

    # The app lifecycle (services/lifecycle.py).
    uninstalled_data_retention_days: int = Field(
        default=30, ge=1, le=365, description="How long an uninstalled portal's data is kept before it is purged"
    )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """The settings named by `environ` (variable names in any case); unknown variables are ignored."""
        by_name = {name.lower(): value for name, value in environ.items()}
        return cls.model_validate({field: by_name[field] for field in cls.model_fields if field in by_name})

    @field_validator("public_base_url", "dlq_url", "backfill_queue_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("hubspot_app_origins", mode="before")
    @classmethod
    def _json_list(cls, value: object) -> object:
        """A list-valued variable is written as JSON (`["https://app.hubspot.com"]`)."""
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value  # not JSON: the type check names the variable
        return value

    def url(self, base: AnyHttpUrl, path: str) -> str:
        """Join a base URL and an absolute path without doubling slashes."""
        return str(base).rstrip("/") + path


def load_settings() -> Settings:
    """Read and validate the environment, turning pydantic's errors into one readable message."""
    try:
        return Settings.from_environment(os.environ)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            variable = str(error["loc"][0]).upper() if error["loc"] else "?"
            if error["type"] == "missing":
                problems.append(f"{variable} is not set")
            else:
                problems.append(f"{variable} is malformed: {error['msg']}")
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once (tests call `get_settings.cache_clear()`)."""
    return load_settings()


class AppSecrets(BaseModel):
    """The values kept in Secrets Manager (set out of band, never in the template)."""

    model_config = ConfigDict(frozen=True)

    hubspot_client_id: str = ""
    hubspot_client_secret: str = ""
    qbo_client_id: str = ""
    qbo_client_secret: str = ""
    qbo_webhook_verifier_token: str = ""


def get_app_secrets(max_age: int = 300) -> AppSecrets:
    """Read the secret through Powertools parameters (cached for `max_age` seconds)."""
    raw = parameters.get_secret(get_settings().secret_arn, transform="json", max_age=max_age)
    return AppSecrets.model_validate(raw)
