"""Backbeat: a self-hostable Discord music bot platform."""

__version__ = "0.1.0"
