"""Expressions of a SageMaker pipeline definition, evaluated the way the service does."""

from __future__ import annotations

import pytest

from keel.local.runner.expressions import (
    ExecutionContext,
    ExpressionError,
    evaluate,
    evaluate_condition,
    json_get,
)


@pytest.fixture
def context() -> ExecutionContext:
    documents = {("Evaluate", "Evaluation"): {"metrics": {"accuracy": {"value": 0.61}}, "list": [1, 2]}}
    return ExecutionContext(
        parameters={"MinAccuracy": 0.5, "InputDataUri": "s3://raw/x.csv"},
        execution={"PipelineExecutionId": "abc123"},
        steps={
            "Evaluate": {
                "ProcessingOutputConfig": {"Outputs": {"evaluation": {"S3Output": {"S3Uri": "s3://r/e"}}}}
            },
            "Train": {"ModelArtifacts": {"S3ModelArtifacts": "s3://a/model.tar.gz"}},
        },
        property_file_loader=lambda step, name: documents[(step, name)],
    )


def test_get_parameters_steps_and_execution(context: ExecutionContext) -> None:
    assert evaluate({"Get": "Parameters.MinAccuracy"}, context) == 0.5
    assert evaluate({"Get": "Execution.PipelineExecutionId"}, context) == "abc123"
    assert evaluate({"Get": "Steps.Train.ModelArtifacts.S3ModelArtifacts"}, context) == "s3://a/model.tar.gz"
    uri = {"Get": "Steps.Evaluate.ProcessingOutputConfig.Outputs['evaluation'].S3Output.S3Uri"}
    assert evaluate(uri, context) == "s3://r/e"


def test_join_and_nested_structures(context: ExecutionContext) -> None:
    value = {
        "A": [{"Std:Join": {"On": "/", "Values": ["s3://b", {"Get": "Execution.PipelineExecutionId"}, 1]}}],
        "B": True,
    }
    assert evaluate(value, context) == {"A": ["s3://b/abc123/1"], "B": True}


def test_json_get_reads_the_property_file(context: ExecutionContext) -> None:
    expression = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
            "Path": "metrics.accuracy.value",
        }
    }
    assert evaluate(expression, context) == 0.61
    assert json_get({"list": [1, 2]}, "list[1]") == 2


def test_conditions(context: ExecutionContext) -> None:
    accuracy = {
        "Std:JsonGet": {
            "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
            "Path": "metrics.accuracy.value",
        }
    }
    passing = {
        "Type": "GreaterThanOrEqualTo",
        "LeftValue": accuracy,
        "RightValue": {"Get": "Parameters.MinAccuracy"},
    }
    assert evaluate_condition(passing, context) is True
    assert evaluate_condition({"Type": "Not", "Expression": passing}, context) is False
    assert evaluate_condition({"Type": "Equals", "LeftValue": True, "RightValue": True}, context) is True
    assert (
        evaluate_condition(
            {"Type": "Or", "Conditions": [{"Type": "LessThan", "LeftValue": 2, "RightValue": 1}, passing]},
            context,
        )
        is True
    )


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ({"Get": "Parameters.Nope"}, "unknown parameter 'Nope'"),
        ({"Get": "Steps.Later.Properties"}, "step 'Later' has not run"),
        ({"Get": "Steps.Train.ModelArtifacts.Missing"}, "no such property"),
        ({"Get": "Weird.Thing"}, "unsupported reference"),
        (
            {
                "Std:JsonGet": {
                    "PropertyFile": {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"},
                    "Path": "metrics.f1",
                }
            },
            "no such property",
        ),
    ],
)
def test_errors_name_the_reference(context: ExecutionContext, expression: dict, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        evaluate(expression, context)
