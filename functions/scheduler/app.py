"""Scheduled jobs (EventBridge Scheduler sends each schedule's explicit Input)."""

from aws_lambda_powertools.utilities.parser import event_parser

from hubqbo.observability import lambda_entry
from hubqbo.services.jobs import ScheduledJob, run_job


@lambda_entry()
@event_parser(model=ScheduledJob)
def lambda_handler(event: ScheduledJob, context):
    return run_job(event).model_dump(mode="json")
