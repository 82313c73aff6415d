"""Properties and property groups (`/crm/v3/properties/{objectType}`), reference §2.4.

Custom properties are validated like HubSpot's: a known type/fieldType pair, options for
enumerations, an existing group, ≤ 10 unique properties per object, `hasUniqueValue` immutable.

A create takes the fields of its version's `PropertyCreate`: numbered and 2026-03 ones also
`numberDisplayHint` (e.g. "currency") and `showCurrencySymbol`; 2026-09's lists neither, and a 2026-09 create
naming a field outside its schema is refused (HubSpot does not document what it does with them; refusing
keeps a client from losing the currency hint unnoticed).
https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/CRM/Properties/Rollouts/145899/2026-09/properties.json
https://github.com/HubSpot/HubSpot-public-api-spec-collection/blob/main/PublicApiSpecs/CRM/Properties/Rollouts/145899/2026-03/properties.json
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..core import Request, Response, route
from . import catalog
from .access import requires
from .errors import HubSpotError, not_found, validation
from .store import Portal, PropertyDef, option_list
from .versions import numbered_or_dated, since

if TYPE_CHECKING:
    from .app import HubSpotEmulator

PROPS = numbered_or_dated("/crm/v3/properties", "/crm/properties") + r"/(?P<objectType>[\w-]+)"
TYPES = {"string", "number", "date", "datetime", "enumeration", "bool", "phone_number"}
FIELD_TYPES = {
    "booleancheckbox",
    "calculation_equation",
    "checkbox",
    "date",
    "file",
    "html",
    "number",
    "phonenumber",
    "radio",
    "select",
    "text",
    "textarea",
}
MAX_UNIQUE = 10
NUMBER_DISPLAY_HINTS = {"currency", "duration", "formatted", "percentage", "probability", "unformatted"}
CREATE_FIELDS_2026_09 = {  # PropertyCreate of the 2026-09 properties spec
    "calculationFormula",
    "dataSensitivity",
    "description",
    "displayOrder",
    "externalOptions",
    "fieldType",
    "formField",
    "groupName",
    "hasUniqueValue",
    "hidden",
    "label",
    "name",
    "options",
    "referencedObjectType",
    "type",
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class PropertiesRoutes:
    """Route mixin of `HubSpotEmulator` for the properties API."""

    def _props_type(self: HubSpotEmulator, request: Request) -> str:
        return self.object_type_of(request).name

    @route("GET", PROPS)
    @requires("schema_read")
    def properties_list(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        archived = request.arg("archived", "false") == "true"
        with self.lock:
            results = [p.to_json() for p in portal.properties[t].values() if p.archived == archived]
        return Response(body={"results": results})

    @route("GET", PROPS + r"/(?P<name>(?!groups$)[^/]+)")
    @requires("schema_read")
    def properties_read(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        prop = portal.property(t, request.params["name"])
        if prop is None:
            raise not_found(f"Unable to find property {request.params['name']} on {t}")
        return Response(body=prop.to_json())

    @route("POST", PROPS)
    @requires("schema_write")
    def properties_create(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        spec = request.json() or {}
        if since(request, "2026-09") and (unknown := sorted(set(spec) - CREATE_FIELDS_2026_09)):
            raise validation(f"Invalid input JSON: unrecognized field(s) {', '.join(unknown)} in PropertyCreate")
        with self.lock:
            prop = self.define_property(portal, t, spec)
            return Response(status=201, body=prop.to_json())

    def define_property(self: HubSpotEmulator, portal: Portal, t: str, spec: dict[str, Any]) -> PropertyDef:
        """Creates a custom property (also used by the seed for our app's own properties)."""
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not spec.get(k)]
        if missing:
            raise validation(f"Missing required fields: {', '.join(missing)}")
        name = spec["name"]
        if not _NAME.match(name):
            raise validation(f"Property name {name!r} must be lowercase letters, digits and underscores")
        existing = portal.properties[t].get(name)
        if existing is not None and not existing.archived:
            raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"Property named '{name}' already exists.")
        if spec["type"] not in TYPES or spec["fieldType"] not in FIELD_TYPES:
            raise validation(f"Invalid type/fieldType {spec['type']!r}/{spec['fieldType']!r}")
        if spec["type"] == "enumeration" and not spec.get("options"):
            raise validation("Enumeration properties need options")
        if spec["groupName"] not in portal.groups[t]:
            raise validation(f"Property group {spec['groupName']} does not exist")
        hint = spec.get("numberDisplayHint")
        if hint is not None and (spec["type"] != "number" or hint not in NUMBER_DISPLAY_HINTS):
            raise validation(
                f"numberDisplayHint {hint!r} needs a number property and one of {sorted(NUMBER_DISPLAY_HINTS)}"
            )
        if spec.get("hasUniqueValue") and len(portal.unique_properties(t)) >= MAX_UNIQUE:
            raise validation(f"An object may have at most {MAX_UNIQUE} unique properties")
        now = self.clock.now()
        prop = PropertyDef(
            object_type=t,
            name=name,
            label=spec["label"],
            type=spec["type"],
            field_type=spec["fieldType"],
            group_name=spec["groupName"],
            created_at=now,
            updated_at=now,
            description=spec.get("description", ""),
            options=option_list(spec.get("options") or ([] if spec["type"] != "bool" else ["true", "false"])),
            unique=bool(spec.get("hasUniqueValue", False)),
            hidden=bool(spec.get("hidden", False)),
            form_field=bool(spec.get("formField", False)),
            display_order=int(spec.get("displayOrder", -1)),
            hubspot_defined=False,
            number_display_hint=hint,
            show_currency_symbol=None if spec.get("showCurrencySymbol") is None else bool(spec["showCurrencySymbol"]),
        )
        portal.properties[t][name] = prop
        return prop

    @route("PATCH", PROPS + r"/(?P<name>(?!groups$)[^/]+)")
    @requires("schema_write")
    def properties_update(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        spec = request.json() or {}
        with self.lock:
            prop = portal.property(t, request.params["name"])
            if prop is None:
                raise not_found(f"Unable to find property {request.params['name']} on {t}")
            if prop.hubspot_defined and set(spec) - {"label", "description", "options", "displayOrder", "hidden"}:
                raise validation(f"{prop.name} is a HubSpot-defined property; only labels and options can change")
            if "hasUniqueValue" in spec and bool(spec["hasUniqueValue"]) != prop.unique:
                raise validation("hasUniqueValue cannot be changed after a property is created")
            if spec.get("groupName") and spec["groupName"] not in portal.groups[t]:
                raise validation(f"Property group {spec['groupName']} does not exist")
            for key, attr in (
                ("label", "label"),
                ("description", "description"),
                ("groupName", "group_name"),
                ("type", "type"),
                ("fieldType", "field_type"),
                ("hidden", "hidden"),
                ("formField", "form_field"),
                ("displayOrder", "display_order"),
            ):
                if key in spec:
                    setattr(prop, attr, spec[key])
            if "options" in spec:
                prop.options = option_list(spec["options"])
            prop.updated_at = self.clock.now()
            return Response(body=prop.to_json())

    @route("DELETE", PROPS + r"/(?P<name>(?!groups$)[^/]+)")
    @requires("schema_write")
    def properties_archive(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        with self.lock:
            prop = portal.property(t, request.params["name"])
            if prop is None:
                raise not_found(f"Unable to find property {request.params['name']} on {t}")
            if prop.hubspot_defined:
                raise validation(f"{prop.name} is a HubSpot-defined property and cannot be archived")
            prop.archived = True
        return Response(status=204)

    # -- groups --------------------------------------------------------------------------------
    @route("GET", PROPS + r"/groups")
    @requires("schema_read")
    def property_groups_list(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        return Response(body={"results": [{**g, "archived": False} for g in portal.groups[t].values()]})

    @route("GET", PROPS + r"/groups/(?P<group>[^/]+)")
    @requires("schema_read")
    def property_groups_read(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        group = portal.groups[t].get(request.params["group"])
        if group is None:
            raise not_found(f"Unable to find property group {request.params['group']}")
        return Response(body={**group, "archived": False})

    @route("POST", PROPS + r"/groups")
    @requires("schema_write")
    def property_groups_create(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        spec = request.json() or {}
        if not spec.get("name") or not spec.get("label"):
            raise validation("Missing required fields: name, label")
        with self.lock:
            if spec["name"] in portal.groups[t]:
                raise HubSpotError(409, "OBJECT_ALREADY_EXISTS", f"Property group {spec['name']} already exists.")
            group = {"name": spec["name"], "label": spec["label"], "displayOrder": int(spec.get("displayOrder", -1))}
            portal.groups[t][spec["name"]] = group
        return Response(status=201, body={**group, "archived": False})

    @route("PATCH", PROPS + r"/groups/(?P<group>[^/]+)")
    @requires("schema_write")
    def property_groups_update(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        spec = request.json() or {}
        with self.lock:
            group = portal.groups[t].get(request.params["group"])
            if group is None:
                raise not_found(f"Unable to find property group {request.params['group']}")
            group.update({k: spec[k] for k in ("label", "displayOrder") if k in spec})
        return Response(body={**group, "archived": False})

    @route("DELETE", PROPS + r"/groups/(?P<group>[^/]+)")
    @requires("schema_write")
    def property_groups_archive(self: HubSpotEmulator, request: Request) -> Response:
        portal, t = self.portal_of(request), self._props_type(request)
        with self.lock:
            name = request.params["group"]
            if name not in portal.groups[t]:
                raise not_found(f"Unable to find property group {name}")
            if name == catalog.default_group(t) or any(
                p.group_name == name and not p.archived for p in portal.properties[t].values()
            ):
                raise validation(f"Property group {name} still has properties or is a default group")
            del portal.groups[t][name]
        return Response(status=204)
