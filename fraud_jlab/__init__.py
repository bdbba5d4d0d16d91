"""fraud_jlab: fraud-detection experimentation inside JupyterLab.

Python API::

    from fraud_jlab import Run, search_runs, get_run
    fraud_jlab.dashboard()   # in a notebook: the RunBrowser widget
"""

from __future__ import annotations

from typing import Any

from fraud_jlab.tracking.run import Run, get_run, search_runs
from fraud_jlab.version import __version__


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext fraud_jlab``: register the ``%fraud`` magic (see :mod:`fraud_jlab.magic`)."""
    from fraud_jlab.magic import load_ipython_extension as load_magic

    load_magic(ipython)


def dashboard(
    filter: str = "",
    order_by: str | list[str] | None = None,
    page_size: int = 25,
) -> Any:
    """Open the runs dashboard: a :class:`fraud_jlab.widgets.RunBrowser` (display it in a cell).

    ipywidgets is imported only here, so ``import fraud_jlab`` stays light.
    """
    from fraud_jlab.widgets.runs import RunBrowser

    return RunBrowser(filter=filter, order_by=order_by, page_size=page_size)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "fraud-jlab"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from fraud_jlab.server.extension import FraudJlabExtension

    return [{"module": "fraud_jlab", "app": FraudJlabExtension}]


__all__ = ["Run", "__version__", "dashboard", "get_run", "load_ipython_extension", "search_runs"]
