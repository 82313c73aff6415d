"""Portals, QBO connections, encrypted OAuth tokens with their refresh lease, OAuth states, parked work.

Key design (one table, `pk`/`sk`, GSI `gsi1`, TTL on `expires_at`); every lookup is scoped by portal:

| item                     | pk                   | sk                     | gsi1pk           | gsi1sk          |
|--------------------------|----------------------|------------------------|------------------|-----------------|
| portal (HubSpot install) | `PORTAL#{hub_id}`    | `PORTAL`               |                  |                 |
| QBO connection           | `PORTAL#{hub_id}`    | `CONN#{realm_id}`      | `REALM#{realm}`  | `PORTAL#{hub}`  |
| tokens (encrypted)       | `PORTAL#{hub_id}`    | `TOKEN#hubspot`        |                  |                 |
|                          | `PORTAL#{hub_id}`    | `TOKEN#qbo#{realm_id}` | `TOKENS`         | `{pk}#{sk}`     |
| parked work              | `PORTAL#{hub_id}`    | `PARKED#{realm}#{ts}`  |                  |                 |
| OAuth state (TTL)        | `OAUTHSTATE#{nonce}` | `STATE`                |                  |                 |

The GSI answers "which portals hold this realm" (webhook fan-out) and "every QBO token" (the
keep-alive job). Token items carry the ciphertext, a version that each write bumps, the lease
attributes that serialise refreshes, and plaintext expiry times (not secret).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, SecretStr

from hubqbo.domain.connections import ConnectionStatus, Environment
from hubqbo.security.tokens import TokenCipher
from hubqbo.store.dynamo import condition_failed

Provider = Literal["hubspot", "qbo"]


def _portal_pk(portal_id: int) -> str:
    return f"PORTAL#{portal_id}"


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB numbers come back as Decimal; timestamps and counters here are plain numbers."""
    out: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, Decimal):
            out[name] = int(value) if value == value.to_integral_value() else float(value)
        else:
            out[name] = value
    return out


def _num(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 3)))


# -- models ----------------------------------------------------------------------------------------
class Portal(BaseModel):
    model_config = ConfigDict(extra="ignore")

    portal_id: int
    status: Literal["installed", "uninstalled"] = "installed"
    company_currency: str | None = None
    time_zone: str | None = None
    account_type: str | None = None
    ui_domain: str | None = None
    installed_by_user_id: int | None = None
    installed_at: float
    uninstalled_at: float | None = None
    status_reason: str | None = None
    last_installed_at: float | None = None  # the latest install (installed_at stays the first one's)
    purge_at: float | None = None  # an uninstalled portal's data is deleted after this (services.lifecycle)


class Connection(BaseModel):
    """A QBO company connected to a portal. Never carries tokens."""

    model_config = ConfigDict(extra="ignore")

    portal_id: int
    realm_id: str
    company_name: str
    country: str | None = None
    home_currency: str | None = None
    multicurrency: bool = False
    custom_txn_numbers: bool = False
    environment: Environment = Environment.PRODUCTION
    status: ConnectionStatus = ConnectionStatus.ACTIVE
    status_reason: str | None = None
    connected_at: float
    updated_at: float
    disconnected_at: float | None = None
    last_sync_at: float | None = None
    last_refreshed_at: float | None = None
    refresh_expires_at: float | None = None
    hard_expires_at: float | None = None
    hard_expiry_flag: int | None = None


@dataclass(frozen=True)
class TokenKey:
    provider: Provider
    portal_id: int
    realm_id: str | None = None

    @property
    def pk(self) -> str:
        return _portal_pk(self.portal_id)

    @property
    def sk(self) -> str:
        return "TOKEN#hubspot" if self.provider == "hubspot" else f"TOKEN#qbo#{self.realm_id}"

    @property
    def context(self) -> str:
        return f"{self.pk}|{self.sk}"

    def __str__(self) -> str:  # what logs may show: no secrets in a key
        return f"{self.provider}:{self.portal_id}:{self.realm_id or '-'}"


