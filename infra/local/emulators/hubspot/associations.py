"""Associations v4 (reference §3): default and labelled single PUTs, record reads, batch
create/read/archive/associate-default, with the HUBSPOT_DEFINED type ids from `catalog`.

Batch limits: create/associate ≤ 2,000 inputs, read ≤ 1,000; record reads page at ≤ 500.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import Request, Response, route
from . import catalog
from .access import requires
from .catalog import AssociationType, ObjectType
from .crm import batch_envelope
from .errors import HubSpotError, not_found, validation
from .store import Portal
from .values import iso
from .versions import batch_status, numbered_or_dated, since

if TYPE_CHECKING:
    from .app import HubSpotEmulator

ONE = numbered_or_dated("/crm/v4/objects", "/crm/objects") + r"/(?P<objectType>[\w-]+)/(?P<objectId>\d+)/associations"
BATCH = (
    numbered_or_dated("/crm/v4/associations", "/crm/associations")
    + r"/(?P<fromObjectType>[\w-]+)/(?P<toObjectType>[\w-]+)/batch"
)
MAX_WRITE, MAX_READ, MAX_PAGE = 2000, 1000, 500


def spec_json(a: AssociationType) -> dict[str, Any]:
    spec: dict[str, Any] = {"category": "HUBSPOT_DEFINED", "typeId": a.type_id}
    if a.label:
        spec["label"] = a.label
    return spec


class AssociationRoutes:
    """Route mixin of `HubSpotEmulator` for /crm/v4 associations."""

    def _pair(self: HubSpotEmulator, from_name: str, to_name: str) -> tuple[ObjectType, ObjectType]:
        from_t, to_t = catalog.object_type(from_name), catalog.object_type(to_name)
        if from_t is None or to_t is None:
            raise validation(f"Unable to infer object type from: {from_name if from_t is None else to_name}")
        if not catalog.association_types(from_t.name, to_t.name):
            raise validation(f"{from_t.name} cannot be associated with {to_t.name}")
        return from_t, to_t

    def _live(self: HubSpotEmulator, portal: Portal, t: ObjectType, obj_id: str) -> None:
        obj = portal.objects[t.name].get(obj_id)
        if obj is None or obj.archived:
            raise not_found(f"No {t.singular} with id {obj_id}", ids=[obj_id])

    def _types(self: HubSpotEmulator, from_t: ObjectType, to_t: ObjectType, specs: Any) -> list[AssociationType]:
        if not isinstance(specs, list) or not specs:
            raise validation("Give a list of association types: [{associationCategory, associationTypeId}]")
        found = []
        for spec in specs:
            a = catalog.association_type(from_t.name, to_t.name, int(spec.get("associationTypeId", -1)))
            if a is None or spec.get("associationCategory") != "HUBSPOT_DEFINED":
                raise validation(
                    f"Association type {spec.get('associationCategory')}/{spec.get('associationTypeId')} "
                    f"is not defined from {from_t.name} to {to_t.name}"
                )
            found.append(a)
        return found

    def _labels_pair(
        self: HubSpotEmulator, portal: Portal, from_t: ObjectType, from_id: str, to_t: ObjectType, to_id: str
    ) -> dict[str, Any]:
        type_ids = portal.associations(from_t.name, from_id, to_t.name).get(to_id, set())
        labels = [
            a.label for a in catalog.association_types(from_t.name, to_t.name) if a.type_id in type_ids and a.label
        ]
        return {
            "fromObjectTypeId": from_t.type_id,
            "fromObjectId": from_id,
            "toObjectTypeId": to_t.type_id,
            "toObjectId": to_id,
            "labels": labels,
        }

    def _default_result(
        self: HubSpotEmulator, from_t: ObjectType, from_id: str, to_t: ObjectType, to_id: str
    ) -> dict[str, Any]:
        a = catalog.default_association(from_t.name, to_t.name)
        assert a is not None
        return {
            "from": {"id": from_id},
            "to": {"id": to_id},
            "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": a.type_id},
        }

    # -- single records ------------------------------------------------------------------------
    @route("PUT", ONE + r"/default/(?P<toObjectType>[\w-]+)/(?P<toObjectId>\d+)")
    @requires("assoc_write")
    def assoc_put_default(self: HubSpotEmulator, request: Request) -> Response:
        p = request.params
        portal = self.portal_of(request)
        from_t, to_t = self._pair(p["objectType"], p["toObjectType"])
        started = iso(self.clock.now())
        with self.lock:
            self._live(portal, from_t, p["objectId"])
            self._live(portal, to_t, p["toObjectId"])
            portal.associate(catalog.default_association(from_t.name, to_t.name), p["objectId"], p["toObjectId"])  # type: ignore[arg-type]
        result = self._default_result(from_t, p["objectId"], to_t, p["toObjectId"])
        return Response(body=batch_envelope([result], [], started, iso(self.clock.now())))

    @route("PUT", ONE + r"/(?P<toObjectType>[\w-]+)/(?P<toObjectId>\d+)")
    @requires("assoc_write")
    def assoc_put_labelled(self: HubSpotEmulator, request: Request) -> Response:
        p = request.params
        portal = self.portal_of(request)
        from_t, to_t = self._pair(p["objectType"], p["toObjectType"])
        kinds = self._types(from_t, to_t, request.json())
        with self.lock:
            self._live(portal, from_t, p["objectId"])
            self._live(portal, to_t, p["toObjectId"])
            for a in kinds:
                portal.associate(a, p["objectId"], p["toObjectId"])
            body = self._labels_pair(portal, from_t, p["objectId"], to_t, p["toObjectId"])
        return Response(status=201, body=body)

    @route("DELETE", ONE + r"/(?P<toObjectType>[\w-]+)/(?P<toObjectId>\d+)")
    @requires("assoc_write")
    def assoc_delete(self: HubSpotEmulator, request: Request) -> Response:
        p = request.params
        portal = self.portal_of(request)
        from_t, to_t = self._pair(p["objectType"], p["toObjectType"])
        with self.lock:
            portal.dissociate(from_t.name, p["objectId"], to_t.name, p["toObjectId"])
        return Response(status=204)

    @route("GET", ONE + r"/(?P<toObjectType>[\w-]+)")
    @requires("assoc_read")
    def assoc_list(self: HubSpotEmulator, request: Request) -> Response:
        p = request.params
        portal = self.portal_of(request)
        from_t, to_t = self._pair(p["objectType"], p["toObjectType"])
        limit = min(int(request.arg("limit", str(MAX_PAGE)) or MAX_PAGE), MAX_PAGE)
        after = request.arg("after")
        with self.lock:
            self._live(portal, from_t, p["objectId"])
            rows = self._targets(portal, from_t, p["objectId"], to_t)
        if after and after.isdigit():
            rows = [r for r in rows if int(r["toObjectId"]) >= int(after)]
        body: dict[str, Any] = {"results": rows[:limit]}
        if len(rows) > limit:
            nxt = rows[limit]["toObjectId"]
            body["paging"] = {"next": {"after": nxt, "link": f"?after={nxt}"}}
        return Response(body=body)

    def _targets(
        self: HubSpotEmulator, portal: Portal, from_t: ObjectType, from_id: str, to_t: ObjectType
    ) -> list[dict[str, Any]]:
        rows = []
        for to_id, type_ids in portal.associations(from_t.name, from_id, to_t.name).items():
            kinds = [a for a in catalog.association_types(from_t.name, to_t.name) if a.type_id in type_ids]
            rows.append({"toObjectId": to_id, "associationTypes": [spec_json(a) for a in kinds]})
        return rows

    # -- batch ---------------------------------------------------------------------------------
    def _batch(self: HubSpotEmulator, request: Request, limit: int) -> list[dict[str, Any]]:
        inputs = (request.json() or {}).get("inputs")
        if not isinstance(inputs, list):
            raise validation("inputs must be a list")
        if len(inputs) > limit:
            raise validation(f"Batch input limit exceeded: {len(inputs)} inputs; the limit is {limit}.")
        return inputs

    @route("POST", BATCH + r"/create")
    @requires("assoc_write")
    def assoc_batch_create(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        from_t, to_t = self._pair(request.params["fromObjectType"], request.params["toObjectType"])
        inputs = self._batch(request, MAX_WRITE)
        started = iso(self.clock.now())
        results, errors = [], []
        with self.lock:
            for item in inputs:
                from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
                try:
                    kinds = self._types(from_t, to_t, item.get("types"))
                    self._live(portal, from_t, from_id)
                    self._live(portal, to_t, to_id)
                except HubSpotError as exc:
                    errors.append(exc.batch_error())
                    continue
                for a in kinds:
                    portal.associate(a, from_id, to_id)
                results.append(self._labels_pair(portal, from_t, from_id, to_t, to_id))
        status = batch_status(request, 201, errors, dated_ok=200)
        return Response(status=status, body=batch_envelope(results, errors, started, iso(self.clock.now())))

    @route("POST", BATCH + r"/associate/default")
    @requires("assoc_write")
    def assoc_batch_default(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        from_t, to_t = self._pair(request.params["fromObjectType"], request.params["toObjectType"])
        inputs = self._batch(request, MAX_WRITE)
        started = iso(self.clock.now())
        results, errors = [], []
        default = catalog.default_association(from_t.name, to_t.name)
        with self.lock:
            for item in inputs:
                from_id, to_id = str(item["from"]["id"]), str(item["to"]["id"])
                try:
                    self._live(portal, from_t, from_id)
                    self._live(portal, to_t, to_id)
                except HubSpotError as exc:
                    errors.append(exc.batch_error())
                    continue
                portal.associate(default, from_id, to_id)  # type: ignore[arg-type]
                results.append(self._default_result(from_t, from_id, to_t, to_id))
        status = batch_status(request, 200, errors)
        return Response(status=status, body=batch_envelope(results, errors, started, iso(self.clock.now())))

    @route("POST", BATCH + r"/read")
    @requires("assoc_read")
    def assoc_batch_read(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        from_t, to_t = self._pair(request.params["fromObjectType"], request.params["toObjectType"])
        inputs = self._batch(request, MAX_READ)
        started = iso(self.clock.now())
        results, empty = [], []
        with self.lock:
            for item in inputs:
                from_id = str(item.get("id", ""))
                rows = self._targets(portal, from_t, from_id, to_t)
                if rows:
                    results.append({"from": {"id": from_id}, "to": rows})
                else:
                    empty.append(from_id)
        errors = []
        if empty:
            err = HubSpotError(
                404,
                "OBJECT_NOT_FOUND",
                f"No {to_t.singular} is associated with {from_t.singular} {', '.join(empty)}",
                context={"fromObjectId": empty},
                sub_category="crm.associations.NO_ASSOCIATIONS_FOUND",
            )
            errors.append(err.batch_error())
        status = batch_status(request, 200, errors)
        return Response(status=status, body=batch_envelope(results, errors, started, iso(self.clock.now())))

    @route("POST", BATCH + r"/archive")
    @requires("assoc_write")
    def assoc_batch_archive(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        from_t, to_t = self._pair(request.params["fromObjectType"], request.params["toObjectType"])
        inputs = self._batch(request, MAX_WRITE)
        with self.lock:
            for item in inputs:
                from_id = str(item["from"]["id"])
                targets = item.get("to") or []
                for target in targets if isinstance(targets, list) else [targets]:
                    portal.dissociate(from_t.name, from_id, to_t.name, str(target["id"]))
        return self._archived(request)

    @route("POST", BATCH + r"/labels/archive")
    @requires("assoc_write")
    def assoc_batch_labels_archive(self: HubSpotEmulator, request: Request) -> Response:
        portal = self.portal_of(request)
        from_t, to_t = self._pair(request.params["fromObjectType"], request.params["toObjectType"])
        inputs = self._batch(request, MAX_WRITE)
        with self.lock:
            for item in inputs:
                kinds = self._types(from_t, to_t, item.get("types"))
                labelled = {a.type_id for a in kinds if a.label}
                portal.dissociate(from_t.name, str(item["from"]["id"]), to_t.name, str(item["to"]["id"]), labelled)
        return self._archived(request)

    def _archived(self: HubSpotEmulator, request: Request) -> Response:
        """v4: 204; from 2026-09 a `BatchResponseVoid` envelope with 200."""
        if not since(request, "2026-09"):
            return Response(status=204)
        now = iso(self.clock.now())
        return Response(body=batch_envelope([], [], now, now))
