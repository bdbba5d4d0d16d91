"""SageMaker ``InvokeEndpoint`` that really scores, for the local AWS emulator.

moto's ``sagemaker-runtime`` answers canned bodies. :func:`install_sagemaker_serving`
replaces its ``InvokeEndpoint`` (in the emulator only, the way
:mod:`fraud_jlab.demo.sagemaker_update` adds ``UpdateEndpoint``) with what a SageMaker
endpoint serving the built-in XGBoost (or scikit-learn) container does:

* the production variant is drawn by the endpoint's current variant weights
  (``UpdateEndpointWeightsAndCapacities`` changes them at once), from a random
  generator seeded per endpoint (:data:`SERVING_SEED` and the endpoint name), so a
  test's traffic split is reproducible; ``TargetVariant`` picks one explicitly;
* the variant's model (its ``PrimaryContainer.ModelDataUrl``: the ``model.tar.gz``
  of :func:`fraud_jlab.modelstore.package_for_sagemaker` in the emulator's S3) is
  loaded once per archive version and scores the ``text/csv`` body (one row of
  features a line, no header, as the XGBoost container takes it); the answer is
  one fraud probability a line, with the ``InvokedProductionVariant`` header;
* shadow variants (:mod:`fraud_jlab.demo.sagemaker_shadow`) score a copy of the
  sampled share of the requests (shadow weight / production weight); customers
  only ever see the production variant's answer;
* every scored request is captured and measured by :mod:`fraud_jlab.demo.data_capture`
  (Data Capture JSON Lines in S3, ``Invocations`` and ``ModelLatency`` in CloudWatch).

Errors are SageMaker's: an unknown endpoint is a ``ValidationError``, a body the
container cannot read (wrong content type, wrong column count, not numbers) or a
model archive it cannot load is a ``ModelError`` (HTTP 424).

Canned results queued through moto's ``/moto-api/static/sagemaker/endpoint-results``
(and their repeats) keep moto's behaviour, so tests that seed scores still work.
"""

from __future__ import annotations

import io
import logging
import tarfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
_install_lock = threading.Lock()
_draw_lock = threading.Lock()
_MARKER = "_fraud_jlab_serving"
_RNG_ATTR = "fraud_jlab_rng"
_SAMPLE_ATTR = "fraud_jlab_capture_rng"
#: Seed of every endpoint's variant-choice generator (mixed with the endpoint name).
SERVING_SEED = 20261204
XGBOOST_FILE = "xgboost-model"
_MAX_CACHED_MODELS = 16


class ModelError(Exception):
    """What SageMaker answers when the container fails a request (HTTP 424 ``ModelError``)."""


@dataclass(frozen=True)
class Variant:
    """One variant of an endpoint: its name, model and current weight."""

    name: str
    model_name: str
    weight: float
    shadow: bool = False


class Scorer:
    """A loaded model archive: ``score(rows)`` returns the fraud probability of each row."""

    def __init__(self, n_features: int, predict: Callable[[np.ndarray], np.ndarray]) -> None:
        self.n_features = n_features
        self._predict = predict

    def score(self, rows: np.ndarray) -> np.ndarray:
        if rows.shape[1] != self.n_features:
            raise ModelError(
                f"Feature shape mismatch, expected: {self.n_features}, got {rows.shape[1]}"
            )
        return np.asarray(self._predict(rows), dtype=np.float64)


def load_archive(archive: bytes, where: str) -> Scorer:
    """The model in a SageMaker ``model.tar.gz`` (the XGBoost or scikit-learn layout of
    :mod:`fraud_jlab.modelstore.sagemaker`), loaded with :mod:`fraud_jlab.tracking.saved_models`."""
    import json

    from fraud_jlab.tracking.saved_models.flavors import class_probabilities, deserialise
    from fraud_jlab.tracking.saved_models.store import LoadedModel

    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            files = {
                m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
                for m in tar.getmembers()
                if m.isfile()
            }
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ModelError(f"{where} is not a model.tar.gz archive: {exc}") from exc
    try:
        if XGBOOST_FILE in files:
            booster = deserialise("xgboost", files[XGBOOST_FILE], {}, where=where)
            # one thread: the emulator shares a small machine with everything else
            booster.set_param({"nthread": 1})
            return Scorer(
                int(booster.num_features()),
                lambda x: class_probabilities("xgboost", booster, x, {}, [])[:, 1],
            )
        if "MODEL.json" in files:
            metadata = json.loads(files["MODEL.json"])
            native = deserialise(
                str(metadata["flavor"]),
                files[str(metadata["file"])],
                dict(metadata.get("extra") or {}),
                where=where,
            )
            model = LoadedModel(native, metadata)
            return Scorer(
                len(model.signature.feature_names), lambda x: model.predict_proba(x)[:, 1]
            )
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{where} could not be loaded: {exc}") from exc
    raise ModelError(f"{where} holds neither {XGBOOST_FILE} nor MODEL.json: {sorted(files)}")