class TokenSet(BaseModel):
    """Tokens as used in memory; SecretStr keeps them out of reprs and logs."""

    model_config = ConfigDict(frozen=True)

    access_token: SecretStr
    refresh_token: SecretStr
    access_expires_at: float
    refresh_expires_at: float | None = None
    hard_expires_at: float | None = None
    refreshed_at: float


class StoredTokens(BaseModel):
    model_config = ConfigDict(frozen=True)

    key_provider: Provider
    tokens: TokenSet
    version: int


# -- repositories ----------------------------------------------------------------------------------
class ConnectionStore:
    """Portals and connections (no secrets)."""

    def __init__(self, table: Any) -> None:
        self._table = table

    # portals
    def put_portal(self, portal: Portal) -> None:
        self._table.put_item(
            Item={"pk": _portal_pk(portal.portal_id), "sk": "PORTAL", **_dynamo(portal.model_dump(mode="json"))}
        )

    def get_portal(self, portal_id: int) -> Portal | None:
        item = self._table.get_item(Key={"pk": _portal_pk(portal_id), "sk": "PORTAL"}, ConsistentRead=True).get("Item")
        return Portal.model_validate(_plain(item)) if item else None

    def mark_portal_uninstalled(self, portal_id: int, now: float) -> None:
        self._table.update_item(
            Key={"pk": _portal_pk(portal_id), "sk": "PORTAL"},
            UpdateExpression="SET #s = :s, uninstalled_at = :t",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": "uninstalled", ":t": _num(now)},
        )

    def mark_portal_problem(self, portal_id: int, reason: str) -> None:
        """HubSpot refused the stored grant: the portal must be reinstalled (reason shown in settings)."""
        try:
            self._table.update_item(
                Key={"pk": _portal_pk(portal_id), "sk": "PORTAL"},
                UpdateExpression="SET status_reason = :r",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":r": reason},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    # connections
    def get_connection(self, portal_id: int, realm_id: str) -> Connection | None:
        item = self._table.get_item(
            Key={"pk": _portal_pk(portal_id), "sk": f"CONN#{realm_id}"}, ConsistentRead=True
        ).get("Item")
        return Connection.model_validate(_plain(item)) if item else None

    def save_connection(self, connection: Connection) -> None:
        """Create or overwrite the one item of (portal, realm): reconnecting never duplicates it."""
        self._table.put_item(
            Item={
                "pk": _portal_pk(connection.portal_id),
                "sk": f"CONN#{connection.realm_id}",
                "gsi1pk": f"REALM#{connection.realm_id}",
                "gsi1sk": _portal_pk(connection.portal_id),
                **_dynamo(connection.model_dump(mode="json")),
            }
        )

    def update_connection(self, portal_id: int, realm_id: str, **fields: Any) -> None:
        """Set some fields of an existing connection (None removes the attribute)."""
        sets, removes, names, values = [], [], {}, {}
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            if value is None:
                removes.append(f"#f{i}")
            else:
                sets.append(f"#f{i} = :v{i}")
                values[f":v{i}"] = _dynamo_value(value)
        expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
        kwargs: dict[str, Any] = {
            "Key": {"pk": _portal_pk(portal_id), "sk": f"CONN#{realm_id}"},
            "UpdateExpression": expression.strip(),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._table.update_item(**kwargs)
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def list_connections(self, portal_id: int) -> list[Connection]:
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(_portal_pk(portal_id)) & Key("sk").begins_with("CONN#"),
            ConsistentRead=True,
        )
        return [Connection.model_validate(_plain(i)) for i in items]

    def portals_for_realm(self, realm_id: str) -> list[Connection]:
        items = _query_all(self._table, IndexName="gsi1", KeyConditionExpression=Key("gsi1pk").eq(f"REALM#{realm_id}"))
        return [Connection.model_validate(_plain(i)) for i in items]

    # parked work: messages that could not run while a connection needs reconnecting
    def park(self, portal_id: int, realm_id: str, message_json: str, now: float) -> None:
        stamp = f"{now:017.6f}#{uuid.uuid4().hex[:8]}"
        self._table.put_item(
            Item={
                "pk": _portal_pk(portal_id),
                "sk": f"PARKED#{realm_id}#{stamp}",
                "realm_id": realm_id,
                "message": message_json,
                "parked_at": _num(now),
            }
        )

    def parked(self, portal_id: int, realm_id: str) -> list[tuple[str, str]]:
        """(sort key, message JSON) of every parked message of the connection, oldest first."""
        items = _query_all(
            self._table,
            KeyConditionExpression=Key("pk").eq(_portal_pk(portal_id)) & Key("sk").begins_with(f"PARKED#{realm_id}#"),
            ConsistentRead=True,
        )
        return [(i["sk"], i["message"]) for i in items]

    def unpark(self, portal_id: int, sort_key: str) -> None:
        self._table.delete_item(Key={"pk": _portal_pk(portal_id), "sk": sort_key})


