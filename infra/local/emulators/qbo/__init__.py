"""QuickBooks Online emulator: Intuit OAuth 2.0 + Accounting API v3 + webhooks on one local server.

URL scheme (`base` = `QboEmulator().start()`, e.g. `http://127.0.0.1:3002`):

- OAuth, as on the real hosts: `base/connect/oauth2` (consent page), `base/oauth2/v1/tokens/bearer`,
  `base/v2/oauth2/tokens/revoke`; discovery at `base/.well-known/openid_configuration/` (and
  `openid_sandbox_configuration/`). Point intuitlib at it with
  `AuthClient(..., environment=base + "/.well-known/openid_configuration/")`: intuitlib treats an
  unknown environment as the discovery URL.
- Production API: `base/v3/company/{realmId}/...`; sandbox API: `base/sandbox/v3/company/{realmId}/...`
  (sandbox base URL = base + "/sandbox"). A sandbox realm called on the production base, or the
  reverse, answers 403 AuthorizationFailed (errorCode 003100) as the real hosts do for a company
  they do not hold. For python-quickbooks set `qb.api_url_v3 = base + "/v3"` and
  `qb.sandbox_api_url_v3 = base + "/sandbox/v3"` on the client instance.
- Admin: `base/_emulator/...` (see core.py and admin.py).
"""

from .app import QboEmulator
from .seed import seed

__all__ = ["QboEmulator", "seed"]
