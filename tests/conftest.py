"""Test-wide setup: fake AWS credentials and moto imported before any client is made.

moto hooks botocore when first imported, so it is imported here, before the layer.
"""

import os

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "hubqbo-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "hubqbo")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.pop("AWS_ENDPOINT_URL", None)

import moto  # noqa: F401  - must precede every boto3 client
import pytest

from tests.support.deployment import Deployment, deployed_into_moto


@pytest.fixture
def deployed(monkeypatch) -> Deployment:
    """The application deployed into in-process moto (see tests/support/deployment.py)."""
    with deployed_into_moto(monkeypatch) as deployment:
        yield deployment
