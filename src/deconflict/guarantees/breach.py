"""Breach monitoring: does an incident look like a breach of a notification or a commitment?

An object (site or movement) is *protected* by each basis that covers it:

- its **notification**: a notified site from the end of its first notification on (as the
  statistics count "after notification"); a notified movement during its window, from then on;
- each **commitment** covering it, during the commitment's window (a movement's: its own
  window too).

For a counted incident (:func:`deconflict.model.is_counted`) and a protected object, the hit
probability of a basis is the spatial hit probability (:mod:`deconflict.guarantees.exposure`)
times the share of the incident's time interval inside the basis's window. At or above the
database's threshold (default :data:`~deconflict.options.DEFAULT_ALERT_THRESHOLD`) it raises
one alert per incident, object and commitment; or, when no commitment covered the object at
that time, one alert on its notification. Alerts are raised at most once (their id is derived
from what they are about) and are written, with their outbox rows, in the transaction of the
write that raised them: every incident write (:meth:`deconflict.db.Incidents.add_many`,
:meth:`~deconflict.db.Incidents.review`) calls :func:`check_incidents`, so no door bypasses it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deconflict.guarantees import records
from deconflict.guarantees.exposure import Exposure, movement_exposures, site_exposures
from deconflict.guarantees.model import Alert, Movement, ObjectRef, Window
from deconflict.model import Incident, Notification, Site
from deconflict.relevance import incidents_concerning, incidents_concerning_movement

if TYPE_CHECKING:
    from deconflict.db import Database

__all__ = ["Protection", "assess", "check_incidents", "protections", "sweep"]


@dataclass(frozen=True)
class Protection:
    """One basis protecting one object during ``window``."""

    object: ObjectRef
    owner: str
    basis_kind: str
    basis_id: str
    basis_index: int
    window: Window
    notification_ids: tuple[str, ...]


@dataclass
class _Objects:
    sites: dict[str, Site]
    movements: dict[str, Movement]

    def owner(self, ref: ObjectRef) -> str:
        return self.sites[ref.id].owner if ref.kind == "site" else self.movements[ref.id].owner


def _objects(db: Database) -> _Objects:
    return _Objects({h.site.id: h.site for h in db.sites.list()}, {m.id: m for m in db.movements.list()})


def protections(db: Database, *, commitment_ids: Iterable[str] | None = None) -> list[Protection]:
    """Every (object, basis, window) in force at some time; only these commitments' when given."""
    objects = _objects(db)
    notified: dict[ObjectRef, list[tuple[Notification, int]]] = {}
    for notification, index in db.notifications.list():
        refs = [ObjectRef("site", s) for s in notification.site_ids]
        refs += [ObjectRef("movement", m) for m in notification.movement_ids]
        for ref in refs:
            notified.setdefault(ref, []).append((notification, index))
    found: list[Protection] = []
    wanted = None if commitment_ids is None else set(commitment_ids)
    for ref, items in notified.items():
        items.sort(key=lambda item: (item[0].notified_at.end, item[1]))
        names = tuple(n.id for n, _ in items)
        if wanted is not None:
            continue
        first, index = items[0]
        window: Window | None = Window(first.notified_at.end)
        if ref.kind == "movement" and window is not None:
            window = objects.movements[ref.id].window.intersect(window)
        if window is not None:
            found.append(Protection(ref, objects.owner(ref), "notification", first.id, index, window, names))
    for record in db.commitments.records():
        commitment = record.commitment
        if wanted is not None and commitment.id not in wanted:
            continue
        for ref in commitment.objects:
            window = commitment.window
            if ref.kind == "movement":
                window = objects.movements[ref.id].window.intersect(window)
            if window is None:
                continue
            names = tuple(n.id for n, _ in sorted(notified.get(ref, []), key=lambda i: (i[0].notified_at.end, i[1])))
            found.append(Protection(ref, objects.owner(ref), "commitment", commitment.id, record.log_index, window,
                                    names))  # fmt: skip
    return found


