"""The house rule for numbers on pages (the API keeps raw numbers):

* proportions (accuracy, F1, coverage, agreement, confidence, shares and rates): `percent`, "49.7%";
* counts: `count`, with thousands separators, "12,345";
* coefficients and ratios that are not proportions (kappa, alpha, z, Brier, speed drift): `coefficient`,
  two decimals, "0.41", "-0.12" (negative numbers take the typographic minus, U+2212);
* differences of proportions: `points`, signed percentage points, "+3.2 pts";
* durations: `seconds`, one decimal, "1.3 s" (`|seconds:"ms"` for milliseconds).

None (not measured) shows as an en dash everywhere, so templates need no `{% if x is not None %}` around them.
"""

from __future__ import annotations

import math

from django import template

register = template.Library()

MISSING = "\u2013"  # an en dash
MINUS = "\u2212"  # the typographic minus lines up with the digits in tabular figures


def _number(value: object) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _signed(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


@register.filter
def percent(value: object) -> str:
    """A proportion (0 to 1) as a percentage with one decimal: 0.4969 -> "49.7%"."""
    number = _number(value)
    return MISSING if number is None else _signed(f"{number * 100:.1f}%")


@register.filter
def count(value: object) -> str:
    """A count with thousands separators: 12345 -> "12,345"."""
    number = _number(value)
    return MISSING if number is None else _signed(f"{round(number):,}")


@register.filter
def coefficient(value: object) -> str:
    """A coefficient that is not a proportion (kappa, alpha, z) with two decimals: -0.1234 -> "-0.12"."""
    number = _number(value)
    return MISSING if number is None else _signed(f"{number:.2f}")


@register.filter
def points(value: object) -> str:
    """A difference of two proportions in signed percentage points: 0.032 -> "+3.2 pts"."""
    number = _number(value)
    return MISSING if number is None else _signed(f"{number * 100:+.1f} pts")


@register.filter
def seconds(value: object, unit: str = "s") -> str:
    """A duration with one decimal: 1.25 -> "1.2 s"; `|seconds:"ms"` reads milliseconds, 1250 -> "1.2 s"."""
    number = _number(value)
    if number is None:
        return MISSING
    return f"{number / 1000 if unit == 'ms' else number:,.1f} s"
