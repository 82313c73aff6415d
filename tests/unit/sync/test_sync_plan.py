"""The sync planner's decision table: every tab setting against every state a QBO record can be in (pure)."""

from __future__ import annotations

from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubqbo.domain.field_types import HubSpotProperty
from hubqbo.domain.mappings import Mapping, RecordContext, Tab, default_mappings, link_value, record_values
from hubqbo.domain.sync_plan import (
    Archive,
    Create,
    HubSpotRecord,
    Link,
    Skip,
    Update,
    changed_values,
    partition,
    plan,
    plan_unsynced,
    read_properties,
)
from hubqbo.store.settings import TabSettings

REALM = "9130000000000001"
CTX = RecordContext(realm_id=REALM, home_currency="USD")
CONTACT_PROPS = {
    m.hubspot_property: HubSpotProperty(name=m.hubspot_property, label=m.hubspot_property, type="string")
    for m in default_mappings(Tab.CONTACTS)
}
PRODUCT_PROPS = {
    "name": HubSpotProperty(name="name", label="Name", type="string"),
    "description": HubSpotProperty(name="description", label="Description", type="string"),
    "price": HubSpotProperty(name="price", label="Price", type="number"),
    "hs_sku": HubSpotProperty(name="hs_sku", label="SKU", type="string"),
}
ON_CHANGE = ("create_and_update", "update_only", "do_nothing")
ON_DELETE = ("archive", "do_nothing")


class State(StrEnum):
    DELETED_LINKED = "deleted, linked to a HubSpot record"
    DELETED_UNLINKED = "deleted, linked to nothing"
    LINKED_UNCHANGED = "linked, values as in HubSpot"
    LINKED_CHANGED = "linked, values changed"
    MATCHED = "unlinked, matches an unlinked HubSpot record"
    MATCHED_ELSEWHERE = "unlinked, matches a record linked to another QBO record"
    UNMATCHED = "unlinked, matches nothing"


def _rules(
    tab: Tab = Tab.CONTACTS, enabled: bool = True, on_change: str = "create_and_update", on_delete: str = "archive"
):
    return TabSettings(
        tab=tab, enabled=enabled, on_change=on_change, on_delete=on_delete, mappings=default_mappings(tab)
    )


def _customer(qbo_id: str, state: State) -> dict:
    raw = {
        "Id": qbo_id,
        "GivenName": "Amy",
        "FamilyName": f"Bird {qbo_id}",
        "DisplayName": f"Amy Bird {qbo_id}",
        "PrimaryEmailAddr": {"Address": f"amy{qbo_id}@example.com"},
        "Active": True,
    }
    if state in (State.DELETED_LINKED, State.DELETED_UNLINKED):
        raw["Active"] = False
    return raw


def _reads(records: list[tuple[dict, State]]) -> tuple[dict[str, HubSpotRecord], dict[str, HubSpotRecord]]:
    """What the engine's batch reads would answer for these records: linked by link value, matched by QBO id."""
    linked, matched = {}, {}
    for raw, state in records:
        qbo_id, key = raw["Id"], link_value(REALM, raw["Id"])
        values, _ = record_values(Tab.CONTACTS, raw, default_mappings(Tab.CONTACTS), CONTACT_PROPS, CTX)
        if state in (State.DELETED_LINKED, State.LINKED_UNCHANGED):
            linked[key] = HubSpotRecord(f"h{qbo_id}", values)
        elif state == State.LINKED_CHANGED:
            linked[key] = HubSpotRecord(f"h{qbo_id}", {**values, "lastname": "Old name"})
        elif state == State.MATCHED:
            matched[qbo_id] = HubSpotRecord(f"h{qbo_id}", {"email": values["email"]})
        elif state == State.MATCHED_ELSEWHERE:
            other = link_value(REALM, "999")
            matched[qbo_id] = HubSpotRecord(f"h{qbo_id}", {"email": values["email"], Tab.CONTACTS.link_property: other})
    return linked, matched


