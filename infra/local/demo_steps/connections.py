"""Connections: install the app in both emulated portals as the super admin (HubSpot's OAuth consent),
connect the US and UK QuickBooks companies (Intuit's consent), list the connections."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import requests

from infra.local.demo_steps import Demo, Step, check
from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import signed_get

# Which companies each portal connects in the demo (the invoicing steps use them).
PLAN = {
    demo_accounts.PORTAL_US: [demo_accounts.REALM_US, demo_accounts.REALM_MULTI],
    demo_accounts.PORTAL_UK: [demo_accounts.REALM_UK],
}


def _form(url: str, names: tuple[str, ...]) -> dict[str, str]:
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return {k: query.get(k, "") for k in names}


def install(demo: Demo, portal_id: int) -> None:
    start = requests.get(demo.gateway + "/oauth/hubspot/install", allow_redirects=False, timeout=10)
    check(start.status_code == 302, f"install did not redirect to HubSpot ({start.status_code})")
    user = demo.stack.hubspot.portals[portal_id].user(demo_accounts.SUPER_ADMIN_EMAIL)
    form = _form(start.headers["Location"], ("client_id", "redirect_uri", "scope", "optional_scope", "state"))
    form.update(account=f"{portal_id}:{user.id}", decision="allow")
    consent = requests.post(
        demo.stack.urls["hubspot"] + "/oauth/authorize", data=form, allow_redirects=False, timeout=10
    )
    check(consent.status_code == 302, "HubSpot's consent page did not redirect back")
    done = requests.get(consent.headers["Location"], timeout=20)
    check(done.status_code == 200, f"the install callback answered {done.status_code}")


def connect(demo: Demo, portal_id: int, realm_id: str) -> None:
    start = signed_get(f"{demo.gateway}/oauth/qbo/connect?portalId={portal_id}&userId=5000001", allow_redirects=False)
    check(start.status_code == 302, f"connect did not redirect to Intuit ({start.status_code})")
    form = _form(start.headers["Location"], ("client_id", "redirect_uri", "state", "scope"))
    form.update(realmId=realm_id, decision="connect")
    consent = requests.post(demo.stack.urls["qbo"] + "/connect/oauth2", data=form, allow_redirects=False, timeout=10)
    check(consent.status_code == 302, "Intuit's consent page did not redirect back")
    # The browser that started the connect sends back its binding cookie (requests keeps no Secure
    # cookie over http, so it is passed by hand).
    binding = start.cookies.get("__Host-hubqbo_connect") or _set_cookie(start, "__Host-hubqbo_connect")
    done = requests.get(consent.headers["Location"], cookies={"__Host-hubqbo_connect": binding}, timeout=20)
    check(done.status_code == 200, f"the connect callback answered {done.status_code}")


def install_and_connect(demo: Demo) -> None:
    for portal_id, realms in PLAN.items():
        install(demo, portal_id)
        demo.say(f"installed in HubSpot portal {portal_id} as {demo_accounts.SUPER_ADMIN_EMAIL}")
        for realm in realms:
            connect(demo, portal_id, realm.realm_id)
    for portal_id in PLAN:
        listed = signed_get(f"{demo.gateway}/oauth/qbo/connections?portalId={portal_id}").json()["connections"]
        for c in listed:
            demo.say(
                f"portal {portal_id}: {c['company_name']} ({c['realm_id']}, {c['country']}, {c['home_currency']}"
                f"{', multicurrency' if c['multicurrency'] else ''}) {c['status']}"
            )
        check(len(listed) == len(PLAN[portal_id]), f"portal {portal_id} lists {len(listed)} connections")


STEPS: list[Step] = [("Install the app and connect QuickBooks companies", install_and_connect)]


def _set_cookie(response: requests.Response, name: str) -> str:
    found = re.search(rf"{re.escape(name)}=([^;]*)", response.headers.get("Set-Cookie", ""))
    check(found is not None, f"the connect route set no {name} cookie")
    return found.group(1) if found else ""
