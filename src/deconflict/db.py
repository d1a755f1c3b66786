"""The library entry point: :func:`open` a database and work with its sites and incidents.

Everything the CLI and the server do is a call here::

    import deconflict
    with deconflict.open("deconflict.db") as db:
        db.sites.import_file("sites.csv")
        for hit in db.sites.list(near=(50.45, 30.52), within_m=2_000):
            print(hit.site.name, round(hit.distance_m))
"""

from __future__ import annotations

import builtins
import functools
import hashlib
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, Self, TypeVar
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from deconflict.claims import Claims
from deconflict.errors import ConflictError, InvalidInput, NotFound
from deconflict.export import incidents_to_csv, incidents_to_geojson, sites_to_csv, sites_to_geojson
from deconflict.ids import id_unavailable, new_id
from deconflict.ingest import Batch, read_incidents, read_sites
from deconflict.ledger.log import Ledger
from deconflict.ledger.note import generate_signer, load_signer_key, write_signer_key
from deconflict.model import DEFAULT_RADIUS_M, Acknowledgement, Incident, Notification, Site, check_owner
from deconflict.names import city_aliases, find_city, nearest_city
from deconflict.progress import ProgressCallback, report_steps
from deconflict.relevance import site_reach_m
from deconflict.store import ImportRecord, IncidentQuery, SiteQuery, Store, open_store
from deconflict.times import TimeSpan, in_range, parse_time, zone

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.duplicates import DuplicateGroup
    from deconflict.options import AnalysisOptions, ReportDefaults
    from deconflict.records import NotificationRecord, RecordHistory

__all__ = ["DEFAULT_DB", "Database", "ImportResult", "Logged", "SiteHit", "init", "open", "resolve_db_path"]

T = TypeVar("T")

DEFAULT_DB = "deconflict.db"
#: Rows stored per call while importing incidents (between two progress reports).
_WRITE_CHUNK = 100_000


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
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The JSON every door prints for an import (CLI ``--json`` and the API).

        ``updated``: records already stored that the file revises (``on_existing="update"``);
        ``unchanged``: records already stored as the file has them (or skipped, ``"skip"``).
        """
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "sha256": self.sha256,
            "format": self.format,
            "skipped": [{"row": row, "reason": reason} for row, reason in self.skipped],
            "ignored_columns": list(self.ignored_columns),
            "warnings": list(self.warnings),
        }


class Logged(NamedTuple, Generic[T]):
    """A record just written, with the index of the log entry that holds it."""

    record: T
    log_index: int


def _local() -> Principal:
    from deconflict.access import Principal

    return Principal.local()


def _time(value: str | TimeSpan, parameter: str, db: Database) -> TimeSpan:
    """A time given to the library: a :class:`TimeSpan`, or text read in the database's timezone."""
    try:
        if isinstance(value, TimeSpan):
            return in_range(value)
        return parse_time(value, None, db.timezone)
    except InvalidInput as exc:
        raise InvalidInput(exc.message, where=parameter) from None


def _refuse_repeated_ids(kind: str, ids: Sequence[str]) -> None:
    """Raise :class:`ConflictError` naming the first id that appears twice in one batch."""
    seen: dict[str, int] = {}
    for position, record_id in enumerate(ids, start=1):
        if record_id in seen:
            raise ConflictError(f"duplicate {kind} id {record_id!r} (records {seen[record_id]} and {position})")
        seen[record_id] = position


