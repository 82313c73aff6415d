"""The sync worker: SQS batches with partial failures; each record is applied by the layer."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

from hubqbo import wiring
from hubqbo.observability import lambda_entry
from hubqbo.services.pipeline import SyncBatch

processor = BatchProcessor(event_type=EventType.SQS)


@lambda_entry()
def lambda_handler(event, context):
    batch = SyncBatch(wiring.pipeline_ports(), event, context)
    return process_partial_response(event=event, record_handler=batch.handle, processor=processor, context=context)
