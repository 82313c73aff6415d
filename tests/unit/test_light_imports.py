"""Each function imports only what it uses: a cold start pays for every module loaded before the
first request (figures: the import benchmark, docs/pipeline.md). Module names and counts, never times."""

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aws_xray_sdk", "jinja2", "babel", "requests", "pydantic_settings")
BARE = "import boto3, pydantic; from aws_lambda_powertools import Logger; Logger()"
FUNCTIONS = ("webhooks", "worker", "scheduler", "oauth", "invoices", "settings")

# Never imported by any function: the X-Ray SDK (Powertools imports its Tracer class, not the SDK; Lambda's
# active tracing records invocations, and the Tracer is built only when XRAY_SDK_TRACING asks),
# pydantic-settings and email-validator (not used).
NEVER = ("aws_xray_sdk", "pydantic_settings", "email_validator")
PAGES = ("jinja2", "babel", "hubqbo.web.i18n", "hubqbo.web.pages")
WORKER_ONLY = ("hubqbo.services.pipeline", "aws_lambda_powertools.utilities.batch")
SYNC_ENGINE = ("hubqbo.services.sync_engine", "hubqbo.services.sync_backfill", "hubqbo.store.settings")
INVOICING = ("hubqbo.services.invoice_wizard", "hubqbo.services.invoice_card", "hubqbo.services.workflow_invoice")

NOT_IMPORTED = {
    # verify and queue: no HTTP client, no API clients, no connections, no pages, no sync services
    "webhooks": (
        *PAGES,
        *WORKER_ONLY,
        *SYNC_ENGINE,
        *INVOICING,
        "requests",
        "hubqbo.clients",
        "hubqbo.services.connections",
        "hubqbo.store.connections",
        "aws_lambda_powertools.utilities.idempotency",
    ),
    # renders nothing, serves no HTTP; the sync engine comes with the first Customer/Item change or backfill
    # part; Powertools' parser models are built by its batch utility only if pydantic was imported first
    "worker": (
        *PAGES,
        *SYNC_ENGINE,
        *INVOICING,
        "hubqbo.web",
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.parser.models",
    ),
    # each job imports its own services (and the wiring, boto3, the HTTP client) when it runs
    "scheduler": (*PAGES, "requests", "hubqbo.wiring", "hubqbo.clients", "hubqbo.services.catch_up"),
    "oauth": (*WORKER_ONLY, *SYNC_ENGINE, *INVOICING, "aws_lambda_powertools.utilities.idempotency"),
    "invoices": (*WORKER_ONLY, *SYNC_ENGINE, "hubqbo.web.settings", "hubqbo.services.sync_settings"),
    "settings": (
        *WORKER_ONLY,
        *INVOICING,
        "hubqbo.web.invoices",
        "hubqbo.services.catch_up",  # the reminders job's, not the reminders tab's
        "aws_lambda_powertools.utilities.idempotency",
    ),
}

# Modules a function loads beyond the bare import, with some room: a new import that doubles a cold start
# shows here first (the webhook intake answers within Intuit's 3 seconds, cold start included).
MAX_EXTRA_MODULES = {"webhooks": 200, "scheduler": 70}

ENV = {
    "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/hubqbo'}",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "test",
    "POWERTOOLS_METRICS_NAMESPACE": "test",
    "PATH": "/usr/bin:/bin",
}


def _run(code: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True)  # noqa: S603
    return json.loads(result.stdout)


@cache
def imported(function: str) -> dict:
    """What a fresh interpreter holds after importing the function's handler module the way Lambda does."""
    code = (
        "import gc, importlib.util, json, sys; "
        f"spec = importlib.util.spec_from_file_location('app', {str(ROOT / 'functions' / function / 'app.py')!r}); "
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
        "print(json.dumps({'modules': sorted(sys.modules), 'gc_enabled': gc.isenabled(), "
        "'frozen': gc.get_freeze_count()}))"
    )
    return _run(code)


@cache
def bare_modules() -> frozenset[str]:
    code = f"{BARE}; import json, sys; print(json.dumps({{'modules': sorted(sys.modules)}}))"
    return frozenset(_run(code)["modules"])


def loaded(function: str) -> set[str]:
    return set(imported(function)["modules"])


def holds(modules: set[str], name: str) -> bool:
    """`name` or any of its submodules was imported."""
    return name in modules or any(m.startswith(name + ".") for m in modules)


@pytest.mark.parametrize(
    ("function", "allowed"),
    [
        ("webhooks", set()),  # verify and queue: no HTTP client, no pages, no X-Ray SDK
        ("scheduler", set()),  # each job imports its own services when it runs
        ("worker", {"requests"}),  # calls HubSpot and QBO, renders nothing
        ("oauth", {"jinja2", "babel", "requests"}),
    ],
)
def test_a_function_imports_neither_the_xray_sdk_nor_what_it_does_not_use(function, allowed):
    assert {m for m in HEAVY if m in loaded(function)} <= allowed


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_function_imports_the_xray_sdk_pydantic_settings_or_email_validator(function):
    modules = loaded(function)
    assert [name for name in NEVER if holds(modules, name)] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_leaves_the_modules_of_routes_and_jobs_it_does_not_serve_unimported(function):
    modules = loaded(function)
    assert [name for name in NOT_IMPORTED[function] if holds(modules, name)] == []


@pytest.mark.parametrize("function", sorted(MAX_EXTRA_MODULES))
def test_the_lightest_functions_load_few_modules_beyond_the_bare_import(function):
    extra = loaded(function) - bare_modules()
    assert len(extra) <= MAX_EXTRA_MODULES[function], sorted(extra)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_function_resumes_the_cycle_collector_after_its_import_with_the_import_frozen(function):
    state = imported(function)
    assert state["gc_enabled"] is True
    assert state["frozen"] > 10_000  # the modules' objects sit in the permanent generation (hubqbo.coldstart)
