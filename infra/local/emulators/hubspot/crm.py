"""CRM object APIs (`/crm/v3/objects/{type}`, `/crm/objects/{YYYY-MM}/{type}`): CRUD, list paging, batch, search.

Batch semantics (reference §2.2): ≤ 100 inputs; missing ids in read/update come back as errors
with 207 Multi-Status; validation failures fail the whole batch (400/409, nothing written) unless
every input carries an `objectWriteTraceId`, in which case the good inputs are written and each
failure is reported with its trace id (207).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core import Request, Response, route
from . import catalog, search
from .access import requires
from .catalog import ObjectType
from .errors import HubSpotError, not_found, validation
from .store import CrmObject, Portal
from .values import iso
from .versions import batch_status, numbered_or_dated, since

if TYPE_CHECKING:
    from .app import HubSpotEmulator

OBJ = numbered_or_dated("/crm/v3/objects", "/crm/objects") + r"/(?P<objectType>[\w-]+)"
MAX_BATCH = 100
MAX_PAGE = 100


def list_arg(request: Request, name: str) -> list[str]:
    """`properties=a,b&properties=c` → [a, b, c]."""
    return [p.strip() for raw in request.query.get(name, []) for p in raw.split(",") if p.strip()]


def object_json(
    portal: Portal,
    obj: CrmObject,
    properties: list[str] | None = None,
    associations: list[str] | None = None,
    history: list[str] | None = None,
    *,
    everything: bool = False,
) -> dict[str, Any]:
    """A record as v3 returns it. Unset properties are left out (see the module docs of app.py)."""
    t = catalog.object_type(obj.type)
    assert t is not None
    if everything:
        names = list(obj.properties)
    else:
        stamps = ("createdate", "hs_object_id", "lastmodifieddate" if t.name == "contacts" else "hs_lastmodifieddate")
        names = list(dict.fromkeys([*(properties or t.default_properties), *stamps]))
    body: dict[str, Any] = {
        "id": obj.id,
        "properties": {n: obj.properties[n] for n in names if obj.properties.get(n) not in (None, "")},
        "createdAt": iso(obj.created_at),
        "updatedAt": iso(obj.updated_at),
        "archived": obj.archived,
    }
    if obj.archived_at:
        body["archivedAt"] = iso(obj.archived_at)
    if history:
        body["propertiesWithHistory"] = {
            n: [{"value": obj.properties[n], "timestamp": iso(obj.updated_at), "sourceType": "API"}]
            for n in history
            if obj.properties.get(n)
        }
    linked = v3_associations(portal, obj, associations or [])
    if linked:
        body["associations"] = linked
    return body


def v3_associations(portal: Portal, obj: CrmObject, wanted: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in wanted:
        to_type = catalog.object_type(name)
        if to_type is None:
            continue
        results = []
        for to_id, type_ids in portal.associations(obj.type, obj.id, to_type.name).items():
            for type_id in sorted(type_ids):
                kind = catalog.association_type(obj.type, to_type.name, type_id)
                if kind is not None:
                    results.append({"id": to_id, "type": catalog.v3_association_name(kind)})
        if results:
            out[to_type.name] = {"results": results}
    return out


def batch_envelope(results: list[Any], errors: list[dict[str, Any]], started: str, done: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": started,
        "startedAt": started,
        "completedAt": done,
    }
    if errors:
        body.update(numErrors=len(errors), errors=errors)
    return body


class CrmRoutes:
    """Route mixin of `HubSpotEmulator` for CRM records."""

    # -- helpers -------------------------------------------------------------------------------
    def object_type_of(self: HubSpotEmulator, request: Request) -> ObjectType:
        name = request.params.get("objectType", "")
        t = catalog.object_type(name)
        if t is None:
            raise validation(f"Unable to infer object type from: {name}")
        return t

    def inline_associations(self: HubSpotEmulator, portal: Portal, t: ObjectType, specs: Any) -> list[Any]:
        """Checks `associations` of a create input; returns (association type, target id) pairs."""
        pairs = []
        for spec in specs or []:
            target_id = str((spec.get("to") or {}).get("id", ""))
            for kind in spec.get("types") or []:
                a = catalog.target_of(t.name, int(kind.get("associationTypeId", -1)))
                if a is None or kind.get("associationCategory", "HUBSPOT_DEFINED") != "HUBSPOT_DEFINED":
                    raise validation(
                        f"{kind.get('associationCategory')} {kind.get('associationTypeId')} is not a valid association "
                        f"type from {t.name}"
                    )
                target = portal.objects[a.to_type].get(target_id)
                if target is None or target.archived:
                    raise validation(f"No {a.to_type} with id {target_id} to associate with")
                pairs.append((a, target_id))
        return pairs

    def create_record(
        self: HubSpotEmulator, portal: Portal, t: ObjectType, spec: dict[str, Any], request: Request | None = None
    ) -> CrmObject:
        props = portal.validate(t.name, spec.get("properties") or {})
        self.check_rules(request, portal, t.name, props)
        links = self.inline_associations(portal, t, spec.get("associations"))
        obj = portal.create(t, props, self.clock.now())
        for a, target_id in links:
            portal.associate(a, obj.id, target_id)
        return obj

    def update_record(
        self: HubSpotEmulator, portal: Portal, obj: CrmObject, raw: Any, request: Request | None = None
    ) -> CrmObject:
        props = portal.validate(obj.type, raw or {}, existing=obj)
        self.check_rules(request, portal, obj.type, props)
        return portal.update(obj, props, self.clock.now())

    def check_rules(
        self: HubSpotEmulator, request: Request | None, portal: Portal, type_name: str, props: dict[str, str]
    ) -> None:
        """The portal's validation rules, on writes through API version 2026-09 or later."""
        if request is not None and since(request, "2026-09"):
            self.rules.check(portal.id, type_name, props)

    # -- basic ---------------------------------------------------------------------------------
    @route("GET", OBJ)
    @requires("read")
    def crm_list(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        try:
            limit = int(request.arg("limit", "10") or 10)
        except ValueError:
            raise validation("limit must be an integer") from None
        if not 1 <= limit <= MAX_PAGE:
            raise validation(f"limit must be between 1 and {MAX_PAGE}")
        after = request.arg("after")
        archived = request.arg("archived", "false") == "true"
        with self.lock:
            objs = portal.live(t.name, archived=archived)
            if after:
                objs = [o for o in objs if int(o.id) >= int(after)] if after.isdigit() else []
            page, rest = objs[:limit], objs[limit:]
            results = [
                object_json(
                    portal,
                    o,
                    list_arg(request, "properties"),
                    list_arg(request, "associations"),
                    list_arg(request, "propertiesWithHistory"),
                )
                for o in page
            ]
        body: dict[str, Any] = {"results": results}
        if rest:
            body["paging"] = {"next": {"after": rest[0].id, "link": f"?after={rest[0].id}"}}
        return Response(body=body)

    @route("POST", OBJ)
    @requires("write")
    def crm_create(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        with self.lock:
            obj = self.create_record(portal, t, request.json() or {}, request)
            return Response(status=201, body=object_json(portal, obj, everything=True))

    @route("GET", OBJ + r"/(?P<objectId>[^/]+)")
    @requires("read")
    def crm_read(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        with self.lock:
            obj = portal.get(
                t,
                request.params["objectId"],
                id_property=request.arg("idProperty"),
                archived=request.arg("archived", "false") == "true",
            )
            return Response(
                body=object_json(
                    portal,
                    obj,
                    list_arg(request, "properties"),
                    list_arg(request, "associations"),
                    list_arg(request, "propertiesWithHistory"),
                )
            )

    @route("PATCH", OBJ + r"/(?P<objectId>[^/]+)")
    @requires("write")
    def crm_update(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        body = request.json() or {}
        with self.lock:
            obj = portal.get(t, request.params["objectId"], id_property=request.arg("idProperty"))
            self.update_record(portal, obj, body.get("properties"), request)
            return Response(body=object_json(portal, obj, everything=True))

    @route("DELETE", OBJ + r"/(?P<objectId>[^/]+)")
    @requires("write")
    def crm_archive(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        with self.lock:
            obj = portal.objects[t.name].get(request.params["objectId"])
            if obj is not None and not obj.archived:
                portal.archive(obj, self.clock.now())
        return Response(status=204)

    # -- batch ---------------------------------------------------------------------------------
    def batch_inputs(self: HubSpotEmulator, request: Request) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        body = request.json() or {}
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise validation("inputs must be a list")
        if len(inputs) > MAX_BATCH:
            raise validation(
                f"Batch input limit exceeded: {len(inputs)} inputs were sent; the limit is {MAX_BATCH}.",
                context={"limit": [str(MAX_BATCH)]},
            )
        return body, inputs

    @route("POST", OBJ + r"/batch/read")
    @requires("read")
    def crm_batch_read(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        body, inputs = self.batch_inputs(request)
        started = iso(self.clock.now())
        archived = request.arg("archived", "false") == "true"
        results, missing = [], []
        with self.lock:
            for item in inputs:
                key = str(item.get("id", ""))
                try:
                    obj = portal.get(t, key, id_property=body.get("idProperty"), archived=archived)
                except HubSpotError as exc:
                    if exc.status != 404:
                        raise
                    missing.append(key)
                    continue
                results.append(
                    object_json(portal, obj, body.get("properties"), None, body.get("propertiesWithHistory"))
                )
        errors = []
        if missing:
            errors.append(
                not_found(
                    f"Could not get some {t.singular.upper()} objects, they may be deleted or not exist. "
                    "Check that ids are valid.",
                    ids=missing,
                ).batch_error()
            )
        status = batch_status(request, 200, errors)
        return Response(status=status, body=batch_envelope(results, errors, started, iso(self.clock.now())))

    @route("POST", OBJ + r"/batch/create")
    @requires("write")
    def crm_batch_create(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        _, inputs = self.batch_inputs(request)

        def create(item: dict[str, Any], undo: list[Callable[[], None]]) -> dict[str, Any]:
            obj = self.create_record(portal, t, item, request)
            undo.append(lambda: self._forget(portal, t, obj))
            return object_json(portal, obj, everything=True)

        return self.run_batch(request, inputs, create, ok_status=201)

    @route("POST", OBJ + r"/batch/update")
    @requires("write")
    def crm_batch_update(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        body, inputs = self.batch_inputs(request)

        def update(item: dict[str, Any], undo: list[Callable[[], None]]) -> dict[str, Any]:
            obj = portal.get(t, str(item.get("id", "")), id_property=item.get("idProperty") or body.get("idProperty"))
            before = (dict(obj.properties), obj.updated_at)
            self.update_record(portal, obj, item.get("properties"), request)
            undo.append(lambda: self._restore(obj, before))
            return object_json(portal, obj, everything=True)

        return self.run_batch(request, inputs, update, ok_status=200)

    @route("POST", OBJ + r"/batch/upsert")
    @requires("write")
    def crm_batch_upsert(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        _, inputs = self.batch_inputs(request)
        for item in inputs:  # a bad idProperty fails the whole request, before anything is written
            id_property = item.get("idProperty") or "hs_object_id"
            if id_property != "hs_object_id" and id_property not in portal.unique_properties(t.name):
                raise validation(
                    f"{id_property} is not a unique property of {t.name}; upsert needs a property with hasUniqueValue",
                    context={"idProperty": [id_property]},
                )

        def upsert(item: dict[str, Any], undo: list[Callable[[], None]]) -> dict[str, Any]:
            key, id_property = str(item.get("id", "")), item.get("idProperty") or "hs_object_id"
            existing = portal.find_by(t.name, id_property, key.lower() if id_property == "email" else key)
            if existing is not None:
                before = (dict(existing.properties), existing.updated_at)
                self.update_record(portal, existing, item.get("properties"), request)
                undo.append(lambda: self._restore(existing, before))
                return {**object_json(portal, existing, everything=True), "new": False}
            if id_property == "hs_object_id":
                raise not_found(f"No {t.singular} with id {key} to update", ids=[key])
            props = {**(item.get("properties") or {}), id_property: key}
            obj = self.create_record(portal, t, {"properties": props}, request)
            undo.append(lambda: self._forget(portal, t, obj))
            return {**object_json(portal, obj, everything=True), "new": True}

        return self.run_batch(request, inputs, upsert, ok_status=200)

    @route("POST", OBJ + r"/batch/archive")
    @requires("write")
    def crm_batch_archive(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        _, inputs = self.batch_inputs(request)
        with self.lock:
            for item in inputs:
                obj = portal.objects[t.name].get(str(item.get("id", "")))
                if obj is not None and not obj.archived:
                    portal.archive(obj, self.clock.now())
        return Response(status=204)

    def run_batch(
        self: HubSpotEmulator,
        request: Request,
        inputs: list[dict[str, Any]],
        write: Callable[[dict[str, Any], list[Callable[[], None]]], dict[str, Any]],
        ok_status: int,
    ) -> Response:
        """Writes each input; decides between all-or-nothing and 207 partial success."""
        started = iso(self.clock.now())
        partial = bool(inputs) and all(item.get("objectWriteTraceId") for item in inputs)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        missing: list[str] = []
        undo: list[Callable[[], None]] = []
        with self.lock:
            for item in inputs:
                trace = item.get("objectWriteTraceId")
                try:
                    result = write(item, undo)
                except HubSpotError as exc:
                    if exc.status == 404:
                        missing.append(str(item.get("id", "")))
                        continue
                    if not partial:
                        for step in reversed(undo):
                            step()
                        raise
                    exc.context = {**(exc.context or {}), "objectWriteTraceId": [str(trace)]}
                    errors.append(exc.batch_error())
                    continue
                if trace:
                    result["objectWriteTraceId"] = str(trace)
                results.append(result)
        if missing:
            errors.append(not_found("Object not found.  objectId are usually numeric.", ids=missing).batch_error())
        status = batch_status(request, ok_status, errors)
        return Response(status=status, body=batch_envelope(results, errors, started, iso(self.clock.now())))

    @staticmethod
    def _forget(portal: Portal, t: ObjectType, obj: CrmObject) -> None:
        """Undo a create inside a failed batch (reverse order keeps the id counter deterministic)."""
        portal.objects[t.name].pop(obj.id, None)
        portal.counters[t.name] -= 1
        for to_type, to_id in list(portal.links.get((t.name, obj.id), {})):
            portal.dissociate(t.name, obj.id, to_type, to_id)
        portal.links.pop((t.name, obj.id), None)

    @staticmethod
    def _restore(obj: CrmObject, before: tuple[dict[str, str], Any]) -> None:
        obj.properties, obj.updated_at = before

    # -- search --------------------------------------------------------------------------------
    @route("POST", OBJ + r"/search")
    @requires("read", policy="SECONDLY")
    def crm_search(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self.object_type_of(request)
        body = request.json() or {}
        with self.lock:
            page = search.run(portal, t, body)
            properties = body.get("properties") or None
            results = [object_json(portal, o, properties) for o in page.results]
        out: dict[str, Any] = {"total": page.total, "results": results}
        if page.after is not None:
            out["paging"] = {"next": {"after": page.after, "link": f"?after={page.after}"}}
        return Response(body=out)
