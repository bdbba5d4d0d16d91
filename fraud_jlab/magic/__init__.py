"""The ``%fraud`` IPython magic: runs, comparisons and promotions from a notebook.

Load it with ``%load_ext fraud_jlab`` (or ``%load_ext fraud_jlab.magic``), then::

    %fraud runs --filter "metrics.accuracy >= 0.95" --order-by metrics.auc_roc DESC
    %fraud runs --widget          # the RunBrowser widget (fraud_jlab.widgets)
    %fraud compare RUN_A RUN_B --baseline RUN_A
    %fraud promote RUN_A --reason "better average precision"
    %fraud --help

Each command calls the same core functions as the REST API, so the sidebar,
the widgets and the magic never disagree.
"""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%fraud`` and readable reprs for the models it returns."""
    from fraud_jlab.magic.commands import fraud
    from fraud_jlab.magic.display import register_formatters

    ipython.register_magic_function(fraud, magic_kind="line", magic_name="fraud")
    register_formatters(ipython)


__all__ = ["load_ipython_extension"]
