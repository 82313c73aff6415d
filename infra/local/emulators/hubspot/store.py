"""One HubSpot portal's CRM in memory: property definitions and groups, records, associations.

Every write goes through `Portal.validate` so the API, the seed and the admin "product UI" edits
obey the same property rules. Ids come from per-portal, per-type counters (deterministic strings);
each type has its own id range so a deal id used as a contact id answers 404, as it usually would.

Lookups by a property value (`find_by`: unique values, `idProperty`) go through an index per type and
property, built by one scan the first time that property is looked up and kept by `create` and `update`
(the only writers of record values), so an upsert of 100 inputs into 10,000 contacts costs 100 lookups,
not a million comparisons. Every hit is checked against the record itself, so a stale entry (a value
changed, a record purged) never answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from . import catalog
from .catalog import AssociationType, ObjectType, PropertySpec
from .errors import HubSpotError, not_found, validation
from .values import InvalidValue, iso, normalize


def invalid_properties(problems: list[tuple[str, str, str]]) -> HubSpotError:
    """HubSpot's 400 for `(property, code, message)` problems: the list in the message, and per property in `errors`."""
    details = [
        {"isValid": False, "message": msg, "error": code, "name": name, "localizedErrorMessage": msg}
        for name, code, msg in problems
    ]
    return validation(
        f"Property values were not valid: {json.dumps(details)}",
        errors=[{"message": msg, "code": code, "context": {"propertyName": [name]}} for name, code, msg in problems],
    )


@dataclass
class PropertyDef:
    object_type: str
    name: str
    label: str
    type: str
    field_type: str
    group_name: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    options: list[dict[str, Any]] = field(default_factory=list)
    unique: bool = False
    read_only: bool = False
    calculated: bool = False
    external_options: bool = False
    hidden: bool = False
    form_field: bool = False
    display_order: int = -1
    hubspot_defined: bool = True
    archived: bool = False
    number_display_hint: str | None = None  # numbered and 2026-03 creates only (see properties_api)
    show_currency_symbol: bool | None = None

    @property
    def option_values(self) -> list[str]:
        return [o["value"] for o in self.options]

    def to_json(self) -> dict[str, Any]:
        body = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group_name,
            "options": self.options,
            "displayOrder": self.display_order,
            "calculated": self.calculated,
            "externalOptions": self.external_options,
            "hasUniqueValue": self.unique,
            "hidden": self.hidden,
            "formField": self.form_field,
            "archived": self.archived,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "dataSensitivity": "non_sensitive",
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only or self.calculated,
            },
        }
        if self.hubspot_defined:
            body["hubspotDefined"] = True
        if self.number_display_hint is not None:
            body["numberDisplayHint"] = self.number_display_hint
        if self.show_currency_symbol is not None:
            body["showCurrencySymbol"] = self.show_currency_symbol
        return body


def option_list(values: tuple[str, ...] | list[Any]) -> list[dict[str, Any]]:
    """Options as the properties API returns them; accepts plain values or option dicts."""
    out = []
    for i, v in enumerate(values):
        if isinstance(v, dict):
            out.append(
                {
                    "label": str(v.get("label", v.get("value", ""))),
                    "value": str(v.get("value", "")),
                    "description": str(v.get("description", "")),
                    "displayOrder": int(v.get("displayOrder", i)),
                    "hidden": bool(v.get("hidden", False)),
                }
            )
        else:
            out.append({"label": v.replace("_", " ").title(), "value": v, "displayOrder": i, "hidden": False})
    return out


@dataclass
class CrmObject:
    id: str
    type: str
    properties: dict[str, str]
    created_at: datetime
    updated_at: datetime
    archived: bool = False
    archived_at: datetime | None = None


