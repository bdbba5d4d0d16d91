"""``ABTestingManager``: deploy a challenger, split traffic, compare, promote, roll back.

Design section 8. The challenger's SageMaker model, endpoint configuration and endpoint
all share one name (:func:`~fraud_jlab.abtest.naming.challenger_endpoint_name`), so a
deployment is traceable from any of its parts and cleanup knows what to delete.
Promotion switches the production endpoint to the challenger's endpoint configuration
with ``UpdateEndpoint`` (SageMaker keeps serving the old variant until the new one is
healthy) and returns the previous configuration name for :meth:`rollback_champion`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from fraud_jlab.abtest.challenger import (
    challenger_container,
    check_artifact,
    check_instance_type,
    deploy_challenger,
    experiment_tags,
)
from fraud_jlab.abtest.compare import EndpointComparison, compare_endpoints
from fraud_jlab.abtest.criteria import CriteriaVerdict, evaluate_success_criteria
from fraud_jlab.abtest.naming import challenger_endpoint_name, experiment_slug
from fraud_jlab.abtest.traffic import build_traffic_split_config, default_success_criteria
from fraud_jlab.aws import aws_error
from fraud_jlab.aws import client as aws_client
from fraud_jlab.config import FraudJlab, get_settings
from fraud_jlab.errors import ConflictError, ValidationError
from fraud_jlab.models.abtest import ENDPOINT_NAME, ABTestConfig, SuccessCriteria
from fraud_jlab.promotion.endpoint_change import (
    EndpointChangePlan,
    EndpointChanger,
    EndpointTarget,
)
from fraud_jlab.promotion.models import PromotionRecord

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ABTestingManager:
    """Champion/challenger A/B testing on SageMaker endpoints.

    Clients default to :func:`fraud_jlab.aws.client`; ``clock`` returns the current time
    (used for endpoint names and test start dates).
    """

    def __init__(
        self,
        settings: FraudJlab | None = None,
        *,
        sagemaker_client: Any = None,
        runtime_client: Any = None,
        s3_client: Any = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.sagemaker = sagemaker_client or aws_client("sagemaker", self.settings)
        self._runtime = runtime_client
        self._s3 = s3_client
        self.clock = clock or _utcnow
        self._changer: EndpointChanger | None = None

    @property
    def runtime(self) -> Any:
        """The ``sagemaker-runtime`` client (made on first use)."""
        if self._runtime is None:
            self._runtime = aws_client("sagemaker-runtime", self.settings)
        return self._runtime

    @property
    def s3(self) -> Any:
        """The S3 client used to check that a model artifact exists (made on first use)."""
        if self._s3 is None:
            self._s3 = aws_client("s3", self.settings)
        return self._s3

    # -- naming ---------------------------------------------------------------------------

    @staticmethod
    def challenger_endpoint_name(experiment_id: str, moment: datetime) -> str:
        """See :func:`fraud_jlab.abtest.naming.challenger_endpoint_name`."""
        return challenger_endpoint_name(experiment_id, moment)

    # -- deployment -----------------------------------------------------------------------

    def _region(self) -> str:
        return str(self.settings.region or self.sagemaker.meta.region_name)

    def _check_artifact(self, model_artifact_s3_path: Any) -> None:
        check_artifact(self.s3, model_artifact_s3_path)

    def deploy_challenger_endpoint(
        self,
        experiment_id: str,
        model_artifact_s3_path: str,
        instance_type: str = "ml.m5.large",
        wait: bool = True,
        *,
        image_uri: str | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> str:
        """Deploy the model artifact as a new challenger endpoint; returns the endpoint name.

        ``environment`` is the container's environment: a scikit-learn package from
        :func:`fraud_jlab.modelstore.package_for_sagemaker` needs
        ``container_environment("sklearn")`` (and a scikit-learn ``image_uri``).

        Creates a model (the region's built-in XGBoost image unless ``image_uri`` is given),
        an endpoint configuration with one ``AllTraffic`` variant and the endpoint, then (with
        ``wait``) waits until it is ``InService``. Raises ValidationError for a bad
        ``experiment_id``, ``model_artifact_s3_path`` (not an S3 URI, or missing) or
        ``instance_type``; AwsOperationError naming the failed step, after deleting every
        resource this call created.
        """
        experiment_slug(experiment_id)
        check_instance_type(instance_type)
        self._check_artifact(model_artifact_s3_path)
        container = challenger_container(
            self._region(), model_artifact_s3_path, image_uri, environment
        )
        name = challenger_endpoint_name(experiment_id, self.clock())
        deploy_challenger(
            self.sagemaker,
            self.settings,
            name=name,
            container=container,
            tags=experiment_tags(experiment_id),
            instance_type=instance_type,
            wait=wait,
        )
        log.info("challenger endpoint %s deployed from %s", name, model_artifact_s3_path)
        return name

    # -- traffic split and comparison -----------------------------------------------------

    def generate_traffic_split_config(
        self,
        champion_endpoint: str,
        challenger_endpoint: str,
        challenger_traffic_pct: int = 10,
        *,
        experiment_id: str | None = None,
        success_criteria: SuccessCriteria | None = None,
    ) -> ABTestConfig:
        """The design's traffic-split template; see :func:`build_traffic_split_config`.

        ``config.to_yaml()`` renders it. Raises ValidationError naming the bad field
        (``challenger_traffic_pct`` must be an integer 0..100; endpoint names).
        """
        return build_traffic_split_config(
            champion_endpoint,
            challenger_endpoint,
            challenger_traffic_pct,
            start_date=self.clock(),
            min_accuracy=self.settings.min_accuracy,
            experiment_id=experiment_id,
            success_criteria=success_criteria,
        )

    def compare_endpoints(
        self,
        champion_endpoint: str,
        challenger_endpoint: str,
        test_data: Any,
        *,
        labels: Any = None,
    ) -> EndpointComparison:
        """Score ``test_data`` on both endpoints; see :func:`fraud_jlab.abtest.compare.compare_endpoints`."""
        return compare_endpoints(
            self.runtime, champion_endpoint, challenger_endpoint, test_data, labels=labels
        )

    def challenger_meets_criteria(
        self,
        comparison: EndpointComparison | dict[str, Any],
        criteria: SuccessCriteria | ABTestConfig | None = None,
    ) -> CriteriaVerdict:
        """Check a :meth:`compare_endpoints` result against the test's success criteria.

        ``criteria`` may be an :class:`ABTestConfig` (its ``success_criteria``); by default
        the design's criteria with ``settings.min_accuracy``. See
        :func:`fraud_jlab.abtest.criteria.evaluate_success_criteria`.
        """
        if isinstance(criteria, ABTestConfig):
            criteria = criteria.success_criteria
        return evaluate_success_criteria(
            comparison, criteria or default_success_criteria(self.settings.min_accuracy)
        )

    # -- promotion ------------------------------------------------------------------------

    def _describe_endpoint(self, name: str) -> dict[str, Any]:
        try:
            return dict(self.sagemaker.describe_endpoint(EndpointName=name))
        except Exception as exc:
            raise aws_error(
                exc,
                f"describing endpoint {name!r} failed: {exc}",
                step="describe_endpoint",
                not_found=("endpoint", name),
            ) from exc

    @property
    def changer(self) -> EndpointChanger:
        """The audited write path of the production endpoint (lock + ledger; made on first use)."""
        if self._changer is None:
            self._changer = EndpointChanger.for_settings(
                self.settings, sagemaker=self.sagemaker, s3=self.s3, clock=self.clock
            )
        return self._changer

    def change_production(
        self,
        *,
        kind: str,
        ab_test_id: str,
        approver: str,
        reason: str | None,
        config_name: str | None = None,
        weights: Mapping[str, float] | None = None,
        dry_run: bool = False,
    ) -> PromotionRecord | EndpointChangePlan:
        """The one way this manager writes the production endpoint (audited; see endpoint_change)."""
        return self.changer.change(
            kind=kind,
            ab_test_id=ab_test_id,
            approver=approver,
            reason=reason,
            target=EndpointTarget(config_name=config_name, weights=weights),
            dry_run=dry_run,
        )

    def set_variant_weights(
        self,
        weights: Mapping[str, float],
        *,
        approver: str,
        reason: str,
        ab_test_id: str,
    ) -> PromotionRecord:
        """Move production traffic between its variants (percent, summing to 100), audited."""
        record = self.change_production(
            kind="ab_weights",
            ab_test_id=ab_test_id,
            approver=approver,
            reason=reason,
            weights=weights,
        )
        assert isinstance(record, PromotionRecord)
        return record

    def promote_challenger_to_champion(
        self,
        challenger_endpoint: str,
        *,
        approver: str,
        reason: str,
        delete_challenger: bool = True,
        ab_test_id: str | None = None,
    ) -> str:
        """Switch the production endpoint to the challenger's endpoint configuration.

        Waits until production is ``InService`` on the new configuration, then (with
        ``delete_challenger``) deletes the challenger endpoint - not its configuration or
        model, which production now uses. Returns the previous production endpoint
        configuration name, the argument :meth:`rollback_champion` takes.
        Raises ValidationError for a bad name or the production endpoint itself,
        NotFoundError for an unknown endpoint, ConflictError when the challenger is not
        ``InService`` or production already serves its configuration, AwsOperationError
        when an AWS step fails.
        """
        production = self.settings.production_endpoint
        if not isinstance(challenger_endpoint, str) or not ENDPOINT_NAME.fullmatch(
            challenger_endpoint
        ):
            raise ValidationError(
                f"challenger_endpoint must be a SageMaker endpoint name, got {challenger_endpoint!r}",
                field="challenger_endpoint",
            )
        if challenger_endpoint == production:
            raise ValidationError(
                f"challenger_endpoint must differ from the production endpoint {production!r}",
                field="challenger_endpoint",
            )
        previous = self._describe_endpoint(production)["EndpointConfigName"]
        challenger = self._describe_endpoint(challenger_endpoint)
        if challenger["EndpointStatus"] != "InService":
            raise ConflictError(
                f"challenger endpoint {challenger_endpoint!r} is {challenger['EndpointStatus']}, "
                "not InService; production unchanged"
            )
        new_config = challenger["EndpointConfigName"]
        if new_config == previous:
            raise ConflictError(
                f"production endpoint {production!r} already serves {new_config!r}; production unchanged"
            )
        log.info(
            "promoting %s (%s) to %s, previous %s",
            challenger_endpoint,
            new_config,
            production,
            previous,
        )
        self.change_production(
            kind="ab_promote",
            ab_test_id=ab_test_id or challenger_endpoint,
            approver=approver,
            reason=reason,
            config_name=new_config,
        )
        if delete_challenger:
            try:
                self.sagemaker.delete_endpoint(EndpointName=challenger_endpoint)
            except Exception:
                # Production already serves the new model; a leftover challenger only costs money.
                log.exception(
                    "promotion done but deleting challenger %s failed", challenger_endpoint
                )
        return str(previous)

    def rollback_champion(
        self,
        previous_endpoint_config: str,
        *,
        approver: str,
        reason: str,
        ab_test_id: str | None = None,
    ) -> str:
        """Switch production back to ``previous_endpoint_config``; returns the config it replaced.

        An audited endpoint change (ledger record ``ab_rollback``).

        Raises ValidationError for a bad name, NotFoundError when the configuration or the
        production endpoint does not exist, ConflictError when production already serves it,
        AwsOperationError when an AWS step fails.
        """
        if not isinstance(previous_endpoint_config, str) or not ENDPOINT_NAME.fullmatch(
            previous_endpoint_config
        ):
            raise ValidationError(
                "previous_endpoint_config must be a SageMaker endpoint configuration name, "
                f"got {previous_endpoint_config!r}",
                field="previous_endpoint_config",
            )
        try:
            self.sagemaker.describe_endpoint_config(EndpointConfigName=previous_endpoint_config)
        except Exception as exc:
            raise aws_error(
                exc,
                f"describing endpoint configuration {previous_endpoint_config!r} failed: {exc}",
                step="describe_endpoint_config",
                not_found=("endpoint configuration", previous_endpoint_config),
            ) from exc
        production = self.settings.production_endpoint
        current = self._describe_endpoint(production)["EndpointConfigName"]
        if current == previous_endpoint_config:
            raise ConflictError(
                f"production endpoint {production!r} already serves {current!r}; nothing to roll back"
            )
        self.change_production(
            kind="ab_rollback",
            ab_test_id=ab_test_id or previous_endpoint_config,
            approver=approver,
            reason=reason,
            config_name=previous_endpoint_config,
        )
        return str(current)
