"""The QBO ids hubqbo has linked, as ranges: what the sync engine may write without reading HubSpot first."""

from __future__ import annotations

from hubqbo.domain import linked_ids
from hubqbo.domain.linked_ids import LinkedIds


def test_nothing_linked_means_no_id_needs_a_read():
    assert not LinkedIds().may_be_linked("7")


def test_added_ids_merge_into_ranges_and_round_trip_through_text():
    ids = LinkedIds().with_ids([str(n) for n in range(1, 101)]).with_ids(["101", "205", "203", "204"])
    assert ids.ranges == ((1, 101), (203, 205))
    assert LinkedIds.parse(ids.dump()) == ids
    assert ids.may_be_linked("50") and ids.may_be_linked("204")
    assert not ids.may_be_linked("102") and not ids.may_be_linked("206")


def test_an_id_that_is_not_a_number_is_always_read():
    assert LinkedIds().may_be_linked("A-12")


def test_too_many_ranges_merge_the_closest_so_they_only_ever_cover_more(monkeypatch):
    monkeypatch.setattr(linked_ids, "MAX_RANGES", 2)
    ids = LinkedIds().with_ids(["1", "10", "12", "40"])
    assert len(ids.ranges) == 2
    assert all(ids.may_be_linked(i) for i in ("1", "10", "12", "40"))
    assert ids.may_be_linked("11")  # a gap closed: read, never skipped
