"""The server's one door to matching and statistics: database records in, JSON-ready rows out.

:func:`match_rows` calls :func:`deconflict.match.match` and :func:`analysis_rows` calls
:func:`deconflict.stats.analyze_sites`, over every site and every incident of the database
(the statistics need all of them: the background is estimated from all strikes and control
sites come from the whole registry); the routes then keep the rows the caller may see.
Results are cached per database state (the log's size changes with every write) and seed, so
a report and an analysis page computed from the same state agree and cost one computation.
When the statistics package cannot run, :class:`AnalysisUnavailable` (HTTP 503) says so.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from deconflict.db import Database
from deconflict.errors import AnalysisUnavailable
from deconflict.model import Incident, Site
from deconflict.store.base import IncidentQuery, SiteQuery

__all__ = ["AnalysisUnavailable", "analysis_rows", "assumptions", "match_rows"]

T = TypeVar("T")
_CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def _cached(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]  # type: ignore[no-any-return,unused-ignore]
    value = compute()
    with _CACHE_LOCK:
        _CACHE[key] = value
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value


def _state(db: Database) -> tuple[str, int, int, int]:
    """What identifies the data an analysis was computed from."""
    return db.location, db.store.log_size(), db.store.count_sites(), db.store.count_incidents()


def _records(db: Database) -> tuple[list[Site], list[Incident]]:
    sites = [site for site, _ in db.store.list_sites(SiteQuery())]
    incidents = db.store.list_incidents(IncidentQuery())
    return sites, incidents


def _site_inputs(db: Database, sites: list[Site]) -> list[Any]:
    from deconflict.analysis import first_notifications, site_inputs

    return site_inputs(sites, first_notifications(db))


def _incident_inputs(incidents: list[Incident]) -> list[Any]:
    from deconflict.analysis import incident_inputs

    return incident_inputs(incidents)


def match_rows(db: Database) -> list[dict[str, Any]]:
    """Every candidate hit: ``site_id``, ``incident_id``, ``hit_probability``, ``distance_m``.

    Raises
    ------
    AnalysisUnavailable
        When :mod:`deconflict.match` cannot be imported or is not implemented.
    """

    def compute() -> list[dict[str, Any]]:
        try:
            from deconflict.match import match
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise AnalysisUnavailable(f"matching is not available: {exc}") from None
        sites, incidents = _records(db)
        if not sites or not incidents:
            return []
        provenance = {i.id: i.provenance for i in incidents}
        try:
            found = match(_site_inputs(db, sites), _incident_inputs(incidents))
        except NotImplementedError as exc:  # pragma: no cover - depends on the installation
            raise AnalysisUnavailable(f"matching is not implemented yet: {exc}") from None
        return [
            {"site_id": m.site_id, "incident_id": m.incident_id, "hit_probability": float(m.probability),
             "distance_m": float(m.distance_m), "provenance": provenance.get(m.incident_id)}
            for m in found
        ]  # fmt: skip

    return _cached(("match", *_state(db)), compute)


def analysis_rows(db: Database, seed: int) -> list[dict[str, Any]]:
    """Per-site statistics as in ``deconflict analyze --json``, plus ``sentence`` and ``flagged``.

    Raises
    ------
    AnalysisUnavailable
        When :mod:`deconflict.stats` cannot be imported or is not implemented.
    InvalidInput
        When the data cannot be analysed (e.g. fewer than two counted incidents).
    """

    def compute() -> list[dict[str, Any]]:
        try:
            import numpy as np

            from deconflict.stats import analyze_sites
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise AnalysisUnavailable(f"the statistics are not available: {exc}") from None
        sites, incidents = _records(db)
        if not sites:
            return []
        try:
            results = analyze_sites(
                _site_inputs(db, sites), _incident_inputs(incidents), rng=np.random.default_rng(seed)
            )
        except NotImplementedError as exc:  # pragma: no cover - depends on the installation
            raise AnalysisUnavailable(f"the statistics are not implemented yet: {exc}") from None
        from deconflict.analysis import AnalysisRun, data_labels, first_notifications

        run = AnalysisRun(results, {s.id: s for s in sites}, first_notifications(db), data_labels(incidents, sites),
                          seed, [])  # fmt: skip
        return [run.to_json(r) for r in results]

    return _cached(("analysis", seed, *_state(db)), compute)


def assumptions() -> list[str]:
    """What every analysis assumes, in words (empty when the statistics are unavailable)."""
    try:
        from deconflict.stats import ANALYSIS_ASSUMPTIONS
    except ImportError:  # pragma: no cover - depends on the installation
        return []
    return list(ANALYSIS_ASSUMPTIONS)
