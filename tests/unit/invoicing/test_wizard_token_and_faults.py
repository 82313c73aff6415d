"""The wizard's signed token (scope, expiry, purpose) and which field a QBO fault belongs to."""

from __future__ import annotations

import pytest

from hubqbo.clients.errors import ApiError, QboFault
from hubqbo.errors import Unauthorized
from hubqbo.security.signing import Signer
from hubqbo.services.invoice_common import WizardToken, _fault_field, _validation_fault, issue_token, read_token
from hubqbo.services.invoice_links import InvoicePorts


def _ports(now: float, secret: str = "s3cret") -> InvoicePorts:  # noqa: S107 - a test key
    return InvoicePorts(
        invoices=None, connections=None, qbo=None, hubspot=None, clock=lambda: now, signing_secret=secret
    )  # type: ignore[arg-type]


def test_a_token_carries_its_portal_user_record_and_locale_until_it_expires():
    scope = WizardToken(portal_id=1, user_id=7, object_type="deals", object_id="42", locale="pl-pl")
    value = issue_token(_ports(1000), scope, seconds=60)
    assert read_token(_ports(1059), value) == scope
    with pytest.raises(Unauthorized):
        read_token(_ports(1060), value)


def test_a_token_signed_with_another_secret_or_for_another_purpose_is_refused():
    scope = WizardToken(portal_id=1, user_id=None, object_type="deals", object_id="42")
    with pytest.raises(Unauthorized):
        read_token(_ports(0), issue_token(_ports(0, "other"), scope))
    session = Signer("s3cret", "settings-session").sign({"p": 1, "t": "deals", "i": "42"}, expires_at=10**10)
    with pytest.raises(Unauthorized):
        read_token(_ports(0), session)
    for junk in (None, "", "a.b", "x" * 5000):
        with pytest.raises(Unauthorized):
            read_token(_ports(0), junk)


def _fault(code: str, element: str = "", status: int = 400) -> ApiError:
    return QboFault(status, "refused", code=code, element=element)


@pytest.mark.parametrize(
    ("code", "element", "field"),
    [
        ("6210", "DocNumber", "doc_number"),
        ("6210", "", "doc_number"),
        ("6240", "", "new_customer.display_name"),
        ("2500", "CustomerRef", "customer_id"),
        ("6000", "TaxCodeRef", "lines"),
        ("6000", "", "form"),
    ],
)
def test_a_qbo_fault_is_shown_next_to_the_field_it_concerns(code, element, field):
    assert _fault_field(_fault(code, element)) == field


def test_only_a_validation_fault_is_the_users_to_fix():
    assert _validation_fault(_fault("6210"))
    assert not _validation_fault(_fault("", status=503))
    assert not _validation_fault(_fault("3001", status=429))
