"""OAuth state and settings-session signing: genuine values verify once, anything else is refused."""

import pytest

from hubqbo.security.signing import SignedValueError, Signer

NOW = 1_800_000_000.0


def test_a_signed_state_verifies_and_returns_its_payload():
    signer = Signer("secret", "oauth-state")
    value = signer.sign({"n": "nonce-1", "p": "qbo"}, expires_at=int(NOW + 600))
    payload = signer.verify(value, now=NOW)
    assert payload["n"] == "nonce-1"
    assert payload["p"] == "qbo"


def test_an_expired_state_is_refused():
    signer = Signer("secret", "oauth-state")
    value = signer.sign({"n": "x"}, expires_at=int(NOW + 600))
    with pytest.raises(SignedValueError, match="expired"):
        signer.verify(value, now=NOW + 601)


def test_a_state_signed_with_another_secret_is_refused():
    value = Signer("other", "oauth-state").sign({"n": "x"}, expires_at=int(NOW + 600))
    with pytest.raises(SignedValueError, match="signature"):
        Signer("secret", "oauth-state").verify(value, now=NOW)


def test_a_state_cannot_be_used_as_a_session():
    value = Signer("secret", "oauth-state").sign({"portal_id": 1}, expires_at=int(NOW + 600))
    with pytest.raises(SignedValueError):
        Signer("secret", "settings-session").verify(value, now=NOW)


@pytest.mark.parametrize("tamper", ["payload", "mac"])
def test_a_tampered_state_is_refused(tamper):
    signer = Signer("secret", "oauth-state")
    body, mac = signer.sign({"n": "x", "portal_id": 1}, expires_at=int(NOW + 600)).split(".")
    if tamper == "payload":
        body = body[:-2] + ("AA" if not body.endswith("AA") else "BB")
    else:
        mac = mac[:-2] + ("AA" if not mac.endswith("AA") else "BB")
    with pytest.raises(SignedValueError):
        signer.verify(f"{body}.{mac}", now=NOW)


@pytest.mark.parametrize("value", [None, "", "no-dot", "a.b.c", "!!!.???", "x" * 5000])
def test_missing_or_malformed_states_are_refused(value):
    with pytest.raises(SignedValueError):
        Signer("secret", "oauth-state").verify(value, now=NOW)


def test_mac_comparison_is_constant_time(monkeypatch):
    import hmac

    calls = []
    real = hmac.compare_digest
    monkeypatch.setattr(hmac, "compare_digest", lambda a, b: calls.append(1) or real(a, b))
    signer = Signer("secret", "oauth-state")
    signer.verify(signer.sign({"n": "x"}, expires_at=int(NOW + 60)), now=NOW)
    assert calls
