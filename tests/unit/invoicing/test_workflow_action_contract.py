"""The workflow action as HubSpot reads it from the project and as the backend reads its requests: one contract."""

from hubqbo.services.workflow_invoice import ERROR_CODES, OUTPUTS, WorkflowInputs
from infra.local.emulators.hubspot.project import load_project


def _action() -> dict:
    project = load_project("local")
    (config,) = [c["config"] for c in project.components.values() if c["type"] == "workflow-action"]
    return config


def test_the_actions_inputs_are_exactly_what_the_backend_reads():
    names = {f["typeDefinition"]["name"] for f in _action()["inputFields"]}
    assert names == set(WorkflowInputs.model_fields)


def test_every_select_option_is_a_value_the_backend_accepts():
    for field in _action()["inputFields"]:
        definition = field["typeDefinition"]
        for option in definition.get("options") or []:
            WorkflowInputs.model_validate({definition["name"]: option["value"]})  # raises if refused


def test_the_outputs_are_what_the_backend_returns_and_every_refusal_has_an_execution_rule():
    config = _action()
    assert [f["typeDefinition"]["name"] for f in config["outputFields"]] == list(OUTPUTS)
    ruled = {r["conditions"]["error_code"] for r in config["executionRules"]}
    assert ruled == {"", *ERROR_CODES}
