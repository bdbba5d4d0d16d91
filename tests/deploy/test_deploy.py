"""deploy/: the Studio CloudFormation template, its IAM policy (exactly what the code calls)
and the lifecycle configuration installing fraud_jlab."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_actions import NOT_CLIENTS, call_sites, derived_actions

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATE = DEPLOY / "studio.yaml"
LIFECYCLE = DEPLOY / "lifecycle-install-fraud-jlab.sh"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    from cfnlint.decode import cfn_yaml

    loaded: dict[str, Any] = cfn_yaml.load(str(TEMPLATE))
    return loaded


#: Actions with no resource-level permissions (IAM accepts only Resource "*" for them).
NO_RESOURCE_LEVEL = {
    "cloudwatch:GetMetricStatistics",
    "sagemaker:Search",
    "sagemaker:ListExperiments",
    "sts:GetCallerIdentity",
}


def _policy_actions(template: dict[str, Any]) -> set[str]:
    statements = template["Resources"]["FraudJlabPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    actions: set[str] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        if statement["Resource"] == "*" or "*" in statement["Resource"]:
            # only actions that IAM cannot scope to a resource may have "*"
            assert set(statement["Action"]) <= NO_RESOURCE_LEVEL, statement
        actions.update(statement["Action"])
    return actions


def test_every_call_site_is_on_a_known_boto3_client() -> None:
    _, unknown = call_sites()
    assert unknown == {}, (
        "receivers calling methods named like AWS operations: add them to RECEIVERS "
        f"(a boto3 client) or NOT_CLIENTS (not one) in tests/deploy/aws_actions.py: {unknown}"
    )
    assert len(NOT_CLIENTS) >= 1


def test_the_derivation_finds_the_promotion_calls() -> None:
    # the control: the scan sees the calls production depends on
    found, _ = call_sites()
    assert {"PutParameter", "GetParameters"} <= found["ssm"]
    assert {"PutObject", "GetObject", "HeadObject", "ListObjectsV2"} <= found["s3"]
    assert "StartExecution" in found["stepfunctions"]
    assert "DescribeEndpoint" in found["sagemaker"]  # through the endpoint_in_service waiter


def test_policy_grants_exactly_the_actions_the_code_calls(template: dict[str, Any]) -> None:
    granted = _policy_actions(template)
    needed = derived_actions()
    assert needed - granted == set(), f"missing from deploy/studio.yaml: {sorted(needed - granted)}"
    assert granted - needed == set(), f"granted but never called: {sorted(granted - needed)}"


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(TEMPLATE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_studio_domain_and_user_profile_follow_the_design(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    domain = resources["SageMakerStudioDomain"]
    assert domain["Type"] == "AWS::SageMaker::Domain"
    props = domain["Properties"]
    assert props["DomainName"] == "fraud-detection-experimentation"
    assert props["AuthMode"] == "IAM"
    role = {"Fn::GetAtt": ["SageMakerExecutionRole", "Arn"]}
    assert props["DefaultUserSettings"]["ExecutionRole"] == role
    profile = resources["DataScientistProfile"]
    assert profile["Type"] == "AWS::SageMaker::UserProfile"
    assert profile["Properties"]["DomainId"] == {
        "Fn::GetAtt": ["SageMakerStudioDomain", "DomainId"]
    }
    assert profile["Properties"]["UserSettings"]["ExecutionRole"] == role
    lab = props["DefaultUserSettings"]["JupyterLabAppSettings"]
    assert lab["LifecycleConfigArns"] == [
        {"Fn::GetAtt": ["InstallFraudJlab", "StudioLifecycleConfigArn"]}
    ]


def test_lifecycle_configuration_installs_fraud_jlab(template: dict[str, Any]) -> None:
    config = template["Resources"]["InstallFraudJlab"]["Properties"]
    assert config["StudioLifecycleConfigAppType"] == "JupyterLab"
    script = LIFECYCLE.read_text()
    assert config["StudioLifecycleConfigContent"] == {"Fn::Base64": script}
    assert "pip install" in script and "fraud_jlab" in script
    assert '"fraud_jlab": True' in script
    result = subprocess.run(["bash", "-n", str(LIFECYCLE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
