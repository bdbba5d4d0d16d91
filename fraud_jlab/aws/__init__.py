"""The one AWS layer: boto3 clients (injected, cached per region) and the error mapping.

``fraud_jlab.aws.clients`` makes the clients (:func:`client`, :func:`error_code`);
``fraud_jlab.aws.errors`` turns a botocore failure into the domain error of
:mod:`fraud_jlab.errors` with one list of codes per kind (access denied, not found,
throttling, 5xx). Every part that talks to AWS imports from here.
"""

from __future__ import annotations

from fraud_jlab.aws.clients import boto_config, client, error_code
from fraud_jlab.aws.errors import (
    ACCESS_DENIED_CODES,
    AWS_ERRORS,
    NOT_FOUND_CODES,
    PRECONDITION_CODES,
    SERVER_ERROR_CODES,
    THROTTLING_CODES,
    amended,
    aws_error,
    describe_aws_error,
    is_access_denied,
    is_not_found,
    is_server_error,
    is_throttled,
    map_aws_error,
)

__all__ = [
    "ACCESS_DENIED_CODES",
    "AWS_ERRORS",
    "NOT_FOUND_CODES",
    "PRECONDITION_CODES",
    "SERVER_ERROR_CODES",
    "THROTTLING_CODES",
    "amended",
    "aws_error",
    "boto_config",
    "client",
    "describe_aws_error",
    "error_code",
    "is_access_denied",
    "is_not_found",
    "is_server_error",
    "is_throttled",
    "map_aws_error",
]
