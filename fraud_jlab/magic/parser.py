"""Argument parsing for ``%fraud``: argparse that reports errors instead of exiting the kernel."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import NoReturn

PROG = "%fraud"


class MagicUsageError(Exception):
    """The ``%fraud`` line could not be parsed; ``usage`` is the relevant usage line."""

    def __init__(self, message: str, usage: str, prog: str = PROG) -> None:
        self.usage = usage
        self.prog = prog
        super().__init__(message)


class HelpShown(Exception):
    """``--help`` was printed; the magic does nothing else."""


class MagicArgumentParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors and ``--help`` raise instead of calling ``sys.exit``."""

    def error(self, message: str) -> NoReturn:
        raise MagicUsageError(message, self.format_usage(), self.prog)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            self._print_message(message, sys.stderr)
        raise HelpShown()


def _order_keys(values: list[str]) -> list[str]:
    """``["metrics.auc", "DESC", "a,b"]`` -> ``["metrics.auc DESC", "a", "b"]``.

    Lets ``--order-by metrics.auc DESC`` work unquoted, and accepts the REST API's
    comma-separated form too.
    """
    keys: list[str] = []
    for value in values:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            if part.upper() in {"ASC", "DESC"} and keys and " " not in keys[-1]:
                keys[-1] = f"{keys[-1]} {part.upper()}"
            else:
                keys.append(part)
    return keys


