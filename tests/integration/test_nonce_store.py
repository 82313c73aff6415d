"""A signed request's signature can be used once per portal (against moto)."""

import boto3

from hubqbo.store.nonces import NonceStore
from tests.support.deployment import REGION


def _store(deployed) -> NonceStore:
    return NonceStore(boto3.resource("dynamodb", region_name=REGION).Table(deployed.physical("AppTable")))


def test_a_signature_is_accepted_once_and_refused_when_replayed(deployed):
    store = _store(deployed)
    assert store.claim("portal:1", "sig-abc", expires_at=2_000_000_000) is True
    assert store.claim("portal:1", "sig-abc", expires_at=2_000_000_000) is False
    assert store.claim("portal:1", "sig-def", expires_at=2_000_000_000) is True


def test_the_same_signature_in_another_portal_is_its_own_claim(deployed):
    store = _store(deployed)
    assert store.claim("portal:1", "sig-abc", expires_at=2_000_000_000) is True
    assert store.claim("portal:2", "sig-abc", expires_at=2_000_000_000) is True


def test_the_claim_expires_through_the_tables_ttl(deployed):
    store = _store(deployed)
    store.claim("portal:1", "sig-abc", expires_at=1_800_000_000)
    [item] = [i for i in deployed.table_items() if i["pk"] == "NONCE#portal:1"]
    assert int(item["expires_at"]) == 1_800_000_001
    assert "sig-abc" not in str(item)  # only a digest of the signature is kept
