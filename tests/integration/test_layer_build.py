"""The shared layer as `sam build` makes it (layers/hubqbo/Makefile, `build-SharedLayer`): the hashed lock
as Lambda's arm64 Python 3.12 wheels, no botocore of its own, Babel's data for English and Polish alone.

The build installs the lock offline, from the wheelhouse `make test` fills from the package index at setup
(`make -C layers/hubqbo wheels`), so this test reaches no network."""

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LAYER_SOURCE = ROOT / "layers" / "hubqbo"
WHEELHOUSE = ROOT / ".cache" / "layer-wheels"
# What Lambda's Python runtime provides, so the layer must not ship it (a copy would shadow the runtime's).
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "python-dateutil", "six"}
# The environment of Lambda's python3.12 arm64 runtime, for the dependencies' markers.
LAMBDA_MARKERS = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}


@pytest.fixture(scope="module")
def layer(tmp_path_factory) -> Path:
    assert (WHEELHOUSE / ".ready").exists(), "the layer's wheels are fetched at setup: run `make test`"
    artifacts = tmp_path_factory.mktemp("layer")
    offline = f"WHEELS_FROM=--no-index --find-links={WHEELHOUSE}"
    command = ["make", "-s", "-C", str(LAYER_SOURCE), "build-SharedLayer", f"ARTIFACTS_DIR={artifacts}", offline]
    subprocess.run(  # noqa: S603 - our own Makefile, with our own interpreter's pip
        [*command, f"PYTHON={sys.executable}"],
        check=True,
        capture_output=True,
        timeout=300,
    )
    python = artifacts / "python"
    size = sum(path.stat().st_size for path in python.rglob("*") if path.is_file())
    print(f"\nshared layer unzipped: {size / 1e6:.1f} MB")
    return python


def distributions(layer: Path) -> dict[str, metadata.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions(path=[str(layer)])}


def requested_extras(name: str) -> set[str]:
    """The extras the lock installs a distribution with (`aws-lambda-powertools[parser,tracer]`)."""
    for line in (LAYER_SOURCE / "requirements.txt").read_text().splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            requirement = Requirement(line.split(" ")[0])
            if canonicalize_name(requirement.name) == name:
                return set(requirement.extras)
    return set()


def test_the_layer_ships_no_botocore_nor_what_only_botocore_needs(layer):
    shipped = set(distributions(layer))
    assert not shipped & RUNTIME_PROVIDED
    assert not (layer / "botocore").exists()
    assert not (layer / "boto3").exists()
    assert {"aws-xray-sdk", "aws-lambda-powertools", "pydantic", "babel", "requests"} <= shipped
    assert "pydantic-settings" not in shipped


def test_every_dependency_of_the_layer_is_in_the_layer_or_the_runtime(layer):
    shipped = distributions(layer)
    missing = []
    for name, distribution in shipped.items():
        extras = requested_extras(name) | {""}
        for text in distribution.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker and not any(marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in extras):
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency in RUNTIME_PROVIDED:
                continue
            if dependency not in shipped or not requirement.specifier.contains(shipped[dependency].version, True):
                missing.append(f"{name} needs {requirement}")
    assert missing == []


def test_the_layer_keeps_babel_data_for_english_and_polish_only(layer):
    kept = {path.stem for path in (layer / "babel" / "locale-data").glob("*.dat")}
    assert {"root", "en", "en_GB", "en_001", "pl", "pl_PL"} <= kept
    assert all(locale == "root" or locale.split("_")[0] in {"en", "pl"} for locale in kept)
    assert "de" not in kept
    assert (layer / "babel" / "global.dat").exists()


def test_the_layer_wheels_are_lambdas_arm64_python_312(layer):
    (extension,) = (layer / "pydantic_core").glob("*.so")
    assert extension.name.endswith("cpython-312-aarch64-linux-gnu.so")


def test_the_packaged_babel_formats_dates_and_amounts_in_english_and_polish(layer, tmp_path):
    # The layer's own Babel (pure Python) in front of the repository's hubqbo; the arm64 wheels cannot load here.
    (tmp_path / "babel").symlink_to(layer / "babel")
    code = """
import json, babel
from datetime import date
from decimal import Decimal
from babel import Locale, UnknownLocaleError
from hubqbo.web.i18n.translator import get_translator
out = {"babel": babel.__file__}
for locale in ("en", "en_GB", "pl_PL"):
    t = get_translator(locale)
    out[locale] = [t.format_money(Decimal("1234.5"), "PLN"), t.format_money(Decimal("99.995"), "USD"),
                   t.format_date(date(2026, 11, 29)), t.format_number(Decimal("1250.5"))]
try:
    Locale.parse("de_DE")
    out["de"] = "formatted"
except UnknownLocaleError:
    out["de"] = "unknown"
print(json.dumps(out))
"""
    env = {"PYTHONPATH": f"{tmp_path}:{LAYER_SOURCE}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)  # noqa: S603
    formatted = json.loads(result.stdout)
    assert formatted["babel"].startswith(str(tmp_path / "babel"))
    assert formatted["en"] == ["PLN\xa01,234.50", "USD\xa0100.00", "Nov 29, 2026", "1,250.5"]
    assert formatted["en_GB"] == ["PLN\xa01,234.50", "USD\xa0100.00", "29 Nov 2026", "1,250.5"]
    assert formatted["pl_PL"] == ["1\xa0234,50\xa0zł", "100,00\xa0USD", "29 lis 2026", "1\xa0250,5"]
    assert formatted["de"] == "unknown"  # the data of a locale we do not serve is not in the layer
