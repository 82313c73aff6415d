"""Each function imports only what it uses: a cold start pays for every module loaded before the
first request (figures: the import benchmark, docs/pipeline.md)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("aws_xray_sdk", "jinja2", "babel", "requests", "pydantic_settings")


def loaded(function: str) -> set[str]:
    code = (
        "import importlib.util, json, sys; "
        f"spec = importlib.util.spec_from_file_location('app', {str(ROOT / 'functions' / function / 'app.py')!r}); "
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    env = {
        "PYTHONPATH": f"{ROOT}:{ROOT / 'layers/hubqbo'}",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "test",
        "POWERTOOLS_METRICS_NAMESPACE": "test",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    return set(json.loads(result.stdout))


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
    assert loaded(function) <= allowed
