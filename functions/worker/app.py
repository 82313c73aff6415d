"""The sync worker: SQS batches with partial failures; each record is applied by the layer."""

from hubqbo.coldstart import loading

with loading():  # first: the cycle collector stays paused while the worker's modules load (why: coldstart.py)
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from hubqbo import wiring
    from hubqbo.observability import MetricUnit, lambda_entry, metrics
    from hubqbo.services.pipeline import SyncBatch

    processor = BatchProcessor(event_type=EventType.SQS)

CALL_METRICS = {"hubspot": "HubSpotCalls", "qbo": "QboCalls"}


@lambda_entry()
def lambda_handler(event, context):
    batch = SyncBatch(wiring.pipeline_ports(), event, context)
    try:
        return process_partial_response(event=event, record_handler=batch.handle, processor=processor, context=context)
    finally:
        publish_batch_figures(batch)


def publish_batch_figures(batch: SyncBatch) -> None:
    """The dashboard's figures: changes applied and API calls per provider (calls per record = their ratio)."""
    metrics.add_metric(name="ChangesApplied", unit=MetricUnit.Count, value=batch.outcomes.get("applied", 0))
    for provider, calls in batch.api_calls().items():
        metrics.add_metric(name=CALL_METRICS.get(provider, "OtherCalls"), unit=MetricUnit.Count, value=calls)
