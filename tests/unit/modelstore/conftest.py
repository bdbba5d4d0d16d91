"""The saved-model fixtures (a temporary SQLite tracker, a small fraud-like split), shared."""

from tests.unit.tracking.saved_models.conftest import Split, split, tracker

__all__ = ["Split", "split", "tracker"]
