"""The sync worker: SQS batches with partial failures; each record is applied by the layer."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from aws_lambda_powertools.utilities.parser.types import Json

from hubqbo import wiring
from hubqbo.messages import QueueMessage
from hubqbo.observability import lambda_entry
from hubqbo.services.apply import apply_message


class QueueRecord(SqsRecordModel):
    body: Json[QueueMessage]


processor = BatchProcessor(event_type=EventType.SQS, model=QueueRecord)


def record_handler(record: QueueRecord) -> None:
    apply_message(record.body, wiring.sync_log())


@lambda_entry()
def lambda_handler(event, context):
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
