"""The run search language shared by every backend: grammar and printer, paging, in-memory matcher."""
