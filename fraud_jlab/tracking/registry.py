"""Choose a tracking backend from a URI; backends register by entry point.

A tracking URI starts with a scheme word followed by ``:`` or ``+``; the word picks
the backend, which receives the whole URI:

* ``sqlite:///<absolute path>`` (or a bare file path) -> the embedded SQLite store;
* ``mlflow+<MLflow tracking URI>`` (``mlflow+http://host:5000``,
  ``mlflow+sqlite:////path/mlflow.db``, ``mlflow+arn:aws:sagemaker:...``) -> MLflow
  (extra ``fraud_jlab[mlflow]``);
* ``sagemaker:`` (``sagemaker:?region=eu-west-1``) -> SageMaker Experiments.

Backends are found through the ``fraud_jlab.trackers`` entry-point group: the entry
point's name is the scheme word and its object a factory ``factory(uri) -> TrackerStore``.
The built-in backends are declared the same way in fraud_jlab's ``pyproject.toml``; a
third-party package adds a scheme without editing fraud_jlab::

    [project.entry-points."fraud_jlab.trackers"]
    mytracker = "my_package.tracker:from_uri"

The URI comes from ``FraudJlab.tracking_uri`` (``FRAUD_JLAB_TRACKING_URI``), so switching
backends is configuration, not code. :func:`register_scheme` adds a prefix at run time
(tests, notebooks).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

from fraud_jlab.config import get_settings
from fraud_jlab.errors import ValidationError
from fraud_jlab.redact import redact_uri
from fraud_jlab.tracking.contract import TrackerStore

GROUP = "fraud_jlab.trackers"
#: The built-in backends, exactly as declared in pyproject.toml (used when fraud_jlab runs
#: from a source tree whose installed metadata predates an entry).
BUILTIN_ENTRY_POINTS: dict[str, str] = {
    "sqlite": "fraud_jlab.tracking.sqlite:from_uri",
    "mlflow": "fraud_jlab.tracking.mlflow:from_uri",
    "sagemaker": "fraud_jlab.tracking.sagemaker:from_uri",
}
#: A scheme word and its separator; one letter is a Windows drive, not a scheme.
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9.\-]+)([+:])")

Factory = Callable[[str], TrackerStore]

_lock = threading.Lock()
_trackers: dict[str, TrackerStore] = {}
_override: TrackerStore | None = None
_prefixes: dict[str, Callable[[str], TrackerStore]] = {}


def backend_entry_points() -> dict[str, EntryPoint]:
    """Scheme word -> entry point of every installed backend (built-ins included)."""
    found = {name: EntryPoint(name, value, GROUP) for name, value in BUILTIN_ENTRY_POINTS.items()}
    found.update({ep.name: ep for ep in entry_points(group=GROUP)})
    return found


def known_schemes() -> list[str]:
    """The URI schemes this process can open, e.g. ``['mlflow+', 'sagemaker:', 'sqlite:///']``."""
    words = {"sqlite": "sqlite:///", "mlflow": "mlflow+", "sagemaker": "sagemaker:"}
    schemes = {words.get(name, f"{name}:") for name in backend_entry_points()}
    return sorted(schemes | set(_prefixes))


def register_scheme(prefix: str, factory: Callable[[str], TrackerStore]) -> None:
    """Serve tracking URIs starting with ``prefix`` (e.g. ``"mytest+"``) with ``factory(rest)``.

    For code that cannot ship an entry point (tests, a notebook); a registered prefix
    wins over an entry point with the same scheme word.
    """
    if "://" not in prefix and not prefix.endswith(("+", ":")):
        raise ValidationError(
            f"scheme prefix {prefix!r} must end with '://', ':' or '+'", field="prefix"
        )
    _prefixes[prefix] = factory


def _unknown(uri: str) -> ValidationError:
    return ValidationError(
        f"tracking_uri {redact_uri(uri)!r} has an unknown scheme; use one of "
        + ", ".join(repr(s) for s in known_schemes())
        + " or a file path",
        field="tracking_uri",
    )


def _open(uri: str) -> TrackerStore:
    for prefix, prefix_factory in _prefixes.items():
        if uri.startswith(prefix):
            return prefix_factory(uri[len(prefix) :])
    match = _SCHEME.match(uri)
    if match is None:
        return _load("sqlite")(uri)
    word = match.group(1).lower()
    entry = backend_entry_points().get(word)
    if entry is not None:
        return _load_entry(entry)(uri)
    # "name:..." without "//" may be a file name with a colon; anything URI-shaped is an error.
    if "://" in uri or match.group(2) == "+" or uri[match.end() :][:1] in ("", "?"):
        raise _unknown(uri)
    return _load("sqlite")(uri)


def _load(word: str) -> Factory:
    return _load_entry(backend_entry_points()[word])


def _load_entry(entry: EntryPoint) -> Factory:
    factory = entry.load()
    if not callable(factory):
        raise ValidationError(
            f"tracker entry point {entry.name!r} ({entry.value}) is not callable",
            field="tracking_uri",
        )
    return factory


def tracker_from_uri(uri: str) -> TrackerStore:
    """A tracker for ``uri``; the same URI returns the same (thread-safe) instance.

    Raises ValidationError (field ``tracking_uri``) for an empty URI or an unknown
    scheme, naming the known schemes.
    """
    if not isinstance(uri, str) or not uri.strip():
        raise ValidationError("tracking_uri must be a non-empty string", field="tracking_uri")
    uri = uri.strip()
    with _lock:
        if uri not in _trackers:
            _trackers[uri] = _open(uri)
        return _trackers[uri]


def get_tracker() -> TrackerStore:
    """The tracker for the configured ``tracking_uri`` (or the one set by :func:`set_tracker`)."""
    if _override is not None:
        return _override
    return tracker_from_uri(get_settings().tracking_uri)


def set_tracker(tracker: TrackerStore | None) -> None:
    """Use ``tracker`` for every call that is not given one explicitly (``None`` restores the default)."""
    global _override
    _override = tracker
