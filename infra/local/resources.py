"""Create the template's AWS resources in a moto server and resolve the intrinsics that refer to them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.local.template import Application

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"


@dataclass
class Physical:
    """What a logical id turned into: its `Ref` value and its `GetAtt` attributes."""

    ref: str
    attrs: dict[str, str] = field(default_factory=dict)


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Sub and Fn::Join against created resources and parameters."""

    def __init__(self, stack_name: str, parameters: dict[str, Any]) -> None:
        self.physical: dict[str, Physical] = {}
        self.values: dict[str, Any] = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            **parameters,
        }

    def ref(self, name: str) -> Any:
        if name in self.physical:
            return self.physical[name].ref
        if name in self.values:
            return self.values[name]
        raise KeyError(f"Unresolvable Ref {name!r}")

    def get_att(self, name: str, attr: str) -> str:
        try:
            return self.physical[name].attrs[attr]
        except KeyError:
            raise KeyError(f"Unresolvable GetAtt {name}.{attr}") from None

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                return self.get_att(arg[0], arg[1])
            if key == "Fn::Sub":
                text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self._sub_value(m.group(1), extra)), text)
            if key == "Fn::Join":
                return str(arg[0]).join(str(v) for v in self.resolve(arg[1]))
        return {k: self.resolve(v) for k, v in value.items()}

    def _sub_value(self, name: str, extra: dict[str, Any]) -> Any:
        if name in extra:
            return extra[name]
        if "." in name:
            logical, attr = name.split(".", 1)
            return self.get_att(logical, attr)
        return self.ref(name)


def create_resources(
    app: Application,
    resolver: Resolver,
    secret_value: dict[str, str],
    overrides: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Create tables, keys, queues (dead-letter queues first) and secrets as the template defines them.

    `overrides` replaces properties of a logical id, e.g. a short VisibilityTimeout so that local
    redelivery takes a second instead of three minutes.
    """
    overrides = overrides or {}
    stack = resolver.values["AWS::StackName"]
    resolver.physical["Api"] = Physical(ref="local")
    for logical_id, resource in app.resources_of_type("AWS::DynamoDB::Table").items():
        _create_table(f"{stack}-{logical_id}", resolver.resolve(resource["Properties"]))
        resolver.physical[logical_id] = Physical(
            ref=f"{stack}-{logical_id}",
            attrs={"Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/{stack}-{logical_id}"},
        )
    for logical_id, resource in app.resources_of_type("AWS::KMS::Key").items():
        kms = boto3.client("kms", region_name=REGION)
        key = kms.create_key(Description=resource["Properties"].get("Description", logical_id))["KeyMetadata"]
        if resource["Properties"].get("EnableKeyRotation"):
            kms.enable_key_rotation(KeyId=key["KeyId"])
        resolver.physical[logical_id] = Physical(ref=key["KeyId"], attrs={"Arn": key["Arn"]})
    queues = app.resources_of_type("AWS::SQS::Queue")
    for logical_id in sorted(queues, key=lambda q: "RedrivePolicy" in queues[q].get("Properties", {})):
        props = {**resolver.resolve(queues[logical_id].get("Properties", {})), **overrides.get(logical_id, {})}
        _create_queue(f"{stack}-{logical_id}", logical_id, props, resolver)
    for logical_id, resource in app.resources_of_type("AWS::SecretsManager::Secret").items():
        props = resolver.resolve(resource["Properties"])
        secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=props.get("Name", f"{stack}/{logical_id}"), SecretString=json.dumps(secret_value)
        )
        resolver.physical[logical_id] = Physical(ref=secret["ARN"])


def function_environment(app: Application, resolver: Resolver) -> dict[str, str]:
    """Every function's environment variables from the template, resolved (one process runs them all)."""
    env: dict[str, str] = {}
    for spec in app.functions.values():
        env.update({k: str(resolver.resolve(v)) for k, v in spec.environment.items()})
    return env


def _create_table(name: str, props: dict[str, Any]) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    args: dict[str, Any] = {
        "TableName": name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PROVISIONED"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        dynamodb.update_time_to_live(
            TableName=name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]}
        )


def _create_queue(name: str, logical_id: str, props: dict[str, Any], resolver: Resolver) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    attributes = {
        key: str(props[key])
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds")
        if key in props
    }
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    resolver.physical[logical_id] = Physical(ref=url, attrs={"Arn": arn, "QueueName": name, "QueueUrl": url})
