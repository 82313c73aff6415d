"""Sync settings per portal and QBO company: the three tabs' switches and options, their mappings,
the mapping status, backfill runs with their progress, and which HubSpot properties we created.

| item                    | pk                | sk                                            | notes                 |
|-------------------------|-------------------|-----------------------------------------------|-----------------------|
| tab settings + mappings | `PORTAL#{hub_id}` | `SYNC#{realm}#{tab}`                          | `version` per save    |
| mapping status          | `PORTAL#{hub_id}` | `MAPSTATUS#{realm}#{tab}#{hubspot_property}`  | synced / failing      |
| backfill run (current)  | `PORTAL#{hub_id}` | `BACKFILL#{realm}#{tab}`                      | counters added (ADD)  |
| backfill chunk done     | `PORTAL#{hub_id}` | `BACKFILL#{realm}#{tab}#{run_id}#{chunk:05d}` | TTL 30 days           |
| backfill part fault     | `PORTAL#{hub_id}` | `BACKFILLFAULT#{realm}#{tab}#{run_id}#{chunk:05d}` | TTL 30 days |
| our HubSpot properties  | `PORTAL#{hub_id}` | `SCHEMA#{tab}`                                | definitions `version` |
| QBO ids we ever linked  | `PORTAL#{hub_id}` | `LINKED#{realm}#{tab}`                        | `ranges`, `version`   |
| company routing rules   | `PORTAL#{hub_id}` | `ROUTING`                                     | `version` per save    |

Everything sits under the portal's partition, so one portal can never read another's settings.
A tab that was never saved reads as its defaults: off, "create and update", "do nothing" on delete,
the default mappings.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, computed_field

from hubqbo import clock as product_clock
from hubqbo.domain.company_routing import RoutingRule
from hubqbo.domain.linked_ids import LinkedIds
from hubqbo.domain.mappings import Mapping, Tab, default_mappings
from hubqbo.domain.text import Text
from hubqbo.store.dynamo import AlreadyRunning, VersionConflict, condition_failed, refused_as

OnChange = Literal["create_and_update", "update_only", "do_nothing"]
OnDelete = Literal["archive", "do_nothing"]
CHUNK_TTL_SECONDS = 30 * 24 * 3600
MAX_RUN_ERRORS = 20  # the last errors a backfill run keeps for the page


def _pk(portal_id: int) -> str:
    return f"PORTAL#{portal_id}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(round(value, 3)))
    if isinstance(value, dict):
        return {k: _dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_dynamo(v) for v in value]
    return value


class TabSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tab: Tab
    enabled: bool = False
    on_change: OnChange = "create_and_update"
    on_delete: OnDelete = "do_nothing"
    mappings: list[Mapping] = Field(default_factory=list)
    customized: bool = False  # False: the mappings are the defaults (and follow them as they evolve)
    version: int = 0
    updated_at: float | None = None

    @classmethod
    def defaults(cls, tab: Tab) -> TabSettings:
        return cls(tab=tab, mappings=default_mappings(tab))


class CompanyRouting(BaseModel):
    """The portal's routing rules in order (none until saved) and the version the last save wrote."""

    model_config = ConfigDict(extra="ignore")

    rules: list[RoutingRule] = Field(default_factory=list)
    version: int = 0
    updated_at: float | None = None


class MappingStatus(BaseModel):
    model_config = ConfigDict(extra="ignore")

    hubspot_property: str
    qbo_field: str = ""
    state: Literal["synced", "failing"]
    last_error: Text | str | None = Field(
        default=None, description="Why it fails: a message id and its values (older items: English words)"
    )
    record: str | None = Field(default=None, description="The QBO id of the record the last error happened on")
    failures: int = 0
    at: float


class PartFault(BaseModel):
    """A backfill part that hit a fault (a 429, 5xx or timeout, or an error): it is retried through the
    queue, or (`final`) it spent its attempts and waits in the dead-letter queue."""

    model_config = ConfigDict(extra="ignore")

    chunk: int
    attempt: int
    reason: str
    final: bool = False
    at: float


