"""The app's contract is defined once, in the HubSpot project: the install URL asks for exactly its scopes,
and every environment's backend URL comes from a config profile."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from hubqbo.clients.oauth import HubSpotOAuth
from infra.local.emulators.hubspot.project import (
    PROJECT_DIR,
    ProjectError,
    is_permitted,
    load_project,
    profile_variables,
)


def _install_query() -> dict[str, list[str]]:
    oauth = HubSpotOAuth(requests.Session(), "https://app.hubspot.com", "https://api.hubapi.com", "id", "secret", 5)
    return parse_qs(urlsplit(oauth.authorize_url("https://backend.example/oauth/hubspot/callback", "s")).query)


def test_the_install_url_asks_for_exactly_the_apps_required_scopes():
    app = load_project()
    assert _install_query()["scope"][0].split() == list(app.required_scopes)


def test_the_install_url_asks_for_exactly_the_apps_optional_scopes():
    app = load_project()
    asked = _install_query().get("optional_scope", [""])[0].split()
    assert asked == list(app.optional_scopes)
    assert not set(asked) & set(app.required_scopes)  # HubSpot refuses a required scope passed as optional


def test_the_super_admin_check_and_the_schema_writes_have_their_scopes():
    app = load_project()
    needed = {"settings.users.read", "timeline", "e-commerce", "crm.schemas.contacts.write"}
    assert needed <= set(app.required_scopes)


@pytest.mark.parametrize("profile", ["local", "prod"])
def test_every_profile_fills_every_variable_of_the_project(profile):
    app = load_project(profile)
    backend = profile_variables(profile)["BACKEND_URL"]
    assert app.redirect_urls == (f"{backend}/oauth/hubspot/callback",)
    assert app.permitted_fetch == (backend,) and app.permitted_iframe == (backend,)
    assert not backend.endswith("/")


def test_a_backend_url_given_by_the_local_stack_overrides_the_profile():
    app = load_project(overrides={"BACKEND_URL": "http://127.0.0.1:4321"})
    assert app.redirect_urls == ("http://127.0.0.1:4321/oauth/hubspot/callback",)


def test_a_variable_missing_from_the_profile_is_an_error(tmp_path):
    (tmp_path / "src" / "app").mkdir(parents=True)
    (tmp_path / "hsproject.json").write_text('{"srcDir": "src", "platformVersion": "2026.09"}')
    (tmp_path / "src" / "hsprofile.x.json").write_text('{"accountId": 1, "variables": {}}')
    (tmp_path / "src" / "app" / "app-hsmeta.json").write_text(
        '{"uid": "a", "type": "app", "config": {"auth": {"redirectUrls": ["${BACKEND_URL}/cb"]}}}'
    )
    with pytest.raises(ProjectError, match="BACKEND_URL"):
        load_project("x", project_dir=tmp_path)


def test_the_project_is_on_platform_2026_09():
    assert load_project().platform_version == "2026.09"
    assert (PROJECT_DIR / "src" / "hsprofile.prod.json").is_file()


def test_permitted_urls_match_at_a_path_boundary():
    assert is_permitted("https://a.example/oauth/qbo/connect", ["https://a.example"])
    assert is_permitted("https://a.example", ["https://a.example/"])
    assert not is_permitted("https://a.example.evil/x", ["https://a.example"])
    assert not is_permitted("https://b.example/x", ["https://a.example"])


@pytest.mark.parametrize("profile", ["local", "prod"])
def test_every_workflow_action_posts_to_a_route_of_the_template_on_the_profiles_backend(profile):
    from infra.local.template import read_application

    app = load_project(profile)
    backend = profile_variables(profile)["BACKEND_URL"]
    routes = {r.route_key for r in read_application().routes}
    actions = {uid: c["config"] for uid, c in app.components.items() if c["type"] == "workflow-action"}
    assert set(actions) == {"hubqbo_create_invoice", "hubqbo_create_estimate"}
    for uid, config in actions.items():
        assert config["actionUrl"].startswith(backend + "/"), uid
        assert f"POST {config['actionUrl'][len(backend) :]}" in routes, uid
        assert config["objectTypes"] == ["DEAL"] and config["supportedClients"] == [{"client": "WORKFLOWS"}]
