"""Scheduled jobs (EventBridge Scheduler sends each schedule's explicit Input)."""

from hubqbo.coldstart import loading

with loading():  # first: the cycle collector stays paused while the scheduler's modules load (coldstart.py)
    from aws_lambda_powertools.utilities.parser import event_parser

    from hubqbo.observability import MetricUnit, lambda_entry, metrics
    from hubqbo.services.jobs import JobResult, ScheduledJob, run_job

# Figures of a job's result that alarms watch (gauges: how many connections are in that state today).
ALARMED_FIGURES = {"token-keep-alive": ("awaiting_reconnect", "near_hard_expiry")}


@lambda_entry()
@event_parser(model=ScheduledJob)
def lambda_handler(event: ScheduledJob, context):
    result = run_job(event)
    publish_alarmed_figures(result)
    return result.model_dump(mode="json")


def publish_alarmed_figures(result: JobResult) -> None:
    figures = ALARMED_FIGURES.get(result.job, ())
    if figures:
        metrics.add_dimension(name="job", value=result.job)
    for name in figures:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=result.detail.get(name, 0))
