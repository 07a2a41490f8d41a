"""Logging, metrics (each defined once) and the status server every service mounts."""
