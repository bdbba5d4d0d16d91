"""``fraud-jlab``: the command line (``fraud-jlab demo`` runs everything locally).

``fraud-jlab demo`` starts the local AWS emulator, provisions the production
integration's resources, seeds a tracker with real runs, uploads the synthetic
data set to S3 and launches JupyterLab pointed at all of it. Ctrl-C stops Lab
and the emulator.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from fraud_jlab.demo.traffic_cli import add_traffic_parser, record_count, run_traffic
from fraud_jlab.demo.workspace import DATA_KEY as DATA_KEY  # where the data set is in S3
from fraud_jlab.demo.workspace import DEMO_TRAFFIC_RECORDS
from fraud_jlab.errors import FraudJlabError
from fraud_jlab.version import __version__

#: The notebook Lab opens first (its path in the workdir).
FIRST_NOTEBOOK = "01_data_exploration.ipynb"
_LAB_START_TIMEOUT = 120.0
_LAB_STOP_TIMEOUT = 10.0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in 1..65535, got {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"must be in 1..65535, got {value}")
    return value


def _rows(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 5000, got {text!r}") from None
    if value < 5000:
        raise argparse.ArgumentTypeError(
            f"must be >= 5000 (the holdout needs fraud rows), got {value}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``fraud-jlab`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="fraud-jlab",
        description="fraud_jlab: fraud-detection experimentation in JupyterLab.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run JupyterLab with a local AWS emulator and a seeded tracker",
        description=(
            "Start a local AWS emulator (S3, SSM, Step Functions, SageMaker), provision the "
            "production integration's resources, seed a run tracker with real XGBoost runs "
            "and launch JupyterLab. Press Ctrl-C to stop everything."
        ),
    )
    demo.add_argument("--port", type=_port, default=8888, help="JupyterLab port (default 8888)")
    demo.add_argument("--ip", default="127.0.0.1", help="JupyterLab address (default 127.0.0.1)")
    demo.add_argument("--no-browser", action="store_true", help="do not open a browser")
    demo.add_argument(
        "--workdir",
        type=Path,
        default=Path("fraud-jlab-demo"),
        help="Lab root directory holding runs.db and the notebooks (default ./fraud-jlab-demo)",
    )
    demo.add_argument(
        "--rows",
        type=_rows,
        default=284_807,
        help=(
            "rows of synthetic fraud data to generate and seed with (default 284807: the "
            "holdout then holds ~98 frauds)"
        ),
    )
    demo.add_argument(
        "--traffic",
        type=record_count(0),
        default=DEMO_TRAFFIC_RECORDS,
        help=f"labelled requests sent to the production endpoint at start (default {DEMO_TRAFFIC_RECORDS})",
    )
    recover = commands.add_parser(
        "recover",
        help="restore production from promotions whose process died mid-way",
        description=(
            "Find promotion attempts without a final ledger record whose lock no live process "
            "holds, restore the production state before them (values changed by someone else "
            "are left and reported), verify, and record the recovery in the ledger. AWS "
            "credentials, region and endpoint come from boto3's default chain."
        ),
    )
    recover.add_argument("--reason", required=True, help="why (recorded in the ledger)")
    recover.add_argument(
        "--approver",
        default=None,
        help=(
            "who recovers (recorded in the ledger; default: resolved like the Lab's approver: "
            "JUPYTERHUB_USER, the SageMaker Studio user profile, FRAUD_JLAB_APPROVER)"
        ),
    )
    recover.add_argument(
        "--check", action="store_true", help="only list unfinished attempts; change nothing"
    )
    imports = commands.add_parser(
        "import",
        help="copy runs from one tracker to another (idempotent)",
        description=(
            "Copy runs with their params, metrics (with steps), tags, datasets, artifacts and "
            "parent links from one tracking URI to another (sqlite:///..., mlflow+..., "
            "sagemaker:...). Runs copied before are skipped, so running it again copies nothing."
        ),
    )
    imports.add_argument("--from", dest="source", required=True, help="source tracking URI")
    imports.add_argument("--to", dest="destination", required=True, help="destination tracking URI")
    imports.add_argument("--filter", default="", help="copy only runs matching this search filter")
    add_traffic_parser(commands)
    return parser


def _progress_bar(done: int, total: int) -> None:
    width = 30
    filled = width * done // max(total, 1)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} runs")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def run_import(args: argparse.Namespace) -> int:
    """``fraud-jlab import``: 0 when every selected run is in the destination."""
    from fraud_jlab.redact import redact_uri
    from fraud_jlab.tracking.registry import tracker_from_uri
    from fraud_jlab.tracking.transfer import copy_runs

    try:
        source = tracker_from_uri(args.source)
        destination = tracker_from_uri(args.destination)
        summary = copy_runs(
            source,
            destination,
            args.filter,
            source_uri=args.source,
            progress=_progress_bar,
        )
    except FraudJlabError as exc:
        _say(f"import failed: {exc}")
        return 1
    for run_id, error in summary.errors.items():
        _say(f"failed {run_id}: {error}")
    _say(
        f"{summary.copied} copied, {summary.skipped} skipped, {summary.failed} failed "
        f"({redact_uri(args.source)} -> {redact_uri(args.destination)})"
    )
    return 0 if summary.failed == 0 else 1


def run_recover(args: argparse.Namespace) -> int:
    """``fraud-jlab recover``: 0 when production is restored (or nothing was unfinished)."""
    from fraud_jlab.config import get_settings
    from fraud_jlab.errors import FraudJlabError
    from fraud_jlab.identity import resolve_approver
    from fraud_jlab.promotion import ProductionIntegrator

    integrator = ProductionIntegrator()
    try:
        pending = integrator.unfinished_attempts()
        for attempt in pending:
            _say(attempt.message)
        if not pending:
            _say("no unfinished promotion: nothing to recover")
            return 0
        if args.check:
            return 1
        approver = args.approver or resolve_approver(
            None, settings=get_settings(), use_kernel_environment=True
        )
        records = integrator.recover(approver=approver, reason=args.reason)
    except FraudJlabError as exc:
        _say(f"recovery failed: {exc}")
        return 1
    for record in records:
        _say(f"{record.kind} {record.promotion_id}: {record.status}: {record.error or ''}")
    return 0 if all(r.status in ("rolled_back", "completed") for r in records) else 1


def _say(message: str) -> None:
    print(f"[fraud-jlab] {message}", flush=True)


def _check_port_free(ip: str, port: int) -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As Jupyter does: connections in TIME_WAIT from an earlier server do not block the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((ip, port))
        except OSError as exc:
            return f"cannot listen on {ip}:{port} ({exc.strerror}); choose another --port or --ip"
    return None


#: JupyterLab plugins the demo's Lab runs without: the "official Jupyter news?" prompt.
DEMO_DISABLED_LAB_PLUGINS = ("@jupyterlab/apputils-extension:announcements",)


def demo_lab_config(workdir: Path, environ: dict[str, str]) -> Path:
    """Write the demo's own Jupyter config dir (news prompt off) and put it on
    ``JUPYTER_CONFIG_PATH`` in ``environ``; the user's settings are untouched. Returns the dir."""
    folder = workdir / ".fraud-jlab-demo" / "jupyter-config"
    labconfig = folder / "labconfig"
    labconfig.mkdir(parents=True, exist_ok=True)
    page_config = {"disabledExtensions": {name: True for name in DEMO_DISABLED_LAB_PLUGINS}}
    (labconfig / "page_config.json").write_text(json.dumps(page_config, indent=2) + "\n")
    existing = environ.get("JUPYTER_CONFIG_PATH", "")
    paths = [str(folder), *[p for p in existing.split(os.pathsep) if p and p != str(folder)]]
    environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return folder


