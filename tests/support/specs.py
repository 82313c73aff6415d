"""The official API descriptions the tests check against (copied unchanged into tests/fixtures/specs)."""

from pathlib import Path

SPECS = Path(__file__).resolve().parents[1] / "fixtures" / "specs"
HUBSPOT_SPECS = SPECS / "hubspot"
QBO_SPECS = SPECS / "qbo"
