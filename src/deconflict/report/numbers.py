"""The numbers of one site in words: one sentence each, with what it means and where it stops.

The figures come from the application layer (one row of :meth:`deconflict.analysis.AnalysisRun.rows`,
the headline of :class:`deconflict.stats.SiteResult`); nothing is computed here but the wording
and the local number format (Babel). Every sentence goes through the caller's ``gettext``, so
the brief reads the same in every language of its catalogues (``report/locale``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel.numbers import format_decimal

__all__ = ["SiteNumber", "format_number", "odds", "site_numbers"]

Gettext = Callable[[str], str]


@dataclass(frozen=True)
class SiteNumber:
    """One number of a site's statistics: what it is, its value, a sentence, and its limits."""

    key: str
    value: str
    sentence: str
    limits: str


def format_number(value: float | None, lang: str, digits: int = 2) -> str:
    """``value`` with ``digits`` significant digits in the language's number format (``—`` when unknown)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if abs(value) < 1e-4:
        mantissa = value / 10**magnitude
        return f"{format_decimal(round(mantissa, digits - 1), locale=lang)} × 10^{magnitude}"
    decimals = max(0, digits - 1 - magnitude)
    rounded = round(value, decimals)
    return format_decimal(rounded, format="#,##0." + "#" * decimals if decimals else "#,##0", locale=lang)


def odds(p: float, lang: str) -> str:
    """The ``N`` of "about 1 in N" (two significant digits, local grouping)."""
    n = 1.0 / p
    digits = max(0, math.floor(math.log10(n)) - 1)
    return format_decimal(round(n, -digits), format="#,##0", locale=lang)


def site_numbers(row: dict[str, Any], site_name: str, lang: str, _: Gettext) -> list[SiteNumber]:
    """The sentences of one site's numbers, most important first.

    Parameters
    ----------
    row
        The site's row as ``deconflict analyze --json`` prints it (``headline``, ``p_value_control``,
        ``n_controls``, ...).
    site_name
        How the site is named in the sentences.
    lang
        Language of the number format (``en``, ``de``, ``uk``, ``ru``).
    _
        The catalogue's gettext.
    """
    h = row.get("headline") or {}
    p = h.get("p_value")
    if p is None:
        warnings = "; ".join(h.get("warnings") or ()) or _("no background")
        return [
            SiteNumber(
                "untested", "—", _("{site} could not be tested: {why}.").format(site=site_name, why=warnings), ""
            )
        ]
    after = h.get("period") == "after notification"
    numbers = []
    at_least = int(h.get("at_least") or 0)
    numbers.append(
        SiteNumber(
            "hits",
            str(at_least),
            (
                _("At least {n} separate attack(s) hit {site} after it was notified.")
                if after
                else _("At least {n} separate attack(s) hit {site} in the period studied.")
            ).format(n=at_least, site=site_name),
            _(
                "Reports of one attack window and salvo count once; a hit is an incident whose location "
                "and uncertainty place it on the premises with a probability, not a certainty."
            ),
        )
    )
    interval = h.get("expected_interval")
    spread = ""
    if interval and interval[0] is not None and interval[1] is not None:
        spread = " " + _("(between {low} and {high} under other reasonable backgrounds)").format(
            low=format_number(interval[0], lang), high=format_number(interval[1], lang)
        )
    numbers.append(
        SiteNumber(
            "expected",
            format_number(h.get("expected"), lang),
            _(
                "Had attacks fallen as all other strikes nearby did, {expected} would have been expected{spread}."
            ).format(expected=format_number(h.get("expected"), lang), spread=spread),
            _("The background is estimated from the strikes recorded; strikes nobody reported are not in it."),
        )
    )
    chance = (
        _("The probability of at least this many hits by chance is {p} (about 1 in {n}).").format(
            p=format_number(p, lang), n=odds(p, lang)
        )
        if p > 0
        else _("The probability of at least this many hits by chance is below 1 in 10^15.")
    )
    numbers.append(
        SiteNumber(
            "p_value",
            format_number(p, lang),
            chance,
            _("A small probability is evidence against chance, not proof of intent; it assumes a right background."),
        )
    )
    adjusted = h.get("adjusted")
    n_tested = int(h.get("n_tested") or 0)
    if adjusted is not None and n_tested > 1:
        numbers.append(
            SiteNumber(
                "adjusted",
                format_number(adjusted, lang),
                _("Allowing for the {n} sites or families of premises tested, it is {p} (Holm's correction).").format(
                    n=n_tested, p=format_number(adjusted, lang)
                ),
                _("Testing many sites makes a small probability somewhere likely; this is the figure to quote."),
            )
        )
    span = h.get("range")
    if span and span[0] is not None and span[1] is not None:
        numbers.append(
            SiteNumber(
                "range",
                f"{format_number(span[0], lang)}–{format_number(span[1], lang)}",
                _(
                    "Under other choices of background smoothing and hit radius it lies between {low} and {high}."
                ).format(low=format_number(span[0], lang), high=format_number(span[1], lang)),
                _("A conclusion that holds across these choices does not rest on one tuning."),
            )
        )
    tip = h.get("tipping_point")
    if tip is not None:
        numbers.append(
            SiteNumber(
                "tipping_point",
                format_number(tip, lang),
                _(
                    "The background would have to be {factor} times higher for chance to explain it (at the 5% level)."
                ).format(factor=format_number(tip, lang)),
                _("How wrong the background would have to be, not a probability."),
            )
        )
    control = row.get("p_value_control")
    n_controls = int(row.get("n_controls") or 0)
    if control is not None and n_controls:
        numbers.append(
            SiteNumber(
                "control",
                format_number(control, lang),
                _("Ranked among {n} comparable sites or families, its rank probability is {p}.").format(
                    n=n_controls, p=format_number(control, lang)
                ),
                _("Secondary: it compares the site with others like it, not with the background."),
            )
        )
    return numbers
