"""``fraud-jlab traffic``: send labelled requests to the (emulated) production endpoint.

Reads the demo's data set from S3 (``s3://<data_bucket>/datasets/creditcard.parquet``
unless ``--data-uri``), sends ``--records`` of its held-out rows with
:func:`fraud_jlab.demo.traffic.send_traffic` and writes their labels as ground truth,
so a running A/B test's readout gets data.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from fraud_jlab.errors import FraudJlabError


def record_count(minimum: int) -> Callable[[str], int]:
    """An argparse type: a record count in ``minimum``..MAX_RECORDS."""
    from fraud_jlab.demo.traffic import MAX_RECORDS

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be an integer in {minimum}..{MAX_RECORDS}, got {text!r}"
            ) from None
        if not minimum <= value <= MAX_RECORDS:
            raise argparse.ArgumentTypeError(f"must be in {minimum}..{MAX_RECORDS}, got {value}")
        return value

    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {value}")
    return value


def add_traffic_parser(commands: Any) -> None:
    """Register ``traffic`` on the ``fraud-jlab`` sub-command parsers."""
    traffic = commands.add_parser(
        "traffic",
        help="send labelled requests to the production endpoint (the demo's emulator)",
        description=(
            "Send held-out rows of the demo data set to a SageMaker endpoint (InvokeEndpoint, "
            "one transaction a request) and write their fraud labels as Model Monitor ground "
            "truth; a share of the labels stays late (unlabelled). AWS credentials and region "
            "come from boto3's default chain."
        ),
    )
    traffic.add_argument(
        "--endpoint-url",
        default=None,
        help="AWS endpoint, e.g. the demo's emulator http://127.0.0.1:PORT "
        "(default: AWS_ENDPOINT_URL)",
    )
    traffic.add_argument(
        "--records", type=record_count(1), default=1000, help="requests (default 1000)"
    )
    traffic.add_argument(
        "--endpoint", default=None, help="endpoint name (default: the production endpoint)"
    )
    traffic.add_argument(
        "--label-delay-fraction",
        type=_fraction,
        default=0.2,
        help="share of requests whose label has not arrived yet (default 0.2)",
    )
    traffic.add_argument("--seed", type=int, default=0, help="row choice seed (default 0)")
    traffic.add_argument(
        "--data-uri", default=None, help="data set (default: the demo's data set in S3)"
    )


def run_traffic(args: argparse.Namespace) -> int:
    """``fraud-jlab traffic``: 0 when every request was scored and its label written."""
    from fraud_jlab import aws
    from fraud_jlab.config import get_settings, set_settings
    from fraud_jlab.datasets import load_dataset
    from fraud_jlab.demo.seed import holdout_rows
    from fraud_jlab.demo.traffic import send_traffic
    from fraud_jlab.demo.workspace import DATA_KEY

    if args.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(name, "testing")  # the emulator takes any credentials
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        set_settings(None)
    try:
        settings = get_settings()
        endpoint = args.endpoint or settings.production_endpoint
        frame = load_dataset(args.data_uri or f"s3://{settings.data_bucket}/{DATA_KEY}")
        result = send_traffic(
            aws.client("sagemaker-runtime", settings),
            endpoint,
            holdout_rows(frame),
            args.records,
            ground_truth_uri=settings.ground_truth_uri(),
            s3=aws.client("s3", settings),
            label_delay_fraction=args.label_delay_fraction,
            seed=args.seed,
        )
    except FraudJlabError as exc:
        print(f"fraud-jlab traffic: error: {exc}", file=sys.stderr)
        return 1
    print(f"[fraud-jlab] {endpoint}: {result.summary()}", flush=True)
    print(f"[fraud-jlab] labels in {settings.ground_truth_uri()}", flush=True)
    return 0


__all__ = ["add_traffic_parser", "record_count", "run_traffic"]
