"""The connection store against in-process moto: encrypted tokens, versioned writes, leases, states."""

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from hubqbo.security.tokens import TokenCipher
from hubqbo.store.connections import Connection, ConnectionStore, OAuthStates, TokenKey, TokenSet, TokenStore

NOW = 1_800_000_000.0


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        ddb = boto3.resource("dynamodb", region_name="us-east-1")
        table = ddb.create_table(
            TableName="app",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "gsi1",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )
        kms = boto3.client("kms", region_name="us-east-1")
        key_id = kms.create_key()["KeyMetadata"]["KeyId"]
        yield table, TokenCipher(kms, key_id)


def tokens(access="access-1", refresh="refresh-1", at=NOW):
    return TokenSet(
        access_token=SecretStr(access),
        refresh_token=SecretStr(refresh),
        access_expires_at=at + 3600,
        refresh_expires_at=at + 100 * 86400,
        hard_expires_at=at + 5 * 365 * 86400,
        refreshed_at=at,
    )


KEY = TokenKey("qbo", 123456, "9130000000000001")


def test_tokens_are_stored_encrypted_and_read_back(aws):
    table, cipher = aws
    store = TokenStore(table, cipher)
    assert store.put(KEY, tokens()) == 1
    item = table.get_item(Key={"pk": KEY.pk, "sk": KEY.sk})["Item"]
    assert b"access-1" not in bytes(item["ciphertext"])
    assert "access-1" not in repr(item) and "refresh-1" not in repr(item)
    found = store.get(KEY)
    assert found.version == 1
    assert found.tokens.refresh_token.get_secret_value() == "refresh-1"


def test_a_ciphertext_copied_to_another_portal_does_not_decrypt(aws):
    table, cipher = aws
    store = TokenStore(table, cipher)
    store.put(KEY, tokens())
    item = table.get_item(Key={"pk": KEY.pk, "sk": KEY.sk})["Item"]
    other = TokenKey("qbo", 654321, KEY.realm_id)
    table.put_item(Item={**item, "pk": other.pk})
    with pytest.raises(Exception, match="InvalidCiphertext"):
        store.get(other)


def test_a_refresh_is_stored_only_over_the_version_it_read(aws):
    store = TokenStore(*aws)
    store.put(KEY, tokens())
    assert store.replace(KEY, tokens("access-2", "refresh-2"), expected_version=1) == 2
    assert store.replace(KEY, tokens("access-3", "refresh-3"), expected_version=1) is None
    assert store.get(KEY).tokens.refresh_token.get_secret_value() == "refresh-2"


def test_only_one_holder_gets_the_lease_until_it_is_released_or_runs_out(aws):
    store = TokenStore(*aws)
    store.put(KEY, tokens())
    assert store.acquire_lease(KEY, "a", NOW, 30)
    assert not store.acquire_lease(KEY, "b", NOW + 1, 30)
    store.release_lease(KEY, "b")  # not the holder: no effect
    assert not store.acquire_lease(KEY, "b", NOW + 2, 30)
    assert store.acquire_lease(KEY, "b", NOW + 31, 30)
    store.release_lease(KEY, "b")
    assert store.acquire_lease(KEY, "c", NOW + 32, 30)


def test_there_is_no_lease_on_a_token_that_does_not_exist(aws):
    assert not TokenStore(*aws).acquire_lease(KEY, "a", NOW, 30)


def test_an_oauth_state_is_consumed_once(aws):
    table, _ = aws
    states = OAuthStates(table)
    states.put("n1", {"provider": "qbo", "portal_id": 1}, NOW + 600)
    assert states.consume("n1") == {"provider": "qbo", "portal_id": 1}
    assert states.consume("n1") is None
    assert states.consume("never") is None


def test_saving_a_connection_again_keeps_one_item_and_the_realm_index_finds_every_portal(aws):
    table, _ = aws
    store = ConnectionStore(table)
    for portal in (1, 2, 1):
        store.save_connection(
            Connection(portal_id=portal, realm_id="42", company_name="Co", connected_at=NOW, updated_at=NOW)
        )
    assert [c.realm_id for c in store.list_connections(1)] == ["42"]
    assert sorted(c.portal_id for c in store.portals_for_realm("42")) == [1, 2]
    assert store.list_connections(3) == []
