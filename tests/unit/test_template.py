"""template.yaml is tested like code: the invariants a reviewer would otherwise check by eye."""

import ast
import json
import re

import pytest

from hubqbo.services.jobs import ScheduledJob
from infra.local.schedules import rate_seconds
from infra.local.template import ROOT, read_application

APP = read_application()
RESOURCES = APP.resources
GLOBAL_FUNCTION = APP.template["Globals"]["Function"]


def functions():
    return APP.resources_of_type("AWS::Serverless::Function")


def function_timeout(logical_id):
    return functions()[logical_id]["Properties"].get("Timeout", GLOBAL_FUNCTION["Timeout"])


def test_the_six_functions_run_python312_on_arm64():
    assert set(functions()) == {
        "OAuthFunction",
        "InvoicesFunction",
        "SettingsFunction",
        "WebhooksFunction",
        "WorkerFunction",
        "SchedulerFunction",
    }
    for props in (f["Properties"] for f in functions().values()):
        assert props.get("Runtime", GLOBAL_FUNCTION["Runtime"]) == "python3.12"
        assert props.get("Architectures", GLOBAL_FUNCTION["Architectures"]) == ["arm64"]


def test_every_function_uses_the_shared_layer():
    for logical_id, function in functions().items():
        layers = function["Properties"].get("Layers", GLOBAL_FUNCTION.get("Layers", []))
        assert {"Ref": "SharedLayer"} in layers, logical_id


def test_the_layer_is_built_for_python312_arm64():
    # Built by layers/hubqbo/Makefile (the lock without the runtime's botocore, Babel data for en and pl);
    # tests/integration/test_layer_build.py checks the wheels it installs are cp312 aarch64.
    layer = RESOURCES["SharedLayer"]
    assert layer["Metadata"] == {"BuildMethod": "makefile", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"] == "layers/hubqbo/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
    makefile = (ROOT / "layers" / "hubqbo" / "Makefile").read_text()
    assert "build-SharedLayer:" in makefile
    assert "--python-version 3.12" in makefile
    assert "--platform manylinux2014_aarch64" in makefile


def test_every_sqs_event_reports_batch_item_failures():
    sources = APP.queue_sources
    assert sources, "the worker must consume the sync queue"
    assert all(source.reports_item_failures for source in sources)


def scheduler_dead_letter_targets() -> set[str]:
    """Queues that take failed schedules (Scheduler's DeadLetterConfig) or failed async runs (OnFailure)."""
    targets = set()
    for function in functions().values():
        props = function["Properties"]
        on_failure = props.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure")
        if on_failure:
            targets.add(on_failure["Destination"]["Fn::GetAtt"][0])
        for event in props.get("Events", {}).values():
            if "DeadLetterConfig" in event.get("Properties", {}):
                targets.add(event["Properties"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0])
    return targets


def test_every_queue_has_a_dead_letter_queue_after_five_receives():
    queues = APP.resources_of_type("AWS::SQS::Queue")
    dead_letter_targets = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q.get("Properties", {})
    } | scheduler_dead_letter_targets()
    for logical_id, queue in queues.items():
        if logical_id in dead_letter_targets:
            continue
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["maxReceiveCount"] == 5, logical_id
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in queues


def test_queue_visibility_is_at_least_six_times_its_consumers_timeout():
    for source in APP.queue_sources:
        visibility = RESOURCES[source.queue]["Properties"]["VisibilityTimeout"]
        assert visibility >= 6 * function_timeout(source.function), source.queue


def iam_statements():
    for logical_id, function in functions().items():
        for policy in function["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                yield logical_id, statement


def test_no_policy_grants_a_wildcard_resource():
    statements = list(iam_statements())
    assert statements, "functions declare inline statements"
    for logical_id, statement in statements:
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert "*" not in resources, logical_id
        assert all(not str(r).endswith(":*") for r in resources), logical_id
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in action for action in actions), logical_id