@dataclass
class User:
    id: str
    email: str
    first_name: str
    last_name: str
    super_admin: bool
    role_ids: list[str]
    marketplace_access: bool  # "App Marketplace Access" permission: who may install apps
    owner_id: str
    locale: str = "en-us"  # the user's HubSpot language, as the UI extensions SDK reports it

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "email": self.email,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "roleIds": self.role_ids,
            "superAdmin": self.super_admin,
            "primaryTeamId": "",
            "secondaryTeamIds": [],
            "sendWelcomeEmail": False,
        }

    @property
    def can_install_apps(self) -> bool:
        return self.super_admin or self.marketplace_access


@dataclass
class Portal:
    id: int
    name: str
    currency: str
    time_zone: str
    data_hosting: str = "na1"
    ui_domain: str = "app.hubspot.com"
    account_type: str = "STANDARD"
    additional_currencies: list[str] = field(default_factory=list)
    created_at: datetime | None = None
    users: list[User] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, dict[str, PropertyDef]] = field(default_factory=dict)
    groups: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    objects: dict[str, dict[str, CrmObject]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    # (type, id) -> (to type, to id) -> association type ids; both directions are stored
    links: dict[tuple[str, str], dict[tuple[str, str], set[int]]] = field(default_factory=dict)
    timeline_events: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    # (type, property) -> value -> ids of the records that held it (see the module docstring)
    value_index: dict[tuple[str, str], dict[str, set[str]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for t in catalog.OBJECT_TYPES:
            self.objects[t.name] = {}
            self.counters[t.name] = 0
            group = catalog.default_group(t.name)
            self.groups[t.name] = {
                group: {"name": group, "label": f"{t.singular.title()} information", "displayOrder": 0}
            }
            self.properties[t.name] = {}
            for spec in catalog.default_properties(t.name):
                self.add_property(t.name, spec, self.created_at or datetime.now(UTC))

    # -- users ---------------------------------------------------------------------------------
    def user(self, key: str | int | None) -> User | None:
        return next((u for u in self.users if str(key) in (u.id, u.email)), None)

    # -- properties ----------------------------------------------------------------------------
    def add_property(self, type_name: str, spec: PropertySpec, now: datetime) -> PropertyDef:
        prop = PropertyDef(
            object_type=type_name,
            name=spec.name,
            label=spec.label,
            type=spec.type,
            field_type=spec.field_type,
            group_name=catalog.default_group(type_name),
            created_at=now,
            updated_at=now,
            options=option_list(spec.options),
            unique=spec.unique,
            read_only=spec.read_only,
            calculated=spec.calculated,
            external_options=spec.external_options,
        )
        self.properties[type_name][spec.name] = prop
        return prop

    def property(self, type_name: str, name: str) -> PropertyDef | None:
        prop = self.properties[type_name].get(name)
        return prop if prop and not prop.archived else None

    def unique_properties(self, type_name: str) -> list[str]:
        return [p.name for p in self.properties[type_name].values() if p.unique and not p.archived]

    # -- values --------------------------------------------------------------------------------
    def validate(
        self,
        type_name: str,
        raw: dict[str, Any],
        *,
        existing: CrmObject | None = None,
        allow_read_only: bool = False,
    ) -> dict[str, str]:
        """Normalized values, or a 400 VALIDATION_ERROR listing every invalid property by name."""
        if not isinstance(raw, dict):
            raise validation("properties must be an object of property names to values")
        clean: dict[str, str] = {}
        problems: list[tuple[str, str, str]] = []  # (name, code, message)
        for name, value in raw.items():
            prop = self.property(type_name, name)
            if prop is None:
                problems.append((name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if prop.read_only and not allow_read_only:
                problems.append(
                    (name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.')
                )
                continue
            try:
                options = self._owner_ids() if prop.external_options and prop.name == "hubspot_owner_id" else []
                clean[name] = normalize(prop.type, prop.field_type, options or prop.option_values, value)
            except InvalidValue as exc:
                problems.append((name, exc.code, str(exc)))
        if problems:
            raise self._invalid(problems)
        self._check_unique(type_name, clean, existing)
        return clean

    def _owner_ids(self) -> list[str]:
        return [u.owner_id for u in self.users]

    @staticmethod
    def _invalid(problems: list[tuple[str, str, str]]) -> HubSpotError:
        return invalid_properties(problems)

    def _check_unique(self, type_name: str, clean: dict[str, str], existing: CrmObject | None) -> None:
        for name in self.unique_properties(type_name):
            value = clean.get(name)
            if not value:
                continue
            if name == "email":
                clean[name] = value = value.lower()
            holder = self.find_by(type_name, name, value)
            if holder is not None and (existing is None or holder.id != existing.id):
                singular = catalog.object_type(type_name).singular.title()  # type: ignore[union-attr]
                if name == "email":
                    message = f"{singular} already exists. Existing ID: {holder.id}"
                else:
                    message = (
                        f"A {singular.lower()} with the unique value {value!r} for {name} already exists. "
                        f"Existing ID: {holder.id}"
                    )
                raise HubSpotError(
                    409, "CONFLICT", message, context={"existingId": [holder.id], "propertyName": [name]}
                )

    # -- records -------------------------------------------------------------------------------
    def find_by(self, type_name: str, prop: str, value: str, *, archived: bool = False) -> CrmObject | None:
        """The live record (or, with `archived`, the record in the recycling bin) holding that value."""
        if prop in ("hs_object_id", "id"):
            obj = self.objects[type_name].get(value)
            return obj if obj and obj.archived == archived else None
        wanted = value.lower() if prop == "email" else value
        objects = self.objects[type_name]
        candidates = (objects.get(i) for i in self._holders(type_name, prop).get(wanted, ()))
        found = [o for o in candidates if o and o.archived == archived and o.properties.get(prop) == wanted]
        found.sort(key=lambda o: int(o.id) if o.id.isdigit() else 0)  # the store's order: ids grow with each create
        if archived:  # the most recently archived one
            found.sort(key=lambda o: o.archived_at or o.updated_at, reverse=True)
        return found[0] if found else None

    def _holders(self, type_name: str, prop: str) -> dict[str, set[str]]:
        """The value index of one property, built by a scan the first time it is asked for."""
        index = self.value_index.get((type_name, prop))
        if index is None:
            index = {}
            for o in self.objects[type_name].values():
                if (held := o.properties.get(prop)) is not None:
                    index.setdefault(held, set()).add(o.id)
            self.value_index[(type_name, prop)] = index
        return index

    def _index(self, obj: CrmObject) -> None:
        """Record `obj`'s current values in the indexes kept for its type."""
        for (type_name, prop), index in self.value_index.items():
            if type_name == obj.type and (held := obj.properties.get(prop)) is not None:
                index.setdefault(held, set()).add(obj.id)

    def get(self, t: ObjectType, key: str, *, id_property: str | None = None, archived: bool = False) -> CrmObject:
        if id_property and id_property != "hs_object_id":
            if self.property(t.name, id_property) is None:
                raise validation(f"Property {id_property} does not exist for {t.name}")
            if id_property not in self.unique_properties(t.name):
                raise validation(f"{id_property} is not a unique property; idProperty must name a unique property")
            obj = self.find_by(t.name, id_property, key, archived=archived)
        else:
            obj = self.objects[t.name].get(key)
        if obj is None or obj.archived != archived:
            raise not_found("Object not found.  objectId are usually numeric.", ids=[key])
        return obj

    def create(self, t: ObjectType, props: dict[str, str], now: datetime) -> CrmObject:
        """Stores already-validated values and stamps the fields HubSpot maintains."""
        self.counters[t.name] += 1
        new_id = str(t.id_base + self.counters[t.name])
        stamp = iso(now)
        obj = CrmObject(id=new_id, type=t.name, properties={}, created_at=now, updated_at=now)
        obj.properties.update(props)
        obj.properties.setdefault("createdate", stamp)
        obj.properties.update(
            hs_object_id=new_id, hs_createdate=stamp, lastmodifieddate=stamp, hs_lastmodifieddate=stamp
        )
        self._calculate(t.name, obj)
        self.objects[t.name][new_id] = obj
        self._index(obj)
        return obj

    def update(self, obj: CrmObject, props: dict[str, str], now: datetime) -> CrmObject:
        obj.properties.update(props)
        obj.updated_at = now
        obj.properties.update(lastmodifieddate=iso(now), hs_lastmodifieddate=iso(now))
        self._calculate(obj.type, obj)
        self._index(obj)  # an old value's entry stays and is filtered out when looked up
        return obj

    def archive(self, obj: CrmObject, now: datetime) -> None:
        obj.archived, obj.archived_at, obj.updated_at = True, now, now

    def bring_back(self, obj: CrmObject, now: datetime) -> None:
        """Out of the recycling bin, with its id, history and associations."""
        obj.archived, obj.archived_at, obj.updated_at = False, None, now

    def _calculate(self, type_name: str, obj: CrmObject) -> None:
        """Line item `amount` is quantity * (price - unit discount), or with a percentage the line's total less
        that percentage of it (rounded to cents), as HubSpot calculates it."""
        if type_name != "line_items":
            return
        try:
            quantity = Decimal(obj.properties.get("quantity") or "0")
            price = Decimal(obj.properties.get("price") or "0")
            discount = Decimal(obj.properties.get("discount") or "0")
            percent = Decimal(obj.properties.get("hs_discount_percentage") or "0")
        except InvalidOperation:
            return
        if percent:
            total = quantity * price
            off = (total * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            obj.properties["amount"] = str(total - off)
        else:
            obj.properties["amount"] = str(quantity * (price - discount))

    def live(self, type_name: str, archived: bool = False) -> list[CrmObject]:
        objs = [o for o in self.objects[type_name].values() if o.archived == archived]
        return sorted(objs, key=lambda o: int(o.id))

    # -- associations --------------------------------------------------------------------------
    def associate(self, a: AssociationType, from_id: str, to_id: str) -> None:
        """Adds `a` and its reverse; a labelled association always carries the default one too."""
        kinds = [a]
        default = catalog.default_association(a.from_type, a.to_type)
        if a.label is not None and default is not None:
            kinds.append(default)
        for kind in kinds:
            self.links.setdefault((a.from_type, from_id), {}).setdefault((a.to_type, to_id), set()).add(kind.type_id)
            self.links.setdefault((a.to_type, to_id), {}).setdefault((a.from_type, from_id), set()).add(kind.reverse_id)

    def dissociate(
        self, from_type: str, from_id: str, to_type: str, to_id: str, type_ids: set[int] | None = None
    ) -> None:
        """Removes the given types (all when None) in both directions."""
        forward = self.links.get((from_type, from_id), {}).get((to_type, to_id), set())
        removing = set(forward) if type_ids is None else forward & type_ids
        for type_id in removing:
            kind = catalog.association_type(from_type, to_type, type_id)
            forward.discard(type_id)
            backward = self.links.get((to_type, to_id), {}).get((from_type, from_id), set())
            if kind is not None:
                backward.discard(kind.reverse_id)
        for a, b in (((from_type, from_id), (to_type, to_id)), ((to_type, to_id), (from_type, from_id))):
            targets = self.links.get(a, {})
            if b in targets and not targets[b]:
                del targets[b]

    def associations(self, type_name: str, obj_id: str, to_type: str) -> dict[str, set[int]]:
        """Live targets of `to_type` linked to the record, with their association type ids."""
        linked = self.links.get((type_name, obj_id), {})
        out = {}
        for (t, target_id), type_ids in linked.items():
            target = self.objects[t].get(target_id) if t == to_type else None
            if target is not None and not target.archived and type_ids:
                out[target_id] = set(type_ids)
        return dict(sorted(out.items(), key=lambda kv: int(kv[0])))
