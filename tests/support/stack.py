"""The local stack as the integration tests start it: ports the OS chooses, no schedules, clean moto."""

from __future__ import annotations

from typing import Any

from infra.local.stack import LocalStack, StackConfig


def start_local_stack(queue_visibility_timeout: int = 1, **config: Any) -> LocalStack:
    """A started LocalStack on free ports with the schedules off; `config` sets the rest of its StackConfig.

    In-process moto state is process-wide, so each stack starts from a clean slate. The caller stops it."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    stack = LocalStack(
        StackConfig(
            gateway_port=0,
            hubspot_port=0,
            qbo_port=0,
            queue_visibility_timeout=queue_visibility_timeout,
            run_schedules=False,
            **config,
        )
    )
    stack.start()
    return stack
