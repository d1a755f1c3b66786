"""Intentionality statistics: background intensity, attack events, exact tests, per-site analysis.

The public API is re-exported here; see :func:`analyze_sites` for the whole pipeline and
``docs/statistics.md`` for what every number means.
"""

from deconflict.stats.background import (
    BackgroundIntensity,
    PeriodIntensity,
    after_fraction,
    bandwidth_rule,
    fit_background,
    strikes_per_period,
)
from deconflict.stats.cities import MIN_BACKGROUND_EVENTS, SMALL_BACKGROUND_EVENTS, Study, prepare_study
from deconflict.stats.events import AttackEvents, AttackScale, estimate_attack_scale, group_attacks
from deconflict.stats.exposure import SCORE_LEVELS, SiteExposure, hit_integrals, site_exposure
from deconflict.stats.results import ANALYSIS_ASSUMPTIONS, Headline, SensitivityCell, SiteResult
from deconflict.stats.significance import (
    AttackScoreResult,
    ChangeTestResult,
    ControlRankResult,
    LocalContrastResult,
    PoissonTestResult,
    attack_score_test,
    benjamini_hochberg,
    compound_poisson_tail_test,
    compound_tail,
    conditional_change_test,
    control_rank_test,
    holm,
    local_contrast_test,
    poisson_binomial_pmf,
    poisson_tail_test,
    rate_ratio_ci,
)
from deconflict.stats.simulate import CityIntensity, SimulatedCity, plant_targeting, simulate_city
from deconflict.stats.sites import (
    analyze_sites,
    analyze_study,
    attach_sensitivity,
    sensitivity_grid,
    study_sensitivity,
    tipping_point,
)

__all__ = [
    "ANALYSIS_ASSUMPTIONS",
    "MIN_BACKGROUND_EVENTS",
    "SCORE_LEVELS",
    "SMALL_BACKGROUND_EVENTS",
    "AttackEvents",
    "AttackScale",
    "AttackScoreResult",
    "BackgroundIntensity",
    "ChangeTestResult",
    "CityIntensity",
    "ControlRankResult",
    "Headline",
    "LocalContrastResult",
    "PeriodIntensity",
    "PoissonTestResult",
    "SensitivityCell",
    "SimulatedCity",
    "SiteExposure",
    "SiteResult",
    "Study",
    "after_fraction",
    "analyze_sites",
    "analyze_study",
    "attach_sensitivity",
    "attack_score_test",
    "bandwidth_rule",
    "benjamini_hochberg",
    "compound_poisson_tail_test",
    "compound_tail",
    "conditional_change_test",
    "control_rank_test",
    "estimate_attack_scale",
    "fit_background",
    "group_attacks",
    "hit_integrals",
    "holm",
    "local_contrast_test",
    "plant_targeting",
    "poisson_binomial_pmf",
    "poisson_tail_test",
    "prepare_study",
    "rate_ratio_ci",
    "sensitivity_grid",
    "simulate_city",
    "site_exposure",
    "strikes_per_period",
    "study_sensitivity",
    "tipping_point",
]
