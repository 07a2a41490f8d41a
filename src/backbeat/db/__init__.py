"""SQL system of record: models, sessions, repositories and migrations."""
