"""One local stack for the connection tests (ports chosen by the OS), a log capture for the whole
module, and helpers that walk the OAuth flows the way a browser would, over real HTTP."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.signing import signed_get, signed_post
from infra.local.stack import LocalStack
from tests.support.stack import start_local_stack


class Capture(logging.Handler):
    """Every record logged in the process, formatted with its extras, kept for the token scan."""

    def __init__(self, lines: list[str] | None = None) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = [] if lines is None else lines

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = str(record.msg)
        extras = {
            k: v for k, v in record.__dict__.items() if k not in logging.LogRecord("", 0, "", 0, "", (), None).__dict__
        }
        self.lines.append(f"{record.name} {record.levelname} {text} {extras!r} {record.exc_text or ''}")


CONNECT_COOKIE = "__Host-hubqbo_connect"


@dataclass
class Flows:
    stack: LocalStack
    capture: Capture
    browser_cookie: str | None = None  # the connect route's binding cookie, as the browser keeps it

    @property
    def gateway(self) -> str:
        return self.stack.urls["gateway"]

    @property
    def hubspot(self) -> str:
        return self.stack.urls["hubspot"]

    @property
    def qbo(self) -> str:
        return self.stack.urls["qbo"]

    # -- HubSpot install ----------------------------------------------------------------------
    def start_install(self) -> str:
        response = requests.get(self.gateway + "/oauth/hubspot/install", allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text
        return response.headers["Location"]

    def consent_hubspot(
        self, authorize_url: str, portal_id: int, email: str, decision: str = "allow"
    ) -> requests.Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        user = self.stack.hubspot.portals[portal_id].user(email)
        form = {**{k: query.get(k, "") for k in ("client_id", "redirect_uri", "scope", "optional_scope", "state")}}
        form.update(account=f"{portal_id}:{user.id}", decision=decision)
        return requests.post(self.hubspot + "/oauth/authorize", data=form, allow_redirects=False, timeout=10)

    def install(self, portal_id: int, email: str = demo_accounts.SUPER_ADMIN_EMAIL) -> requests.Response:
        consent = self.consent_hubspot(self.start_install(), portal_id, email)
        assert consent.status_code == 302, consent.text
        return requests.get(consent.headers["Location"], timeout=20)

    # -- QBO connect ---------------------------------------------------------------------------
    def start_connect(self, portal_id: int) -> str:
        response = signed_get(
            f"{self.gateway}/oauth/qbo/connect?portalId={portal_id}&userId=5000001", allow_redirects=False
        )
        assert response.status_code == 302, response.text
        self.browser_cookie = binding_cookie(response)
        return response.headers["Location"]

    def consent_qbo(self, authorize_url: str, realm_id: str, decision: str = "connect") -> requests.Response:
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        form = {k: query.get(k, "") for k in ("client_id", "redirect_uri", "state", "scope")}
        form.update(realmId=realm_id, decision=decision)
        return requests.post(self.qbo + "/connect/oauth2", data=form, allow_redirects=False, timeout=10)

    def callback_url(self, portal_id: int, realm_id: str) -> str:
        consent = self.consent_qbo(self.start_connect(portal_id), realm_id)
        assert consent.status_code == 302, consent.text
        return consent.headers["Location"]

    def connect(self, portal_id: int, realm_id: str) -> requests.Response:
        url = self.callback_url(portal_id, realm_id)
        return requests.get(url, cookies={CONNECT_COOKIE: self.browser_cookie or ""}, timeout=20)

    def callback(self, url: str, **kw) -> requests.Response:
        """Intuit's redirect to our callback, in the browser that started the connect."""
        return requests.get(url, cookies={CONNECT_COOKIE: self.browser_cookie or ""}, timeout=20, **kw)

    def ready(self, portal_id: int, realm_id: str) -> requests.Response:
        """Installed and connected (again), whatever earlier tests did."""
        assert self.install(portal_id).status_code == 200
        page = self.connect(portal_id, realm_id)
        assert page.status_code == 200, page.text
        return page

    # -- signed JSON routes ----------------------------------------------------------------------
    def connections(self, portal_id: int) -> list[dict]:
        response = signed_get(f"{self.gateway}/oauth/qbo/connections?portalId={portal_id}")
        assert response.status_code == 200, response.text
        return response.json()["connections"]

    def connection(self, portal_id: int, realm_id: str) -> dict:
        return next(c for c in self.connections(portal_id) if c["realm_id"] == realm_id)

    def disconnect(self, portal_id: int, realm_id: str) -> requests.Response:
        return signed_post(
            f"{self.gateway}/oauth/qbo/connections/{realm_id}/disconnect?portalId={portal_id}&userId=5000001"
        )

    # -- emulator admin -------------------------------------------------------------------------
    def qbo_token_calls(self) -> int:
        calls = requests.get(self.qbo + "/_emulator/calls", timeout=10).json()["calls"]
        return calls.get("POST oauth_token", 0)

    def qbo_calls(self) -> dict[str, int]:
        return requests.get(self.qbo + "/_emulator/calls", timeout=10).json()["calls"]

    def advance_qbo_clock(self, seconds: float) -> None:
        requests.post(self.qbo + "/_emulator/clock", json={"advance_seconds": seconds}, timeout=10).raise_for_status()

    def ports(self):
        from hubqbo import wiring

        return wiring.connection_ports()

    def table(self):
        from hubqbo.config import get_settings
        from hubqbo.store import aws

        return aws.table(get_settings().table_name)

    def set_token_fields(self, portal_id: int, realm_id: str, **fields: float) -> None:
        from decimal import Decimal

        names = {f"#f{i}": n for i, n in enumerate(fields)}
        values = {f":v{i}": Decimal(str(v)) for i, v in enumerate(fields.values())}
        self.table().update_item(
            Key={"pk": f"PORTAL#{portal_id}", "sk": f"TOKEN#qbo#{realm_id}"},
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


def binding_cookie(response: requests.Response) -> str:
    """The connect route's `__Host-` cookie (requests keeps no Secure cookie over http, a browser on
    localhost does)."""
    header = response.headers.get("Set-Cookie", "")
    found = re.search(rf"{re.escape(CONNECT_COOKIE)}=([^;]*)", header)
    assert found, header
    assert all(a in header for a in ("HttpOnly", "Secure", "SameSite=Lax", "Path=/")), header
    return found.group(1)


def page_outcome(html: str) -> str:
    found = re.search(r'data-outcome="([^"]+)"', html)
    return found.group(1) if found else ""


@pytest.fixture(scope="session")
def capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet = {name: logging.getLogger(name).level for name in ("botocore", "boto3", "urllib3", "werkzeug")}
    for name in quiet:  # library wire dumps; never on in a deployment
        logging.getLogger(name).setLevel(logging.INFO)
    from hubqbo.observability import logger

    # Powertools' logger does not reach the root's handlers (each Logger() adds a filter to them that
    # drops its service's records), so it gets a handler of its own, writing to the same lines.
    powertools, direct = logger._logger, Capture(handler.lines)
    powertools.addHandler(direct)
    yield handler
    powertools.removeHandler(direct)
    root.removeHandler(handler)
    root.setLevel(previous)
    for name, level in quiet.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture(scope="module")
def flows(capture) -> Iterator[Flows]:
    """One stack per test module, stopped (and its environment restored) when the module ends.

    In-process moto state is process-wide, so each stack starts from a clean slate."""
    stack = start_local_stack(log_level="DEBUG")
    try:
        yield Flows(stack, capture)
    finally:
        stack.stop()
