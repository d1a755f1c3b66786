"""The options of matches and statistics, and their defaults: one set for every door.

Kept apart from :mod:`deconflict.analysis` so that a door can read the defaults without
loading the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from shapely.geometry.base import BaseGeometry

from deconflict.errors import InvalidInput

__all__ = [
    "BREACH_CONFIRMED_PROBABILITY",
    "DEFAULT_ALERT_THRESHOLD",
    "DEFAULT_ALPHA",
    "DEFAULT_MIN_PROBABILITY",
    "DEFAULT_SEED",
    "MIN_COUNTED_INCIDENTS",
    "AnalysisOptions",
    "Bandwidth",
    "ReportDefaults",
    "parse_bandwidth",
]

#: Smallest hit probability listed as a match by default.
DEFAULT_MIN_PROBABILITY: float = 1e-3
#: Seed of the statistics' random generator when the caller gives none (every door).
DEFAULT_SEED = 20251114
#: Fewest counted incidents from which a background intensity is estimated at all.
MIN_COUNTED_INCIDENTS = 10
#: Level at which a site is flagged (on the multiplicity-adjusted p-value).
DEFAULT_ALPHA = 0.05
#: Hit probability at or above which a counted incident in a protected object's window raises an
#: alert (a possible breach); a database may set its own (``deconflict alerts threshold``).
DEFAULT_ALERT_THRESHOLD = 0.05
#: A commitment counts as *breached with confirmed incidents* when an incident graded
#: ``confirmed`` hit a covered object at least this probably (more likely than not).
BREACH_CONFIRMED_PROBABILITY = 0.5
#: A kernel bandwidth in metres, or the rule that chooses it.
Bandwidth = float | Literal["scott", "silverman", "cv"] | None


def parse_bandwidth(text: str | float | None) -> Bandwidth:
    """A bandwidth given as text: metres (10 to 100,000) or ``cv``, ``scott``, ``silverman``.

    Raises
    ------
    InvalidInput
        With ``where="bandwidth"``.
    """
    if text is None or text in ("cv", "scott", "silverman"):
        return text  # type: ignore[return-value]
    try:
        value = float(text)
    except ValueError:
        raise InvalidInput(f"must be metres or one of cv, scott, silverman; got {text!r}", where="bandwidth") from None
    if not 10 <= value <= 100_000:
        raise InvalidInput(f"must be between 10 and 100,000 metres, got {value:g}", where="bandwidth")
    return value


@dataclass(frozen=True)
class AnalysisOptions:
    """How matches and statistics are computed; the defaults are every door's defaults.

    Attributes
    ----------
    seed
        Seed of the ``numpy.random.Generator`` of randomised p-values and tie-breaking: the
        same seed and data give the same numbers.
    min_probability
        Smallest hit probability listed as a match.
    study_area, study_area_label
        WGS84 polygon of the study area (default: the buffered hull of the incidents) and what
        it is, in words (shown on the report's map).
    bandwidth_m
        Kernel bandwidth in metres, or ``"cv"`` (the default, by cross-validation),
        ``"scott"``, ``"silverman"``.
    alpha
        Level at which a site is flagged (adjusted p-value).
    """

    seed: int = DEFAULT_SEED
    min_probability: float = DEFAULT_MIN_PROBABILITY
    study_area: BaseGeometry | None = None
    study_area_label: str | None = None
    bandwidth_m: Bandwidth = None
    alpha: float = DEFAULT_ALPHA

    def __post_init__(self) -> None:
        if not 0 <= self.min_probability <= 1:
            raise InvalidInput(f"must be between 0 and 1, got {self.min_probability}", where="min_probability")
        if not 0 < self.alpha < 1:
            raise InvalidInput(f"must be between 0 and 1, got {self.alpha}", where="alpha")
        if not 0 <= self.seed < 2**63:
            raise InvalidInput(f"must be a non-negative integer below 2**63, got {self.seed}", where="seed")
        parse_bandwidth(self.bandwidth_m)
        if self.study_area is not None and self.study_area_label is None:
            object.__setattr__(self, "study_area_label", "Study area (as given with the analysis options)")

    def key(self) -> tuple[Any, ...]:
        """What identifies the computation (for the cache)."""
        area = None if self.study_area is None else self.study_area.wkb_hex
        return (self.seed, self.min_probability, area, self.bandwidth_m)


@dataclass(frozen=True)
class ReportDefaults:
    """What a database's own report shows unless a door says otherwise (the demo stores its own).

    Attributes
    ----------
    title
        The report's heading.
    site_ids
        The featured sites (timelines, sensitivity grid); empty: the notified sites.
    notes
        Notes shown at the top of every report of the database (e.g. the DEMO caveat).
    """

    title: str = "deconflict report"
    site_ids: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
