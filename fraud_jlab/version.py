"""``__version__`` of fraud_jlab, from a ground-level module (it imports no other part).

The build writes ``fraud_jlab/_version.py`` (hatch's version hook); a source tree
that was never built reads ``package.json`` instead. Modules below the package
root import the version from here, never from ``fraud_jlab`` itself.
"""

from __future__ import annotations

import json
from pathlib import Path


def _read_version() -> str:
    try:
        from fraud_jlab._version import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
            __version__ as built,
        )
    except ImportError:  # running from a source tree that was never built
        package = Path(__file__).resolve().parent.parent / "package.json"
        return str(json.loads(package.read_text())["version"]) if package.exists() else "0.0.0"
    return str(built)


__version__: str = _read_version()

__all__ = ["__version__"]
