"""Scheduled jobs, run by the scheduler function from the schedules' `Input`.

Each job is registered in JOBS; a schedule whose job has not landed yet says so in its result
rather than pretending to have done work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from hubqbo import clock as product_clock

JobName = Literal["cdc-catch-up", "overdue-sweep", "token-keep-alive", "reminders", "app-lifecycle", "drift-report"]


class ScheduledJob(BaseModel):
    job: JobName
    scheduled_at: datetime | None = Field(default=None, description="When the schedule fired, if the input says")


class JobResult(BaseModel):
    job: JobName
    status: Literal["done", "busy"]
    detail: dict[str, int] = Field(default_factory=dict)
    finished_at: datetime = Field(default_factory=product_clock.now_utc)


JOBS: dict[str, Callable[[ScheduledJob], JobResult]] = {}


def run_job(job: ScheduledJob) -> JobResult:
    """Every job name the schedules may send has a runner (a unit test holds JOBS to JobName)."""
    return JOBS[job.job](job)


def _token_keep_alive(job: ScheduledJob) -> JobResult:
    from hubqbo import wiring  # the adapters are built only when the job runs
    from hubqbo.services.connections import keep_alive

    result = keep_alive(wiring.connection_ports())
    return JobResult(job=job.job, status="done", detail=result.model_dump())


JOBS["token-keep-alive"] = _token_keep_alive


def _now(job: ScheduledJob) -> datetime:
    return job.scheduled_at.astimezone(UTC) if job.scheduled_at else product_clock.now_utc()


def _cdc_catch_up(job: ScheduledJob) -> JobResult:
    from hubqbo import wiring
    from hubqbo.services.catch_up import catch_up

    result = catch_up(wiring.scheduler_ports(), now=_now(job))
    detail = result.model_dump(exclude={"busy"})
    return JobResult(job=job.job, status="busy" if result.busy else "done", detail=detail)


def _overdue_sweep(job: ScheduledJob) -> JobResult:
    from hubqbo import wiring
    from hubqbo.services.overdue import overdue_sweep

    return JobResult(
        job=job.job, status="done", detail=overdue_sweep(wiring.scheduler_ports(), now=_now(job)).model_dump()
    )


JOBS["cdc-catch-up"] = _cdc_catch_up
JOBS["overdue-sweep"] = _overdue_sweep


def _reminders(job: ScheduledJob) -> JobResult:
    from hubqbo import wiring
    from hubqbo.services.reminders import run_reminders

    result = run_reminders(wiring.reminder_ports(), now=_now(job))
    return JobResult(job=job.job, status="done", detail=result.model_dump())


JOBS["reminders"] = _reminders


def _app_lifecycle(job: ScheduledJob) -> JobResult:
    from hubqbo import wiring
    from hubqbo.services.lifecycle import run_app_lifecycle

    result = run_app_lifecycle(wiring.lifecycle_ports(), now=_now(job))
    detail = result.model_dump(exclude={"busy"})
    return JobResult(job=job.job, status="busy" if result.busy else "done", detail=detail)


JOBS["app-lifecycle"] = _app_lifecycle


def _drift_report(job: ScheduledJob) -> JobResult:
    from hubqbo import wiring
    from hubqbo.services.catch_up import active_connections
    from hubqbo.services.drift import run_scheduled

    options = {"timeout": wiring._job_timeout(), "max_rate_limit_wait": 5.0}  # a short wait beats a gap
    connections = active_connections(wiring.connection_ports(**options))
    # the scheduler function has 120 s; the reports share 90 of them, the oldest report first
    result = run_scheduled(
        lambda budget: wiring.drift_ports(time_budget=budget, **options), connections, total_budget=90.0
    )
    return JobResult(job=job.job, status="done", detail=result.model_dump())


JOBS["drift-report"] = _drift_report
