"""Load function handlers from their folders and call them with a Lambda-like context."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infra.local.resources import ACCOUNT_ID, REGION
from infra.local.template import Function


@dataclass
class LambdaContext:
    """The attributes Powertools reads from the real context object."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


class LocalFunction:
    """One execution environment of a function of the template, its handler imported from its CodeUri the way
    Lambda would. Each `environment` number loads its own copy of the handler's module (its own module globals,
    such as a Powertools `BatchProcessor`), as concurrent Lambda environments each have theirs."""

    def __init__(self, spec: Function, environment: int = 0) -> None:
        self.spec = spec
        self.name = spec.logical_id
        self.environment = environment
        self._busy = threading.RLock()
        module_name, handler_name = spec.handler.rsplit(".", 1)
        path = spec.code_uri / f"{module_name}.py"
        unique = f"hubqbo_function_{spec.logical_id}" + (f"_{environment}" if environment else "")
        module_spec = importlib.util.spec_from_file_location(unique, path)
        assert module_spec and module_spec.loader, f"cannot load {path}"
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[unique] = module
        module_spec.loader.exec_module(module)
        self.module = module
        self.handler: Callable[[dict[str, Any], Any], Any] = getattr(module, handler_name)

    def invoke(self, event: dict[str, Any]) -> Any:
        """One event at a time, as one Lambda execution environment handles them (Powertools' resolver keeps
        the current event on the app and its routers, so two requests at once would see each other's)."""
        with self._busy:
            return self.handler(event, LambdaContext(self.name, self.spec.timeout))
