"""SageMaker ``UpdateEndpoint`` for the local AWS emulator.

The emulator (moto) implements endpoints but not ``UpdateEndpoint``, which the
A/B-testing flow calls to switch the production endpoint to a challenger's
endpoint configuration. :func:`install_sagemaker_update_endpoint` adds it to the
emulator's SageMaker backend and request dispatcher, so it works both under
``moto.mock_aws`` and in the threaded emulator server of ``fraud-jlab demo``.

Semantics follow AWS: the endpoint and the new endpoint configuration must
exist (``ValidationException`` otherwise), an endpoint that is not
``InService`` cannot be updated, and the endpoint takes the new configuration's
name and production variants. Updates complete at once, so the status is
``InService`` again when the call returns (the ``endpoint_in_service`` waiter
returns immediately).
"""

from __future__ import annotations

import threading
from typing import Any

_install_lock = threading.Lock()
_MARKER = "_fraud_jlab_update_endpoint"


def _backend_update_endpoint(self: Any, endpoint_name: str, endpoint_config_name: str) -> str:
    from moto.core.utils import utcnow
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.models import FakeEndpoint, FakeEndpointConfig

    endpoint = self.endpoints.get(endpoint_name)
    if endpoint is None:
        arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise ValidationError(message=f"Could not find endpoint '{arn}'.")
    config = self.endpoint_configs.get(endpoint_config_name)
    if config is None:
        arn = FakeEndpointConfig.arn_formatter(
            endpoint_config_name, self.account_id, self.region_name
        )
        raise ValidationError(message=f"Could not find endpoint configuration '{arn}'.")
    if endpoint.endpoint_status != "InService":
        raise ValidationError(
            message=f"Cannot update in-progress endpoint '{endpoint.arn}' "
            f"(status {endpoint.endpoint_status})."
        )
    endpoint.endpoint_status = "Updating"
    endpoint.endpoint_config_name = endpoint_config_name
    endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
    endpoint.data_capture_config = config.data_capture_config
    endpoint.last_modified_time = utcnow()
    endpoint.endpoint_status = "InService"
    return str(endpoint.arn)


def _response_update_endpoint(self: Any) -> Any:
    from moto.core.responses import ActionResult

    arn = self.sagemaker_backend.update_endpoint(
        endpoint_name=self._get_param("EndpointName"),
        endpoint_config_name=self._get_param("EndpointConfigName"),
    )
    return ActionResult({"EndpointArn": arn})


setattr(_backend_update_endpoint, _MARKER, True)
setattr(_response_update_endpoint, _MARKER, True)


def install_sagemaker_update_endpoint() -> bool:
    """Register ``UpdateEndpoint`` in the emulator's SageMaker service; idempotent.

    Also keeps shadow variants (:mod:`fraud_jlab.demo.sagemaker_shadow`) and makes
    ``InvokeEndpoint`` score with the endpoint's models (:mod:`fraud_jlab.demo.sagemaker_serving`).
    Returns True when fraud_jlab's implementation is active, False when the
    installed moto already implements the operation itself (then it is left alone).
    Raises ``ImportError`` when moto is not installed.
    """
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    from fraud_jlab.demo.sagemaker_serving import install_sagemaker_serving
    from fraud_jlab.demo.sagemaker_shadow import install_sagemaker_shadow_variants

    install_sagemaker_shadow_variants()
    install_sagemaker_serving()
    with _install_lock:
        existing = getattr(SageMakerResponse, "update_endpoint", None)
        if existing is not None:
            return bool(getattr(existing, _MARKER, False))
        # The dispatcher looks up a function attribute named after the snake_cased action.
        setattr(SageMakerModelBackend, "update_endpoint", _backend_update_endpoint)  # noqa: B010
        setattr(SageMakerResponse, "update_endpoint", _response_update_endpoint)  # noqa: B010
        return True