class Sites:
    """The site registry of a :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, site: Site) -> Site:
        """Add one site; raises :class:`ConflictError` when its id exists."""
        return self.add_many([site])[0]

    def add_many(
        self,
        sites: Sequence[Site],
        import_record: ImportRecord | None = None,
        *,
        progress: ProgressCallback | None = None,
        force: bool = True,
    ) -> list[Site]:
        """Add sites in one transaction (all or nothing); return them with their city resolved.

        Reports the phases ``"placing"`` (cities found), ``"committing"`` (log entries) and
        ``"writing"`` to ``progress``. With ``force=False`` the plausibility checks
        (:func:`deconflict.plausibility.site_warnings`) run first and any warning raises
        :class:`~deconflict.errors.Implausible`; :meth:`create` and :meth:`import_file` do that by default.
        """
        store = self._db.store
        ids = [s.id for s in sites]
        _refuse_repeated_ids("site", ids)
        existing = store.existing_site_ids(ids)
        if existing:
            raise id_unavailable("site", existing)
        if not force:
            from deconflict.plausibility import refuse_unless_forced, site_warnings

            refuse_unless_forced(site_warnings(self._db, sites), force)
        resolved, city_ids = [], []
        cities = {}
        tick = report_steps(progress, "placing", len(sites), step=1000)
        for site in sites:
            city = find_city(site.city, near=(site.lat, site.lon)) if site.city else nearest_city(site.lat, site.lon)
            if city is not None:
                cities[city.geonameid] = city
                site = site if site.city else site.with_changes(city=city.name)
            resolved.append(site)
            city_ids.append(city.geonameid if city else None)
            tick(len(resolved))
        tick(len(resolved), final=True)
        with store.transaction():
            import_id = store.record_import(import_record) if import_record else None
            writing = report_steps(progress, "writing", len(resolved))
            store.insert_sites(resolved, city_ids, import_id)
            for geonameid, city in cities.items():
                store.add_city_names(geonameid, city_aliases(city))
            writing(len(resolved), final=True)
            self._db.ledger.commit_sites(resolved, progress=progress)
        return resolved

    def create(
        self,
        *,
        name: str,
        kind: str,
        owner: str,
        lat: float,
        lon: float,
        radius_m: float | None = None,
        id: str | None = None,
        address: str | None = None,
        city: str | None = None,
        names: Mapping[str, str | Sequence[str]] | None = None,
        footprint_wkt: str | None = None,
        approximate: bool = False,
        source: str | None = None,
        notes: str | None = None,
        force: bool = False,
        principal: Principal | None = None,
    ) -> Site:
        """Register one site from its fields (the id is derived from the content when not given).

        Parameters
        ----------
        names
            Other names by language tag, e.g. ``{"uk": "Посольство Азербайджану"}`` (a list for several).
        principal
            Who writes (default: the local user, who may write any owner's sites).

        Raises
        ------
        InvalidInput
            For an invalid field (named in ``where``).
        PermissionDenied
            When ``principal`` may not write sites of ``owner``, or is not an admin and the site would
            reach farther than :data:`~deconflict.model.MAX_OWNER_REACH_M` of its kind.
        ConflictError
            When the id exists.
        Implausible
            Unless ``force``, when the site lies outside the study area, far from the city it names,
            or within a few metres of a site of the same owner and kind.
        """
        from deconflict.ingest.common import build_site

        row: dict[str, Any] = {
            "id": id,
            "name": name,
            "kind": kind,
            "owner": owner,
            "lat": lat,
            "lon": lon,
            "radius_m": radius_m,
            "address": address,
            "city": city,
            "footprint_wkt": footprint_wkt,
            "approximate": "true" if approximate else "false",
            "source": source,
            "notes": notes,
        }
        for lang, value in (names or {}).items():
            row[f"name:{lang}"] = value if isinstance(value, str) else "; ".join(value)
        site = build_site(row)
        caller = principal or _local()
        caller.require_write(site.owner)
        caller.require_reach(site)
        return self.add_many([site], force=force)[0]

    def import_file(
        self,
        path: str | Path,
        format: str | None = None,
        *,
        city: str | None = None,
        delimiter: str | None = None,
        force: bool = False,
        progress: ProgressCallback | None = None,
    ) -> ImportResult:
        """Import a CSV, GeoJSON or Wikidata-embassies file; all rows or none.

        ``delimiter`` is the CSV field separator (default ``,``; ``;`` as European spreadsheets
        write). Unless ``force``, plausibility warnings raise :class:`~deconflict.errors.Implausible`.
        Reports the phases ``"reading"``, ``"validating"``, ``"placing"``, ``"writing"`` and
        ``"committing"`` to ``progress`` (see :mod:`deconflict.progress`).
        """
        batch = read_sites(path, format, city=city, progress=progress, delimiter=delimiter)
        record = ImportRecord("sites", Path(path).name, batch.sha256, batch.format, len(batch.records))
        try:
            self.add_many(batch.records, record, progress=progress, force=force)
        except ConflictError as exc:
            raise ConflictError(exc.message, where=str(path)) from exc
        return ImportResult(len(batch.records), batch.sha256, batch.format, batch.skipped, batch.ignored_columns)

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
        include_withdrawn: bool = False,
        city: str | None = None,
    ) -> list[SiteHit]:
        """Sites in force matching every given filter (withdrawn ones too with ``include_withdrawn``).

        Parameters
        ----------
        near, within_m
            ``(lat, lon)`` and a geodesic radius in metres; results are nearest first.
        search
            Any name of the site or of its city, in any language or script, regardless of
            case and diacritics ("Kyiv", "Kiew", "Київ" and "Киев" find the same sites); each word
            may be inflected ("посольство азербайджану", "Botschaft Aserbaidschans").
        city
            The city as a place (GeoNames): "Київ", "Kiev" and "Kyiv" are one city, "Odessa" and
            "Одесса" are Odesa. Raises :class:`InvalidInput` for a name GeoNames does not know.
        """
        geonameid = None
        if city is not None:
            place = find_city(city)
            if place is None:
                raise InvalidInput(f"no city called {city!r} in the gazetteer (GeoNames)", where="city")
            geonameid = place.geonameid
        if (near is None) != (within_m is None):
            raise InvalidInput("near and within_m go together", where="near" if near is None else "within_m")
        if within_m is not None and not (0 <= within_m <= 20_100_000):
            raise InvalidInput(f"must be between 0 and 20,100,000 metres, got {within_m}", where="within_m")
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
            include_withdrawn,
            geonameid,
        )
        return [SiteHit(site, distance) for site, distance in self._db.store.list_sites(query)]

    def count(self, **filters: Any) -> int:
        """How many sites match the filters of :meth:`list` (all sites without filters)."""
        given = {name: value for name, value in filters.items() if value is not None}
        if not given:
            return self._db.store.count_sites()
        return len(self.list(**given))

    def amend(
        self,
        site_id: str,
        *,
        reason: str,
        lat: float | None = None,
        lon: float | None = None,
        radius_m: float | None = None,
        name: str | None = None,
        kind: str | None = None,
        address: str | None = None,
        city: str | None = None,
        approximate: bool | None = None,
        footprint_wkt: str | None = None,
        notes: str | None = None,
        force: bool = False,
        principal: Principal | None = None,
    ) -> Logged[Site]:
        """Correct a site: a new salted commitment (one log entry) superseding the one in force.

        Fields left None keep their value. A site refined from an approximate placement stops being
        ``approximate`` unless ``approximate`` says otherwise. Notifications logged before keep
        naming the commitment they were made with (their bundle reveals both versions).

        Raises
        ------
        InvalidInput
            Without a reason, for an invalid field, or when nothing changes.
        NotFound, PermissionDenied
            For an unknown site, or one the principal may not write; when a principal that is not admin
            would widen the site's reach beyond :data:`~deconflict.model.MAX_OWNER_REACH_M` of its kind.
        ConflictError
            When the site was withdrawn.
        Implausible
            Unless ``force``, when the amended site fails a plausibility check.
        """
        from deconflict.access import visible_site
        from deconflict.ledger.corrections import amend_site

        caller = principal or _local()
        old, _ = visible_site(self._db, caller, site_id)
        caller.require_write(old.owner)
        changes: dict[str, Any] = {
            key: value
            for key, value in (("lat", lat), ("lon", lon), ("radius_m", radius_m), ("name", name), ("kind", kind),
                               ("address", address), ("city", city), ("footprint_wkt", footprint_wkt),
                               ("notes", notes))
            if value is not None
        }  # fmt: skip
        moved = "lat" in changes or "lon" in changes
        changes["approximate"] = approximate if approximate is not None else (old.approximate and not moved)
        if kind is not None and radius_m is None and old.radius_m == DEFAULT_RADIUS_M[old.kind]:
            changes["radius_m"] = -1.0  # the default radius of the new kind
        try:
            site = old.with_changes(**changes)
        except InvalidInput as exc:
            field_name = next((k for k in changes if exc.message.startswith(k)), None)
            raise InvalidInput(exc.message, where=exc.where or field_name) from None
        if site_reach_m(site) > site_reach_m(old):  # an amendment that does not widen the site stands
            caller.require_reach(site)
        found = find_city(site.city, near=(site.lat, site.lon)) if site.city else nearest_city(site.lat, site.lon)
        if found is not None and not site.city:
            site = site.with_changes(city=found.name)
        from deconflict.plausibility import refuse_unless_forced, site_warnings

        refuse_unless_forced(site_warnings(self._db, [site], replacing=True), force)
        with self._db.store.transaction():
            item = amend_site(self._db.ledger, site, found.geonameid if found else None, reason)
            if found is not None:
                self._db.store.add_city_names(found.geonameid, city_aliases(found))
        return Logged(site, item.entry_index)

    def withdraw(self, site_id: str, *, reason: str, principal: Principal | None = None) -> Logged[Site]:
        """Withdraw a site from the registry (registered in error, closed): one log entry.

        It leaves every listing and analysis; its record and history stay in the log and in its
        evidence bundle. Raises :class:`ConflictError` when already withdrawn.
        """
        from deconflict.access import visible_site
        from deconflict.ledger.corrections import withdraw_site

        caller = principal or _local()
        site, _ = visible_site(self._db, caller, site_id)
        caller.require_write(site.owner)
        return Logged(site, withdraw_site(self._db.ledger, site_id, reason).index)

    def history(self, site_id: str, *, principal: Principal | None = None) -> RecordHistory:
        """Every version of a site (as committed) with the reasons of its corrections."""
        from deconflict.access import visible_site
        from deconflict.records import site_history

        _, view = visible_site(self._db, principal or _local(), site_id)
        return site_history(self._db, site_id, exact=view == "exact")

    def to_geodataframe(self, **filters: Any) -> Any:
        """The sites (filtered as in :meth:`list`) as a GeoPandas GeoDataFrame in EPSG:4326 (``geo`` extra)."""
        from deconflict.frames import sites_to_geodataframe

        return sites_to_geodataframe(hit.site for hit in self.list(**filters))

    def add_geodataframe(self, frame: Any) -> builtins.list[Site]:
        """Add the sites of a GeoDataFrame (any CRS; re-projected to EPSG:4326), all or none."""
        from deconflict.frames import sites_from_geodataframe

        return self.add_many(sites_from_geodataframe(frame))

    def export(self, format: str = "csv", *, path: str | Path | None = None, **filters: object) -> str:
        """The sites (filtered as in :meth:`list`) as CSV or GeoJSON text (typed properties), or a
        GeoPackage written to ``path`` (``gpkg``, with the ``geo`` extra; returns "")."""
        sites = [hit.site for hit in self.list(**filters)]  # type: ignore[arg-type]
        if format == "csv":
            return sites_to_csv(sites)
        if format == "geojson":
            return sites_to_geojson(sites)
        if format == "gpkg":
            from deconflict.layers import render_layer, site_features

            render_layer(site_features(sites), "gpkg", path=path, layer="sites")
            return ""
        raise InvalidInput(f"unknown export format {format!r}; expected csv, geojson or gpkg", where="format")


#: What an incident import does with records whose id is already stored.
ON_EXISTING = ("refuse", "skip", "update")


class Incidents:
    """The incidents of a :class:`Database`."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add_many(
        self,
        incidents: Sequence[Incident],
        import_record: ImportRecord | None = None,
        *,
        progress: ProgressCallback | None = None,
        import_id: int | None = None,
    ) -> int:
        """Add incidents in one transaction (all or nothing); return how many.

        ``import_id``: the import already recorded for ``import_record`` (else it is recorded here).

        Reports the phases ``"committing"`` (records hashed into the log entry) and ``"writing"``
        (rows stored) to ``progress``.
        """
        store = self._db.store
        ids = [i.id for i in incidents]
        _refuse_repeated_ids("incident", ids)
        if not incidents:
            return 0
        try:
            with store.transaction():
                if import_id is None and import_record is not None:
                    import_id = store.record_import(import_record)
                entry = self._db.ledger.record_incidents(incidents, import_record, progress=progress)
                tick = report_steps(progress, "writing", len(incidents), step=_WRITE_CHUNK)
                # In chunks only to report progress: one transaction, so still all or nothing.
                for start in range(0, len(incidents), _WRITE_CHUNK):
                    chunk = incidents[start : start + _WRITE_CHUNK]
                    store.insert_incidents(chunk, import_id, entry.index, first_position=start)
                    tick(start + len(chunk))
                self._db._incidents_written(incidents, "import")
        except ConflictError:
            # The unique index refused a duplicate and the transaction was rolled back; name them.
            existing = store.existing_incident_ids(ids)
            raise ConflictError(
                f"incident id(s) already in the database: {', '.join(sorted(existing)[:5])}"
                + (" (was this file imported before?)" if import_record else "")
            ) from None
        tick(len(incidents), final=True)
        return len(incidents)

    def add(self, incident: Incident) -> Incident:
        """Add one incident."""
        self.add_many([incident])
        return incident

    def add_rows(
        self,
        rows: Sequence[Mapping[str, Any]],
        *,
        name: str = "batch.json",
        on_existing: str = "refuse",
        force: bool = False,
        principal: Principal | None = None,
    ) -> ImportResult:
        """Add incidents given as rows of the interchange format (CSV column names), all or none.

        Ids are derived from the content when a row has none, as for files. The batch is
        recorded as an import named ``name`` whose SHA-256 is that of the rows' canonical JSON.

        Raises
        ------
        InvalidInput
            For an invalid row, naming it (``record N``, counted from 1) and the field.
        PermissionDenied
            Unless ``principal`` is an admin (incidents concern every owner).
        """
        from deconflict.ingest.common import build_incident, with_row

        (principal or _local()).require_admin("adding incidents")
        if not rows:
            raise InvalidInput("the batch is empty")
        local = self._db.timezone
        incidents: list[Incident] = [
            with_row(name, number, functools.partial(build_incident, row, local), unit="record")
            for number, row in enumerate(rows, start=1)
        ]
        if on_existing not in ON_EXISTING:
            raise InvalidInput(f"must be one of {', '.join(ON_EXISTING)}, got {on_existing!r}", where="on_existing")
        from deconflict.plausibility import incident_warnings, refuse_unless_forced

        refuse_unless_forced(incident_warnings(self._db, incidents), force)
        payload = json.dumps([dict(row) for row in rows], sort_keys=True, ensure_ascii=False, default=str)
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        record = ImportRecord("incidents", name, digest, "json", len(incidents))
        added, updated, unchanged = self._write_batch(incidents, record, on_existing, where=name)
        return ImportResult(added, digest, "json", updated=updated, unchanged=unchanged)

    def import_file(
        self,
        path: str | Path,
        format: str | None = None,
        *,
        progress: ProgressCallback | None = None,
        on_existing: str = "refuse",
        delimiter: str | None = None,
        force: bool = False,
    ) -> ImportResult:
        """Import incidents from CSV, GeoJSON or an ACLED export; all rows or none.

        Parameters
        ----------
        on_existing
            What to do with records whose id is already stored: ``refuse`` (the whole file),
            ``skip`` them, or ``update`` them: each one that differs becomes a new version, one
            ``incident_revision`` log entry for the file, superseding the old version (which stays
            in the log); review decisions carry over. Overlapping re-downloads (ACLED revises
            events over time) are read with ``update``.
        delimiter
            The CSV field separator (default ``,``).
        force
            Record incidents outside the study area without refusing (see :mod:`deconflict.plausibility`).

        Reports the phases ``"reading"``, ``"validating"``, ``"committing"`` and ``"writing"`` to
        ``progress`` (see :mod:`deconflict.progress`).
        """
        if on_existing not in ON_EXISTING:
            raise InvalidInput(f"must be one of {', '.join(ON_EXISTING)}, got {on_existing!r}", where="on_existing")
        batch = self.read_file(path, format, progress=progress, delimiter=delimiter)
        return self.import_batch(batch, progress=progress, on_existing=on_existing, force=force)

    def read_file(
        self,
        path: str | Path,
        format: str | None = None,
        *,
        progress: ProgressCallback | None = None,
        delimiter: str | None = None,
    ) -> Batch:
        """Read and validate an incident file without writing anything: the first half of :meth:`import_file`.

        A server parses an upload with this outside its write lock (parsing a large file takes
        seconds; other writers need not wait for it), then writes with :meth:`import_batch`.
        Raises :class:`InvalidInput` naming the file, row and field.
        """
        return read_incidents(path, format, local=self._db.timezone, progress=progress, delimiter=delimiter)

    def import_batch(
        self,
        batch: Batch,
        *,
        progress: ProgressCallback | None = None,
        on_existing: str = "refuse",
        force: bool = False,
    ) -> ImportResult:
        """Write a batch read by :meth:`read_file`: the second half of :meth:`import_file` (same options)."""
        if on_existing not in ON_EXISTING:
            raise InvalidInput(f"must be one of {', '.join(ON_EXISTING)}, got {on_existing!r}", where="on_existing")
        record = ImportRecord("incidents", Path(batch.path).name, batch.sha256, batch.format, len(batch.records))
        from deconflict.plausibility import incident_warnings, refuse_unless_forced

        refuse_unless_forced(incident_warnings(self._db, batch.records), force)
        added, updated, unchanged = self._write_batch(
            batch.records, record, on_existing, where=batch.path, progress=progress
        )
        return ImportResult(added, batch.sha256, batch.format, batch.skipped, batch.ignored_columns, updated, unchanged)

    def _write_batch(
        self,
        incidents: Sequence[Incident],
        record: ImportRecord,
        on_existing: str,
        *,
        where: str,
        progress: ProgressCallback | None = None,
    ) -> tuple[int, int, int]:
        """Add new incidents and (``update``) revise stored ones, in one transaction; return the counts."""
        store = self._db.store
        existing = store.existing_incident_ids([i.id for i in incidents]) if on_existing != "refuse" else set()
        fresh = [i for i in incidents if i.id not in existing]
        revised: list[Incident] = []
        unchanged = 0
        for incident in (i for i in incidents if i.id in existing):
            old = store.get_incident(incident.id)
            candidate = replace(incident, status=old.status)  # review decisions stay with the incident
            if on_existing == "update" and candidate != old:
                revised.append(candidate)
            else:
                unchanged += 1
        if not fresh and not revised:
            if incidents and not unchanged:
                raise InvalidInput("the batch is empty", where=where)
            return 0, 0, unchanged
        try:
            with store.transaction():
                import_id = store.record_import(record)
                if fresh:
                    self.add_many(fresh, import_id=import_id, import_record=record, progress=progress)
                if revised:
                    from deconflict.ledger.corrections import revise_incidents

                    reason = f"revised by {record.filename} (sha256 {record.sha256[:16]})"
                    revise_incidents(self._db.ledger, revised, record, import_id, reason)
        except ConflictError as exc:
            raise ConflictError(
                exc.message + " (pass on_existing='skip' or 'update' for an overlapping file)", where=where
            ) from exc
        return len(fresh), len(revised), unchanged

    def history(self, incident_id: str, *, principal: Principal | None = None) -> RecordHistory:
        """Every version of an incident (revisions, merges) with their log entries and reasons."""
        from deconflict.records import incident_history

        (principal or _local()).require_admin("reading an incident's history")
        return incident_history(self._db, incident_id)

    def duplicates(self, *, principal: Principal | None = None) -> builtins.list[DuplicateGroup]:
        """Groups of incidents in force that may be reports of one strike (see :mod:`deconflict.duplicates`)."""
        from deconflict.duplicates import find_duplicates

        (principal or _local()).require_admin("looking for duplicate incidents")
        return find_duplicates(self.list(), self._db.store.incident_batches())

    def merge(
        self,
        incident_ids: Sequence[str],
        *,
        keep: str | None = None,
        reason: str = "duplicate reports of one strike",
        force: bool = False,
        principal: Principal | None = None,
    ) -> Logged[Incident]:
        """Record several reports as one incident with all their sources: one ``incident_merge`` log entry.

        The merged incident keeps the id ``keep`` (default: the most precise report) and takes the
        most precise location and time; the other reports leave the effective state (they stay in
        the log and in the merged incident's history), so the statistics count the strike once.

        Raises
        ------
        InvalidInput
            For fewer than two distinct ids, or ``keep`` not among them.
        NotFound
            For an id not in force (unknown, or already merged into another).
        Implausible
            Unless ``force``, when the reports cannot be one strike (times apart, points beyond
            their uncertainties, different kinds).
        """
        from deconflict.duplicates import merge_warnings, merged_incident
        from deconflict.ledger.corrections import merge_incidents
        from deconflict.plausibility import refuse_unless_forced

        (principal or _local()).require_admin("merging incidents")
        ids = list(dict.fromkeys(incident_ids))
        if len(ids) < 2:
            raise InvalidInput("a merge needs at least two different incident ids", where="incident_ids")
        if keep is not None and keep not in ids:
            raise InvalidInput(f"{keep!r} is not one of the incidents merged", where="keep")
        members = [self.get(i) for i in ids]
        refuse_unless_forced(merge_warnings(members), force)
        merged = merged_incident(members, keep)
        entry = merge_incidents(self._db.ledger, merged, members, reason)
        return Logged(merged, entry.index)

    def get(self, incident_id: str) -> Incident:
        """The incident ``incident_id``; raises :class:`NotFound`."""
        return self._db.store.get_incident(incident_id)

    def review_many(self, incident_ids: Sequence[str], status: str, note: str | None = None) -> builtins.list[int]:
        """Review several incidents in one transaction: all are changed (one log entry each) or none."""
        for incident_id in incident_ids:
            self.get(incident_id)
        with self._db.store.transaction():
            return [self.review(incident_id, status, note) for incident_id in incident_ids]

    def review(self, incident_id: str, status: str, note: str | None = None) -> int:
        """Confirm or reject an incident (e.g. one extracted from a report); a log entry. Returns its index.

        Only ``confirmed`` incidents count in statistics; ``unverified`` ones wait for review.
        A confirmed incident is checked for breaches like a new one, in the same transaction.
        """
        with self._db.store.transaction():
            index = self._db.ledger.review(incident_id, status, note).index
            if status == "confirmed":
                self._db._incidents_written([self.get(incident_id)], "review")
        return index

    def list(
        self,
        *,
        near: tuple[float, float] | None = None,
        within_m: float | None = None,
        start: str | None = None,
        end: str | None = None,
        status: str | None = None,
        provenance: str | None = None,
        confidence: str | None = None,
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
                confidence=confidence,
                limit=limit,
                offset=offset,
            )
        )

    def iter(self, **filters: object) -> Iterator[Incident]:
        """Stream incidents matching the filters of :meth:`list`."""
        return self._db.store.iter_incidents(IncidentQuery(**filters))  # type: ignore[arg-type]

    def count(self, **filters: Any) -> int:
        """How many incidents match the filters of :meth:`list` (all incidents without filters)."""
        given = {name: value for name, value in filters.items() if value is not None}
        if not given:
            return self._db.store.count_incidents()
        if {"near", "within_m", "limit", "offset"} & set(given):  # geodesic test, paging: on each row
            return sum(1 for _ in self.iter(**given))
        return self._db.store.count_matching_incidents(IncidentQuery(**given))

    def to_geodataframe(self, **filters: Any) -> Any:
        """The incidents as a GeoPandas GeoDataFrame in EPSG:4326 (``geo`` extra)."""
        from deconflict.frames import incidents_to_geodataframe

        return incidents_to_geodataframe(self.iter(**filters))

    def add_geodataframe(self, frame: Any) -> int:
        """Add the incidents of a GeoDataFrame (any CRS; re-projected to EPSG:4326), all or none."""
        from deconflict.frames import incidents_from_geodataframe

        return self.add_many(incidents_from_geodataframe(frame, self._db.timezone))

    def export(self, format: str = "csv", *, path: str | Path | None = None, **filters: object) -> str:
        """The incidents as CSV or GeoJSON text (typed, with ``time_start``/``time_end``), or a GeoPackage
        written to ``path`` (``gpkg``, with the ``geo`` extra; returns "")."""
        incidents = self.iter(**filters)
        if format == "csv":
            return incidents_to_csv(incidents)
        if format == "geojson":
            return incidents_to_geojson(incidents)
        if format == "gpkg":
            from deconflict.layers import incident_features, render_layer

            render_layer(incident_features(incidents), "gpkg", path=path, layer="incidents")
            return ""
        raise InvalidInput(f"unknown export format {format!r}; expected csv, geojson or gpkg", where="format")


