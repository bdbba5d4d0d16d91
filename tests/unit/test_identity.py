"""Approver resolution: named Jupyter user, SageMaker Studio profile, configured approver, refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import AccessDenied
from fraud_jlab.identity import (
    DRY_RUN_APPROVER,
    JupyterUser,
    read_studio_metadata,
    resolve_approver,
    resolve_identity,
)

ANONYMOUS = JupyterUser(
    "2a41fabd5c9e4f0c8a1b2c3d4e5f6a7b", anonymous=True, display_name="Anonymous Io"
)
ROLE = "arn:aws:iam::123456789012:role/service-role/AmazonSageMaker-ExecutionRole-2026"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FraudJlab:
    monkeypatch.delenv("FRAUD_JLAB_APPROVER", raising=False)
    monkeypatch.delenv("FRAUD_JLAB_STUDIO_METADATA_FILE", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    return FraudJlab(studio_metadata_file=str(tmp_path / "absent" / "resource-metadata.json"))


def _studio_file(tmp_path: Path, **fields: str) -> str:
    path = tmp_path / "resource-metadata.json"
    metadata = {
        "AppType": "JupyterLab",
        "DomainId": "d-abc123def456",
        "ResourceArn": "arn:aws:sagemaker:us-east-1:123456789012:app/d-abc123def456/jane/jupyterlab/default",
        "ResourceName": "default",
    } | fields
    path.write_text(json.dumps(metadata))
    return str(path)


def test_anonymous_user_is_refused_with_how_to_set_an_identity(settings: FraudJlab) -> None:
    # Given an anonymous Jupyter user, no Studio metadata and no configured approver
    identity = resolve_identity(ANONYMOUS, settings=settings)

    # Then nobody is identified and a production change is refused with the fix
    assert identity.approver is None and identity.source == "none"
    assert not identity.can_change_production
    with pytest.raises(AccessDenied) as caught:
        identity.require()
    message = str(caught.value)
    assert "c.FraudJlab.approver" in message and "FRAUD_JLAB_APPROVER" in message
    assert "Dry runs work" in message
    # A dry run still gets a placeholder that is never a person's name
    assert identity.approver_or_dry_run() == DRY_RUN_APPROVER
    with pytest.raises(AccessDenied):
        resolve_approver(ANONYMOUS, settings=settings)


def test_named_jupyter_user_is_the_approver(settings: FraudJlab) -> None:
    settings.approver = "Configured Person"
    identity = resolve_identity(JupyterUser("alice", anonymous=False), settings=settings)
    assert identity.approver == "alice" and identity.source == "jupyter"
    assert identity.require() == "alice"


def test_studio_profile_name_and_role_when_jupyter_user_is_anonymous(
    settings: FraudJlab, tmp_path: Path
) -> None:
    # Given Studio's metadata file with a user profile and execution role
    settings.studio_metadata_file = _studio_file(
        tmp_path, UserProfileName="jane-doe", ExecutionRoleArn=ROLE
    )
    settings.approver = "Configured Person"

    identity = resolve_identity(ANONYMOUS, settings=settings)

    # Then the profile name (with the role) is the approver, ahead of the configured one
    assert identity.source == "sagemaker-studio"
    assert identity.approver == f"jane-doe ({ROLE})"
    assert identity.role_arn == ROLE
    assert "jane-doe" in identity.message and ROLE in identity.message


def test_studio_profile_without_role(settings: FraudJlab, tmp_path: Path) -> None:
    settings.studio_metadata_file = _studio_file(tmp_path, UserProfileName="jane-doe")
    assert resolve_approver(ANONYMOUS, settings=settings) == "jane-doe"


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        json.dumps({"SpaceName": "shared-space"}),
        json.dumps({"UserProfileName": "  "}),
    ],
)
def test_studio_metadata_without_a_person_is_ignored(
    settings: FraudJlab, tmp_path: Path, content: str
) -> None:
    path = tmp_path / "resource-metadata.json"
    path.write_text(content)
    assert read_studio_metadata(path) is None
    settings.studio_metadata_file = str(path)
    settings.approver = "Configured Person"
    assert resolve_identity(ANONYMOUS, settings=settings).source == "config"


def test_configured_approver(settings: FraudJlab) -> None:
    settings.approver = "  Jane   Doe <jane@example.com> "
    identity = resolve_identity(ANONYMOUS, settings=settings)
    assert identity.source == "config"
    assert identity.require() == "Jane Doe <jane@example.com>"


def test_configured_approver_from_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FRAUD_JLAB_APPROVER", "ops-oncall")
    monkeypatch.setenv("FRAUD_JLAB_STUDIO_METADATA_FILE", str(tmp_path / "none.json"))
    assert resolve_approver(None, settings=FraudJlab()) == "ops-oncall"


def test_kernel_uses_the_jupyterhub_user(
    settings: FraudJlab, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.approver = "Configured Person"
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-alice")
    assert resolve_approver(None, settings=settings, use_kernel_environment=True) == "hub-alice"
    # The server never reads the kernel's environment for the browser's user
    assert resolve_approver(None, settings=settings) == "Configured Person"


def test_os_login_is_never_the_approver(
    settings: FraudJlab, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The OS login (root in a container) names no person: without another source, refused
    monkeypatch.setenv("USER", "root")
    monkeypatch.setenv("LOGNAME", "root")
    with pytest.raises(AccessDenied):
        resolve_approver(None, settings=settings, use_kernel_environment=True)
