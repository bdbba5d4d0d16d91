"""Putting the endpoint back after a failed change, verifying it, and recording the outcome.

Run under the promotion lock by :class:`~fraud_jlab.promotion.endpoint_change.EndpointChanger`
when a step after its ledger attempt fails: the ``before`` config (``UpdateEndpoint``)
and weights are restored, each call retried with backoff (:meth:`Audit.retrying`),
the endpoint re-read to verify it equals ``before``, and the final ledger record
written ``rolled_back`` (or ``failed`` naming what is left, :meth:`Audit.finish`).
"""

from __future__ import annotations

from fraud_jlab.errors import AwsOperationError, FraudJlabError, NotFoundError
from fraud_jlab.promotion.audit import Audit, failure_code, root_cause
from fraud_jlab.promotion.endpoint_checks import describe_state, same_state
from fraud_jlab.promotion.endpoint_store import EndpointStore
from fraud_jlab.promotion.models import EndpointState, PromotionRecord


def restore(audit: Audit, endpoint: EndpointStore, before: EndpointState) -> list[str]:
    """Put the endpoint back to ``before``; what is left (empty when verified)."""
    problems: list[str] = []
    name = endpoint.endpoint_name
    try:
        now = audit.retrying(lambda: endpoint.read("restore_read"))
    except (AwsOperationError, NotFoundError) as exc:
        return [f"could not read {name} to restore it ({exc})"]
    if now.config_name != before.config_name and before.config_name is not None:
        config = before.config_name
        try:
            audit.retrying(lambda: endpoint.update_config("restore_endpoint", config))
            audit.retrying(lambda: endpoint.wait("restore_wait"))
            now = audit.retrying(lambda: endpoint.read("restore_read"))
        except AwsOperationError as exc:
            problems.append(
                f"restoring config {config!r} failed at '{exc.step}' ({failure_code(exc)})"
            )
    if not same_state(now, before) and now.config_name == before.config_name:
        weights = dict(before.weights)
        try:
            audit.retrying(lambda: endpoint.update_weights("restore_weights", weights))
            audit.retrying(lambda: endpoint.wait("restore_wait"))
        except AwsOperationError as exc:
            problems.append(f"restoring weights failed at '{exc.step}' ({failure_code(exc)})")
    try:
        after = audit.retrying(lambda: endpoint.read("verify_restore"))
    except AwsOperationError as exc:
        problems.append(f"could not verify the restore ({failure_code(exc)})")
        return problems
    if not same_state(after, before):
        problems.append(
            f"the endpoint has {describe_state(after)}, before it had {describe_state(before)}"
        )
    return problems


def roll_back(
    audit: Audit,
    endpoint: EndpointStore,
    record: PromotionRecord,
    before: EndpointState,
    step: str,
    cause: BaseException,
) -> FraudJlabError:
    """Restore ``before``, record the outcome; the error to raise (``production_unchanged`` set)."""
    inner, code = root_cause(cause)
    problems = restore(audit, endpoint, before)
    head = (
        f"Endpoint change {record.promotion_id} ({record.kind}) of {endpoint.endpoint_name!r} "
        f"failed at step '{step}' ({code}): {inner}."
    )
    if not problems:
        message = (
            f"{head} The endpoint was restored and verified equal to its state before the "
            f"change: production unchanged ({describe_state(before)})."
        )
        status = "rolled_back"
    else:
        message = (
            f"{head} Production MAY BE CHANGED, restore incomplete: {'; '.join(problems)}. "
            f"Before the change it had {describe_state(before)}."
        )
        status = "failed"
    audit.finish(record, step, message, status)
    return AwsOperationError(
        message, step=step, aws_error_code=code, production_unchanged=status == "rolled_back"
    )


__all__ = ["restore", "roll_back"]
