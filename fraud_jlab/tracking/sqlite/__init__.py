"""The embedded tracker: a SQLite file plus an artifact directory (``SqliteTrackerStore``)."""
