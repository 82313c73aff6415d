"""The workflow actions as HubSpot reads them from the project and as the backend reads their requests: one
contract per action."""

import pytest

from hubqbo.services import workflow_estimate, workflow_invoice
from infra.local.emulators.hubspot.project import load_project

# uid → (the model the backend reads the inputs with, the outputs it returns, its refusals, its route)
ACTIONS = {
    "hubqbo_create_invoice": (
        workflow_invoice.WorkflowInputs,
        workflow_invoice.OUTPUTS,
        workflow_invoice.ERROR_CODES,
        "/workflows/create-invoice",
    ),
    "hubqbo_create_estimate": (
        workflow_estimate.EstimateInputs,
        workflow_estimate.OUTPUTS,
        workflow_estimate.ERROR_CODES,
        "/workflows/create-estimate",
    ),
}


def _action(uid: str) -> dict:
    project = load_project("local")
    (config,) = [c["config"] for u, c in project.components.items() if c["type"] == "workflow-action" and u == uid]
    return config


def test_the_project_has_exactly_the_actions_the_backend_serves():
    project = load_project("local")
    assert {u for u, c in project.components.items() if c["type"] == "workflow-action"} == set(ACTIONS)


@pytest.mark.parametrize("uid", ACTIONS)
def test_the_actions_inputs_are_exactly_what_the_backend_reads(uid):
    model = ACTIONS[uid][0]
    names = {f["typeDefinition"]["name"] for f in _action(uid)["inputFields"]}
    assert names == set(model.model_fields)


@pytest.mark.parametrize("uid", ACTIONS)
def test_every_select_option_is_a_value_the_backend_accepts(uid):
    model = ACTIONS[uid][0]
    for field in _action(uid)["inputFields"]:
        definition = field["typeDefinition"]
        for option in definition.get("options") or []:
            model.model_validate({definition["name"]: option["value"]})  # raises if refused


@pytest.mark.parametrize("uid", ACTIONS)
def test_the_outputs_are_what_the_backend_returns_and_every_refusal_has_an_execution_rule(uid):
    _, outputs, codes, _ = ACTIONS[uid]
    config = _action(uid)
    assert [f["typeDefinition"]["name"] for f in config["outputFields"]] == list(outputs)
    ruled = {r["conditions"]["error_code"] for r in config["executionRules"]}
    assert ruled == {"", *codes}


@pytest.mark.parametrize("uid", ACTIONS)
def test_the_action_posts_to_its_route(uid):
    assert _action(uid)["actionUrl"].endswith(ACTIONS[uid][3])


@pytest.mark.parametrize("uid", ACTIONS)
def test_every_label_is_given_in_english_and_polish(uid):
    config = _action(uid)
    inputs = {f["typeDefinition"]["name"] for f in config["inputFields"]}
    outputs = {f["typeDefinition"]["name"] for f in config["outputFields"]}
    rules = {r["labelName"] for r in config["executionRules"]}
    for language in ("en", "pl"):
        labels = config["labels"][language]
        assert labels["actionName"] and labels["actionDescription"]
        assert set(labels["inputFieldLabels"]) == inputs
        assert set(labels["outputFieldLabels"]) == outputs
        assert set(labels["executionRules"]) == rules
        selects = {
            f["typeDefinition"]["name"]: {o["value"] for o in f["typeDefinition"]["options"]}
            for f in config["inputFields"]
            if f["typeDefinition"].get("options")
        }
        assert {k: set(v) for k, v in labels["inputFieldOptionLabels"].items()} == selects  # each option, worded


def test_both_actions_offer_the_same_fallbacks_for_a_product_quickbooks_does_not_have():
    def fallbacks(uid: str) -> list[str]:
        (field,) = [f for f in _action(uid)["inputFields"] if f["typeDefinition"]["name"] == "missing_item"]
        return [o["value"] for o in field["typeDefinition"]["options"]]

    assert fallbacks("hubqbo_create_invoice") == fallbacks("hubqbo_create_estimate")
    assert fallbacks("hubqbo_create_invoice") == ["fail", "default_item", "create_item"]
