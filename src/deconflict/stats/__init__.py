"""Intentionality statistics: background intensity, exact tests, per-site analysis.

The public API is re-exported here; see :func:`analyze_sites` for the whole pipeline.
"""

from deconflict.stats.analysis import (
    ANALYSIS_ASSUMPTIONS,
    SensitivityCell,
    SiteResult,
    analyze_sites,
    sensitivity_grid,
)
from deconflict.stats.background import (
    BackgroundIntensity,
    PeriodIntensity,
    after_fraction,
    bandwidth_rule,
    fit_background,
    strikes_per_period,
)
from deconflict.stats.exposure import SCORE_LEVELS, SiteExposure, hit_integrals, site_exposure
from deconflict.stats.simulate import CityIntensity, SimulatedCity, plant_targeting, simulate_city
from deconflict.stats.tests import (
    ChangeTestResult,
    ControlRankResult,
    PoissonTestResult,
    benjamini_hochberg,
    compound_poisson_tail_test,
    conditional_change_test,
    control_rank_test,
    holm,
    poisson_binomial_pmf,
    poisson_tail_test,
    rate_ratio_ci,
)

__all__ = [
    "ANALYSIS_ASSUMPTIONS",
    "SCORE_LEVELS",
    "BackgroundIntensity",
    "ChangeTestResult",
    "CityIntensity",
    "ControlRankResult",
    "PeriodIntensity",
    "PoissonTestResult",
    "SensitivityCell",
    "SimulatedCity",
    "SiteExposure",
    "SiteResult",
    "after_fraction",
    "analyze_sites",
    "bandwidth_rule",
    "benjamini_hochberg",
    "compound_poisson_tail_test",
    "conditional_change_test",
    "control_rank_test",
    "fit_background",
    "hit_integrals",
    "holm",
    "plant_targeting",
    "poisson_binomial_pmf",
    "poisson_tail_test",
    "rate_ratio_ci",
    "sensitivity_grid",
    "simulate_city",
    "site_exposure",
    "strikes_per_period",
]
