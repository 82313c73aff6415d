"""The community client `python-quickbooks`, unmodified, against the emulator (configured, not patched)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.batch import batch_create
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment

from infra.local.emulators import demo_accounts

from .test_oauth import connected


def quickbooks(base: str, client: AuthClient, realm: str, sandbox: bool = False) -> QuickBooks:
    qb = QuickBooks(auth_client=client, refresh_token=client.refresh_token, company_id=realm, minorversion=75)
    qb.api_url_v3 = base + "/v3"  # the client's own settings: where "production" lives
    qb.sandbox_api_url_v3 = base + "/sandbox/v3"
    qb.sandbox = sandbox
    return qb


@pytest.fixture(autouse=True)
def plain_http_for_oauthlib(monkeypatch):
    """requests-oauthlib refuses http:// unless told it is local development (its documented switch)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def qb(admin) -> QuickBooks:
    return quickbooks(admin.base, connected(admin.base), demo_accounts.REALM_US.realm_id)


def test_query_filter_with_an_apostrophe_and_count(qb):
    found = Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)
    assert [c.DisplayName for c in found] == ["Amy's Bird Sanctuary"]
    assert Customer.count(qb=qb) == len(Customer.all(qb=qb))
    assert {i.Sku for i in Item.all(qb=qb)} >= {p.sku for p in demo_accounts.SHARED_PRODUCTS}


def test_create_update_and_read_a_customer(qb):
    customer = Customer()
    customer.DisplayName = "Jane Roe Consulting"
    customer.GivenName, customer.FamilyName = "Jane", "Roe"
    saved = customer.save(qb=qb)
    assert saved.Id and saved.SyncToken == "0"

    fetched = Customer.get(saved.Id, qb=qb)
    fetched.Notes = "VIP"
    updated = fetched.save(qb=qb)
    assert updated.SyncToken == "1" and Customer.get(saved.Id, qb=qb).Notes == "VIP"


def test_duplicate_name_and_stale_sync_token_raise_the_library_exceptions(qb):
    duplicate = Customer()
    duplicate.DisplayName = "Melton Johnson"
    with pytest.raises(QuickbooksException) as clash:
        duplicate.save(qb=qb)
    assert clash.value.error_code == 6240
    customer = Customer.filter(DisplayName="Melton Johnson", qb=qb)[0]
    customer.Notes = "one"
    customer.save(qb=qb)
    customer.Notes = "two"  # still the old SyncToken
    with pytest.raises(QuickbooksException) as stale:
        customer.save(qb=qb)
    assert stale.value.error_code == 5010
    with pytest.raises(ObjectNotFoundException):
        Customer.get(424242, qb=qb)


def test_invoice_create_send_pdf_pay_and_void(qb):
    customer = Customer.filter(DisplayName="Melton Johnson", qb=qb)[0]
    item = Item.where("Sku = 'DESIGN-001'", qb=qb)[0]
    line = SalesItemLine()
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty, line.SalesItemLineDetail.UnitPrice = 2, item.UnitPrice
    line.Amount = Decimal(str(item.UnitPrice)) * 2
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [line]
    saved = invoice.save(qb=qb)
    assert Decimal(str(saved.TotalAmt)) == Decimal(str(item.UnitPrice)) * 2 and saved.DocNumber

    assert saved.send(qb=qb, send_to="ap@melton.example")["Invoice"]["EmailStatus"] == "EmailSent"
    assert saved.download_pdf(qb=qb).startswith(b"%PDF")

    payment = Payment()
    payment.CustomerRef = customer.to_ref()
    payment.TotalAmt = 10
    payment.Line = [{"Amount": 10, "LinkedTxn": [{"TxnId": saved.Id, "TxnType": "Invoice"}]}]
    paid = payment.save(qb=qb)
    assert Decimal(str(Invoice.get(saved.Id, qb=qb).Balance)) == Decimal(str(saved.TotalAmt)) - 10
    paid.void(qb=qb)
    assert Invoice.get(saved.Id, qb=qb).Balance == saved.TotalAmt
    fresh = Invoice.get(saved.Id, qb=qb)
    fresh.void(qb=qb)
    assert Invoice.get(saved.Id, qb=qb).TotalAmt == 0


def test_batch_create_reports_successes_and_per_item_faults(qb):
    good, clash = Customer(), Customer()
    good.DisplayName, clash.DisplayName = "Batch Buyer", "Melton Johnson"
    result = batch_create([good, clash], qb=qb)
    assert [c.DisplayName for c in result.successes] == ["Batch Buyer"]
    assert [f.Error[0].code for f in result.faults] == ["6240"]


def test_change_data_capture_lists_changes_since_a_time(qb, admin):
    since = datetime.now().astimezone() + timedelta(seconds=30)
    admin.advance(60)
    customer = Customer.filter(DisplayName="Melton Johnson", qb=qb)[0]
    customer.Notes = "changed"
    customer.save(qb=qb)
    cdc = change_data_capture([Customer, Invoice], since.isoformat(timespec="seconds"), qb=qb)
    assert [c.Id for c in cdc.Customer] == [customer.Id]
    assert not hasattr(cdc, "Invoice")


def test_sandbox_realm_through_the_sandbox_base_url(admin):
    sandbox = demo_accounts.REALM_SANDBOX.realm_id
    qb = quickbooks(admin.base, connected(admin.base, sandbox), sandbox, sandbox=True)
    assert Customer.count(qb=qb) > 0
