"""Load and save data sets from local paths or S3 (CSV or Parquet, chosen by extension).

S3 failures are translated into errors that tell the data scientist what to
check, following the design's error-handling table:

==========================  ==============================================
S3 error                    raised
==========================  ==============================================
NoSuchKey / 404             ``FileNotFoundError`` (data preparation not run?)
NoSuchBucket                ``ValueError`` (AWS configuration / bucket name)
403 / AccessDenied          :class:`fraud_jlab.errors.AccessDenied` (a ``PermissionError``)
anything else               :class:`fraud_jlab.errors.AwsOperationError` (a ``RuntimeError``)
==========================  ==============================================
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from fraud_jlab.aws import aws_error, error_code, is_access_denied, is_not_found
from fraud_jlab.errors import ValidationError

#: Extensions understood by :func:`load_dataset` / :func:`save_dataset`, and the format each means.
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_ALLOWED = ", ".join(FORMATS)


@dataclass(frozen=True)
class _Location:
    uri: str
    fmt: str
    bucket: str | None = None
    key: str | None = None
    path: Path | None = None


def _parse(uri: object) -> _Location:
    if not isinstance(uri, (str, Path)) or not str(uri).strip():
        raise ValidationError("uri must be a non-empty local path or s3://bucket/key", field="uri")
    text = str(uri).strip()
    lowered = text.lower()
    fmt = next((f for ext, f in FORMATS.items() if lowered.endswith(ext)), None)
    if fmt is None:
        raise ValidationError(
            f"Unsupported data file {text!r}: the extension must be one of {_ALLOWED}",
            field="uri",
        )
    if lowered.startswith("s3://"):
        bucket, _, key = text[5:].partition("/")
        if not bucket or not key:
            raise ValidationError(f"S3 uri {text!r} must look like s3://bucket/key", field="uri")
        return _Location(text, fmt, bucket=bucket, key=key)
    if "://" in text and not lowered.startswith("file://"):
        raise ValidationError(f"uri {text!r} must be a local path or s3://bucket/key", field="uri")
    path = Path(text[7:] if lowered.startswith("file://") else text).expanduser()
    return _Location(text, fmt, path=path)


def _compression(loc: _Location) -> Literal["gzip"] | None:
    return "gzip" if loc.uri.lower().endswith(".gz") else None


def _not_found(uri: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"Data file not found: {uri}. Ensure the data preparation pipeline has run successfully."
    )


def _s3_error(exc: Exception, loc: _Location, action: str) -> Exception:
    code = error_code(exc)
    if code == "NoSuchBucket":
        return ValueError(
            f"S3 bucket does not exist: {loc.bucket}. Check your AWS configuration and bucket name."
        )
    if is_not_found(exc):
        return _not_found(loc.uri)
    if is_access_denied(exc):
        message = f"Access denied to {loc.uri}. Ensure your IAM role has {action} permission for this bucket."
        return aws_error(exc, message, step=action)
    return aws_error(exc, f"S3 error: {exc}", step=action)


def _read_bytes(loc: _Location, s3_client: Any) -> bytes:
    if loc.path is not None:
        if not loc.path.is_file():
            raise _not_found(loc.uri)
        return loc.path.read_bytes()
    if s3_client is None:
        from fraud_jlab.aws import client

        s3_client = client("s3")
    try:
        response = s3_client.get_object(Bucket=loc.bucket, Key=loc.key)
        return bytes(response["Body"].read())
    except Exception as exc:
        if not error_code(exc):
            raise
        raise _s3_error(exc, loc, "s3:GetObject") from exc


def load_dataset(uri: str, *, s3_client: Any = None) -> pd.DataFrame:
    """Read a CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``, ``.pq``) data set.

    ``uri`` is a local path or ``s3://bucket/key`` (read with ``s3_client``, default
    ``fraud_jlab.aws.client("s3")``). Raises ``FileNotFoundError`` (missing file or key),
    ``ValueError`` (missing bucket), :class:`~fraud_jlab.errors.AccessDenied` (no
    ``s3:GetObject``), :class:`~fraud_jlab.errors.AwsOperationError` (other S3 errors) and
    :class:`~fraud_jlab.errors.ValidationError` for an unsupported extension or an empty
    or unreadable file.

    Example: ``df = load_dataset("s3://fraud-detection-data/datasets/creditcard.parquet")``.
    """
    loc = _parse(uri)
    data = _read_bytes(loc, s3_client)
    if not data:
        raise ValidationError(
            f"Data file {loc.uri} is empty; expected a non-empty {_ALLOWED} file", field="uri"
        )
    try:
        if loc.fmt == "parquet":
            frame = pd.read_parquet(io.BytesIO(data))
        else:
            frame = pd.read_csv(io.BytesIO(data), compression=_compression(loc))
    except Exception as exc:  # pyarrow / pandas raise many parser error types
        raise ValidationError(
            f"Data file {loc.uri} is not a readable {loc.fmt} file ({type(exc).__name__}: {exc}); "
            f"supported formats: {_ALLOWED}",
            field="uri",
        ) from exc
    if frame.empty:
        raise ValidationError(f"Data file {loc.uri} contains no rows", field="uri")
    return frame


def _encode(frame: pd.DataFrame, loc: _Location) -> bytes:
    buffer = io.BytesIO()
    if loc.fmt == "parquet":
        frame.to_parquet(buffer, index=False)
    else:
        frame.to_csv(buffer, index=False, compression=_compression(loc))
    return buffer.getvalue()


def save_dataset(frame: pd.DataFrame, uri: str, *, s3_client: Any = None) -> str:
    """Write ``frame`` to a local path or ``s3://bucket/key`` as CSV or Parquet; returns ``uri``.

    Raises :class:`~fraud_jlab.errors.ValidationError` for a non-DataFrame, an empty frame
    or an unsupported extension (nothing is written), and the same S3 errors as
    :func:`load_dataset` (naming ``s3:PutObject``).
    """
    loc = _parse(uri)
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(
            f"frame must be a pandas DataFrame, got {type(frame).__name__}", field="frame"
        )
    if frame.empty:
        raise ValidationError(
            "frame has no rows; refusing to write an empty data set", field="frame"
        )
    data = _encode(frame, loc)
    if loc.path is not None:
        loc.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = loc.path.with_name(loc.path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(loc.path)
        return loc.uri
    if s3_client is None:
        from fraud_jlab.aws import client

        s3_client = client("s3")
    try:
        s3_client.put_object(Bucket=loc.bucket, Key=loc.key, Body=data)
    except Exception as exc:
        if not error_code(exc):
            raise
        raise _s3_error(exc, loc, "s3:PutObject") from exc
    return loc.uri
