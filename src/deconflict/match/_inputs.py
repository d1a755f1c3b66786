"""Sites and incidents for matching: records, validated columns and the shared constants."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from shapely.geometry.base import BaseGeometry

from deconflict.errors import InvalidInput
from deconflict.geo import validate_lonlat
from deconflict.ingest.acled import ACLED_GEO_PRECISION_RADIUS_M as _ACLED_RADII
from deconflict.model import CONFIDENCE_LEVELS, counted_mask
from deconflict.options import DEFAULT_MIN_PROBABILITY as DEFAULT_MIN_PROBABILITY

UncertaintyModel = Literal["disk", "normal"]

_TINY_M = 1e-9  # uncertainties below a nanometre are treated as exact

#: Uncertainty radius (metres, ``"disk"`` model) for ACLED ``geo_precision`` codes.
#: 1 = the exact town or coordinates were reported: a city district, 2 km.
#: 2 = "near" a town or a part of a region: the town and its surroundings, 15 km.
#: 3 = only a larger region (oblast / province): 50 km. Such reports cannot place a strike
#: on a building; they add almost nothing to any site's observed count, and that is the point.
ACLED_GEO_PRECISION_RADIUS_M = _ACLED_RADII  # one table, defined where ACLED files are read


def _epoch_s(value: datetime, where: str) -> float:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput("datetime must be timezone-aware (UTC)", where=where)
    return value.timestamp()


@dataclass(frozen=True)
class SiteInput:
    """A protected site as the statistics see it.

    Attributes
    ----------
    id, lat, lon
        Identifier and WGS84 point.
    radius_m
        Hit radius in metres around the point (or around the footprint when given).
    kind, city
        Used to choose comparable control sites.
    notified_at
        ``(start, end)`` of the notification, tz-aware; ``None`` if never notified. The
        notification time may be uncertain: "after notification" always means after ``end``.
    footprint
        Optional WGS84 (lon, lat) shapely polygon of the building or compound.
    """

    id: str
    lat: float
    lon: float
    radius_m: float = 50.0
    kind: str = ""
    city: str = ""
    notified_at: tuple[datetime, datetime] | None = None
    footprint: BaseGeometry | None = None


@dataclass(frozen=True)
class IncidentInput:
    """A reported strike.

    Attributes
    ----------
    id, lat, lon
        Identifier and reported WGS84 point.
    uncertainty_m
        Location uncertainty radius in metres (see :mod:`deconflict.match` for its meaning).
    time
        ``(start, end)`` interval within which the strike happened, tz-aware.
    uncertainty_model
        ``"disk"`` or ``"normal"``.
    confidence
        One of :data:`CONFIDENCE_LEVELS`; ``"discounted"`` is never counted.
    status
        ``None`` or ``"confirmed"`` are counted; anything else (``"unverified"``) is not.
    """

    id: str
    lat: float
    lon: float
    uncertainty_m: float
    time: tuple[datetime, datetime]
    uncertainty_model: UncertaintyModel = "disk"
    confidence: str = "confirmed"
    status: str | None = None


def _as_1d(values: ArrayLike, n: int, name: str, dtype: type = float) -> NDArray[np.generic]:
    arr: NDArray[np.generic] = np.asarray(values, dtype=dtype)
    if arr.ndim == 0:
        arr = np.full(n, arr.item(), dtype=dtype)
    if arr.shape != (n,):
        raise InvalidInput(f"{name} must have length {n}, got shape {arr.shape}", where=name)
    return arr


@dataclass(frozen=True, eq=False)
class SiteArray:
    """Sites as columns (the form every computation uses). Times are UTC epoch seconds."""

    ids: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    radius_m: NDArray[np.float64]
    kind: NDArray[np.object_]
    city: NDArray[np.object_]
    notified_start_s: NDArray[np.float64]  # NaN when never notified
    notified_end_s: NDArray[np.float64]
    footprints: tuple[BaseGeometry | None, ...]

    def __len__(self) -> int:
        return int(self.lon.size)

    @property
    def notified(self) -> NDArray[np.bool_]:
        """Whether each site was ever notified."""
        return np.isfinite(self.notified_end_s)

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        radius_m: ArrayLike = 50.0,
        *,
        ids: Sequence[str] | None = None,
        kind: ArrayLike = "",
        city: ArrayLike = "",
        notified_start_s: ArrayLike = np.nan,
        notified_end_s: ArrayLike = np.nan,
        footprints: Sequence[BaseGeometry | None] | None = None,
    ) -> SiteArray:
        """Build and validate site columns; scalars broadcast.

        Raises
        ------
        InvalidInput
            On bad coordinates, a negative radius, a notification end before its start, or
            a footprint that is not a polygon.
        """
        lon_a, lat_a = validate_lonlat(np.ravel(lon), np.ravel(lat), where="sites")
        n = lon_a.size
        radius = _as_1d(radius_m, n, "radius_m").astype(float)
        if np.any(~np.isfinite(radius)) or np.any(radius < 0):
            raise InvalidInput("radius_m must be finite and >= 0", where="sites.radius_m")
        start = _as_1d(notified_start_s, n, "notified_start_s").astype(float)
        end = _as_1d(notified_end_s, n, "notified_end_s").astype(float)
        if np.any(np.isfinite(start) != np.isfinite(end)) or np.any(end < start):
            raise InvalidInput("notification interval must be (start <= end) or absent",
                               where="sites.notified_at")  # fmt: skip
        fps = tuple(footprints) if footprints is not None else (None,) * n
        if len(fps) != n:
            raise InvalidInput(f"footprints must have length {n}", where="sites.footprint")
        for k, fp in enumerate(fps):
            if fp is not None and fp.geom_type not in ("Polygon", "MultiPolygon"):
                raise InvalidInput("footprint must be a polygon", where=f"sites[{k}].footprint")
        id_arr = np.array(list(ids) if ids is not None else [str(k) for k in range(n)], object)
        return cls(
            ids=_as_1d(id_arr, n, "ids", object).astype(object),
            lon=lon_a, lat=lat_a, radius_m=radius,
            kind=_as_1d(kind, n, "kind", object).astype(object),
            city=_as_1d(city, n, "city", object).astype(object),
            notified_start_s=start, notified_end_s=end, footprints=fps,
        )  # fmt: skip

    @classmethod
    def from_records(cls, sites: Sequence[SiteInput]) -> SiteArray:
        """Columns from :class:`SiteInput` records."""
        start, end = [], []
        for k, s in enumerate(sites):
            if s.notified_at is None:
                start.append(np.nan)
                end.append(np.nan)
            else:
                where = f"sites[{k}].notified_at"
                start.append(_epoch_s(s.notified_at[0], where))
                end.append(_epoch_s(s.notified_at[1], where))
        return cls.from_arrays(
            [s.lon for s in sites], [s.lat for s in sites], [s.radius_m for s in sites],
            ids=[s.id for s in sites],
            kind=np.array([s.kind for s in sites], object),
            city=np.array([s.city for s in sites], object),
            notified_start_s=start, notified_end_s=end,
            footprints=[s.footprint for s in sites],
        )  # fmt: skip


@dataclass(frozen=True, eq=False)
class IncidentArray:
    """Incidents as columns. Times are UTC epoch seconds; ``normal`` is the model flag."""

    ids: NDArray[np.object_]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    uncertainty_m: NDArray[np.float64]
    normal: NDArray[np.bool_]
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    confidence: NDArray[np.object_]
    status: NDArray[np.object_]
    counted: NDArray[np.bool_] = field(init=False)

    def __post_init__(self) -> None:
        # A missing status (simulated inputs) means confirmed; the rule itself is model.is_counted.
        statuses = [s or "confirmed" for s in self.status.tolist()]
        counted = np.array(counted_mask(statuses, self.confidence.tolist()), dtype=bool)
        object.__setattr__(self, "counted", counted)

    def __len__(self) -> int:
        return int(self.lon.size)

    @classmethod
    def from_arrays(
        cls,
        lon: ArrayLike,
        lat: ArrayLike,
        uncertainty_m: ArrayLike,
        start_s: ArrayLike,
        end_s: ArrayLike | None = None,
        *,
        model: UncertaintyModel | ArrayLike = "disk",
        ids: Sequence[str] | None = None,
        confidence: ArrayLike = "confirmed",
        status: ArrayLike | None = None,
    ) -> IncidentArray:
        """Build and validate incident columns; scalars broadcast.

        Raises
        ------
        InvalidInput
            On bad coordinates, negative or non-finite uncertainty, an unknown model or
            confidence grade, or a time interval that ends before it starts.
        """
        lon_a, lat_a = validate_lonlat(np.ravel(lon), np.ravel(lat), where="incidents")
        n = lon_a.size
        unc = _as_1d(uncertainty_m, n, "uncertainty_m").astype(float)
        if np.any(~np.isfinite(unc)) or np.any(unc < 0):
            raise InvalidInput("uncertainty_m must be finite and >= 0",
                               where="incidents.uncertainty_m")  # fmt: skip
        models = _as_1d(np.asarray(model, dtype=object), n, "uncertainty_model", object)
        bad = set(models.tolist()) - {"disk", "normal"}
        if bad:
            raise InvalidInput(f"unknown uncertainty model(s) {sorted(map(str, bad))}; "
                               "use 'disk' or 'normal'", where="incidents.uncertainty_model")  # fmt: skip
        start = _as_1d(start_s, n, "start_s").astype(float)
        end = start.copy() if end_s is None else _as_1d(end_s, n, "end_s").astype(float)
        if np.any(~np.isfinite(start)) or np.any(~np.isfinite(end)) or np.any(end < start):
            raise InvalidInput("time interval must be finite with start <= end",
                               where="incidents.time")  # fmt: skip
        conf = _as_1d(np.asarray(confidence, dtype=object), n, "confidence", object)
        bad = set(conf.tolist()) - set(CONFIDENCE_LEVELS)
        if bad:
            raise InvalidInput(f"unknown confidence grade(s) {sorted(map(str, bad))}",
                               where="incidents.confidence")  # fmt: skip
        stat = np.empty(n, dtype=object)
        if status is None or isinstance(status, str):
            stat[:] = status
        else:
            stat[:] = list(np.ravel(np.asarray(status, object)))
        id_arr = np.array(list(ids) if ids is not None else [str(k) for k in range(n)], object)
        return cls(
            ids=_as_1d(id_arr, n, "ids", object).astype(object), lon=lon_a, lat=lat_a,
            uncertainty_m=unc, normal=models == "normal", start_s=start, end_s=end,
            confidence=conf.astype(object), status=stat,
        )  # fmt: skip

    @classmethod
    def from_records(cls, incidents: Sequence[IncidentInput]) -> IncidentArray:
        """Columns from :class:`IncidentInput` records."""
        start = [_epoch_s(i.time[0], f"incidents[{k}].time") for k, i in enumerate(incidents)]
        end = [_epoch_s(i.time[1], f"incidents[{k}].time") for k, i in enumerate(incidents)]
        return cls.from_arrays(
            [i.lon for i in incidents], [i.lat for i in incidents],
            [i.uncertainty_m for i in incidents], start, end,
            model=np.array([i.uncertainty_model for i in incidents], object),
            ids=[i.id for i in incidents],
            confidence=np.array([i.confidence for i in incidents], object),
            status=np.array([i.status for i in incidents], object),
        )  # fmt: skip