def test_webhook_intake_reads_nothing_and_writes_only_large_deliveries():
    """The intake queues a delivery whole: the fan-out lookup (GSI) and the sync log are the worker's."""
    statements = [s for logical_id, s in iam_statements() if logical_id == "WebhooksFunction"]
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert actions == {"dynamodb:BatchWriteItem"}
    (statement,) = statements
    assert "index" not in str(statement["Resource"])
    assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["DELIVERY#*"]}}


def test_function_policies_are_sam_templates_scoped_to_our_resources():
    for logical_id, function in functions().items():
        for policy in function["Properties"].get("Policies", []):
            assert isinstance(policy, dict), f"{logical_id} uses a managed policy name: {policy}"
            for name, args in policy.items():
                if name != "Statement":
                    assert args, f"{logical_id}: {name} must be scoped to a resource"


def test_every_route_belongs_to_a_function_whose_code_defines_the_handler():
    assert APP.routes
    for route in APP.routes:
        function = APP.functions[route.function]
        source = (function.code_uri / "app.py").read_text()
        defined = {n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}
        assert function.handler == "app.lambda_handler" and "lambda_handler" in defined, route


def test_routes_are_unique():
    keys = [route.route_key for route in APP.routes]
    assert len(keys) == len(set(keys))


def test_table_has_keys_gsi_ttl_recovery_and_is_retained():
    table = RESOURCES["AppTable"]
    props = table["Properties"]
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
    assert len(props["GlobalSecondaryIndexes"]) == 1
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_table_is_protected_and_what_decrypts_it_survives_stack_deletion():
    """A retained table whose key or app secret was deleted holds tokens nobody can use again."""
    assert RESOURCES["AppTable"]["Properties"]["DeletionProtectionEnabled"] is True
    for logical_id in ("AppTable", "TokenKey", "AppSecret"):
        assert RESOURCES[logical_id]["DeletionPolicy"] == RESOURCES[logical_id]["UpdateReplacePolicy"] == "Retain"
    stateful = ("AWS::SQS::Queue", "AWS::KMS::Key", "AWS::Logs::LogGroup", "AWS::SecretsManager::Secret")
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] in stateful:
            assert resource.get("DeletionPolicy") in ("Retain", "Delete"), f"{logical_id}: choose explicitly"


def test_token_key_rotates_and_secret_carries_no_value():
    assert RESOURCES["TokenKey"]["Properties"]["EnableKeyRotation"] is True
    secret = RESOURCES["AppSecret"]["Properties"]
    assert "SecretString" not in secret and "GenerateSecretString" not in secret


@pytest.mark.parametrize("schedule", APP.schedules, ids=lambda s: s.event)
def test_schedules_are_named_from_the_stack_and_send_a_job_the_scheduler_knows(schedule):
    props = functions()[schedule.function]["Properties"]["Events"][schedule.event]["Properties"]
    assert "${AWS::StackName}" in props["Name"]["Fn::Sub"]
    ScheduledJob.model_validate(json.loads(schedule.input))