class TokenStore:
    """Encrypted tokens, one item per (portal, provider[, realm]), written only by version."""

    def __init__(self, table: Any, cipher: TokenCipher) -> None:
        self._table, self._cipher = table, cipher

    def get(self, key: TokenKey) -> StoredTokens | None:
        item = self._table.get_item(Key={"pk": key.pk, "sk": key.sk}, ConsistentRead=True).get("Item")
        if not item or "ciphertext" not in item:
            return None
        return self._load(key, item)

    def _load(self, key: TokenKey, item: dict[str, Any]) -> StoredTokens:
        secrets = self._cipher.decrypt(bytes(item["ciphertext"]), key.context)
        meta = _plain(item)
        tokens = TokenSet(
            access_token=SecretStr(secrets["access_token"]),
            refresh_token=SecretStr(secrets["refresh_token"]),
            access_expires_at=meta["access_expires_at"],
            refresh_expires_at=meta.get("refresh_expires_at"),
            hard_expires_at=meta.get("hard_expires_at"),
            refreshed_at=meta["refreshed_at"],
        )
        return StoredTokens(key_provider=key.provider, tokens=tokens, version=int(meta["version"]))

    def _attributes(self, key: TokenKey, tokens: TokenSet) -> dict[str, Any]:
        blob = self._cipher.encrypt(
            {
                "access_token": tokens.access_token.get_secret_value(),
                "refresh_token": tokens.refresh_token.get_secret_value(),
            },
            key.context,
        )
        values: dict[str, Any] = {
            "ciphertext": blob,
            "provider": key.provider,
            "portal_id": key.portal_id,
            "access_expires_at": _num(tokens.access_expires_at),
            "refreshed_at": _num(tokens.refreshed_at),
            "refresh_expires_at": _num(tokens.refresh_expires_at),
            "hard_expires_at": _num(tokens.hard_expires_at),
        }
        if key.realm_id:
            values["realm_id"] = key.realm_id
        if key.provider == "qbo":
            values["gsi1pk"], values["gsi1sk"] = "TOKENS", f"{key.pk}#{key.sk}"
        return values

    def put(self, key: TokenKey, tokens: TokenSet) -> int:
        """Store a fresh grant (install, connect, reconnect) whatever was there; returns the new version."""
        values = self._attributes(key, tokens)
        names = {f"#a{i}": n for i, n in enumerate(values)}
        sets = [f"#a{i} = :a{i}" for i in range(len(values)) if values[list(values)[i]] is not None]
        removes = [f"#a{i}" for i in range(len(values)) if values[list(values)[i]] is None]
        response = self._table.update_item(
            Key={"pk": key.pk, "sk": key.sk},
            UpdateExpression="SET "
            + ", ".join([*sets, "version = if_not_exists(version, :zero) + :one"])
            + " REMOVE "
            + ", ".join([*removes, "lease_owner", "lease_until"]),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={
                **{f":a{i}": v for i, v in enumerate(values.values()) if v is not None},
                ":zero": 0,
                ":one": 1,
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["version"])

    def replace(self, key: TokenKey, tokens: TokenSet, expected_version: int) -> int | None:
        """Store refreshed tokens only if nobody wrote since `expected_version`; the new version, or None."""
        values = {k: v for k, v in self._attributes(key, tokens).items() if v is not None}
        names = {f"#a{i}": n for i, n in enumerate(values)}
        try:
            self._table.update_item(
                Key={"pk": key.pk, "sk": key.sk},
                UpdateExpression="SET "
                + ", ".join([*(f"#a{i} = :a{i}" for i in range(len(values))), "version = :new"]),
                ConditionExpression="version = :expected",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    **{f":a{i}": v for i, v in enumerate(values.values())},
                    ":expected": expected_version,
                    ":new": expected_version + 1,
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        return expected_version + 1

    def metadata(self, key: TokenKey) -> dict[str, Any]:
        """Version and expiry times of a stored token, without decrypting it ({} when none)."""
        item = self._table.get_item(
            Key={"pk": key.pk, "sk": key.sk},
            ConsistentRead=True,
            ProjectionExpression="version, access_expires_at, refreshed_at, refresh_expires_at, hard_expires_at",
        ).get("Item")
        return _plain(item) if item else {}

    def delete(self, key: TokenKey) -> None:
        self._table.delete_item(Key={"pk": key.pk, "sk": key.sk})

    # the refresh lease
    def acquire_lease(self, key: TokenKey, owner: str, now: float, seconds: float) -> bool:
        try:
            self._table.update_item(
                Key={"pk": key.pk, "sk": key.sk},
                UpdateExpression="SET lease_owner = :owner, lease_until = :until",
                ConditionExpression=(
                    "attribute_exists(ciphertext) AND (attribute_not_exists(lease_until) OR lease_until < :now)"
                ),
                ExpressionAttributeValues={":owner": owner, ":until": _num(now + seconds), ":now": _num(now)},
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def release_lease(self, key: TokenKey, owner: str) -> None:
        try:
            self._table.update_item(
                Key={"pk": key.pk, "sk": key.sk},
                UpdateExpression="REMOVE lease_owner, lease_until",
                ConditionExpression="lease_owner = :owner",
                ExpressionAttributeValues={":owner": owner},
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise

    def qbo_keys(self) -> Iterator[tuple[TokenKey, dict[str, Any]]]:
        """Every stored QBO token's key and its non-secret metadata (for the keep-alive job)."""
        for item in _query_all(
            self._table,
            IndexName="gsi1",
            KeyConditionExpression=Key("gsi1pk").eq("TOKENS"),
            ProjectionExpression="pk, sk, portal_id, realm_id, refreshed_at, hard_expires_at, refresh_expires_at",
        ):
            meta = _plain(item)
            yield TokenKey("qbo", int(meta["portal_id"]), str(meta["realm_id"])), meta


class OAuthStates:
    """The server-side half of an OAuth state: stored at redirect, consumed once at callback."""

    def __init__(self, table: Any) -> None:
        self._table = table

    def put(self, nonce: str, record: dict[str, Any], expires_at: float) -> None:
        self._table.put_item(
            Item={
                "pk": f"OAUTHSTATE#{nonce}",
                "sk": "STATE",
                "record": json.dumps(record),
                "expires_at": int(expires_at),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )

    def consume(self, nonce: str) -> dict[str, Any] | None:
        """The record, deleted in the same call; None if it never existed or was already used."""
        try:
            response = self._table.delete_item(
                Key={"pk": f"OAUTHSTATE#{nonce}", "sk": "STATE"},
                ConditionExpression=Attr("pk").exists(),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        item = response.get("Attributes")
        return json.loads(item["record"]) if item else None


# -- helpers ---------------------------------------------------------------------------------------
def _dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, ConnectionStatus | Environment):
        return str(value)
    return value


def _dynamo(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _dynamo_value(v) for k, v in values.items() if v is not None}


def _query_all(table: Any, **kwargs: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        response = table.query(**kwargs)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