def _lab_command(args: argparse.Namespace, workdir: Path, token: str) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={workdir}",
        f"--ServerApp.ip={args.ip}",
        f"--ServerApp.port={args.port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        "--ServerApp.jpserver_extensions=fraud_jlab=True",
    ]
    if (workdir / FIRST_NOTEBOOK).exists():
        # the browser (and the printed URL) open the first notebook
        command.append(f"--LabApp.default_url=/lab/tree/{FIRST_NOTEBOOK}")
    if args.no_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    return command


def _wait_for_lab(
    url: str, token: str, lab: subprocess.Popen[bytes], stop: threading.Event
) -> bool:
    deadline = time.monotonic() + _LAB_START_TIMEOUT
    request = urllib.request.Request(
        f"{url}api/status", headers={"Authorization": f"token {token}"}
    )
    while time.monotonic() < deadline and not stop.is_set():
        if lab.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        stop.wait(0.3)
    return False


def _stop_lab(lab: subprocess.Popen[bytes]) -> None:
    if lab.poll() is not None:
        return
    lab.terminate()  # SIGTERM: Jupyter shuts down without asking for confirmation
    try:
        lab.wait(_LAB_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        lab.kill()
        lab.wait(5)


def _prepare(args: argparse.Namespace, workdir: Path, environ: dict[str, str]) -> None:
    """Seed the tracker, provision the emulator's resources, upload the data set and copy
    the notebooks (a copy the user already has is left alone)."""
    from fraud_jlab.demo.workspace import copy_notebooks, prepare_workspace

    prepare_workspace(workdir, args.rows, environ, _say, traffic_records=args.traffic)
    copy_notebooks(workdir)


def run_demo(args: argparse.Namespace) -> int:
    """Run ``fraud-jlab demo`` until Ctrl-C (SIGINT) or SIGTERM; returns the exit code."""
    from fraud_jlab.demo.emulator import start_emulator

    problem = _check_port_free(args.ip, args.port)
    if problem:
        print(f"fraud-jlab demo: error: {problem}", file=sys.stderr)
        return 2
    workdir = args.workdir.expanduser().resolve()
    workdir.mkdir(parents=True, exist_ok=True)

    stop = threading.Event()
    ready = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        if not ready.is_set():
            # Still preparing (seeding can take a while): abort right away.
            raise KeyboardInterrupt

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    lab: subprocess.Popen[bytes] | None = None
    try:
        emulator = start_emulator()
        with emulator:
            environ = dict(os.environ)
            environ.update(emulator.environment())
            os.environ.update(emulator.environment())
            _say(f"AWS emulator listening on {emulator.endpoint_url}")
            _prepare(args, workdir, environ)
            demo_lab_config(workdir, environ)
            _say(
                "runs persist in the workdir; the emulator's AWS state (Parameter Store, "
                "config file, promotion history) starts over at every demo start"
            )

            token = secrets.token_hex(24)
            log_path = workdir / "jupyterlab.log"
            with log_path.open("ab") as log:
                # Own session: a terminal Ctrl-C reaches only us; we stop Lab with SIGTERM.
                lab = subprocess.Popen(
                    _lab_command(args, workdir, token),
                    env=environ,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
            host = "localhost" if args.ip in {"0.0.0.0", "::", ""} else args.ip
            base = f"http://{host}:{args.port}/"
            if not _wait_for_lab(f"http://{args.ip}:{args.port}/", token, lab, stop):
                print(
                    f"fraud-jlab demo: error: JupyterLab did not start; see {log_path}",
                    file=sys.stderr,
                )
                return 1
            ready.set()
            banner = "=" * 72
            print(banner, flush=True)
            print(
                f"  fraud_jlab demo is running. Open JupyterLab at:\n\n    {base}lab?token={token}\n"
            )
            if (workdir / FIRST_NOTEBOOK).exists():
                print(f"  First notebook: {base}lab/tree/{FIRST_NOTEBOOK}?token={token}")
            print(f"  Workdir: {workdir}   (Lab log: {log_path})")
            print(f"  Tracker: {environ['FRAUD_JLAB_TRACKING_URI']}")
            print(f"  AWS emulator: {emulator.endpoint_url}")
            print("  Press Ctrl-C to stop JupyterLab and the emulator.")
            print(banner, flush=True)
            while not stop.is_set():
                if lab.poll() is not None:
                    print(
                        f"fraud-jlab demo: error: JupyterLab exited with code {lab.returncode}; "
                        f"see {log_path}",
                        file=sys.stderr,
                    )
                    return 1
                stop.wait(0.5)
            _say("stopping JupyterLab and the AWS emulator")
            return 0
    except KeyboardInterrupt:
        _say("interrupted; stopping")
        return 130
    except FraudJlabError as exc:
        print(f"fraud-jlab demo: error: {exc}", file=sys.stderr)
        return 1
    finally:
        if lab is not None:
            _stop_lab(lab)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fraud-jlab`` console script."""
    parser = build_parser()
    args: Any = parser.parse_args(argv)
    if args.command == "demo":
        return run_demo(args)
    if args.command == "recover":
        return run_recover(args)
    if args.command == "import":
        return run_import(args)
    if args.command == "traffic":
        return run_traffic(args)
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
