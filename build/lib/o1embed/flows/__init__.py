"""Prefect flows: thin wiring over :mod:`tasks` and :mod:`trainer`, one file per deployment."""