def build_parser() -> tuple[MagicArgumentParser, dict[str, MagicArgumentParser]]:
    """The ``%fraud`` parser and its sub-parsers by name (each sets ``command``)."""
    parser = MagicArgumentParser(
        prog=PROG,
        description=(
            "fraud_jlab from a notebook: the same runs, comparisons and promotions as the "
            "JupyterLab sidebar and the REST API. Run '%fraud <command> --help' for details."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    subs: dict[str, MagicArgumentParser] = {}

    def add(name: str, help_text: str, description: str = "") -> MagicArgumentParser:
        p: MagicArgumentParser = sub.add_parser(
            name, help=help_text, description=description or help_text
        )
        subs[name] = p
        return p

    runs = add("runs", "search runs; returns a pandas DataFrame")
    runs.add_argument(
        "--filter",
        default="",
        metavar="EXPR",
        help="filter, e.g. \"metrics.accuracy >= 0.95 and params.max_depth = '7'\" (quote it)",
    )
    runs.add_argument(
        "--order-by",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY",
        help="sort keys: metrics.<k>, params.<k>, tags.<k> or an attribute, each optionally ASC|DESC",
    )
    runs.add_argument(
        "--max-results", type=int, default=100, metavar="N", help="page size, 1..1000 (100)"
    )
    runs.add_argument("--page-token", default=None, help="next page token printed by a search")
    runs.add_argument(
        "--widget",
        action="store_true",
        help="return a RunBrowser widget (it pages itself; compare and promote from it)",
    )

    run = add("run", "one run in full (params, metrics, tags, artifacts, lineage)")
    run.add_argument("run_id", metavar="RUN", help="run id, or a run name unique among runs")

    compare = add(
        "compare",
        "compare runs against a baseline; prints the deltas, returns the CompareResult",
        "Compare 2 or more runs. Without --baseline the run in production (if tracked) is "
        "the baseline. The returned result's .figures holds the plotly figures.",
    )
    compare.add_argument(
        "run_ids", nargs="+", metavar="RUN", help="run ids, or run names unique among runs"
    )
    compare.add_argument(
        "--baseline", default=None, metavar="RUN", help="baseline run id or unique name"
    )

    promote = add(
        "promote",
        "promote a run to production (dry run shown first, then confirmation)",
        "Show the gates and the SSM/config diff, ask for confirmation, then promote "
        "all-or-nothing and print the ledger record.",
    )
    promote.add_argument(
        "run_id", metavar="RUN", help="run id, or a run name unique in the experiment"
    )
    promote.add_argument(
        "--experiment",
        default=None,
        metavar="NAME",
        help="experiment the run name is looked up in (default: every experiment)",
    )
    promote.add_argument(
        "--reason", default="", help="why (recorded in the ledger); required unless --dry-run"
    )
    promote.add_argument(
        "--trigger-pipeline", action="store_true", help="start the production pipeline"
    )
    promote.add_argument(
        "--dry-run", action="store_true", help="only show the gates and the diff; write nothing"
    )
    promote.add_argument(
        "--force", action="store_true", help="override failed gates (recorded in the ledger)"
    )
    promote.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    rollback = add(
        "rollback",
        "restore the production state an earlier promotion produced, or undo it",
        "Restore the state a ledger record wrote (--target after, the default) or the state "
        "before it (--target before: undo it; the first record's 'before' is production as "
        "it was before fraud_jlab). All-or-nothing, recorded in the ledger.",
    )
    rollback.add_argument("promotion_id", metavar="PROMOTION_ID")
    rollback.add_argument(
        "--target",
        choices=("before", "after"),
        default="after",
        help="after: restore what it wrote (default); before: undo it",
    )
    rollback.add_argument("--reason", required=True, help="why (recorded in the ledger)")
    rollback.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    promotions = add("promotions", "the promotion ledger, newest first, as a DataFrame")
    promotions.add_argument(
        "--max-results", type=int, default=50, metavar="N", help="page size, 1..1000 (50)"
    )
    promotions.add_argument("--page-token", default=None, help="next page token printed before")

    add("production", "what is live now and the promotion that put it there")

    ab = add(
        "ab",
        "A/B tests on the production endpoint: start, status, advance, promote, rollback, stop",
        "Champion and challenger as two production variants; every change is audited "
        "(approver, reason, promotion lock, ledger) and shown before it is confirmed.",
    )
    ab_sub = ab.add_subparsers(dest="ab_command", metavar="<action>", required=True)
    ab_start = ab_sub.add_parser(
        "start",
        help="deploy a run's model as the challenger (dry run shown first, then confirmation)",
    )
    ab_start.add_argument("run_id", metavar="RUN", help="run id, or a run name unique among runs")
    ab_start.add_argument(
        "--artifact",
        default=None,
        metavar="S3_URI",
        help="model.tar.gz to deploy (default: the run's package from package_for_sagemaker)",
    )
    ab_start.add_argument(
        "--reason", default="", help="why (recorded in the ledger); required unless --dry-run"
    )
    ab_start.add_argument(
        "--shadow",
        action="store_true",
        help="start with a shadow stage (the challenger scores a copy; customers see the champion)",
    )
    ab_start.add_argument(
        "--dry-run", action="store_true", help="only show what would change; write nothing"
    )
    ab_start.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    ab_status = ab_sub.add_parser("status", help="one A/B test, or every test as a DataFrame")
    ab_status.add_argument("ab_test_id", nargs="?", default=None, metavar="AB_TEST_ID")
    ab_status.add_argument(
        "--widget",
        action="store_true",
        help="return an ABTestMonitor widget (readout, chart, and the actions with confirmation)",
    )
    for action, help_text in (
        ("advance", "move the challenger to the rollout plan's next stage"),
        ("promote", "serve the challenger's model alone; the test is completed"),
        ("rollback", "production back on the champion's configuration"),
        ("stop", "end a running test without a winner (champion only)"),
    ):
        change = ab_sub.add_parser(action, help=help_text)
        change.add_argument("ab_test_id", metavar="AB_TEST_ID")
        change.add_argument(
            "--reason", default="", help="why (recorded in the ledger); required unless --dry-run"
        )
        change.add_argument(
            "--dry-run", action="store_true", help="only show what would change; write nothing"
        )
        change.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser, subs


def parse_line(line: str) -> argparse.Namespace:
    """Parse a ``%fraud`` line; raises MagicUsageError or HelpShown (help already printed)."""
    parser, subs = build_parser()
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise MagicUsageError(f"cannot split the line: {exc}", parser.format_usage()) from None
    if not argv:
        parser.print_help()
        raise HelpShown()
    namespace, extras = parser.parse_known_args(argv)
    if extras:
        # Report against the sub-command the user typed, not the top-level usage.
        chosen = subs.get(str(namespace.command), parser)
        chosen.error("unrecognized arguments: " + " ".join(extras))
    if getattr(namespace, "order_by", None) is not None:
        namespace.order_by = _order_keys(namespace.order_by)
    return namespace


def usage_message(exc: MagicUsageError) -> str:
    """argparse's usual two lines: the usage, then ``<prog>: error: <message>``."""
    return f"{exc.usage}{exc.prog}: error: {exc}"


__all__: list[str] = [
    "HelpShown",
    "MagicArgumentParser",
    "MagicUsageError",
    "build_parser",
    "parse_line",
    "usage_message",
]
