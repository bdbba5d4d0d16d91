"""``GET identity``: who production changes made from this Lab are recorded as approved by.

The promote dialog shows it before the user confirms; the resolution itself is
:func:`fraud_jlab.identity.resolve_identity`, the same the promotion routes use.
"""

from __future__ import annotations

import tornado.web

from fraud_jlab.identity import Identity
from fraud_jlab.server.base import FraudJlabHandler
from fraud_jlab.server.openapi import Operation


class IdentityHandler(FraudJlabHandler):
    """``GET identity``."""

    operations = {
        "get": Operation(
            operation_id="getIdentity",
            summary="The approver production changes of this user are recorded under",
            description=(
                "Resolved from the named Jupyter user, else the SageMaker Studio user profile "
                "(and execution role), else c.FraudJlab.approver. When none identifies a person "
                "`can_change_production` is false and `message` says how to set one; promotions, "
                "rollbacks and recoveries then answer 403 (dry runs still work)."
            ),
            tags=("promotions",),
            responses={200: Identity},
        )
    }

    @tornado.web.authenticated
    async def get(self) -> None:
        # Reads one small local file at most (Studio metadata): offloaded like any file I/O.
        identity = await self.run_blocking(self.approver_identity)
        self.write_model(identity)


def routes() -> list[tuple[str, type[FraudJlabHandler]]]:
    """Routes of this module, relative to ``<base_url>fraud-jlab/api/``."""
    return [(r"identity", IdentityHandler)]