class Notifications:
    """Notifications and acknowledgements of a :class:`Database`; each is a log entry."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def notify(
        self,
        site_ids: Sequence[str],
        *,
        to: str,
        at: str | TimeSpan,
        sender: str | None = None,
        channel: str | None = None,
        reference: str | None = None,
        text: str | None = None,
        id: str | None = None,
        movement_ids: Sequence[str] = (),
        force: bool = False,
        principal: Principal | None = None,
    ) -> Logged[Notification]:
        """Record that sites (and movements) were notified to a party: one log entry.

        Parameters
        ----------
        site_ids
            The sites notified (each must be registered).
        movement_ids
            The movements notified (:attr:`Database.movements`; each must be registered).
        to
            The recipient party, ISO 3166-1 alpha-3 (e.g. ``"RUS"``).
        at
            When: an ISO 8601 date-time, a date, or an interval ``start/end`` when the exact
            date is not public, read in the database's timezone; or a :class:`TimeSpan`.
        sender
            The notifying party; default: the sites' owner when they all have one owner.
        channel, reference, text
            How it was sent (``note-verbale``, ...), the note's reference number, free text.
        id
            Default: a new ``ntf-`` id.
        principal
            Who writes (default: the local user); it must be allowed to write every site's owner.

        Returns
        -------
        Logged
            The notification and its log index.

        Raises
        ------
        NotFound
            For an unknown site (or one the principal cannot see).
        InvalidInput
            For a bad recipient, sender or time (``where`` names the parameter).
        PermissionDenied, ConflictError
            When the principal may not write for a site's owner; when the id exists.
        Implausible
            Unless ``force``, for a notification dated in the future.
        """
        from deconflict.access import visible_site

        caller = principal or _local()
        owners = set()
        for site_id in site_ids:
            site, _ = visible_site(self._db, caller, site_id)
            caller.require_write(site.owner)
            owners.add(site.owner)
        for movement_id in movement_ids:
            movement = self._db.movements.get(movement_id, principal=caller)
            caller.require_write(movement.owner)
            owners.add(movement.owner)
        if sender is not None:
            sender = check_owner(sender, "sender")
            if not caller.is_admin and sender not in caller.owners:
                raise InvalidInput(f"sender {sender} is not an owner this caller writes for", where="sender")
        elif len(owners) == 1:
            (sender,) = owners
        try:
            recipient = check_owner(to, "recipient")
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where="to") from None
        notification = Notification(
            id=id or new_id("ntf"),
            site_ids=tuple(site_ids),
            recipient=recipient,
            notified_at=_time(at, "at", self._db),
            channel=channel,
            reference=reference,
            text=text,
            sender=sender,
            movement_ids=tuple(sorted(movement_ids)),
        )
        from deconflict.plausibility import notification_warnings, refuse_unless_forced

        refuse_unless_forced(notification_warnings(notification), force)
        return Logged(notification, self.record(notification))

    def record(self, notification: Notification) -> int:
        """Log a notification built by the caller; return its log index (:meth:`notify` builds one for you).

        Raises
        ------
        NotFound
            If a site is unknown.
        ConflictError
            If the notification id exists.
        """
        return self._db.ledger.notify(notification).index

    def acknowledge(
        self,
        notification_id: str,
        *,
        by: str,
        at: str | TimeSpan,
        reference: str | None = None,
        text: str | None = None,
        id: str | None = None,
        force: bool = False,
        principal: Principal | None = None,
    ) -> Logged[Acknowledgement]:
        """Record the acknowledgement of a notification by ``by`` (usually its recipient): one log entry.

        Raises
        ------
        NotFound
            For an unknown notification (or one the principal may not read).
        InvalidInput
            For a bad party or time (``where`` names the parameter).
        PermissionDenied
            When the principal may not write for the notified sites' owners.
        Implausible
            Unless ``force``, when dated in the future or before the notification.
        """
        from deconflict.access import visible_notifications

        caller = principal or _local()
        readable = {n.id: n for n, _ in visible_notifications(self._db, caller)}
        notification = readable.get(notification_id)
        if notification is None:
            raise NotFound(f"no notification with id {notification_id!r}")
        for site_id in notification.site_ids:
            caller.require_write(self._db.sites.get(site_id).owner)
        try:
            party = check_owner(by, "by")
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where="by") from None
        acknowledgement = Acknowledgement(
            id=id or new_id("ack"),
            notification_id=notification_id,
            recipient=party,
            at=_time(at, "at", self._db),
            reference=reference,
            text=text,
        )
        from deconflict.plausibility import acknowledgement_warnings, refuse_unless_forced

        refuse_unless_forced(acknowledgement_warnings(acknowledgement, notification), force)
        return Logged(acknowledgement, self._db.ledger.acknowledge(acknowledgement).index)

    def list(self, site_id: str | None = None, *, include_withdrawn: bool = False) -> list[tuple[Notification, int]]:
        """Notifications in force (of one site, or all), as amended, with the index of the entry that
        says so; withdrawn ones too with ``include_withdrawn``."""
        return self._db.store.list_notifications(site_id, include_withdrawn=include_withdrawn)

    def acknowledgements(
        self, notification_id: str | None = None, *, include_withdrawn: bool = False
    ) -> builtins.list[tuple[Acknowledgement, int]]:
        """Acknowledgements in force (of one notification, or all) with their log index."""
        return self._db.store.list_acknowledgements(notification_id, include_withdrawn=include_withdrawn)

    def _readable(self, notification_id: str, principal: Principal | None) -> tuple[Notification, int]:
        """The notification (withdrawn ones too) if the principal may read it, else :class:`NotFound`."""
        for notification, index in _readable_all(self._db, principal or _local()):
            if notification.id == notification_id:
                return notification, index
        raise NotFound(f"no notification with id {notification_id!r}")

    def get(self, notification_id: str, *, principal: Principal | None = None) -> NotificationRecord:
        """One notification as in force, with its state, acknowledgements and (all) corrections.

        Raises :class:`NotFound` for an unknown one or one the principal may not read.
        """
        from deconflict.records import notification_record

        notification, index = self._readable(notification_id, principal)
        return notification_record(self._db, notification, index)

    def records(
        self, site_id: str | None = None, *, include_withdrawn: bool = False, principal: Principal | None = None
    ) -> builtins.list[NotificationRecord]:
        """Every notification the principal may read, as :meth:`get` gives it (``notifications list``)."""
        from deconflict.records import notification_record

        caller = principal or _local()
        readable = {n.id for n, _ in _readable_all(self._db, caller, include_withdrawn=include_withdrawn)}
        return [
            notification_record(self._db, n, i)
            for n, i in self.list(site_id, include_withdrawn=include_withdrawn)
            if n.id in readable
        ]

    def export(
        self, format: str = "json", *, include_withdrawn: bool = False, principal: Principal | None = None
    ) -> str:
        """The notifications as JSON (a list of :meth:`NotificationRecord.to_json`) or CSV text."""
        from deconflict.records import notifications_to_csv

        records = self.records(include_withdrawn=include_withdrawn, principal=principal)
        if format == "json":
            return json.dumps([r.to_json() for r in records], ensure_ascii=False, indent=1) + "\n"
        if format == "csv":
            return notifications_to_csv(records, self._db.timezone)
        raise InvalidInput(f"unknown export format {format!r}; expected json or csv", where="format")

    def amend(
        self,
        notification_id: str,
        *,
        reason: str,
        to: str | None = None,
        at: str | TimeSpan | None = None,
        site_ids: Sequence[str] | None = None,
        sender: str | None = None,
        channel: str | None = None,
        reference: str | None = None,
        text: str | None = None,
        force: bool = False,
        principal: Principal | None = None,
    ) -> Logged[Notification]:
        """Correct a notification (a wrong date, recipient, reference ...): one log entry superseding it.

        Fields left None keep their value. Every listing, analysis, report and bundle then uses the
        amended notification (and says it was amended); the original stays in the log.

        Raises
        ------
        InvalidInput
            Without a reason, for a bad field (``where`` names the parameter), or when nothing changes.
        NotFound, PermissionDenied
            For an unknown notification or site, or a principal that may not write for the sites' owners.
        ConflictError
            When the notification was withdrawn.
        Implausible
            Unless ``force``, when the amended notification is dated in the future.
        """
        from deconflict.access import visible_site
        from deconflict.ledger.corrections import amend_notification
        from deconflict.plausibility import notification_warnings, refuse_unless_forced

        caller = principal or _local()
        old, _ = self._readable(notification_id, principal)
        for site_id in {*old.site_ids, *(site_ids or ())}:
            site, _ = visible_site(self._db, caller, site_id)
            caller.require_write(site.owner)
        changes: dict[str, Any] = {}
        if to is not None:
            try:
                changes["recipient"] = check_owner(to, "recipient")
            except InvalidInput as exc:
                raise InvalidInput(exc.message, where="to") from None
        if sender is not None:
            changes["sender"] = check_owner(sender, "sender")
        if at is not None:
            changes["notified_at"] = _time(at, "at", self._db)
        if site_ids is not None:
            changes["site_ids"] = tuple(site_ids)
        for key, value in (("channel", channel), ("reference", reference), ("text", text)):
            if value is not None:
                changes[key] = value or None
        try:
            notification = replace(old, **changes)
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where=exc.where or "site_ids") from None
        refuse_unless_forced(notification_warnings(notification), force)
        return Logged(notification, amend_notification(self._db.ledger, notification, reason).index)

    def withdraw(
        self, notification_id: str, *, reason: str, principal: Principal | None = None
    ) -> Logged[Notification]:
        """Withdraw a notification recorded in error: one log entry. It (and its acknowledgements) leave
        every listing and analysis; the log keeps it. Raises :class:`ConflictError` when already withdrawn."""
        from deconflict.ledger.corrections import withdraw_notification

        caller = principal or _local()
        notification, _ = self._readable(notification_id, principal)
        for site_id in notification.site_ids:
            caller.require_write(self._db.sites.get(site_id).owner)
        return Logged(notification, withdraw_notification(self._db.ledger, notification_id, reason).index)

    def history(self, notification_id: str, *, principal: Principal | None = None) -> RecordHistory:
        """The notification as first logged and every amendment or withdrawal, with reasons."""
        from deconflict.records import notification_history

        self._readable(notification_id, principal)
        return notification_history(self._db, notification_id)


def _readable_all(
    db: Database, principal: Principal, *, include_withdrawn: bool = True
) -> builtins.list[tuple[Notification, int]]:
    """The notifications ``principal`` may read (withdrawn ones included by default)."""
    from deconflict.access import may_read_notification

    principal.require_registry()
    return [
        (n, i) for n, i in db.notifications.list(include_withdrawn=include_withdrawn)
        if may_read_notification(db, principal, n)
    ]  # fmt: skip


class Acknowledgements:
    """Acknowledgements of notifications (:meth:`Notifications.acknowledge` records them)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def list(
        self, notification_id: str | None = None, *, include_withdrawn: bool = False, principal: Principal | None = None
    ) -> builtins.list[tuple[Acknowledgement, int]]:
        """Acknowledgements the principal may read (of one notification, or all), with their log index."""
        caller = principal or _local()
        readable = {n.id for n, _ in _readable_all(self._db, caller)}
        return [
            (a, i)
            for a, i in self._db.store.list_acknowledgements(notification_id, include_withdrawn=include_withdrawn)
            if a.notification_id in readable
        ]

    def _readable(self, acknowledgement_id: str, principal: Principal | None) -> Acknowledgement:
        caller = principal or _local()
        try:
            acknowledgement, _, _ = self._db.store.acknowledgement_state(acknowledgement_id)
        except NotFound:
            raise NotFound(f"no acknowledgement with id {acknowledgement_id!r}") from None
        if not any(n.id == acknowledgement.notification_id for n, _ in _readable_all(self._db, caller)):
            raise NotFound(f"no acknowledgement with id {acknowledgement_id!r}")
        return acknowledgement

    def withdraw(
        self, acknowledgement_id: str, *, reason: str, principal: Principal | None = None
    ) -> Logged[Acknowledgement]:
        """Withdraw an acknowledgement recorded in error: one log entry (the log keeps the original)."""
        from deconflict.ledger.corrections import withdraw_acknowledgement

        caller = principal or _local()
        acknowledgement = self._readable(acknowledgement_id, principal)
        notification, _ = self._db.notifications._readable(acknowledgement.notification_id, principal)
        for site_id in notification.site_ids:
            caller.require_write(self._db.sites.get(site_id).owner)
        return Logged(acknowledgement, withdraw_acknowledgement(self._db.ledger, acknowledgement_id, reason).index)

    def history(self, acknowledgement_id: str, *, principal: Principal | None = None) -> RecordHistory:
        """The acknowledgement as logged and its withdrawal, with the reason."""
        from deconflict.records import acknowledgement_history

        self._readable(acknowledgement_id, principal)
        return acknowledgement_history(self._db, acknowledgement_id)


