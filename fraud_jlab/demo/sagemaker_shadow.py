"""SageMaker shadow variants (``ShadowProductionVariants``) for the local AWS emulator.

moto accepts ``CreateEndpointConfig`` with ``ShadowProductionVariants`` but drops
them: ``DescribeEndpointConfig`` and ``DescribeEndpoint`` never return them. A/B
tests use a shadow variant as the safe first stage (the challenger scores a copy
of the traffic, customers see only the champion), so
:func:`install_sagemaker_shadow_variants` keeps them: the configuration stores
the list it was created with, ``DescribeEndpointConfig`` returns it, and
``DescribeEndpoint`` returns the shadow variants of the configuration the
endpoint serves (so ``UpdateEndpoint`` switches them with the configuration).
Installed by :func:`fraud_jlab.demo.sagemaker_update.install_sagemaker_update_endpoint`,
so it is active under ``moto.mock_aws`` and in the threaded emulator server alike.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_install_lock = threading.Lock()
_ATTR = "fraud_jlab_shadow_variants"
_MARKER = "_fraud_jlab_shadow"


def _shadows_of(backend: Any, config_name: str | None) -> list[dict[str, Any]]:
    config = backend.endpoint_configs.get(config_name) if config_name else None
    return list(getattr(config, _ATTR, None) or [])


def install_sagemaker_shadow_variants() -> bool:
    """Keep ``ShadowProductionVariants`` in the emulator's endpoint configs; idempotent.

    Returns True once active.
    """
    from moto.core.responses import ActionResult
    from moto.sagemaker.responses import SageMakerResponse

    with _install_lock:
        current = SageMakerResponse.create_endpoint_config
        if getattr(current, _MARKER, False):
            return True
        original_create = current

        def create_endpoint_config(self: Any) -> Any:
            result = original_create(self)
            shadows = self._get_param("ShadowProductionVariants") or []
            config = self.sagemaker_backend.endpoint_configs[self._get_param("EndpointConfigName")]
            setattr(config, _ATTR, copy.deepcopy(shadows))
            return result

        def describe_endpoint_config(self: Any) -> Any:
            name = self._get_param("EndpointConfigName")
            response = dict(self.sagemaker_backend.describe_endpoint_config(name))
            shadows = _shadows_of(self.sagemaker_backend, name)
            if shadows and "ShadowProductionVariants" not in response:
                response["ShadowProductionVariants"] = shadows
            return ActionResult(response)

        def describe_endpoint(self: Any) -> Any:
            name = self._get_param("EndpointName")
            backend = self.sagemaker_backend
            response = dict(backend.describe_endpoint(name))
            endpoint = backend.endpoints[name]
            shadows = _shadows_of(backend, endpoint.endpoint_config_name)
            if shadows and "ShadowProductionVariants" not in response:
                response["ShadowProductionVariants"] = endpoint._process_production_variants(
                    shadows
                )
            return ActionResult(response)

        for fn in (create_endpoint_config, describe_endpoint_config, describe_endpoint):
            setattr(fn, _MARKER, True)
            setattr(SageMakerResponse, fn.__name__, fn)
        return True


__all__ = ["install_sagemaker_shadow_variants"]