def test_dead_letter_queue_depth_raises_an_alarm():
    alarm = RESOURCES["DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["SyncDeadLetterQueue", "QueueName"]}
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"


def test_outputs_give_the_urls_to_register_with_hubspot_and_intuit():
    outputs = APP.template["Outputs"]
    assert outputs["HubSpotRedirectUrl"]["Value"]["Fn::Sub"].endswith("/oauth/hubspot/callback")
    assert outputs["QboRedirectUrl"]["Value"]["Fn::Sub"].endswith("/oauth/qbo/callback")
    assert outputs["QboWebhookUrl"]["Value"]["Fn::Sub"].endswith("/webhooks/qbo")
    assert any(r.route_key == "POST /webhooks/qbo" for r in APP.routes)


def test_rate_schedules_are_understood_by_the_local_scheduler():
    assert rate_seconds("rate(15 minutes)") == 900
    assert rate_seconds("rate(1 day)") == 86400
    assert rate_seconds("cron(0 8 * * ? *)") is None


def test_every_job_a_schedule_may_send_has_a_runner():
    from typing import get_args

    from hubqbo.services.jobs import JOBS, JobName

    assert set(JOBS) == set(get_args(JobName))


def alarms() -> dict:
    return APP.resources_of_type("AWS::CloudWatch::Alarm")


def test_every_alarm_notifies_the_topic_under_a_key_cloudwatch_may_use():
    assert alarms()
    for logical_id, alarm in alarms().items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], logical_id
    key_ref = RESOURCES["AlarmTopic"]["Properties"]["KmsMasterKeyId"]
    assert key_ref == {"Ref": "AlarmKey"}  # alias/aws/sns would silently drop CloudWatch's notifications
    statements = RESOURCES["AlarmKey"]["Properties"]["KeyPolicy"]["Statement"]
    cloudwatch = [s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert cloudwatch and {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(cloudwatch[0]["Action"])


def test_every_function_has_an_errors_and_a_throttles_alarm():
    watched = {
        (a["Properties"]["MetricName"], a["Properties"]["Dimensions"][0]["Value"]["Ref"])
        for a in alarms().values()
        if a["Properties"]["Namespace"] == "AWS/Lambda"
    }
    for logical_id in functions():
        assert {("Errors", logical_id), ("Throttles", logical_id)} <= watched


def test_api_5xx_queue_age_and_schedule_failures_raise_alarms():
    by_metric = {(a["Properties"]["Namespace"], a["Properties"]["MetricName"]): a for a in alarms().values()}
    assert ("AWS/ApiGateway", "5xx") in by_metric
    assert ("AWS/SQS", "ApproximateAgeOfOldestMessage") in by_metric
    depth_alarms = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in alarms().values()
        if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    assert depth_alarms == {"SyncDeadLetterQueue", *scheduler_dead_letter_targets()}


def test_alarms_on_our_own_metrics_watch_names_the_code_publishes():
    """A renamed metric would leave its alarm watching nothing, forever 'OK'."""
    sources = "\n".join(
        path.read_text() for folder in ("functions", "layers/hubqbo/hubqbo") for path in (ROOT / folder).rglob("*.py")
    )
    ours = [a["Properties"] for a in alarms().values() if a["Properties"]["Namespace"] == "hubqbo"]
    assert {p["MetricName"] for p in ours} >= {"RateLimited", "awaiting_reconnect", "near_hard_expiry"}
    for props in ours:
        assert f'"{props["MetricName"]}"' in sources or f"{props['MetricName']}:" in sources, props["MetricName"]


def test_every_function_logs_json_to_its_own_group_that_expires():
    logging_config = GLOBAL_FUNCTION["LoggingConfig"]
    assert logging_config["LogFormat"] == "JSON"
    groups = APP.resources_of_type("AWS::Logs::LogGroup")
    for logical_id, function in functions().items():
        group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert groups[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
    access = RESOURCES["Api"]["Properties"]["AccessLogSettings"]
    assert access["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogs", "Arn"]}
    assert "queryString" not in access["Format"] and "body" not in access["Format"]  # OAuth codes stay out
    assert json.loads(access["Format"].replace("\n", ""))["status"] == "$context.status"


@pytest.mark.parametrize("schedule", APP.schedules, ids=lambda s: s.event)
def test_schedules_retry_then_park_their_failures(schedule):
    props = functions()[schedule.function]["Properties"]["Events"][schedule.event]["Properties"]
    assert props["RetryPolicy"]["MaximumRetryAttempts"] >= 1
    assert props["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}
    on_failure = functions()[schedule.function]["Properties"]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["SchedulerDeadLetterQueue", "Arn"]}}


def test_dashboard_is_valid_json_and_shows_the_figures_that_matter():
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    titles = " / ".join(w["properties"]["title"] for w in widgets)
    for figure in ("Changes applied", "calls per change", "Dead-letter", "latency", "per portal"):
        assert figure.lower() in titles.lower(), figure