def _expected(enabled: bool, on_change: str, on_delete: str, state: State) -> tuple[type, str]:
    """The decision table, written out: (the action, a phrase of its reason for a skip)."""
    if not enabled:
        return Skip, "sync is off"
    if state == State.DELETED_LINKED:
        return (Archive, "") if on_delete == "archive" else (Skip, "deletions are set to do nothing")
    if state == State.DELETED_UNLINKED:
        return Skip, ("no HubSpot contact is linked" if on_delete == "archive" else "deletions are set to do nothing")
    if on_change == "do_nothing":
        return Skip, "set to do nothing for this tab"
    return {
        State.LINKED_UNCHANGED: (Skip, "already up to date"),
        State.LINKED_CHANGED: (Update, ""),
        State.MATCHED: (Link, ""),
        State.MATCHED_ELSEWHERE: (Skip, "mirrors another QuickBooks record"),
        State.UNMATCHED: (Create, "") if on_change == "create_and_update" else (Skip, "update existing records only"),
    }[state]


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("on_delete", ON_DELETE)
@pytest.mark.parametrize("on_change", ON_CHANGE)
@pytest.mark.parametrize("enabled", [True, False])
def test_each_setting_and_record_state_gets_the_action_of_the_table(enabled, on_change, on_delete, state):
    raw = _customer("58", state)
    linked, matched = _reads([(raw, state)])
    actions = plan(
        [raw], linked, matched, _rules(enabled=enabled, on_change=on_change, on_delete=on_delete), CONTACT_PROPS, CTX
    )
    kind, phrase = _expected(enabled, on_change, on_delete, state)
    assert len(actions) == 1
    action = actions[0]
    assert type(action) is kind, action
    assert action.qbo_id == "58"
    if kind is Skip:
        assert phrase in action.reason, action.reason
    if kind in (Update, Link, Archive):
        assert action.hubspot_id == "h58"


@given(
    states=st.lists(st.sampled_from(list(State)), max_size=25),
    enabled=st.booleans(),
    on_change=st.sampled_from(ON_CHANGE),
    on_delete=st.sampled_from(ON_DELETE),
)
def test_records_read_together_each_get_their_own_row_of_the_table(states, enabled, on_change, on_delete):
    records = [(_customer(str(n + 1), state), state) for n, state in enumerate(states)]
    linked, matched = _reads(records)
    rules = _rules(enabled=enabled, on_change=on_change, on_delete=on_delete)
    actions = plan([raw for raw, _ in records], linked, matched, rules, CONTACT_PROPS, CTX)
    assert sorted(a.qbo_id for a in actions) == sorted(raw["Id"] for raw, _ in records)  # one action per record
    by_id = {a.qbo_id: a for a in actions}
    for raw, state in records:
        kind, phrase = _expected(enabled, on_change, on_delete, state)
        assert type(by_id[raw["Id"]]) is kind
        assert phrase in getattr(by_id[raw["Id"]], "reason", "")
    if enabled:  # deletions come first, then the live records in the order given
        deleted = [raw["Id"] for raw, s in records if s in (State.DELETED_LINKED, State.DELETED_UNLINKED)]
        live = [raw["Id"] for raw, s in records if raw["Id"] not in deleted]
        assert [a.qbo_id for a in actions] == deleted + live


@given(
    ids=st.lists(st.sampled_from(["1", "2", "3"]), max_size=6),
    deleted=st.lists(st.sampled_from(["2", "4"]), max_size=3),
)
def test_a_tab_that_is_off_skips_every_record_and_deletion_in_the_order_given(ids, deleted):
    raws = [{"Id": i} for i in ids]
    actions = plan(raws, {}, {}, _rules(enabled=False), {}, CTX, deleted_ids=deleted)
    assert [(type(a), a.qbo_id) for a in actions] == [(Skip, i) for i in ids + deleted]


def test_deleted_ids_and_deleted_records_are_handled_once_each_before_the_live_ones():
    gone, live = partition(Tab.CONTACTS, [{"Id": "1", "Active": False}, {"Id": "2"}], ["3", "1"])
    assert gone == ["3", "1"]
    assert live == [{"Id": "2"}]


def test_a_deleted_invoice_is_archived_with_the_reason_it_is_gone():
    key = link_value(REALM, "7")
    actions = plan([], {key: HubSpotRecord("h7")}, {}, _rules(Tab.INVOICES), {}, CTX, deleted_ids=["7"])
    assert actions == [Archive("7", "h7", "the invoice is deleted or voided in QuickBooks")]


def test_a_linked_record_is_updated_with_the_changed_properties_only():
    raw = _customer("58", State.LINKED_CHANGED)
    linked, _ = _reads([(raw, State.LINKED_CHANGED)])
    [action] = plan([raw], linked, {}, _rules(), CONTACT_PROPS, CTX)
    assert action == Update("58", link_value(REALM, "58"), "h58", {"lastname": "Bird 58"})


