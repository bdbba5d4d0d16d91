"""Who approves a production change: one resolution for REST, sidebar, widgets and ``%fraud``.

The ledger must name a person. :func:`resolve_identity` looks, in this order, at

1. the authenticated Jupyter user, unless it is jupyter-server's made-up anonymous identity
   (the handler says which; a kernel knows the JupyterHub user from ``JUPYTERHUB_USER``);
2. SageMaker Studio's resource metadata file (``FraudJlab.studio_metadata_file``): its
   ``UserProfileName``, recorded with the ``ExecutionRoleArn`` when present;
3. the configured ``c.FraudJlab.approver`` (or ``FRAUD_JLAB_APPROVER``);

and otherwise finds nobody: :meth:`Identity.require` then raises
:class:`fraud_jlab.errors.AccessDenied` with a message saying how to set an identity.
Dry runs never need one.

Example::

    identity = resolve_identity(JupyterUser("alice", anonymous=False), settings=settings)
    approver = identity.require()   # "alice"
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from fraud_jlab.config import FraudJlab
from fraud_jlab.errors import AccessDenied

IdentitySource = Literal["jupyter", "sagemaker-studio", "config", "none"]

#: What a dry run records as ``approved_by`` in the planned config when nobody is identified.
DRY_RUN_APPROVER = "(no approver identified: dry run only)"

#: Longest approver name accepted from any source (characters).
MAX_APPROVER_LENGTH = 250


@dataclass(frozen=True)
class JupyterUser:
    """What the caller knows of the Jupyter user.

    ``anonymous`` is True for jupyter-server's generated identity (a random id under a
    shared token or with authentication disabled): it changes per browser session and
    names nobody.
    """

    username: str
    anonymous: bool
    display_name: str = ""


class Identity(BaseModel):
    """The resolved approver (``GET identity``)."""

    approver: str | None = Field(
        description="The name recorded in the ledger; null when nobody could be identified."
    )
    source: IdentitySource = Field(
        description="Where the name came from: jupyter, sagemaker-studio, config, or none."
    )
    role_arn: str | None = Field(
        default=None, description="SageMaker Studio execution role, when known."
    )
    can_change_production: bool = Field(
        description="False when nobody is identified: only dry runs are allowed."
    )
    message: str = Field(description="One sentence for the user: who approves, or how to set it.")

    def require(self) -> str:
        """The approver name; raises AccessDenied (with how to set one) when nobody is identified."""
        if self.approver is None:
            raise AccessDenied(self.message)
        return self.approver

    def approver_or_dry_run(self) -> str:
        """The approver name, or the dry-run placeholder (plans only, never a real change)."""
        return self.approver if self.approver is not None else DRY_RUN_APPROVER


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text:
        return None
    return text[:MAX_APPROVER_LENGTH]


def read_studio_metadata(path: str | os.PathLike[str]) -> tuple[str, str | None] | None:
    """``(UserProfileName, ExecutionRoleArn or None)`` from Studio's metadata file, or None.

    None when the file is absent, unreadable, not JSON, or names no user profile (a shared
    space or a notebook instance names no person).
    """
    try:
        raw = Path(path).read_text(encoding="utf-8")
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    profile = _clean(data.get("UserProfileName"))
    if profile is None:
        return None
    return profile, _clean(data.get("ExecutionRoleArn"))


def _kernel_user() -> JupyterUser | None:
    hub_user = _clean(os.environ.get("JUPYTERHUB_USER"))
    return JupyterUser(hub_user, anonymous=False) if hub_user else None


def how_to_set_identity(settings: FraudJlab) -> str:
    """The refusal message: why nobody was identified and the ways to fix it."""
    return (
        "Production changes need a named approver for the audit ledger, and none was found: "
        "the Jupyter user is anonymous (or unknown), there is no SageMaker Studio user profile "
        f"in {settings.studio_metadata_file}, and c.FraudJlab.approver is not set. Set one with "
        "c.FraudJlab.approver = 'Your Name' in jupyter_server_config.py (or the environment "
        "variable FRAUD_JLAB_APPROVER for the server and kernels), or log in to Jupyter with a "
        "named identity (JupyterHub, SageMaker Studio). Dry runs work without an approver; "
        "nothing was written."
    )


def resolve_identity(
    jupyter_user: JupyterUser | None,
    *,
    settings: FraudJlab,
    use_kernel_environment: bool = False,
) -> Identity:
    """Resolve who approves production changes (see the module docstring for the order).

    ``jupyter_user`` is what the server handler knows; ``use_kernel_environment`` (the magic,
    widgets) reads the JupyterHub user of the kernel's environment instead when it is None.
    Never raises; call :meth:`Identity.require` to refuse when nobody is identified.
    """
    user = jupyter_user
    if user is None and use_kernel_environment:
        user = _kernel_user()
    if user is not None and not user.anonymous:
        name = _clean(user.username) or _clean(user.display_name)
        if name is not None:
            return Identity(
                approver=name,
                source="jupyter",
                can_change_production=True,
                message=f"Production changes are recorded as approved by Jupyter user {name}.",
            )
    studio = read_studio_metadata(settings.studio_metadata_file)
    if studio is not None:
        profile, role = studio
        approver = f"{profile} ({role})" if role else profile
        return Identity(
            approver=approver,
            source="sagemaker-studio",
            role_arn=role,
            can_change_production=True,
            message=(
                f"Production changes are recorded as approved by SageMaker Studio user profile "
                f"{profile}" + (f" with execution role {role}." if role else ".")
            ),
        )
    configured = _clean(settings.approver)
    if configured is not None:
        return Identity(
            approver=configured,
            source="config",
            can_change_production=True,
            message=(
                f"Production changes are recorded as approved by {configured} "
                "(c.FraudJlab.approver)."
            ),
        )
    return Identity(
        approver=None,
        source="none",
        can_change_production=False,
        message=how_to_set_identity(settings),
    )


def resolve_approver(
    jupyter_user: JupyterUser | None,
    *,
    settings: FraudJlab,
    use_kernel_environment: bool = False,
) -> str:
    """The approver's name for a production change; raises AccessDenied naming how to set one."""
    return resolve_identity(
        jupyter_user, settings=settings, use_kernel_environment=use_kernel_environment
    ).require()


__all__ = [
    "DRY_RUN_APPROVER",
    "Identity",
    "IdentitySource",
    "JupyterUser",
    "how_to_set_identity",
    "read_studio_metadata",
    "resolve_approver",
    "resolve_identity",
]