class Database:
    """An open deconflict database (use :func:`open` or :func:`init`)."""

    def __init__(self, store: Store, *, key_file: str | Path | None = None) -> None:
        self.store = store
        self.sites = Sites(self)
        self.incidents = Incidents(self)
        self.notifications = Notifications(self)
        self.claims = Claims(self)
        # Guarantees (movements, commitments, alerts, channels) build on the layers above and are
        # imported here, when a database is opened, not when this module is.
        from deconflict.guarantees.alerts import Alerts
        from deconflict.guarantees.channels import Channels
        from deconflict.guarantees.commitments import Commitments
        from deconflict.guarantees.movements import Movements

        self.movements = Movements(self)
        self.commitments = Commitments(self)
        self.alerts = Alerts(self)
        self.channels = Channels(self)
        self.acknowledgements = Acknowledgements(self)
        self._key_file = str(key_file) if key_file else None
        self._ledger: Ledger | None = None

    @property
    def location(self) -> str:
        """Where the database lives (file path or URL)."""
        return self.store.location

    @property
    def timezone(self) -> ZoneInfo:
        """The timezone in which dates without a time are read (``init --timezone``)."""
        return zone(self.store.get_meta("timezone") or "UTC")

    def analysis_options(self) -> AnalysisOptions:
        """The analysis options stored with this database (:meth:`set_analysis_options`), else the defaults.

        Every door starts from these, so ``deconflict report`` on a database reproduces the
        numbers of whoever set them up (the demo stores its seed and study area).
        """
        from deconflict.options import AnalysisOptions

        seed = self.store.get_meta("analysis_seed")
        area_wkt = self.store.get_meta("analysis_study_area_wkt")
        area = None
        if area_wkt:
            from shapely import wkt

            area = wkt.loads(area_wkt)
        return AnalysisOptions(
            seed=int(seed) if seed is not None else AnalysisOptions.seed,
            study_area=area,
            study_area_label=self.store.get_meta("analysis_study_area_label") or None,
        )

    def set_analysis_options(self, options: AnalysisOptions) -> None:
        """Store ``options``' seed and study area as this database's analysis defaults."""
        with self.store.transaction():
            self.store.set_meta("analysis_seed", str(options.seed))
            self.store.set_meta("analysis_study_area_wkt", "" if options.study_area is None else options.study_area.wkt)
            self.store.set_meta("analysis_study_area_label", options.study_area_label or "")

    def report_defaults(self) -> ReportDefaults:
        """The report title, featured sites and notes stored with this database (:meth:`set_report_defaults`)."""
        from deconflict.options import ReportDefaults

        stored = self.store.get_meta("report_defaults")
        if not stored:
            return ReportDefaults()
        document = json.loads(stored)
        return ReportDefaults(
            title=document.get("title") or ReportDefaults.title,
            site_ids=tuple(document.get("site_ids") or ()),
            notes=tuple(document.get("notes") or ()),
        )

    def set_report_defaults(self, defaults: ReportDefaults) -> None:
        """Store ``defaults`` so that ``deconflict report`` on this database makes the same report."""
        document = {"title": defaults.title, "site_ids": list(defaults.site_ids), "notes": list(defaults.notes)}
        with self.store.transaction():
            self.store.set_meta("report_defaults", json.dumps(document, ensure_ascii=False))

    @property
    def ledger(self) -> Ledger:
        """The database's transparency log."""
        if self._ledger is None:
            origin = self.store.get_meta("log_origin")
            vkey = self.store.get_meta("log_verifier_key")
            if origin is None or vkey is None:
                raise NotFound("this database has no log (it was not created by 'deconflict init')")
            key_file = self._key_file or self.store.get_meta("log_key_file")
            self._ledger = Ledger(self.store, origin, vkey, Path(key_file) if key_file else None)
        return self._ledger

    def _incidents_written(self, incidents: Sequence[Incident], trigger: str) -> None:
        """Inside the write transaction of every incident write: the breach check (alerts and their outbox).

        The one hook of the incident write path (:meth:`Incidents.add_many`, which every import
        and API batch goes through, and :meth:`Incidents.review`), so no door can bypass it.
        """
        from deconflict.guarantees.breach import check_incidents

        check_incidents(self, incidents, trigger)

    def acknowledge(
        self,
        record_id: str,
        *,
        by: str,
        at: str | TimeSpan,
        reference: str | None = None,
        text: str | None = None,
        id: str | None = None,
        force: bool = False,
        principal: Principal | None = None,
    ) -> Logged[Any]:
        """Record ``by``'s acknowledgement of a notification or a commitment (whichever ``record_id`` is).

        Raises
        ------
        NotFound
            When ``record_id`` is neither a notification nor a commitment the caller may read.
        """
        known = {n.id for n, _ in self.notifications.list()}
        if record_id in known:
            return self.notifications.acknowledge(
                record_id, by=by, at=at, reference=reference, text=text, id=id, force=force, principal=principal
            )
        try:
            self.commitments.get(record_id, principal=principal)
        except NotFound:
            raise NotFound(f"no notification or commitment with id {record_id!r}") from None
        return self.commitments.acknowledge(
            record_id, by=by, at=at, reference=reference, text=text, id=id, principal=principal
        )

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


