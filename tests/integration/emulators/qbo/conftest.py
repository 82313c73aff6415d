"""Fixtures: one QBO emulator per session on port 0, reset and re-seeded before every test."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from infra.local.emulators import demo_accounts
from infra.local.emulators.qbo import QboEmulator

US = demo_accounts.REALM_US.realm_id
UK = demo_accounts.REALM_UK.realm_id
MULTI = demo_accounts.REALM_MULTI.realm_id
CUSTOM = demo_accounts.REALM_CUSTOM_NUMBERS.realm_id
SANDBOX = demo_accounts.REALM_SANDBOX.realm_id


@pytest.fixture(scope="session")
def emulator() -> Iterator[QboEmulator]:
    qbo = QboEmulator(seed_data=False)
    qbo.start(port=0)
    yield qbo
    qbo.stop()


class Admin:
    def __init__(self, base: str) -> None:
        self.base = base

    def post(self, path: str, body: Any = None) -> Any:
        response = requests.post(f"{self.base}/_emulator{path}", json=body or {}, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def get(self, path: str) -> Any:
        return requests.get(f"{self.base}/_emulator{path}", timeout=10).json()

    def advance(self, seconds: float) -> None:
        self.post("/clock", {"advance_seconds": seconds})


class Api:
    """A bare-bones QBO API caller bound to one realm and bearer token."""

    def __init__(self, base: str, realm: str, token: str, sandbox: bool = False) -> None:
        self.root = f"{base}{'/sandbox' if sandbox else ''}/v3/company/{realm}"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.session.get(self.root + path, params={"minorversion": 75, **params}, timeout=10)

    def post(self, path: str, body: Any, **params: Any) -> requests.Response:
        return self.session.post(self.root + path, json=body, params={"minorversion": 75, **params}, timeout=10)

    def query(self, statement: str) -> requests.Response:
        headers = {"Content-Type": "application/text"}
        return self.session.post(self.root + "/query", data=statement, headers=headers, timeout=10)

    def rows(self, statement: str) -> list[dict[str, Any]]:
        answer = self.query(statement)
        assert answer.status_code == 200, answer.text
        entity = re.search(r"FROM\s+(\w+)", statement, re.IGNORECASE).group(1)  # type: ignore[union-attr]
        return next((v for k, v in answer.json()["QueryResponse"].items() if k.lower() == entity.lower()), [])


@pytest.fixture
def admin(emulator: QboEmulator) -> Admin:
    helper = Admin(emulator.base_url)
    helper.post("/reset")
    helper.post("/seed")
    return helper


@pytest.fixture
def connect(admin: Admin) -> Callable[..., Api]:
    """An `Api` for a realm, with a token minted by the admin API (the consent flow has its own tests)."""

    def make(realm: str, sandbox: bool = False) -> Api:
        token = admin.post("/qbo/oauth/tokens", {"realm_id": realm})["access_token"]
        return Api(admin.base, realm, token, sandbox)

    return make


@pytest.fixture
def us(connect: Callable[..., Api]) -> Api:
    return connect(US)


@pytest.fixture
def uk(connect: Callable[..., Api]) -> Api:
    return connect(UK)


@dataclass
class Receiver:
    """A webhook endpoint on port 0 that records each POST and answers from `statuses` (then 200)."""

    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)

    def bodies(self) -> list[Any]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver(admin: Admin) -> Iterator[Receiver]:
    record = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            record.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
            status = record.statuses.pop(0) if record.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    record.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/qbo"
    admin.post("/qbo/webhooks", {"url": record.url})
    yield record
    server.shutdown()
    server.server_close()
