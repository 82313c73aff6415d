"""Runs the settings extension's walkthrough (`infra/hubspot-app/tests/walkthrough/`) against a running local
stack: the real `Settings.jsx` rendered by HubSpot's testing renderer under Vitest, its `hubspot.fetch` calls
sent through the HubSpot emulator (signed, `permittedUrls` enforced), Intuit's consent followed to our
callback. Returns the steps it reports, for the demo to print and the integration test to check."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from infra.local.emulators import demo_accounts
from infra.local.emulators.hubspot.project import PROJECT_DIR
from infra.local.stack import LocalStack

VITEST = PROJECT_DIR / "node_modules" / ".bin" / "vitest"
CONFIG = "tests/walkthrough/vitest.config.js"
TIMEOUT_SECONDS = 90


class WalkthroughFailed(RuntimeError):
    pass


def run_settings_walkthrough(
    stack: LocalStack,
    portal_id: int,
    realm_id: str,
    *,
    user_email: str = demo_accounts.SUPER_ADMIN_EMAIL,
    locale: str = "en-us",
) -> dict[str, Any]:
    """Connect `realm_id` in `portal_id`, open the sync settings, disconnect it, as `user_email` in HubSpot;
    returns {"steps": [{"step", "detail"}], "fetches": [{"url", "method", "status"}]}."""
    if not VITEST.exists():
        raise WalkthroughFailed(f"{VITEST} is missing: run `make extensions` (npm ci in {PROJECT_DIR}) first")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "walkthrough.json"
        spec = {
            "hubspot": stack.urls["hubspot"],
            "portalId": portal_id,
            "realmId": realm_id,
            "userEmail": user_email,
            "locale": locale,
            "report": str(report),
        }
        env = {**os.environ, "HUBQBO_WALKTHROUGH": json.dumps(spec), "NO_COLOR": "1"}
        try:
            done = subprocess.run(  # noqa: S603 (our own Vitest, fixed arguments)
                [str(VITEST), "run", "--config", CONFIG],
                cwd=PROJECT_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise WalkthroughFailed(f"the walkthrough took longer than {TIMEOUT_SECONDS} s") from exc
        if done.returncode != 0:
            output = (done.stdout + done.stderr).strip().splitlines()
            raise WalkthroughFailed("the walkthrough failed:\n" + "\n".join(output[-40:]))
        result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
        return result
