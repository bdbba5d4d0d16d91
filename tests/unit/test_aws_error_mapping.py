"""The one AWS error mapping (fraud_jlab.aws.errors): every part classifies codes alike."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from fraud_jlab.aws import ACCESS_DENIED_CODES, aws_error, is_server_error
from fraud_jlab.errors import AccessDenied, AwsOperationError, NotFoundError


def _error(code: str, status: int = 400, message: str = "boom") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "SomeOperation",
    )


@pytest.mark.parametrize("code", sorted(ACCESS_DENIED_CODES))
def test_every_access_denied_code_is_access_denied_with_the_step(code: str) -> None:
    err = aws_error(
        _error(code, 403), "doing it was denied", step="do_it", production_unchanged=True
    )
    assert isinstance(err, AccessDenied) and isinstance(err, AwsOperationError)
    assert err.step == "do_it" and err.aws_error_code == code and err.production_unchanged is True


def test_not_found_only_when_the_caller_names_the_object() -> None:
    missing = _error("ValidationException", message="Could not find endpoint x")
    assert isinstance(aws_error(missing, "m", step="s", not_found=("endpoint", "x")), NotFoundError)
    assert type(aws_error(missing, "m", step="s")) is AwsOperationError


def test_5xx_and_throttling_are_aws_operation_errors() -> None:
    assert is_server_error(_error("Whatever", 503))
    for exc in (_error("InternalError", 500), _error("ThrottlingException")):
        err = aws_error(exc, "m", step="s")
        assert (
            type(err) is AwsOperationError and err.aws_error_code == exc.response["Error"]["Code"]
        )


def test_datasets_tuning_and_abtest_deny_alike() -> None:
    # Each of these once kept its own list: S3 AllAccessDisabled was unknown to tuning and
    # A/B testing, AccessDeniedException unknown to data sets; A/B testing had none.
    from fraud_jlab.abtest.compare import _invoke
    from fraud_jlab.datasets.storage import _parse, _s3_error
    from fraud_jlab.tuning.sagemaker_amt import _aws_error

    class _Runtime:
        def invoke_endpoint(self, **_: object) -> None:
            raise _error("AccessDeniedException", 403)

    for code in ("AllAccessDisabled", "AccessDeniedException"):
        assert isinstance(
            _s3_error(_error(code), _parse("s3://b/k.csv"), "s3:GetObject"), AccessDenied
        )
        assert isinstance(
            _aws_error(_error(code), "CreateHyperParameterTuningJob", "j"), AccessDenied
        )
    with pytest.raises(AccessDenied):
        _invoke(_Runtime(), "ep", "1,2", "id-1")