def test_a_matched_record_is_linked_with_its_changed_values_and_the_link_property():
    raw = _customer("58", State.MATCHED)
    _, matched = _reads([(raw, State.MATCHED)])
    [action] = plan([raw], {}, matched, _rules(on_change="update_only"), CONTACT_PROPS, CTX)
    assert isinstance(action, Link)
    assert action.properties[Tab.CONTACTS.link_property] == link_value(REALM, "58")
    assert "email" not in action.properties  # it matched by that email: unchanged
    assert action.properties["firstname"] == "Amy"


def test_a_hubspot_record_matched_by_two_records_goes_to_the_first_only():
    first, second = _customer("1", State.MATCHED), _customer("2", State.MATCHED)
    shared = HubSpotRecord("h9", {"email": "amy1@example.com"})
    actions = plan([first, second], {}, {"1": shared, "2": shared}, _rules(), CONTACT_PROPS, CTX)
    assert isinstance(actions[0], Link)
    assert isinstance(actions[1], Skip)
    assert "already matched another record of this batch by email" in actions[1].reason


def test_two_new_customers_with_one_email_create_one_contact():
    first, second = _customer("1", State.UNMATCHED), _customer("2", State.UNMATCHED)
    second["PrimaryEmailAddr"] = {"Address": "AMY1@example.com"}
    actions = plan([first, second], {}, {}, _rules(), CONTACT_PROPS, CTX)
    assert isinstance(actions[0], Create)
    assert actions[1] == Skip(
        "2",
        "QuickBooks customer 1 has the same email and gets the contact (HubSpot allows one contact per email)",
    )


def test_a_create_leaves_out_empty_values_and_carries_the_link_value():
    raw = {"Id": "5", "DisplayName": "Solo", "Active": True}
    [action] = plan([raw], {}, {}, _rules(), CONTACT_PROPS, CTX)
    assert isinstance(action, Create)
    assert "" not in action.properties.values()
    assert action.properties[Tab.CONTACTS.link_property] == link_value(REALM, "5")


def test_a_mapping_whose_property_is_gone_is_reported_on_the_action_and_the_rest_is_written():
    rules = _rules()
    rules.mappings.append(Mapping(hubspot_property="gone_property", qbo_field="CompanyName"))
    raw = _customer("58", State.LINKED_UNCHANGED)
    linked, _ = _reads([(raw, State.LINKED_UNCHANGED)])
    [action] = plan([raw], linked, {}, rules, CONTACT_PROPS, CTX)
    assert isinstance(action, Skip)
    assert [p.hubspot_property for p in action.problems] == ["gone_property"]


def test_a_price_hubspot_echoes_with_decimals_is_unchanged():
    prop = PRODUCT_PROPS["price"]
    assert changed_values({"price": "75"}, {"price": "75.00"}, {"price": prop}) == {}
    assert changed_values({"price": "75"}, {"price": "80"}, {"price": prop}) == {"price": "75"}
    assert changed_values({"unknown": "a"}, {}, {}) == {"unknown": "a"}


@pytest.mark.parametrize("kind", ["Category", "Group"])
def test_items_that_are_not_products_are_skipped_and_the_others_go_on(kind):
    skips, left = plan_unsynced(
        [{"Id": "1", "Type": kind}, {"Id": "2", "Type": "Service"}, {"Id": "3"}], _rules(Tab.PRODUCTS)
    )
    assert skips == [Skip("1", f"QuickBooks {kind} items are not products")]
    assert [r["Id"] for r in left] == ["2", "3"]


def test_a_matched_product_is_linked_by_sku():
    raw = {"Id": "11", "Name": "Rock Fountain", "Sku": "RF-1", "UnitPrice": 275, "Type": "Inventory"}
    matched = {"11": HubSpotRecord("p1", {"hs_sku": "RF-1", "price": "275.00"})}
    [action] = plan([raw], {}, matched, _rules(Tab.PRODUCTS, on_change="update_only"), PRODUCT_PROPS, CTX)
    assert isinstance(action, Link)
    assert "price" not in action.properties
    assert "mirrors" not in str(action)


def test_invoices_read_back_the_billable_flag_with_their_mapped_properties():
    props = {"hs_number": HubSpotProperty(name="hs_number", label="Number", type="string")}
    assert read_properties(_rules(Tab.INVOICES), props) == [
        "hs_number",
        Tab.INVOICES.link_property,
        "hs_invoice_billable",
    ]
