"""QBO webhook intake: verify the signature on the raw body, queue the changes, answer fast."""

from hubqbo import wiring
from hubqbo.config import get_app_secrets
from hubqbo.observability import HTTP_API, MetricUnit, lambda_entry, metrics
from hubqbo.services.intake import accept_qbo_webhook
from hubqbo.web.http import new_http_app, raw_body

app = new_http_app("webhooks")


@app.post("/webhooks/qbo")
def qbo_webhook() -> dict:
    result = accept_qbo_webhook(
        raw_body=raw_body(app),
        signature=app.current_event.headers.get("intuit-signature"),
        verifier_token=get_app_secrets().qbo_webhook_verifier_token,
        queue=wiring.sync_queue(),
        portals_for_realm=wiring.realm_portals(),
        sync_log=wiring.sync_log(),
    )
    metrics.add_metric(name="WebhookEventsQueued", unit=MetricUnit.Count, value=result.queued)
    metrics.add_metric(
        name="WebhookEventsSkipped", unit=MetricUnit.Count, value=result.skipped_entity + result.skipped_realm
    )
    return result.model_dump()


@lambda_entry(correlation_id_path=HTTP_API)
def lambda_handler(event, context):
    return app.resolve(event, context)
