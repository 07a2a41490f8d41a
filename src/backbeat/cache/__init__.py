"""Caches for search results, configuration, UI message ids and rate-limit counters."""
