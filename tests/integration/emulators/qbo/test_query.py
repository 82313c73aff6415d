"""The query language subset: escapes, IN, LIKE, ORDERBY, paging, COUNT, parse errors."""

from __future__ import annotations

import pytest


def names(api, statement: str) -> list[str]:
    return [c["DisplayName"] for c in api.rows(statement)]


def test_backslash_escaped_apostrophe_matches(us):
    assert names(us, "SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'") == ["Amy's Bird Sanctuary"]


def test_get_with_a_url_encoded_statement_works_like_post(us):
    statement = "select * from Customer where DisplayName = 'Amy\\'s Bird Sanctuary'"
    assert us.get("/query", query=statement).json()["QueryResponse"]["Customer"] == us.rows(statement)


def test_in_and_like_and_and(us):
    both = names(us, "SELECT * FROM Customer WHERE DisplayName IN ('Melton Johnson', 'Dylan Sollfrank', 'Nobody')")
    assert sorted(both) == ["Dylan Sollfrank", "Melton Johnson"]
    starting_with_d = set(names(us, "SELECT * FROM Customer WHERE DisplayName LIKE 'D%'"))
    assert starting_with_d == {"Dukes Basketball Camp", "Dylan Sollfrank"}
    assert names(us, "SELECT * FROM Customer WHERE DisplayName LIKE '%Bird%' AND Active = true") == [
        "Amy's Bird Sanctuary"
    ]


def test_inactive_records_only_when_asked_for(us):
    active = names(us, "SELECT * FROM Customer")
    assert "Old Client LLC" not in active
    assert "Old Client LLC" in names(us, "SELECT * FROM Customer WHERE Active IN (true, false)")


def test_orderby_desc_and_paging_are_one_based(us):
    ordered = names(us, "SELECT * FROM Customer ORDERBY DisplayName DESC")
    assert ordered == sorted(ordered, key=str.casefold, reverse=True)
    page = us.query("SELECT * FROM Customer ORDER BY DisplayName DESC STARTPOSITION 2 MAXRESULTS 2").json()
    assert [c["DisplayName"] for c in page["QueryResponse"]["Customer"]] == ordered[1:3]
    assert (page["QueryResponse"]["startPosition"], page["QueryResponse"]["maxResults"]) == (2, 2)


def test_dotted_fields_and_refs_and_comparisons(us, admin):
    cutoff = us.rows("SELECT * FROM Customer ORDERBY Id")[0]["MetaData"]["LastUpdatedTime"]
    assert us.rows(f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '{cutoff}'") == []  # noqa: S608
    admin.advance(5)
    customer = us.rows("SELECT * FROM Customer ORDERBY Id")[0]
    us.post("/customer", {"Id": customer["Id"], "SyncToken": customer["SyncToken"], "sparse": True, "Notes": "x"})
    changed = us.rows(f"SELECT * FROM Customer WHERE Metadata.LastUpdatedTime > '{cutoff}'")  # noqa: S608
    assert [c["Id"] for c in changed] == [customer["Id"]]
    invoices = us.rows(f"SELECT * FROM Invoice WHERE CustomerRef = '{customer['Id']}' AND TotalAmt > '0'")  # noqa: S608
    assert invoices and all(i["CustomerRef"]["value"] == customer["Id"] for i in invoices)


def test_count_returns_total_count_only(us):
    answer = us.query("SELECT COUNT(*) FROM Customer WHERE DisplayName LIKE 'D%'").json()
    assert answer["QueryResponse"] == {"totalCount": 2}


def test_no_match_leaves_out_the_entity_key(us):
    assert us.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody'").json()["QueryResponse"] == {}


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM Customer WHERE DisplayName = 'Amy's Bird Sanctuary'",
        "SELECT * FROM Customer WHERE DisplayName = 'a' OR DisplayName = 'b'",
        "SELECT FROM Customer",
        "SELECT * FROM Customer ORDERBY",
        "SELECT * FROM NoSuchThing",
    ],
)
def test_parse_errors_are_fault_4000(us, statement):
    answer = us.query(statement)
    assert answer.status_code == 400
    assert answer.json()["Fault"]["Error"][0]["code"] == "4000"
