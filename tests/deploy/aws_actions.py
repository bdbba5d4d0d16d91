"""The IAM actions fraud_jlab's code calls, derived from its boto3 call sites (AST scan).

Services: every ``client("<service>")`` / ``aws_client("<service>")`` string in the scanned
code. Call sites: every attribute ``<receiver>.<name>`` (called, or passed on as in
``aws_step(step, "ssm", self.ssm.get_parameters, ...)``) whose name is an operation of one
of those services in botocore's model, plus ``get_waiter("name")`` arguments. The receiver
says which client it is (``self.ssm``, ``self.sfn_client``, ``sm``...: ``RECEIVERS``);
receivers that are not boto3 clients are listed in ``NOT_CLIENTS`` with why, so a call on
an unknown receiver fails the test instead of slipping through. Each operation maps to its
IAM action (``IAM_NAMES`` for S3 operations whose action is named differently).
"""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2] / "fraud_jlab"
#: Code that only runs against the local emulator (it provisions what real accounts get
#: from deploy/studio.yaml): not part of what a Studio user's role needs.
EXCLUDED = ("demo/",)
CLIENT_FACTORIES = {"client", "aws_client"}
#: Methods taking ``(service, operation name, **kwargs)`` that call the client's operation
#: (the SageMaker Experiments tracker's retrying ``_call``).
DISPATCHERS = {"_call"}
#: Last name of a receiver (without leading "_" and a trailing "_client") -> its service.
RECEIVERS = {
    "s3": "s3",
    "ssm": "ssm",
    "sfn": "stepfunctions",
    "sagemaker": "sagemaker",
    "sm": "sagemaker",
    "runtime": "sagemaker-runtime",
    "sts": "sts",
    "cloudwatch": "cloudwatch",
}
#: Receivers with a method named like an AWS operation that are not boto3 clients.
NOT_CLIENTS = {
    "re": "regular expressions (search)",
    "_SURROGATE": "a compiled regular expression",
    "_NAME_TAIL": "a compiled regular expression",
    "self._client": "mlflow.MlflowClient in tracking/mlflow_store.py",
    "self.tracker": "the TrackerStore",
    "self.store": "ProductionStore: its methods call the ssm/s3 clients (scanned)",
    "store": "ProductionStore: its methods call the ssm/s3 clients (scanned)",
}
IAM_PREFIX = {
    "stepfunctions": "states",
    "sagemaker-runtime": "sagemaker",
    "cloudwatch": "cloudwatch",  # botocore signs as "monitoring"; IAM says "cloudwatch"
}
IAM_NAMES = {
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjects": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:CopyObject": "s3:PutObject",
}
#: Operations that hand an IAM role to SageMaker, which needs iam:PassRole on that role.
PASSES_ROLE = {
    "sagemaker:CreateModel",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateHyperParameterTuningJob",
}


def _files() -> list[Path]:
    return [
        p
        for p in sorted(ROOT.rglob("*.py"))
        if not any(p.relative_to(ROOT).as_posix().startswith(e) for e in EXCLUDED)
    ]


def _receiver(node: ast.expr) -> str:
    """The receiver's name; a client made in place (``boto3.client("sts")``) reads "sts"."""
    if isinstance(node, ast.Call) and node.args:
        func, first = node.func, node.args[0]
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in CLIENT_FACTORIES and isinstance(first, ast.Constant):
            return str(first.value)
    return ast.unparse(node)


def _service_of(receiver: str) -> str | None:
    last = receiver.rsplit(".", 1)[-1].lstrip("_")
    last = last.removesuffix("_client")
    return RECEIVERS.get(last)


def call_sites() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """({service: operation names}, {unclassified receiver: method names}) of the code."""
    session = botocore.session.get_session()
    services: set[str] = set()
    attributes: list[tuple[str, str]] = []
    waiters: set[str] = set()
    #: (service, string constants of the file): files whose calls go through a dispatcher
    #: ``_call("<service>", "<operation>" or a variable, ...)``; the operation names are the
    #: file's string constants that name an operation of that service.
    dispatched: list[tuple[str, set[str]]] = []
    for path in _files():
        tree = ast.parse(path.read_text(), str(path))
        strings = {
            n.value
            for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and node.args:
                func, first = node.func, node.args[0]
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    if name in CLIENT_FACTORIES:
                        services.add(first.value)
                    elif name == "get_waiter":
                        waiters.add(first.value)
                    elif name in DISPATCHERS:
                        services.add(first.value)
                        dispatched.append((first.value, strings))
            if isinstance(node, ast.Attribute):
                attributes.append((_receiver(node.value), node.attr))
    operations = {
        s: {xform_name(op): op for op in session.get_service_model(s).operation_names}
        for s in services
    }
    all_ops = {m for ops in operations.values() for m in ops}
    found: dict[str, set[str]] = {s: set() for s in services}
    unknown: dict[str, set[str]] = {}
    for service, strings in dispatched:
        found[service].update(op for name, op in operations[service].items() if name in strings)
    for receiver, attr in attributes:
        if attr not in all_ops or receiver in NOT_CLIENTS:
            continue
        service = _service_of(receiver)
        if service in operations and attr in operations[service]:
            found[service].add(operations[service][attr])
        else:
            unknown.setdefault(receiver, set()).add(attr)
    for service in services:
        loader = session.get_component("data_loader")
        if waiters and service in loader.list_available_services("waiters-v2"):
            model = session.get_waiter_model(service)
            for waiter in waiters:
                camel = "".join(part.title() for part in waiter.split("_"))
                if camel in model.waiter_names:
                    found[service].add(model.get_waiter(camel).operation)
    return found, unknown


def derived_actions() -> set[str]:
    """Every IAM action the scanned code's boto3 calls need."""
    found, _ = call_sites()
    session = botocore.session.get_session()
    actions: set[str] = set()
    for service, ops in found.items():
        model = session.get_service_model(service)
        prefix = IAM_PREFIX.get(service, model.signing_name or service)
        actions.update(IAM_NAMES.get(f"{prefix}:{op}", f"{prefix}:{op}") for op in ops)
    if actions & PASSES_ROLE:
        actions.add("iam:PassRole")
    return actions