class ModelCache:
    """Loaded archives by ``(ModelDataUrl, ETag)``: a replaced object is loaded again."""

    def __init__(self, size: int = _MAX_CACHED_MODELS) -> None:
        self._size = size
        self._models: dict[tuple[str, str], Scorer] = {}
        self._lock = threading.Lock()

    def get(self, url: str, account_id: str) -> Scorer:
        from moto.s3.models import s3_backends

        if not url.startswith("s3://") or "/" not in url[5:]:
            raise ModelError(f"ModelDataUrl {url!r} is not an s3://bucket/key URI")
        bucket, key = url[5:].split("/", 1)
        try:
            obj = s3_backends[account_id]["aws"].get_object(bucket, key)
        except Exception as exc:  # MissingBucket / MissingKey
            raise ModelError(f"the model data {url} cannot be read: {exc}") from exc
        if obj is None:
            raise ModelError(f"the model data {url} does not exist")
        cache_key = (url, str(obj.etag))
        with self._lock:
            found = self._models.get(cache_key)
        if found is not None:
            return found
        scorer = load_archive(bytes(obj.value), url)
        with self._lock:
            if len(self._models) >= self._size:
                self._models.pop(next(iter(self._models)))
            self._models[cache_key] = scorer
        return scorer


MODELS = ModelCache()


def parse_csv(body: bytes) -> np.ndarray:
    """``text/csv`` rows of numbers (empty fields are missing values) as a float matrix."""
    try:
        lines = [ln for ln in body.decode("utf-8").splitlines() if ln.strip()]
        rows = [[float(v) if v.strip() else np.nan for v in ln.split(",")] for ln in lines]
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelError(
            f"Loading csv data failed with Exception, please ensure data is in csv format: {exc}"
        ) from exc
    if not rows:
        raise ModelError("the request body holds no csv row")
    if len({len(r) for r in rows}) != 1:
        raise ModelError("every csv row must have the same number of columns")
    return np.asarray(rows, dtype=np.float64)


def format_scores(scores: np.ndarray) -> str:
    """One score a line, each the shortest text that reads back as the same float."""
    return "\n".join(repr(float(s)) for s in scores)


def endpoint_variants(backend: Any, endpoint: Any) -> tuple[list[Variant], list[Variant]]:
    """(production variants with their current weights, shadow variants) of an endpoint."""
    from fraud_jlab.demo.sagemaker_shadow import _shadows_of

    config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
    configured = {v["VariantName"]: v for v in (config.production_variants if config else [])}
    production = []
    for current in endpoint.production_variants:
        name = current["VariantName"]
        spec = configured.get(name, {})
        weight = current.get("CurrentWeight")
        if weight is None:
            weight = spec.get("InitialVariantWeight", 1.0)
        production.append(Variant(name, str(spec.get("ModelName", "")), float(weight)))
    shadows = [
        Variant(
            s["VariantName"], str(s["ModelName"]), float(s.get("InitialVariantWeight", 1.0)), True
        )
        for s in _shadows_of(backend, endpoint.endpoint_config_name)
    ]
    return production, shadows


def _generator(endpoint: Any, attr: str, salt: int) -> np.random.Generator:
    rng = getattr(endpoint, attr, None)
    if rng is None:
        rng = np.random.default_rng(
            [SERVING_SEED, salt, zlib.crc32(endpoint.endpoint_name.encode())]
        )
        setattr(endpoint, attr, rng)
    return rng


def choose_variant(endpoint: Any, production: list[Variant], target: str | None) -> Variant:
    """``target`` when given, else a draw by weight from the endpoint's own generator."""
    if target:
        for variant in production:
            if variant.name == target:
                return variant
        raise _validation(
            f"Target variant {target!r} is not a production variant of endpoint "
            f"{endpoint.endpoint_name!r}."
        )
    weights = np.array([max(v.weight, 0.0) for v in production], dtype=np.float64)
    if not production or weights.sum() <= 0:
        raise ModelError(f"endpoint {endpoint.endpoint_name!r} has no variant with weight > 0")
    with _draw_lock:
        index = int(
            _generator(endpoint, _RNG_ATTR, 0).choice(len(production), p=weights / weights.sum())
        )
    return production[index]


