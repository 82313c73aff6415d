"""Adapters built from the settings: the one place where handlers get their ports."""

from __future__ import annotations

from hubqbo.config import get_settings
from hubqbo.store import aws
from hubqbo.store.queue import SyncQueue
from hubqbo.store.sync_log import SyncLog


def sync_queue() -> SyncQueue:
    return SyncQueue(aws.client("sqs"), str(get_settings().queue_url))


def sync_log() -> SyncLog:
    return SyncLog(aws.table(get_settings().table_name))