def assess(
    db: Database, exposures: Sequence[Exposure], guards: Sequence[Protection], threshold: float, trigger: str
) -> list[Alert]:
    """The alerts these exposures raise under these protections (not yet checked against stored ones)."""
    by_object: dict[ObjectRef, list[Protection]] = {}
    for guard in guards:
        by_object.setdefault(guard.object, []).append(guard)
    alerts: list[Alert] = []
    for exposure in exposures:
        incident = exposure.incident
        if not incident.counted:
            continue
        guarding = by_object.get(exposure.object, [])
        covered = False
        chosen: list[tuple[Protection, float]] = []
        for guard in (g for g in guarding if g.basis_kind == "commitment"):
            fraction = guard.window.fraction_of(incident.time)
            covered = covered or fraction > 0
            chosen.append((guard, fraction))
        if not covered:
            chosen += [(g, g.window.fraction_of(incident.time)) for g in guarding if g.basis_kind == "notification"]
        for guard, fraction in chosen:
            probability = exposure.spatial_probability * fraction
            if fraction <= 0 or probability < threshold:
                continue
            placed = db.store.incident_entry(incident.id)
            key = records.alert_key(incident.id, exposure.object, guard.basis_kind, guard.basis_id)
            alerts.append(Alert(
                id=records.alert_id_for(key), incident_id=incident.id,
                incident_index=None if placed is None else placed[0], object=exposure.object, owner=guard.owner,
                basis_kind=guard.basis_kind, basis_id=guard.basis_id, basis_index=guard.basis_index,
                hit_probability=probability, spatial_probability=exposure.spatial_probability,
                time_fraction=fraction, distance_m=exposure.distance_m, threshold=threshold, trigger=trigger,
                notification_ids=guard.notification_ids,
            ))  # fmt: skip
    return alerts


def _raise(db: Database, alerts: Sequence[Alert]) -> list[Alert]:
    """Log the alerts not raised before, with their outbox rows (inside the caller's transaction)."""
    from deconflict.guarantees.delivery import enqueue

    if not alerts:
        return []
    store = db.store
    raised = []
    with store.transaction():
        store.lock_log()  # one raiser at a time: an alert raised elsewhere meanwhile is seen below
        taken = {r["id"] for r in store.select_rows("alerts", {"id": [a.id for a in alerts]})}
        notification_index = {n.id: i for n, i in db.notifications.list()}
        for alert in alerts:
            if alert.id in taken:
                continue
            taken.add(alert.id)
            if alert.object.kind == "site":
                object_index = store.site_commitments(alert.object.id)[-1].entry_index
            else:
                object_index = db.movements.log_index(alert.object.id)
            body = records.alert_body(alert, object_index, notification_index)
            index = records.append(store, db.ledger.append, "alert", body)
            enqueue(db, alert.id, alert.owner)
            raised.append(dataclasses.replace(alert, log_index=index))
    return raised


def check_incidents(db: Database, incidents: Sequence[Incident], trigger: str) -> list[Alert]:
    """Check incidents just written against every protection; raise the alerts (in the caller's transaction).

    This is the hook of the incident write path: it runs inside the transaction that writes the
    incidents, so the incidents and their alerts are committed together or not at all.
    """
    counted = [i for i in incidents if i.counted]
    if not counted:
        return []
    guards = protections(db)
    if not guards:
        return []
    objects = _objects(db)
    sites = [objects.sites[g.object.id] for g in {g.object: g for g in guards if g.object.kind == "site"}.values()]
    exposures = site_exposures(sites, counted)
    for ref in {g.object for g in guards if g.object.kind == "movement"}:
        exposures += movement_exposures(objects.movements[ref.id], counted)
    return _raise(db, assess(db, exposures, guards, db.alerts.threshold(), trigger))


def sweep(db: Database, *, trigger: str = "monitor", commitment_ids: Iterable[str] | None = None) -> list[Alert]:
    """Check every stored incident against the protections (only these commitments' when given).

    ``deconflict monitor`` runs it (it catches alerts that a later commitment, notification or a
    lowered threshold implies); recording a commitment runs it for that commitment.
    """
    guards = protections(db, commitment_ids=commitment_ids)
    if not guards:
        return []
    objects = _objects(db)
    exposures: list[Exposure] = []
    for ref in {g.object for g in guards}:
        if ref.kind == "site":
            site = objects.sites[ref.id]
            exposures += site_exposures([site], incidents_concerning(db.store, site))
        else:
            movement = objects.movements[ref.id]
            exposures += movement_exposures(movement, incidents_concerning_movement(db.store, movement))
    return _raise(db, assess(db, exposures, guards, db.alerts.threshold(), trigger))
