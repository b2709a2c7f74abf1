"""The package version: the single source (pyproject.toml reads it too)."""

__version__ = "0.1.0"
