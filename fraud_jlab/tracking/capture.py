"""What a run records about its environment without being asked.

``current_user`` and ``code_version`` identify who ran what; ``dependency_versions``
pins the libraries; ``dataset_hash`` fingerprints the data. ``code_version``
calls ``git`` at most once every few seconds per working directory, so logging
hundreds of runs a second does not fork hundreds of processes.
"""

from __future__ import annotations

import getpass
import hashlib
import os
import platform
import subprocess
import sys
import threading
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from fraud_jlab.errors import ValidationError

#: Distributions whose versions every run records (absent ones are left out).
TRACKED_PACKAGES = ("numpy", "pandas", "scikit-learn", "xgboost", "lightgbm", "fraud_jlab")
CODE_VERSION_TTL_S = 5.0
_GIT_TIMEOUT_S = 2.0

_cache_lock = threading.Lock()
_code_version_cache: dict[str, tuple[float, str]] = {}
_deps_cache: dict[str, str] | None = None


def current_user() -> str:
    """The JupyterHub user when set, else the OS login name, else ``"unknown"``."""
    hub_user = os.environ.get("JUPYTERHUB_USER", "").strip()
    if hub_user:
        return hub_user
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        # getpass fails in containers whose uid has no passwd entry and no LOGNAME/USER.
        return "unknown"


def _git(args: list[str], cwd: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=_GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return proc.stdout.strip() if proc.returncode == 0 else None


def _notebook_path() -> Path | None:
    candidates = [os.environ.get("JPY_SESSION_NAME", "")]
    main = sys.modules.get("__main__")
    session = getattr(main, "__session__", None)
    if isinstance(session, str):
        candidates.insert(0, session)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


def _compute_code_version(cwd: str, notebook: Path | None) -> str:
    commit = _git(["rev-parse", "--verify", "HEAD"], cwd)
    if commit:
        status = _git(["status", "--porcelain", "--untracked-files=no"], cwd)
        return f"git:{commit}" + ("+dirty" if status else "")
    if notebook is not None:
        try:
            return "nb:" + hashlib.sha256(notebook.read_bytes()).hexdigest()
        except OSError:
            pass
    return "unknown"


def code_version() -> str:
    """``git:<commit>[+dirty]`` for the cwd's repository, else ``nb:<sha256>`` of the
    current notebook, else ``"unknown"``. Cached for a few seconds per directory and notebook."""
    cwd = os.getcwd()
    notebook = _notebook_path()
    key = f"{cwd}\0{notebook or ''}"
    now = time.monotonic()
    with _cache_lock:
        cached = _code_version_cache.get(key)
        if cached is not None and now - cached[0] < CODE_VERSION_TTL_S:
            return cached[1]
    version = _compute_code_version(cwd, notebook)
    with _cache_lock:
        _code_version_cache[key] = (now, version)
    return version


def clear_cache() -> None:
    """Forget cached code and dependency versions (tests, or after ``pip install``)."""
    global _deps_cache
    with _cache_lock:
        _code_version_cache.clear()
        _deps_cache = None


def dependency_versions() -> dict[str, str]:
    """Versions of python and the tracked libraries that are installed."""
    global _deps_cache
    with _cache_lock:
        if _deps_cache is not None:
            return dict(_deps_cache)
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name == "fraud_jlab":
                # A source checkout that was never pip-installed still knows its version.
                from fraud_jlab.version import __version__

                versions[name] = __version__
    with _cache_lock:
        _deps_cache = versions
    return dict(versions)


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def dataset_hash(data: Any) -> str:
    """Content hash ``sha256:<hex>`` of a DataFrame/Series, ndarray or file.

    DataFrames hash their values (row by row, index included), column names and
    dtypes, so renaming a column or changing a dtype changes the hash. Raises
    ``ValidationError`` (field ``data``) for other types or a missing file.
    """
    import numpy as np
    import pandas as pd

    if isinstance(data, (pd.DataFrame, pd.Series)):
        frame = data.to_frame() if isinstance(data, pd.Series) else data
        digest = hashlib.sha256()
        digest.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
        return "sha256:" + digest.hexdigest()
    if isinstance(data, np.ndarray):
        digest = hashlib.sha256()
        digest.update(f"{data.dtype.str}{data.shape}".encode())
        if data.dtype.hasobject:
            digest.update(repr(data.tolist()).encode())
        else:
            digest.update(np.ascontiguousarray(data).tobytes())
        return "sha256:" + digest.hexdigest()
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.is_file():
            raise ValidationError(f"data {str(path)!r} is not an existing file", field="data")
        return _hash_file(path)
    raise ValidationError(
        f"data must be a pandas DataFrame/Series, a numpy array or a file path, got {type(data).__name__}",
        field="data",
    )
