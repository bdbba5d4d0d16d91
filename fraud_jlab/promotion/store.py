"""The AWS production store: the six SSM parameters and the S3 config file, read and written.

Every AWS call goes through :func:`aws_step`, which raises the domain error of
``fraud_jlab.aws.errors`` (``AwsOperationError`` / ``AwsAccessDenied``) naming the
step, so the caller and the transaction know exactly which step failed.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import yaml

from fraud_jlab.aws import error_code
from fraud_jlab.aws.errors import AWS_ERRORS, NOT_FOUND_CODES, map_aws_error
from fraud_jlab.promotion.validation import REQUIRED_PARAMS

CONFIG_KEY = "production-model-config.yaml"
ARCHIVE_PREFIX = "archive/"
BACKUP_PREFIX = "parameter-store-backups/"

T = TypeVar("T")


def aws_step(step: str, service: str, bucket: str | None, fn: Callable[..., T], **kwargs: Any) -> T:
    """Call ``fn(**kwargs)``; a botocore error is raised as the mapped domain error."""
    try:
        return fn(**kwargs)
    except AWS_ERRORS as exc:
        raise map_aws_error(exc, service=service, step=step, bucket=bucket) from exc


def stamp(moment: datetime) -> str:
    """``YYYYmmdd-HHMMSS`` in UTC, the timestamp used in backup and archive keys."""
    return moment.strftime("%Y%m%d-%H%M%S")


def unique_suffix() -> str:
    """12 hex characters so keys written within one second never collide."""
    return secrets.token_hex(6)


def dump_config(config: Mapping[str, Any]) -> bytes:
    """The YAML bytes of a config; deterministic, so a stored config re-dumps byte-identically."""
    return yaml.safe_dump(dict(config), sort_keys=False).encode()


@dataclass(frozen=True)
class Snapshot:
    """The production state at one moment (values, SSM versions, config bytes and ETag)."""

    values: dict[str, str | None]
    versions: dict[str, int | None]
    config_bytes: bytes | None
    config_etag: str | None

    def config_obj(self) -> dict[str, Any] | None:
        if self.config_bytes is None:
            return None
        try:
            data = yaml.safe_load(self.config_bytes)
        except yaml.YAMLError:
            data = None
        # A hand-edited, unreadable config is still recorded (verbatim) in the ledger.
        if isinstance(data, dict):
            return data
        return {"_unparsed": self.config_bytes.decode(errors="replace")}


class ProductionStore:
    """The AWS side of production: Parameter Store paths and the config bucket."""

    def __init__(self, ssm: Any, s3: Any, bucket: str, prefix: str) -> None:
        self.ssm = ssm
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"

    # --- paths -------------------------------------------------------------
    def path(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def paths(self) -> list[str]:
        return [self.path(n) for n in REQUIRED_PARAMS]

    # --- reading -----------------------------------------------------------
    def read_parameters(self, step: str) -> tuple[dict[str, str | None], dict[str, int | None]]:
        """Values and versions of the six parameters (None when absent)."""
        resp = aws_step(step, "ssm", self.bucket, self.ssm.get_parameters, Names=self.paths())
        found = {p["Name"]: p for p in resp.get("Parameters", [])}
        values = {path: (found[path]["Value"] if path in found else None) for path in self.paths()}
        versions = {
            path: (int(found[path]["Version"]) if path in found else None) for path in self.paths()
        }
        return values, versions

    def read_object(self, step: str, key: str) -> tuple[bytes | None, str | None]:
        """``(bytes, etag)`` of an object, ``(None, None)`` when it does not exist."""
        try:
            resp = self.s3.get_object(Bucket=self.bucket, Key=key)
        except AWS_ERRORS as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                return None, None
            raise map_aws_error(exc, service="s3", step=step, bucket=self.bucket) from exc
        return resp["Body"].read(), str(resp["ETag"])

    def config_etag(self, step: str) -> str | None:
        try:
            resp = self.s3.head_object(Bucket=self.bucket, Key=CONFIG_KEY)
        except AWS_ERRORS as exc:
            if error_code(exc) in NOT_FOUND_CODES:
                return None
            raise map_aws_error(exc, service="s3", step=step, bucket=self.bucket) from exc
        return str(resp["ETag"])

    def snapshot(self, step_prefix: str) -> Snapshot:
        values, versions = self.read_parameters(f"{step_prefix}_parameters")
        body, etag = self.read_object(f"{step_prefix}_config", CONFIG_KEY)
        return Snapshot(values, versions, body, etag)

    # --- writing -----------------------------------------------------------
    def put_parameter(self, step: str, path: str, value: str) -> None:
        aws_step(
            step,
            "ssm",
            self.bucket,
            self.ssm.put_parameter,
            Name=path,
            Value=value,
            Type="String",
            Overwrite=True,
        )

    def delete_parameter(self, step: str, path: str) -> None:
        try:
            self.ssm.delete_parameter(Name=path)
        except AWS_ERRORS as exc:
            if error_code(exc) not in NOT_FOUND_CODES:
                raise map_aws_error(exc, service="ssm", step=step, bucket=self.bucket) from exc

    def put_new(self, step: str, key: str, body: bytes, content_type: str) -> str:
        """Create ``key``; never overwrites (``IfNoneMatch='*'``). Returns the ETag."""
        resp = aws_step(
            step,
            "s3",
            self.bucket,
            self.s3.put_object,
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            IfNoneMatch="*",
        )
        return str(resp["ETag"])

    def put_config(self, step: str, body: bytes, expected_etag: str | None) -> str:
        """Write the config only if it is still the one read (ETag) or still absent."""
        condition = {"IfMatch": expected_etag} if expected_etag else {"IfNoneMatch": "*"}
        resp = aws_step(
            step,
            "s3",
            self.bucket,
            self.s3.put_object,
            Bucket=self.bucket,
            Key=CONFIG_KEY,
            Body=body,
            ContentType="application/yaml",
            **condition,
        )
        return str(resp["ETag"])

    def delete_config(self, step: str, expected_etag: str) -> None:
        aws_step(
            step,
            "s3",
            self.bucket,
            self.s3.delete_object,
            Bucket=self.bucket,
            Key=CONFIG_KEY,
            IfMatch=expected_etag,
        )

    def new_key(self, kind: str, moment: datetime, suffix: str | None = None) -> str:
        """A fresh timestamped key: ``kind`` is ``backup`` or ``archive``."""
        tail = f"{stamp(moment)}-{suffix or unique_suffix()}.yaml"
        if kind == "backup":
            return f"{BACKUP_PREFIX}backup-{tail}"
        return f"{ARCHIVE_PREFIX}production-model-config-{tail}"


def backup_document(snapshot: Snapshot, moment: datetime, promotion_id: str | None) -> bytes:
    """The YAML of a Parameter Store backup: value and SSM Version of each path."""
    doc = {
        "kind": "parameter-store-backup",
        "taken_at": moment.isoformat(),
        "promotion_id": promotion_id,
        "parameters": {
            path: (
                None
                if snapshot.values[path] is None
                else {"value": snapshot.values[path], "version": snapshot.versions[path]}
            )
            for path in snapshot.values
        },
    }
    return yaml.safe_dump(doc, sort_keys=False).encode()


def parse_backup(body: bytes) -> dict[str, str | None]:
    """Path -> value from a backup (also accepts the flat ``{path: value}`` layout)."""
    doc = yaml.safe_load(body)
    if not isinstance(doc, dict):
        raise ValueError("backup is not a YAML mapping")
    params = doc.get("parameters", doc) if doc.get("kind") == "parameter-store-backup" else doc
    if not isinstance(params, dict):
        raise ValueError("backup 'parameters' is not a mapping")
    out: dict[str, str | None] = {}
    for path, entry in params.items():
        if entry is None:
            out[str(path)] = None
        elif isinstance(entry, dict):
            out[str(path)] = None if entry.get("value") is None else str(entry["value"])
        else:
            out[str(path)] = str(entry)
    return out
