"""Our HubSpot developer project (`infra/hubspot-app/`) read the way HubSpot's tooling reads it.

`hsproject.json` names the source folder and the platform version; every `*-hsmeta.json` under it is a
component (`uid`, `type`, `config`). A config profile `src/hsprofile.<name>.json` holds `variables`, and
`${NAME}` in a component's config is replaced by the profile's value at build time: a string that is
exactly one `${NAME}` keeps the value's type, any other string gets it interpolated, and a variable the
profile lacks is an error (as in `@hubspot/project-parsing-lib`'s `profiles.js`;
https://developers.hubspot.com/docs/developer-tooling/local-development/build-with-config-profiles).

The emulator reads the app's contract from here (scopes, redirect URLs, permitted fetch and iframe
origins), and a unit test holds the backend's install URL to the same scopes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[3] / "hubspot-app"
LOCAL_PROFILE = "local"
_VARIABLE = re.compile(r"\$\{(.*?)\}")
_WHOLE_VARIABLE = re.compile(r"^\$\{([^}]+)\}$")


class ProjectError(ValueError):
    """The project cannot be read as HubSpot would read it (a missing variable, a malformed file)."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProjectError(f"Cannot read {path.name}: {exc}") from exc
    if not isinstance(value, dict):
        raise ProjectError(f"{path.name} is not a JSON object")
    return value


def _substitute(value: Any, variables: dict[str, Any], file: str) -> Any:
    if isinstance(value, str):
        whole = _WHOLE_VARIABLE.match(value)
        if whole:
            return _lookup(whole.group(1), variables, file)
        return _VARIABLE.sub(lambda m: str(_lookup(m.group(1), variables, file)), value)
    if isinstance(value, list):
        return [_substitute(item, variables, file) for item in value]
    if isinstance(value, dict):
        return {key: _substitute(item, variables, file) for key, item in value.items()}
    return value


def _lookup(name: str, variables: dict[str, Any], file: str) -> Any:
    if name not in variables:
        raise ProjectError(f"Missing value for {name} in {file}. Add {name} to your profile variables.")
    value = variables[name]
    if not isinstance(value, str | int | float | bool):
        raise ProjectError(f"Profile variable {name} must be a string, number or boolean")
    return value


@dataclass(frozen=True)
class AppProject:
    """The app component's contract after the profile's variables are applied."""

    platform_version: str
    uid: str
    distribution: str
    required_scopes: tuple[str, ...]
    optional_scopes: tuple[str, ...]
    conditionally_required_scopes: tuple[str, ...]
    redirect_urls: tuple[str, ...]
    permitted_fetch: tuple[str, ...]
    permitted_iframe: tuple[str, ...]
    variables: dict[str, Any] = field(default_factory=dict)
    components: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> {"type", "config", "file"}


def profile_variables(profile: str = LOCAL_PROFILE, project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    project = _read_json(project_dir / "hsproject.json")
    path = project_dir / str(project.get("srcDir", "src")) / f"hsprofile.{profile}.json"
    variables = _read_json(path).get("variables") or {}
    if not isinstance(variables, dict):
        raise ProjectError(f"{path.name}: variables must be an object")
    return dict(variables)


def load_project(
    profile: str = LOCAL_PROFILE, overrides: dict[str, Any] | None = None, project_dir: Path = PROJECT_DIR
) -> AppProject:
    """The project with `profile`'s variables (and `overrides`, e.g. the local stack's own BACKEND_URL)."""
    project = _read_json(project_dir / "hsproject.json")
    src = project_dir / str(project.get("srcDir", "src"))
    variables = {**profile_variables(profile, project_dir), **(overrides or {})}
    components: dict[str, dict[str, Any]] = {}
    for path in sorted(src.rglob("*-hsmeta.json")):
        if "node_modules" in path.parts:
            continue
        meta = _read_json(path)
        relative = str(path.relative_to(src))
        config = _substitute(meta.get("config") or {}, variables, relative)
        uid = str(_substitute(str(meta.get("uid", "")), variables, relative))
        components[uid] = {"type": meta.get("type"), "config": config, "file": relative}
    apps = [c for c in components.values() if c["type"] == "app"]
    if len(apps) != 1:
        raise ProjectError(f"Expected one app component, found {len(apps)}")
    app = apps[0]["config"]
    auth, permitted = app.get("auth") or {}, app.get("permittedUrls") or {}
    return AppProject(
        platform_version=str(project.get("platformVersion", "")),
        uid=next(uid for uid, c in components.items() if c["type"] == "app"),
        distribution=str(app.get("distribution", "")),
        required_scopes=tuple(auth.get("requiredScopes") or ()),
        optional_scopes=tuple(auth.get("optionalScopes") or ()),
        conditionally_required_scopes=tuple(auth.get("conditionallyRequiredScopes") or ()),
        redirect_urls=tuple(auth.get("redirectUrls") or ()),
        permitted_fetch=tuple(permitted.get("fetch") or ()),
        permitted_iframe=tuple(permitted.get("iframe") or ()),
        variables=variables,
        components=components,
    )


def is_permitted(url: str, origins: tuple[str, ...] | list[str]) -> bool:
    """HubSpot allows a URL whose start matches a permitted entry at a path boundary
    (`https://a.example` permits `https://a.example/x`, not `https://a.example.evil/x`)."""
    for origin in origins:
        base = origin.rstrip("/")
        if url == base or url.startswith(base + "/") or url.startswith(base + "?"):
            return True
    return False
