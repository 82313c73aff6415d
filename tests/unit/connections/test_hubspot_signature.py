"""HubSpot v3 request signatures: HMAC-SHA256 over method, URI, body and timestamp, 5-minute window."""

import base64
import hashlib
import hmac

import pytest

from hubqbo.security.hubspot import MAX_AGE_MS, canonical_uri, hubspot_signature_v3, verify_hubspot_v3

SECRET = "hubqbo-local-hubspot-secret"
URL = "https://hubqbo.example/oauth/qbo/connections?portalId=123456&userId=1"
NOW = 1_800_000_000_000


def sign(method="GET", url=URL, body=b"", ts=NOW, secret=SECRET):
    return hubspot_signature_v3(method, url, body, secret, ts)


def verify(signature, *, method="GET", url=URL, body=b"", ts=NOW, now=NOW, secret=SECRET):
    return verify_hubspot_v3(
        method=method, url=url, body=body, signature=signature, timestamp=str(ts), client_secret=secret, now_ms=now
    )


def test_signature_is_base64_hmac_sha256_of_method_uri_body_timestamp():
    body = b'{"a":1}'
    expected = base64.b64encode(
        hmac.new(SECRET.encode(), f"POST{URL}{body.decode()}{NOW}".encode(), hashlib.sha256).digest()
    ).decode()
    assert sign("POST", body=body) == expected


def test_a_genuine_fresh_request_verifies():
    assert verify(sign())


def test_a_request_just_inside_five_minutes_verifies():
    assert verify(sign(ts=NOW - MAX_AGE_MS), ts=NOW - MAX_AGE_MS)


def test_a_request_older_than_five_minutes_is_refused_even_when_signed_correctly():
    stale = NOW - MAX_AGE_MS - 1
    assert not verify(sign(ts=stale), ts=stale)


def test_a_timestamp_far_in_the_future_is_refused():
    future = NOW + 10 * 60_000
    assert not verify(sign(ts=future), ts=future)


@pytest.mark.parametrize(
    "change",
    [
        {"method": "POST"},
        {"url": URL.replace("123456", "654321")},
        {"body": b"x"},
        {"secret": "another-secret"},
    ],
)
def test_changing_anything_signed_breaks_the_signature(change):
    assert not verify(sign(), **change)


def test_missing_headers_never_verify():
    assert not verify(None)
    assert not verify_hubspot_v3(
        method="GET", url=URL, body=b"", signature=sign(), timestamp=None, client_secret=SECRET, now_ms=NOW
    )
    assert not verify_hubspot_v3(
        method="GET", url=URL, body=b"", signature=sign(), timestamp="soon", client_secret=SECRET, now_ms=NOW
    )


def test_only_hubspots_listed_escapes_are_decoded_in_the_uri():
    assert canonical_uri("https://h/p?email=a%40b.c&x=%2F%3A%20") == "https://h/p?email=a@b.c&x=/:%20"


def test_signature_comparison_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    assert verify(sign())
    assert calls == [1]


def test_our_signature_matches_the_emulators_signer():
    from infra.local.emulators.hubspot.signing import signature_v3

    assert sign("POST", body=b'{"x":1}') == signature_v3("POST", URL, b'{"x":1}', SECRET, NOW)