class BackfillRun(BaseModel):
    """A run is `done` only once every part is counted: a part that failed keeps it running (shown in
    `parts_retrying` / `parts_failed`) until it succeeds on a retry or is resumed."""

    model_config = ConfigDict(extra="ignore")

    run_id: str
    tab: Tab
    mode: Literal["preview", "run"]
    status: Literal["running", "done"] = "running"
    total: int = 0
    chunks: int = 0
    chunk_size: int = 0
    chunks_done: int = 0
    done: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    archived: int = 0
    failed: int = 0
    up_to_date: int = 0  # of `skipped`: already up to date in HubSpot
    not_allowed: int = 0  # of `skipped`: left out by the tab's settings
    errors: list[str] = Field(default_factory=list)
    started_at: float
    finished_at: float | None = None
    part_faults: list[PartFault] = Field(default_factory=list)  # read with the run, stored apart

    @computed_field  # type: ignore[prop-decorator]
    @property
    def parts_retrying(self) -> int:
        return sum(not f.final for f in self.part_faults)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def parts_failed(self) -> int:
        return sum(f.final for f in self.part_faults)


class SettingsStore:
    def __init__(self, table: Any, clock: Any = product_clock.now) -> None:
        self._table, self._clock = table, clock

    # -- tab settings ----------------------------------------------------------------------------
    def tab(self, portal_id: int, realm_id: str, tab: Tab) -> TabSettings:
        item = self._table.get_item(Key={"pk": _pk(portal_id), "sk": f"SYNC#{realm_id}#{tab}"}).get("Item")
        if not item:
            return TabSettings.defaults(tab)
        settings = TabSettings.model_validate(_plain(item))
        if not settings.customized:
            settings = settings.model_copy(update={"mappings": default_mappings(tab)})
        return settings

    def save_tab(
        self, portal_id: int, realm_id: str, settings: TabSettings, expected_version: int | None = None
    ) -> TabSettings:
        """Writes the tab; with `expected_version`, only if nobody saved it since (else VersionConflict)."""
        saved = settings.model_copy(update={"version": settings.version + 1, "updated_at": self._clock()})
        item = {"pk": _pk(portal_id), "sk": f"SYNC#{realm_id}#{settings.tab}", "realm_id": realm_id}
        item.update(_dynamo(saved.model_dump(mode="json")))
        kwargs: dict[str, Any] = {"Item": item}
        if expected_version is not None:
            if expected_version == 0:
                kwargs["ConditionExpression"] = "attribute_not_exists(pk) OR version = :v"
            else:
                kwargs["ConditionExpression"] = "version = :v"
            kwargs["ExpressionAttributeValues"] = {":v": expected_version}
        with refused_as(VersionConflict("the settings changed meanwhile")):
            self._table.put_item(**kwargs)
        return saved

    # -- company routing (one list per portal, not per company) ----------------------------------
    def routing(self, portal_id: int) -> CompanyRouting:
        item = self._table.get_item(Key={"pk": _pk(portal_id), "sk": "ROUTING"}).get("Item")
        return CompanyRouting.model_validate(_plain(item)) if item else CompanyRouting()

    def routing_rules(self, portal_id: int) -> list[RoutingRule]:
        return self.routing(portal_id).rules

    def save_routing(self, portal_id: int, rules: list[RoutingRule], expected_version: int) -> CompanyRouting:
        """Replaces the list, only if nobody saved it since `expected_version` (else VersionConflict)."""
        saved = CompanyRouting(rules=rules, version=expected_version + 1, updated_at=self._clock())
        item = {"pk": _pk(portal_id), "sk": "ROUTING", **_dynamo(saved.model_dump(mode="json"))}
        condition = "attribute_not_exists(pk) OR version = :v" if expected_version == 0 else "version = :v"
        with refused_as(VersionConflict("the routing rules changed meanwhile")):
            self._table.put_item(
                Item=item, ConditionExpression=condition, ExpressionAttributeValues={":v": expected_version}
            )
        return saved

    # -- mapping status ---------------------------------------------------------------------------
    def mapping_status(self, portal_id: int, realm_id: str, tab: Tab) -> dict[str, MappingStatus]:
        prefix = f"MAPSTATUS#{realm_id}#{tab}#"
        items = self._query(portal_id, prefix)
        return {i["hubspot_property"]: MappingStatus.model_validate(_plain(i)) for i in items}

    def record_mapping_status(self, portal_id: int, realm_id: str, tab: Tab, statuses: Iterable[MappingStatus]) -> None:
        with self._table.batch_writer() as batch:
            for status in statuses:
                batch.put_item(
                    Item={
                        "pk": _pk(portal_id),
                        "sk": f"MAPSTATUS#{realm_id}#{tab}#{status.hubspot_property}",
                        **_dynamo(status.model_dump(mode="json")),
                    }
                )

    def forget_mapping_status(self, portal_id: int, realm_id: str, tab: Tab, hubspot_property: str) -> None:
        self._table.delete_item(Key={"pk": _pk(portal_id), "sk": f"MAPSTATUS#{realm_id}#{tab}#{hubspot_property}"})

    # -- our HubSpot properties --------------------------------------------------------------------
    def schema_version(self, portal_id: int, tab: Tab) -> int:
        item = self._table.get_item(Key={"pk": _pk(portal_id), "sk": f"SCHEMA#{tab}"}).get("Item")
        return int(item["version"]) if item else 0

    def set_schema_version(self, portal_id: int, tab: Tab, version: int) -> None:
        self._table.put_item(
            Item={"pk": _pk(portal_id), "sk": f"SCHEMA#{tab}", "version": version, "at": _dynamo(self._clock())}
        )

    # -- the QBO ids hubqbo has written links for (domain.linked_ids) ----------------------------------
    def linked_ids(self, portal_id: int, realm_id: str, tab: Tab) -> LinkedIds:
        key = {"pk": _pk(portal_id), "sk": f"LINKED#{realm_id}#{tab}"}
        item = self._table.get_item(Key=key, ConsistentRead=True).get("Item")
        return LinkedIds.parse(str(item.get("ranges", ""))) if item else LinkedIds()

    def add_linked_ids(self, portal_id: int, realm_id: str, tab: Tab, qbo_ids: list[str]) -> LinkedIds:
        """Adds the ids (read, merge, conditional write on `version`; again when another worker wrote first)."""
        key = {"pk": _pk(portal_id), "sk": f"LINKED#{realm_id}#{tab}"}
        while True:
            item = self._table.get_item(Key=key, ConsistentRead=True).get("Item") or {}
            current = LinkedIds.parse(str(item.get("ranges", "")))
            if current.covers(qbo_ids):
                return current
            grown, version = current.with_ids(qbo_ids), int(item.get("version", 0))
            try:
                self._table.put_item(
                    Item={**key, "ranges": grown.dump(), "version": version + 1},
                    ConditionExpression="attribute_not_exists(pk) OR version = :v",
                    ExpressionAttributeValues={":v": version},
                )
                return grown
            except ClientError as exc:
                if not condition_failed(exc):
                    raise

    # -- backfill runs ------------------------------------------------------------------------------
    def _run_key(self, portal_id: int, realm_id: str, tab: Tab) -> dict[str, str]:
        return {"pk": _pk(portal_id), "sk": f"BACKFILL#{realm_id}#{tab}"}

    def backfill(self, portal_id: int, realm_id: str, tab: Tab) -> BackfillRun | None:
        item = self._table.get_item(Key=self._run_key(portal_id, realm_id, tab), ConsistentRead=True).get("Item")
        return BackfillRun.model_validate(_plain(item)) if item else None

    def start_backfill(self, portal_id: int, realm_id: str, run: BackfillRun) -> BackfillRun:
        """Stores a new run in place of the previous one, unless one is still running (AlreadyRunning)."""
        stored = run.model_dump(mode="json", exclude={"part_faults", "parts_retrying", "parts_failed"})
        item = {**self._run_key(portal_id, realm_id, run.tab), **_dynamo(stored)}
        with refused_as(AlreadyRunning("a backfill is already running")):
            self._table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR #s = :done",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":done": "done"},
            )
        return run

    def finish_chunk(
        self,
        portal_id: int,
        realm_id: str,
        tab: Tab,
        run_id: str,
        chunk: int,
        counts: dict[str, int],
        errors: list[str],
    ) -> BackfillRun | None:
        """Counts a chunk once (a redelivered chunk is not counted again); the run as it now stands,
        or None when the chunk was counted before or belongs to a run that was replaced."""
        marker = {"pk": _pk(portal_id), "sk": f"BACKFILL#{realm_id}#{tab}#{run_id}#{chunk:05d}"}
        try:
            self._table.put_item(
                Item={**marker, "expires_at": int(self._clock()) + CHUNK_TTL_SECONDS, "counts": counts},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        names = {"#s": "status"}
        values: dict[str, Any] = {":run": run_id, ":one": 1}
        adds = ["chunks_done :one"]
        for i, (name, count) in enumerate(sorted(counts.items())):
            names[f"#c{i}"] = name
            values[f":c{i}"] = count
            adds.append(f"#c{i} :c{i}")
        expression = "ADD " + ", ".join(adds)
        if errors:
            values[":errors"] = errors[:MAX_RUN_ERRORS]
            values[":none"] = []
            expression = "SET errors = list_append(if_not_exists(errors, :none), :errors) " + expression
        try:
            answer = self._table.update_item(
                Key=self._run_key(portal_id, realm_id, tab),
                UpdateExpression=expression,
                ConditionExpression="run_id = :run AND #s = :running",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":running": "running"},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if condition_failed(exc):
                return None
            raise
        self._table.delete_item(Key=self._fault_key(portal_id, realm_id, tab, run_id, chunk))  # it succeeded now
        run = BackfillRun.model_validate(_plain(answer["Attributes"]))
        if run.chunks_done >= run.chunks:
            run = self._finish_run(portal_id, realm_id, tab, run)
        return run

    def _finish_run(self, portal_id: int, realm_id: str, tab: Tab, run: BackfillRun) -> BackfillRun:
        now = self._clock()
        try:
            self._table.update_item(
                Key=self._run_key(portal_id, realm_id, tab),
                UpdateExpression="SET #s = :done, finished_at = :t, errors = :errors",
                ConditionExpression="run_id = :run",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":done": "done",
                    ":t": _dynamo(now),
                    ":run": run.run_id,
                    ":errors": run.errors[-MAX_RUN_ERRORS:],
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
        return run.model_copy(update={"status": "done", "finished_at": now})

    # -- parts that failed ----------------------------------------------------------------------------
    @staticmethod
    def _fault_key(portal_id: int, realm_id: str, tab: Tab, run_id: str, chunk: int) -> dict[str, str]:
        return {"pk": _pk(portal_id), "sk": f"BACKFILLFAULT#{realm_id}#{tab}#{run_id}#{chunk:05d}"}

    def record_part_fault(self, portal_id: int, realm_id: str, tab: Tab, run_id: str, fault: PartFault) -> None:
        """The part's latest failed attempt (one item per part, overwritten by the next attempt)."""
        item = {
            **self._fault_key(portal_id, realm_id, tab, run_id, fault.chunk),
            **_dynamo(fault.model_dump()),
            "expires_at": int(self._clock()) + CHUNK_TTL_SECONDS,
        }
        self._table.put_item(Item=item)

    def part_faults(self, portal_id: int, realm_id: str, tab: Tab, run_id: str) -> list[PartFault]:
        items = self._query(portal_id, f"BACKFILLFAULT#{realm_id}#{tab}#{run_id}#")
        return sorted((PartFault.model_validate(_plain(i)) for i in items), key=lambda f: f.chunk)

    def clear_part_faults(self, portal_id: int, realm_id: str, tab: Tab, run_id: str, chunks: Iterable[int]) -> None:
        for chunk in chunks:
            self._table.delete_item(Key=self._fault_key(portal_id, realm_id, tab, run_id, chunk))

    def chunks_done(self, portal_id: int, realm_id: str, tab: Tab, run_id: str) -> set[int]:
        items = self._query(portal_id, f"BACKFILL#{realm_id}#{tab}#{run_id}#")
        return {int(i["sk"].rsplit("#", 1)[1]) for i in items}

    def _query(self, portal_id: int, prefix: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(_pk(portal_id)) & Key("sk").begins_with(prefix),
            "ConsistentRead": True,
        }
        while True:
            answer = self._table.query(**kwargs)
            items += answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return items
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
