"""QBO webhook intake (`functions/webhooks` includes this router): verify the signature on the raw
body, queue the delivery whole (one SQS call, no read), answer fast."""

from __future__ import annotations

from typing import Any

from hubqbo import wiring
from hubqbo.config import get_app_secrets, get_settings
from hubqbo.observability import MetricUnit, metrics
from hubqbo.services.intake import accept_qbo_webhook
from hubqbo.web.http import EdgeRouter, public, raw_body

# Intuit cannot sign in as anyone: the intake checks `intuit-signature` on the raw body itself.
router = EdgeRouter(public("Intuit's webhook deliveries: the intuit-signature on the raw body is the check"))


@router.post("/webhooks/qbo")
def qbo_webhook() -> dict[str, Any]:
    result = accept_qbo_webhook(
        raw_body=raw_body(router),
        signature=router.current_event.headers.get("intuit-signature"),
        verifier_token=get_app_secrets().qbo_webhook_verifier_token,
        queue=wiring.sync_queue(),
        deliveries=wiring.delivery_store(),
        max_message_bytes=get_settings().queue_message_max_bytes,
    )
    metrics.add_metric(name="WebhookEventsQueued", unit=MetricUnit.Count, value=result.queued)
    skipped = result.skipped_entity + result.skipped_invalid
    metrics.add_metric(name="WebhookEventsSkipped", unit=MetricUnit.Count, value=skipped)
    return result.answer()