def default_key_file(location: str) -> Path:
    """Where ``init`` puts the log's private key: beside the database, ``<name>.key``.

    For a PostgreSQL URL it is ``deconflict-<database name>.key`` in the current directory,
    so two databases initialised from one directory do not share (and reuse) one key.
    """
    if location.startswith(("postgresql://", "postgres://")):
        database = location.split("://", 1)[1].split("?", 1)[0].partition("/")[2]
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", unquote(database)).strip("._") or "log"
        return Path(f"deconflict-{name}.key")
    return Path(f"{location}.key")


def init(
    path: str | Path | None = None,
    *,
    timezone: str = "UTC",
    origin: str | None = None,
    key_file: str | Path | None = None,
) -> Database:
    """Create a new database and its log's Ed25519 signing key.

    Parameters
    ----------
    path
        Database file (or PostgreSQL URL); default ``$DECONFLICT_DB`` or ``deconflict.db``.
    timezone
        IANA timezone in which dates without a time are read.
    origin
        The log's origin line (checkpoint origin and key name); default
        ``deconflict/log-<random>``. No spaces or ``+``.
    key_file
        Where to write the private key (mode 0600, never in the database); default
        ``<database>.key``. An existing key file is reused, not overwritten.

    Raises
    ------
    ConflictError
        If a database already exists at ``path``.
    """
    location = resolve_db_path(path)
    zone(timezone)
    if not location.startswith(("postgresql://", "postgres://")) and Path(location).exists():
        raise ConflictError(f"a database already exists at {location}")
    key_path = Path(key_file) if key_file else default_key_file(location)
    if key_path.exists():
        signer = load_signer_key(key_path)
        log_origin = signer.name
        if origin is not None and origin != log_origin:
            raise ConflictError(f"the existing key {key_path} is for origin {log_origin!r}, not {origin!r}")
    else:
        log_origin = origin or f"deconflict/log-{secrets.token_hex(6)}"
        signer = generate_signer(log_origin)
    new_key = not key_path.exists()
    wrote_key = False
    store = None
    try:
        store = open_store(location, create=True)
        if new_key:
            write_signer_key(key_path, signer)
            wrote_key = True
        with store.transaction():
            store.set_meta("timezone", timezone)
            store.set_meta("log_origin", log_origin)
            store.set_meta("log_verifier_key", signer.vkey)
            store.set_meta("log_key_file", str(key_path.resolve()))
    except BaseException:
        if store is not None:
            store.close()
        # Leave nothing behind (a full disk would leave an empty database that blocks a retry).
        if not location.startswith(("postgresql://", "postgres://")):
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(location + suffix).unlink(missing_ok=True)
        if wrote_key:
            key_path.unlink(missing_ok=True)
        raise
    return Database(store, key_file=key_path)


def open(path: str | Path | None = None, *, key_file: str | Path | None = None) -> Database:
    """Open an existing database (``path``, ``$DECONFLICT_DB`` or ``deconflict.db``)."""
    location = resolve_db_path(path)
    return Database(open_store(location), key_file=key_file)