def sampled(endpoint: Any, percent: float) -> bool:
    """Whether this request falls in a ``percent`` % sample (endpoint's own generator)."""
    if percent >= 100:
        return True
    if percent <= 0:
        return False
    with _draw_lock:
        return bool(_generator(endpoint, _SAMPLE_ATTR, 1).random() * 100 < percent)


def _validation(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError("ValidationError", message)
    error.code = 400
    return error


def _model_error(message: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    error = JsonRESTError(
        "ModelError", f'Received client error (400) from primary with message "{message}"'
    )
    error.code = 424
    return error


@dataclass
class Scored:
    """One variant's answer to a request."""

    variant: Variant
    scores: np.ndarray
    latency_us: float


def score_with(backend: Any, variant: Variant, rows: np.ndarray) -> Scored:
    """Score ``rows`` with the variant's model (loaded from its ModelDataUrl)."""
    model = backend._models.get(variant.model_name)
    if model is None:
        raise ModelError(
            f"variant {variant.name!r} names model {variant.model_name!r}, which does not exist"
        )
    container = model.primary_container or (model.containers or [{}])[0]
    url = str(container.get("ModelDataUrl", ""))
    scorer = MODELS.get(url, backend.account_id)
    started = time.perf_counter()
    scores = scorer.score(rows)
    return Scored(variant, scores, (time.perf_counter() - started) * 1e6)


def serve(runtime: Any) -> tuple[int, dict[str, str], str]:
    """``InvokeEndpoint`` for the response object ``runtime`` (moto's SageMakerRuntimeResponse)."""
    from moto.sagemaker.models import sagemaker_backends

    from fraud_jlab.demo.data_capture import RECORDER

    name = str(runtime._get_param("EndpointName") or runtime.path.split("/")[2])
    backend = sagemaker_backends[runtime.current_account][runtime.region]
    endpoint = backend.endpoints.get(name)
    if endpoint is None:
        raise _validation(f"Endpoint {name} of account {runtime.current_account} not found.")
    headers = {k.lower(): v for k, v in runtime.headers.items()}
    content_type = headers.get("content-type", "application/octet-stream")
    body = runtime.raw_body if isinstance(runtime.raw_body, bytes) else str(runtime.body).encode()
    production, shadows = endpoint_variants(backend, endpoint)
    variant = choose_variant(endpoint, production, headers.get("x-amzn-sagemaker-target-variant"))
    try:
        if content_type.split(";")[0].strip().lower() != "text/csv":
            raise ModelError(f"Content type {content_type} is not supported by this framework.")
        rows = parse_csv(body)
        answer = score_with(backend, variant, rows)
    except ModelError as exc:
        raise _model_error(str(exc)) from exc
    copies = []
    for shadow in shadows:
        share = 100.0 * shadow.weight / variant.weight if variant.weight > 0 else 100.0
        if sampled(endpoint, share):
            try:
                copies.append(score_with(backend, shadow, rows))
            except ModelError as exc:  # a failing shadow never affects the customer's answer
                log.warning("shadow variant %s of %s failed: %s", shadow.name, name, exc)
    RECORDER.record(
        endpoint=endpoint,
        endpoint_config=backend.endpoint_configs.get(endpoint.endpoint_config_name),
        region=runtime.region,
        body=body.decode("utf-8", errors="replace"),
        content_type=content_type,
        inference_id=headers.get("x-amzn-sagemaker-inference-id"),
        answers=[answer, *copies],
        sampled=sampled,
    )
    response_headers = {
        "Content-Type": "text/csv",
        "x-Amzn-Invoked-Production-Variant": variant.name,
    }
    return 200, response_headers, format_scores(answer.scores)


def install_sagemaker_serving() -> bool:
    """Replace moto's ``InvokeEndpoint`` with :func:`serve`; idempotent. Returns True once active."""
    from moto.sagemakerruntime.responses import SageMakerRuntimeResponse

    with _install_lock:
        current = SageMakerRuntimeResponse.invoke_endpoint
        if getattr(current, _MARKER, False):
            return True
        canned = current

        def invoke_endpoint(self: Any) -> Any:
            backend = self.sagemakerruntime_backend
            name = self._get_param("EndpointName")
            if backend.results_queue or backend.results.get(name):
                return canned(self)  # results seeded through moto's API
            return serve(self)

        setattr(invoke_endpoint, _MARKER, True)
        setattr(SageMakerRuntimeResponse, "invoke_endpoint", invoke_endpoint)  # noqa: B010
        return True


__all__ = [
    "MODELS",
    "SERVING_SEED",
    "ModelError",
    "Scorer",
    "Variant",
    "choose_variant",
    "endpoint_variants",
    "install_sagemaker_serving",
    "load_archive",
    "parse_csv",
]
