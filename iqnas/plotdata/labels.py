"""Axis titles with their units."""

from __future__ import annotations


def axis_label(name: str, units: str = "") -> str:
    """``name (units)``, or ``name`` when there is no unit (a unitless score)."""
    units = (units or "").strip()
    return f"{name} ({units})" if units else name


def with_units(value: float, units: str = "", digits: int = 4) -> str:
    """A number with its unit, for hover texts and legends: ``3.25 ms``, ``71.2 %``."""
    text = f"{value:.{digits}g}"
    return f"{text} {units}".strip() if units else text
