"""The official `hubspot-api-client` works against the emulator unmodified: only its host is configured."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from hubspot import HubSpot
from hubspot.crm.associations.v4 import (
    AssociationSpec,
    BatchInputPublicAssociationMultiPost,
    PublicAssociationMultiPost,
)
from hubspot.crm.contacts import ApiException as ContactsApiException
from hubspot.crm.contacts import SimplePublicObjectInputForCreate
from hubspot.crm.deals import PublicObjectSearchRequest
from hubspot.crm.products import BatchInputSimplePublicObjectBatchInputForCreate, BatchReadInputSimplePublicObjectId

from infra.local.emulators.demo_accounts import (
    HUBSPOT_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET,
    PORTAL_US,
    SHARED_PEOPLE,
    SHARED_PRODUCTS,
)
from infra.local.emulators.hubspot.project import load_project

SCOPES = " ".join(load_project().required_scopes)


@pytest.fixture
def client(base_url, token) -> HubSpot:
    return HubSpot(access_token=token, host=base_url)


def test_basic_api_create_get_update_archive(client):
    created = client.crm.contacts.basic_api.create(
        SimplePublicObjectInputForCreate(properties={"email": "sdk@example.com", "firstname": "Sdk"})
    )
    fetched = client.crm.contacts.basic_api.get_by_id(created.id, properties=["email", "firstname"])
    assert fetched.properties["firstname"] == "Sdk"
    client.crm.contacts.basic_api.update(created.id, {"properties": {"firstname": "Kit"}})
    assert client.crm.contacts.basic_api.get_by_id(created.id).properties["firstname"] == "Kit"
    client.crm.contacts.basic_api.archive(created.id)
    with pytest.raises(ContactsApiException) as missing:
        client.crm.contacts.basic_api.get_by_id(created.id)
    assert missing.value.status == 404


def test_get_all_pages_through_every_record(client):
    assert len(client.crm.contacts.get_all()) == len(SHARED_PEOPLE)


def test_batch_create_and_read(client):
    inputs = [{"properties": {"name": f"Sdk {i}", "hs_sku": f"SDK-{i}", "price": "9.99"}} for i in range(3)]
    created = client.crm.products.batch_api.create(BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs))
    ids = [r.id for r in created.results]
    read = client.crm.products.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in ids], properties=["hs_sku"], properties_with_history=[]
        )
    )
    assert sorted(r.properties["hs_sku"] for r in read.results) == ["SDK-0", "SDK-1", "SDK-2"]


def test_search_api_filters_and_sorts(client):
    request = PublicObjectSearchRequest(
        filter_groups=[{"filters": [{"propertyName": "deal_currency_code", "operator": "EQ", "value": "USD"}]}],
        sorts=[{"propertyName": "dealname", "direction": "ASCENDING"}],
        properties=["dealname"],
        limit=10,
    )
    page = client.crm.deals.search_api.do_search(public_object_search_request=request)
    names = [r.properties["dealname"] for r in page.results]
    assert page.total == 2 and names == sorted(names)


def test_associations_v4_create_read_and_batch(client, seeded):
    deal_id = seeded["ids"]["deals"]["no_line_items"]
    product_sku = SHARED_PRODUCTS[0].sku
    item = client.crm.line_items.basic_api.create(
        {"properties": {"name": "x", "quantity": "1", "price": "2", "hs_sku": product_sku}}
    )
    spec = [AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=19)]
    labels = client.crm.associations.v4.basic_api.create("deals", deal_id, "line_items", item.id, spec)
    assert labels.to_object_id == item.id
    page = client.crm.associations.v4.basic_api.get_page("deals", deal_id, "line_items")
    assert [r.to_object_id for r in page.results] == [item.id]
    contact_id = seeded["ids"]["contacts"][SHARED_PEOPLE[0].email]
    batch = BatchInputPublicAssociationMultiPost(
        inputs=[
            PublicAssociationMultiPost(
                _from={"id": deal_id},
                to={"id": contact_id},
                types=[AssociationSpec(association_category="HUBSPOT_DEFINED", association_type_id=3)],
            )
        ]
    )
    created = client.crm.associations.v4.batch_api.create("deals", "contacts", batch)
    assert created.results[0].to_object_id == contact_id
    client.crm.associations.v4.basic_api.create_default(
        "deals", deal_id, "companies", seeded["ids"]["companies"][SHARED_PEOPLE[0].company]
    )


def test_oauth_tokens_api_exchanges_a_code(client, base_url):
    redirect = "https://backend.example/cb"
    page = requests.get(
        f"{base_url}/oauth/authorize",
        params={"client_id": HUBSPOT_CLIENT_ID, "redirect_uri": redirect, "scope": SCOPES},
        timeout=5,
    )
    account = page.text.split('<option value="', 1)[1].split('"', 1)[0]
    consent = requests.post(
        f"{base_url}/oauth/authorize",
        data={
            "client_id": HUBSPOT_CLIENT_ID,
            "redirect_uri": redirect,
            "scope": SCOPES,
            "account": account,
            "decision": "allow",
        },
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
    tokens = client.oauth.tokens_api.create(
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect,
        client_id=HUBSPOT_CLIENT_ID,
        client_secret=HUBSPOT_CLIENT_SECRET,
    )
    assert tokens.expires_in == 1800
    info = client.oauth.access_tokens_api.get(tokens.access_token)
    assert info.hub_id == PORTAL_US
    refreshed = client.oauth.tokens_api.create(
        grant_type="refresh_token",
        refresh_token=tokens.refresh_token,
        client_id=HUBSPOT_CLIENT_ID,
        client_secret=HUBSPOT_CLIENT_SECRET,
    )
    assert refreshed.access_token != tokens.access_token
