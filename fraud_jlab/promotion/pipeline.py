"""The production Step Functions pipeline: start an execution, read its status, stop it.

The design's ``trigger_production_pipeline`` and ``check_pipeline_status``; the
transaction starts it after a promotion (when asked) and stops it when the promotion
is rolled back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fraud_jlab.promotion.store import aws_step, stamp, unique_suffix

_EXECUTION_NAME_BAD = re.compile(r"[^A-Za-z0-9_-]")
MAX_EXECUTION_NAME = 80


def execution_name(label: str, moment: datetime) -> str:
    """A unique Step Functions execution name (<= 80 chars of ``[A-Za-z0-9_-]``)."""
    tail = f"-{stamp(moment)}-{unique_suffix()}"
    head = _EXECUTION_NAME_BAD.sub("-", label)[: MAX_EXECUTION_NAME - len(tail)]
    return head + tail


class ProductionPipeline:
    """The retraining state machine ``state_machine_arn`` (a Step Functions client ``sfn``)."""

    def __init__(self, sfn: Any, state_machine_arn: str, clock: Callable[[], datetime]) -> None:
        self.sfn = sfn
        self.state_machine_arn = state_machine_arn
        self.clock = clock

    def trigger(
        self, experiment_id: str, *, promotion_id: str | None = None, approver: str | None = None
    ) -> str:
        """Start an execution; returns its ARN (``arn:aws:states:...``).

        Raises AwsAccessDenied / AwsOperationError (step ``trigger_pipeline``).
        """
        label = f"promotion-{promotion_id}" if promotion_id else f"experiment-{experiment_id}"
        payload = {
            "experimentId": experiment_id,
            "runId": experiment_id,
            "promotionId": promotion_id,
            "triggeredBy": "fraud-jlab" + (f":{approver}" if approver else ""),
        }
        resp = aws_step(
            "trigger_pipeline",
            "stepfunctions",
            None,
            self.sfn.start_execution,
            stateMachineArn=self.state_machine_arn,
            name=execution_name(label, self.clock()),
            input=json.dumps(payload),
        )
        return str(resp["executionArn"])

    def status(self, execution_arn: str) -> dict[str, Any]:
        """``{"status", "startDate", "stopDate", "output"}`` of an execution."""
        resp = aws_step(
            "pipeline_status",
            "stepfunctions",
            None,
            self.sfn.describe_execution,
            executionArn=execution_arn,
        )
        return {
            "status": resp["status"],
            "startDate": resp["startDate"],
            "stopDate": resp.get("stopDate"),
            "output": resp.get("output"),
        }

    def stop(self, execution_arn: str) -> None:
        """Stop an execution a rolled-back promotion started."""
        self.sfn.stop_execution(
            executionArn=execution_arn, error="FraudJlabRollback", cause="Promotion rolled back"
        )
