"""Fixtures of the panel tests: a migrated database per backend, a bus, the panel rig."""

from panel_rig import panel_db_url, panel_engine, rig

__all__ = ["panel_db_url", "panel_engine", "rig"]
