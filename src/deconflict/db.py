"""The library entry point: :func:`open` a database and work with its sites and incidents.

Everything the CLI and the server do is a call here::

    import deconflict
    with deconflict.open("deconflict.db") as db:
        db.sites.import_file("sites.csv")
        for hit in db.sites.list(near=(50.45, 30.52), within_m=2_000):
            print(hit.site.name, round(hit.distance_m))
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self
from zoneinfo import ZoneInfo

from deconflict.errors import ConflictError, InvalidInput, NotFound
from deconflict.export import incidents_to_csv, incidents_to_geojson, sites_to_csv, sites_to_geojson
from deconflict.ingest import Batch, read_incidents, read_sites
from deconflict.model import Incident, Site
from deconflict.names import city_aliases, find_city, nearest_city
from deconflict.store import ImportRecord, IncidentQuery, SiteQuery, Store, open_store
from deconflict.times import zone

__all__ = ["DEFAULT_DB", "Database", "ImportResult", "SiteHit", "init", "open", "resolve_db_path"]

DEFAULT_DB = "deconflict.db"


def resolve_db_path(path: str | Path | None = None) -> str:
    """The database location: ``path``, else ``$DECONFLICT_DB``, else ``deconflict.db``."""
    return str(path or os.environ.get("DECONFLICT_DB") or DEFAULT_DB)


@dataclass(frozen=True, slots=True)
class SiteHit:
    """A site returned by a search, with its geodesic distance from the search point (metres)."""

    site: Site
    distance_m: float | None = None


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: rows added, rows skipped (bulk adapters only), the file's SHA-256."""

    added: int
    sha256: str
    format: str
    skipped: list[tuple[int, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


class Sites:
    """The site registry of a :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, site: Site) -> Site:
        """Add one site; raises :class:`ConflictError` when its id exists."""
        return self.add_many([site])[0]

    def add_many(self, sites: Sequence[Site], import_record: ImportRecord | None = None) -> list[Site]:
        """Add sites in one transaction (all or nothing); return them with their city resolved."""
        store = self._db.store
        ids = [s.id for s in sites]
        seen: dict[str, int] = {}
        for position, site_id in enumerate(ids, start=1):
            if site_id in seen:
                raise ConflictError(f"duplicate site id {site_id!r} (records {seen[site_id]} and {position})")
            seen[site_id] = position
        existing = store.existing_site_ids(ids)
        if existing:
            raise ConflictError(f"site id(s) already in the database: {', '.join(sorted(existing)[:5])}")
        resolved, city_ids = [], []
        cities = {}
        for site in sites:
            city = find_city(site.city) if site.city else nearest_city(site.lat, site.lon)
            if city is not None:
                cities[city.geonameid] = city
                site = site if site.city else site.with_changes(city=city.name)
            resolved.append(site)
            city_ids.append(city.geonameid if city else None)
        with store.transaction():
            import_id = store.record_import(import_record) if import_record else None
            store.insert_sites(resolved, city_ids, import_id)
            for geonameid, city in cities.items():
                store.add_city_names(geonameid, city_aliases(city))
            self._db._after_sites_added(resolved)
        return resolved

    def import_file(
        self, path: str | Path, format: str | None = None, *, city: str | None = None
    ) -> ImportResult:
        """Import a CSV, GeoJSON or Wikidata-embassies file; all rows or none."""
        batch = read_sites(path, format, city=city)
        record = ImportRecord("sites", Path(path).name, batch.sha256, batch.format, len(batch.records))
        try:
            self.add_many(batch.records, record)
        except ConflictError as exc:
            raise ConflictError(exc.message, where=str(path)) from exc
        return ImportResult(
            len(batch.records), batch.sha256, batch.format, batch.skipped, batch.ignored_columns
        )

    def get(self, site_id: str) -> Site:
        """The site ``site_id``; raises :class:`NotFound`."""
        return self._db.store.get_site(site_id)

    def list(
        self,
        *,
        near: tuple[float, float] | None = None,
        within_m: float | None = None,
        owner: str | None = None,
        kind: str | None = None,
        search: str | None = None,
        ids: Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SiteHit]:
        """Sites matching every given filter.

        Parameters
        ----------
        near, within_m
            ``(lat, lon)`` and a geodesic radius in metres; results are nearest first.
        search
            Any name of the site or of its city, in any language or script, regardless of
            case and diacritics ("Kyiv", "Kiew", "Київ" and "Киев" find the same sites).
        """
        if (near is None) != (within_m is None):
            raise InvalidInput("--near and --within go together")
        if within_m is not None and not (0 <= within_m <= 20_100_000):
            raise InvalidInput(f"within must be between 0 and 20,100,000 metres, got {within_m}")
        if near is not None:
            from deconflict.model import check_lat_lon

            near = check_lat_lon(*near)
        query = SiteQuery(
            near,
            within_m,
            owner,
            kind,
            search,
            tuple(ids) if ids is not None else None,
            limit,
            offset,
        )
        return [SiteHit(site, distance) for site, distance in self._db.store.list_sites(query)]

    def count(self) -> int:
        """How many sites are registered."""
        return self._db.store.count_sites()

    def export(self, format: str = "csv", **filters: object) -> str:
        """The sites (filtered as in :meth:`list`) as CSV or GeoJSON text."""
        sites = [hit.site for hit in self.list(**filters)]  # type: ignore[arg-type]
        if format == "csv":
            return sites_to_csv(sites)
        if format == "geojson":
            return sites_to_geojson(sites)
        raise InvalidInput(f"unknown export format {format!r}; expected csv or geojson")


class Incidents:
    """The incidents of a :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_many(self, incidents: Sequence[Incident], import_record: ImportRecord | None = None) -> int:
        """Add incidents in one transaction (all or nothing); return how many."""
        store = self._db.store
        seen: dict[str, int] = {}
        for position, incident in enumerate(incidents, start=1):
            if incident.id in seen:
                raise ConflictError(
                    f"duplicate incident id {incident.id!r} (records {seen[incident.id]} and {position})"
                )
            seen[incident.id] = position
        existing = store.existing_incident_ids(list(seen))
        if existing:
            raise ConflictError(
                f"incident id(s) already in the database: {', '.join(sorted(existing)[:5])}"
                + (" (was this file imported before?)" if import_record else "")
            )
        with store.transaction():
            import_id = store.record_import(import_record) if import_record else None
            store.insert_incidents(incidents, import_id)
            self._db._after_incidents_added(incidents)
        return len(incidents)

    def add(self, incident: Incident) -> Incident:
        """Add one incident."""
        self.add_many([incident])
        return incident

    def import_file(
        self,
        path: str | Path,
        format: str | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Import incidents from CSV, GeoJSON or an ACLED-style export; all rows or none."""
        batch: Batch = read_incidents(path, format, local=self._db.timezone, progress=progress)
        record = ImportRecord("incidents", Path(path).name, batch.sha256, batch.format, len(batch.records))
        try:
            self.add_many(batch.records, record)
        except ConflictError as exc:
            raise ConflictError(exc.message, where=str(path)) from exc
        return ImportResult(
            len(batch.records), batch.sha256, batch.format, batch.skipped, batch.ignored_columns
        )

    def get(self, incident_id: str) -> Incident:
        """The incident ``incident_id``; raises :class:`NotFound`."""
        return self._db.store.get_incident(incident_id)

    def list(
        self,
        *,
        near: tuple[float, float] | None = None,
        within_m: float | None = None,
        start: str | None = None,
        end: str | None = None,
        status: str | None = None,
        provenance: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Incident]:
        """Incidents matching the filters, in time order (``start``/``end``: ISO 8601 UTC)."""
        return list(
            self.iter(
                near=near,
                within_m=within_m,
                start=start,
                end=end,
                status=status,
                provenance=provenance,
                limit=limit,
                offset=offset,
            )
        )

    def iter(self, **filters: object) -> Iterator[Incident]:
        """Stream incidents matching the filters of :meth:`list`."""
        return self._db.store.iter_incidents(IncidentQuery(**filters))  # type: ignore[arg-type]

    def count(self) -> int:
        """How many incidents are stored."""
        return self._db.store.count_incidents()

    def export(self, format: str = "csv", **filters: object) -> str:
        """The incidents as CSV or GeoJSON text."""
        incidents = self.iter(**filters)
        if format == "csv":
            return incidents_to_csv(incidents)
        if format == "geojson":
            return incidents_to_geojson(incidents)
        raise InvalidInput(f"unknown export format {format!r}; expected csv or geojson")


class Database:
    """An open deconflict database (use :func:`open` or :func:`init`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.sites = Sites(self)
        self.incidents = Incidents(self)

    @property
    def location(self) -> str:
        """Where the database lives (file path or URL)."""
        return self.store.location

    @property
    def timezone(self) -> ZoneInfo:
        """The timezone in which dates without a time are read (``init --timezone``)."""
        return zone(self.store.get_meta("timezone") or "UTC")

    def _after_sites_added(self, sites: Sequence[Site]) -> None:
        """Hook run inside the write transaction (the ledger commits sites here)."""

    def _after_incidents_added(self, incidents: Sequence[Incident]) -> None:
        """Hook run inside the write transaction (the ledger records incidents here)."""

    def close(self) -> None:
        """Close the database."""
        self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def init(path: str | Path | None = None, *, timezone: str = "UTC") -> Database:
    """Create a new database; raises :class:`ConflictError` if one exists at ``path``."""
    location = resolve_db_path(path)
    zone(timezone)
    if not location.startswith(("postgresql://", "postgres://")) and Path(location).exists():
        raise ConflictError(f"a database already exists at {location}")
    store = open_store(location, create=True)
    with store.transaction():
        store.set_meta("timezone", timezone)
    return Database(store)


def open(path: str | Path | None = None) -> Database:
    """Open an existing database (``path``, ``$DECONFLICT_DB`` or ``deconflict.db``)."""
    location = resolve_db_path(path)
    try:
        return Database(open_store(location))
    except NotFound:
        raise
