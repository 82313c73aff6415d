"""The QBO ids hubqbo has ever written a link for (per portal, company and tab), as ranges of numbers.

The sync engine reads HubSpot by link value (`<realm>:<QBO id>`) to find what a record is linked to, so it
can skip a record that is up to date and write only what changed. A QBO id outside these ranges has never
been linked by hubqbo, so no HubSpot record can hold its link (the link property is ours): the engine
writes it without reading, with an upsert on the link property, which creates the record or, should one
hold the link after all (another worker linked it a moment ago), updates that one: never a duplicate.

The engine adds a batch's ids *before* it writes them, so every worker that reads afterwards reads HubSpot
for them. Ranges only grow (more reads, never fewer, is the safe side); past `MAX_RANGES` the closest ones
are merged, covering ids that were never linked (again the safe side). QBO ids are whole numbers; any other
id is always read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MAX_RANGES = 400  # ~5 KB in the item; webhook changes of scattered records fragment the ranges


@dataclass(frozen=True)
class LinkedIds:
    ranges: tuple[tuple[int, int], ...] = ()  # sorted, disjoint, not adjacent; both ends included

    def may_be_linked(self, qbo_id: str) -> bool:
        if not qbo_id.isdigit():
            return True
        n = int(qbo_id)
        return any(lo <= n <= hi for lo, hi in self.ranges)

    def with_ids(self, qbo_ids: Iterable[str]) -> LinkedIds:
        numbers = sorted({int(i) for i in qbo_ids if i.isdigit()})
        spans = list(self.ranges) + [(n, n) for n in numbers]
        spans.sort()
        merged: list[tuple[int, int]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        while len(merged) > MAX_RANGES:  # close the smallest gap
            gap = min(range(len(merged) - 1), key=lambda k: merged[k + 1][0] - merged[k][1])
            merged[gap : gap + 2] = [(merged[gap][0], merged[gap + 1][1])]
        return LinkedIds(tuple(merged))

    def covers(self, qbo_ids: Iterable[str]) -> bool:
        return all(self.may_be_linked(i) for i in qbo_ids)

    def dump(self) -> str:
        return ",".join(f"{lo}-{hi}" for lo, hi in self.ranges)

    @classmethod
    def parse(cls, text: str) -> LinkedIds:
        ranges = []
        for part in filter(None, text.split(",")):
            lo, _, hi = part.partition("-")
            ranges.append((int(lo), int(hi or lo)))
        return cls(tuple(ranges))
