"""Read template.yaml for the local stack: its resources, routes, queues and schedules.

The local stack has no second copy of the infrastructure: tables, queues, keys and secrets are
created from these definitions, and the gateway serves exactly the routes declared here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """PyYAML with CloudFormation's short-form tags turned into their long forms."""


def _construct_tag(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str  # logical id

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    def pattern(self) -> re.Pattern[str]:
        """The path template as a regex: `{id}` is one segment, `{proxy+}` the rest."""
        regex = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", self.path)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", regex)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str  # logical id of the queue
    batch_size: int
    reports_item_failures: bool
    maximum_concurrency: int = 1  # ScalingConfig.MaximumConcurrency; AWS's floor is 2 when set


@dataclass(frozen=True)
class Schedule:
    function: str
    event: str  # logical id of the event
    expression: Any  # a string, or an intrinsic resolved by the stack
    input: str


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path
    handler: str
    timeout: int
    environment: dict[str, Any] = field(default_factory=dict)


@dataclass
class Application:
    """What the local stack needs from template.yaml, read once."""

    template: dict[str, Any]
    functions: dict[str, Function]
    routes: list[Route]
    queue_sources: list[QueueSource]
    schedules: list[Schedule]

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def resources_of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_name}

    def parameter_defaults(self) -> dict[str, Any]:
        return {k: v.get("Default") for k, v in self.template.get("Parameters", {}).items()}


def read_application(path: Path = TEMPLATE_PATH) -> Application:
    template = load_template(path)
    globals_fn = template.get("Globals", {}).get("Function", {})
    global_env = globals_fn.get("Environment", {}).get("Variables", {})
    functions: dict[str, Function] = {}
    routes: list[Route] = []
    queue_sources: list[QueueSource] = []
    schedules: list[Schedule] = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        functions[logical_id] = Function(
            logical_id=logical_id,
            code_uri=path.parent / props["CodeUri"],
            handler=props.get("Handler", globals_fn.get("Handler", "app.lambda_handler")),
            timeout=int(props.get("Timeout", globals_fn.get("Timeout", 3))),
            environment={**global_env, **props.get("Environment", {}).get("Variables", {})},
        )
        for event_id, event in props.get("Events", {}).items():
            event_props = event.get("Properties", {})
            if event["Type"] == "HttpApi":
                routes.append(Route(event_props["Method"].upper(), event_props["Path"], logical_id))
            elif event["Type"] == "SQS":
                queue_sources.append(
                    QueueSource(
                        function=logical_id,
                        queue=event_props["Queue"]["Fn::GetAtt"][0],
                        batch_size=int(event_props.get("BatchSize", 10)),
                        reports_item_failures="ReportBatchItemFailures" in event_props.get("FunctionResponseTypes", []),
                        maximum_concurrency=int(event_props.get("ScalingConfig", {}).get("MaximumConcurrency", 1)),
                    )
                )
            elif event["Type"] in ("ScheduleV2", "Schedule"):
                schedules.append(
                    Schedule(logical_id, event_id, event_props["ScheduleExpression"], event_props.get("Input", "{}"))
                )
    return Application(template, functions, routes, queue_sources, schedules)
