"""``db.commitments``: what a party undertook, for which named objects and window, and whether it answered.

A commitment names its objects: sites and movements by id, or all sites of an owner, resolved to
the list of that owner's sites when it is recorded (a guarantee for a category, like the 2025
energy-strike moratorium, cannot be checked; one for a list can). Its acknowledgement status is
computed from the log (:func:`acknowledgement_status`); ``deconflict monitor`` logs a
``deadline_missed`` entry when the deadline passes in silence, so the silence is on the record.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from deconflict.errors import InvalidInput, NotFound
from deconflict.guarantees import records
from deconflict.guarantees.model import Commitment, CommitmentAcknowledgement, ObjectRef, Window
from deconflict.ids import id_unavailable, new_id
from deconflict.model import check_owner
from deconflict.times import TimeSpan, format_utc, parse_time

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database, Logged

__all__ = ["CommitmentRecord", "Commitments", "acknowledgement_status"]


def _local() -> Principal:
    from deconflict.access import Principal

    return Principal.local()


def acknowledgement_status(deadline: datetime | None, acknowledged_at: datetime | None, now: datetime) -> str:
    """THE rule: ``acknowledged`` by the deadline, ``acknowledged late``, ``unacknowledged`` once it passed in
    silence, ``awaiting`` before it, ``not requested`` without a deadline (and no acknowledgement).

    ``acknowledged_at`` is the latest moment the earliest acknowledgement can have happened.
    """
    if acknowledged_at is not None:
        return "acknowledged" if deadline is None or acknowledged_at <= deadline else "acknowledged late"
    if deadline is None:
        return "not requested"
    return "unacknowledged" if now > deadline else "awaiting"


@dataclass(frozen=True)
class CommitmentRecord:
    """A commitment as read back: the record, its log entry, acknowledgements and status."""

    commitment: Commitment
    log_index: int
    logged_at: str
    acknowledgements: tuple[tuple[CommitmentAcknowledgement, int], ...]
    deadline_missed_index: int | None
    status: str

    def to_json(self) -> dict[str, Any]:
        """The JSON every door prints."""
        c = self.commitment
        return {
            "id": c.id,
            "party": c.party,
            "form": c.form,
            "public_statement": c.form == "public-statement",
            "made_at": c.made_at.to_text(),
            "window": c.window.to_json(),
            "deadline": None if c.deadline is None else format_utc(c.deadline),
            "acknowledgement_status": self.status,
            "acknowledgements": [
                {"id": a.id, "party": a.party, "at": a.at.to_text(), "reference": a.reference, "log_index": i}
                for a, i in self.acknowledgements
            ],
            "deadline_missed_log_index": self.deadline_missed_index,
            "site_ids": list(c.site_ids),
            "movement_ids": list(c.movement_ids),
            "owners": list(c.owners),
            "reference": c.reference,
            "text": c.text,
            "source_url": c.source_url,
            "recorded_by": c.recorded_by,
            "log_index": self.log_index,
            "logged_at": self.logged_at,
        }


class Commitments:
    """The commitments of a :class:`~deconflict.db.Database`; each is a log entry."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        *,
        party: str,
        sites: Sequence[str] = (),
        movements: Sequence[str] = (),
        owners: Sequence[str] = (),
        made_at: str | TimeSpan | None = None,
        start: str | None = None,
        until: str | None = None,
        deadline: str | None = None,
        form: str = "note-verbale",
        reference: str | None = None,
        text: str | None = None,
        source_url: str | None = None,
        id: str | None = None,
        principal: Principal | None = None,
    ) -> Logged[Commitment]:
        """Record what ``party`` undertook: one ``commitment`` log entry.

        Parameters
        ----------
        party
            Who undertook it (ISO3), e.g. ``RUS``.
        sites, movements
            Objects covered, by id (each must exist and be visible to the caller).
        owners
            Cover all sites of these owners, as registered now (resolved to their list).
        made_at
            When it was made (date, date-time or ``start/end`` interval; default now).
        start, until
            The window it holds for (default: from the end of ``made_at``, open-ended).
        deadline
            By when the party is asked to acknowledge it (must not be before ``made_at``).
        form, reference, text, source_url
            ``note-verbale``, ``agreement``, ``public-statement``, ...; the note's reference; its words.

        Raises
        ------
        NotFound
            For an unknown (or invisible) site or movement (``where``: ``sites``/``movements``).
        InvalidInput
            No object; a window ending before it starts; a deadline before the commitment.
        PermissionDenied
            When the caller may not write for a covered object's owner.
        """
        from deconflict.access import visible_site
        from deconflict.db import Logged

        caller = principal or _local()
        local = self._db.timezone
        site_ids = list(dict.fromkeys(sites))
        checked_owners = []
        for owner in owners:
            try:
                code = check_owner(owner, "owner")
            except InvalidInput as exc:
                raise InvalidInput(exc.message, where="owners") from None
            caller.require_write(code)
            checked_owners.append(code)
            site_ids += [h.site.id for h in self._db.sites.list(owner=code) if h.site.id not in site_ids]
        committed_sites: list[dict[str, Any]] = []
        for site_id in site_ids:
            try:
                site, _ = visible_site(self._db, caller, site_id)
            except NotFound as exc:
                raise NotFound(exc.message, where="sites") from None
            caller.require_write(site.owner)
            latest = self._db.store.site_commitments(site_id)
            if not latest:
                raise NotFound(f"site {site_id!r} has no commitment in the log", where="sites")
            committed_sites.append(
                {"site_id": site_id, "commitment": latest[-1].commitment, "committed_index": latest[-1].entry_index}
            )
        committed_movements: list[dict[str, Any]] = []
        for movement_id in dict.fromkeys(movements):
            try:
                movement = self._db.movements.get(movement_id, principal=caller)
            except NotFound as exc:
                raise NotFound(exc.message, where="movements") from None
            caller.require_write(movement.owner)
            row = self._db.store.select_rows("movements", {"id": movement_id})[0]
            committed_movements.append(
                {"movement_id": movement_id, "commitment": row["commitment"], "committed_index": row["entry_idx"]}
            )
        if owners and not committed_sites and not committed_movements:
            raise InvalidInput(f"owner(s) {', '.join(checked_owners)} have no registered sites", where="owners")
        when = made_at if isinstance(made_at, TimeSpan) else None
        if when is None:
            if made_at is None:
                now = datetime.now(UTC).replace(microsecond=0)
                when = TimeSpan(now, now, "instant")
            else:
                try:
                    when = parse_time(made_at, None, local)
                except InvalidInput as exc:
                    raise InvalidInput(exc.message, where="made_at") from None
        window_start = when.end if start is None else records.parse_window_start(start, local)
        window_end = None if until is None else records.parse_window_end(until, local)
        due = None if deadline is None else records.parse_window_end(deadline, local, where="deadline")
        recorded_by = None if caller.is_admin else (sorted(caller.owners)[0] if caller.owners else None)
        commitment = Commitment(
            id=id or new_id("cmt"), party=party, made_at=when, window=Window(window_start, window_end),
            site_ids=tuple(s["site_id"] for s in committed_sites),
            movement_ids=tuple(m["movement_id"] for m in committed_movements), owners=tuple(checked_owners),
            form=form, reference=reference, text=text, source_url=source_url, deadline=due, recorded_by=recorded_by,
        )  # fmt: skip
        if self._db.store.select_rows("commitments", {"id": commitment.id}):
            raise id_unavailable("commitment", [commitment.id], where="id")
        body = records.commitment_body(commitment, committed_sites, committed_movements)
        with self._db.store.transaction():
            index = records.append(self._db.store, self._db.ledger.append, "commitment", body)
            # A commitment covering a window that has already begun is checked against the
            # incidents already recorded, in the same transaction.
            from deconflict.guarantees.breach import sweep

            sweep(self._db, trigger="commitment", commitment_ids=[commitment.id])
        return Logged(commitment, index)

    def acknowledge(
        self,
        commitment_id: str,
        *,
        by: str,
        at: str | TimeSpan,
        reference: str | None = None,
        text: str | None = None,
        id: str | None = None,
        principal: Principal | None = None,
    ) -> Logged[CommitmentAcknowledgement]:
        """Record ``by``'s acknowledgement of a commitment: one ``commitment_acknowledged`` entry."""
        from deconflict.db import Logged

        caller = principal or _local()
        record = self.get(commitment_id, principal=caller)
        for ref in record.commitment.objects:
            caller.require_write(records.object_owner(self._db.store, ref))
        if isinstance(at, TimeSpan):
            when = at
        else:
            try:
                when = parse_time(at, None, self._db.timezone)
            except InvalidInput as exc:
                raise InvalidInput(exc.message, where="at") from None
        try:
            party = check_owner(by, "by")
        except InvalidInput as exc:
            raise InvalidInput(exc.message, where="by") from None
        ack = CommitmentAcknowledgement(id or new_id("ack"), commitment_id, party, when, reference, text)
        body = records.commitment_ack_body(ack, record.log_index)
        index = records.append(self._db.store, self._db.ledger.append, "commitment_acknowledged", body)
        return Logged(ack, index)

    # -- reading --------------------------------------------------------------------------------
    def _may_read(self, caller: Principal, commitment: Commitment) -> bool:
        if caller.is_admin or caller.is_analyst:
            return True
        if commitment.recorded_by in caller.owners:
            return True
        return any(
            row["owner"] in caller.owners
            for row in self._db.store.select_rows("commitment_objects", {"commitment_id": commitment.id})
        )

    def records(
        self, *, party: str | None = None, owner: str | None = None, principal: Principal | None = None,
        now: datetime | None = None,
    ) -> builtins.list[CommitmentRecord]:  # fmt: skip
        """Commitments the caller may read (of one party, covering one owner's objects), oldest first."""
        caller = principal or _local()
        caller.require_registry()
        moment = now or datetime.now(UTC)
        where: dict[str, Any] = {}
        if party is not None:
            where["party"] = party.strip().upper()
        rows = self._db.store.select_rows("commitments", where, ("entry_idx",))
        if owner is not None:
            code = owner.strip().upper()
            covering = {r["commitment_id"] for r in self._db.store.select_rows("commitment_objects", {"owner": code})}
            rows = [r for r in rows if r["id"] in covering]
        acks: dict[str, builtins.list[int]] = {}
        for row in self._db.store.select_rows("commitment_acknowledgements", order=("entry_idx",)):
            acks.setdefault(row["commitment_id"], []).append(int(row["entry_idx"]))
        missed = {r["commitment_id"]: int(r["entry_idx"]) for r in self._db.store.select_rows("deadlines_missed")}
        indices = [int(r["entry_idx"]) for r in rows] + [i for v in acks.values() for i in v]
        entries = self._db.store.log_entries_at(indices)
        found = []
        for row in rows:
            entry = entries[int(row["entry_idx"])]
            commitment = records.commitment_from_body(records.decode_body(entry.data))
            if not self._may_read(caller, commitment):
                continue
            answered = tuple(
                (records.commitment_ack_from_body(records.decode_body(entries[i].data)), i)
                for i in acks.get(commitment.id, [])
            )
            first = min((a.at.end for a, _ in answered), default=None)
            found.append(CommitmentRecord(
                commitment, entry.index, entry.logged_at, answered, missed.get(commitment.id),
                acknowledgement_status(commitment.deadline, first, moment),
            ))  # fmt: skip
        return found

    def get(self, commitment_id: str, *, principal: Principal | None = None) -> CommitmentRecord:
        """One commitment; :class:`NotFound` when unknown or not readable by the caller."""
        for record in self.records(principal=principal):
            if record.commitment.id == commitment_id:
                return record
        raise NotFound(f"no commitment with id {commitment_id!r}")

    def covering(self, ref: ObjectRef) -> builtins.list[CommitmentRecord]:
        """Every commitment covering ``ref`` (no scope: for the library's own checks)."""
        ids = {
            r["commitment_id"]
            for r in self._db.store.select_rows("commitment_objects", {"object_kind": ref.kind, "object_id": ref.id})
        }
        return [r for r in self.records() if r.commitment.id in ids]

    def check_deadlines(self, now: datetime | None = None) -> builtins.list[tuple[str, int]]:
        """Log a ``deadline_missed`` entry for each commitment whose deadline passed unacknowledged.

        Returns ``(commitment_id, log_index)`` of the entries written (each is written once).
        """
        moment = now or datetime.now(UTC)
        written = []
        with self._db.store.transaction():
            self._db.store.lock_log()  # from here on no other writer can log the same entry
            for record in self.records(now=moment):
                c = record.commitment
                if record.status != "unacknowledged" or record.deadline_missed_index is not None or c.deadline is None:
                    continue
                body = {"commitment_id": c.id, "commitment_index": record.log_index, "party": c.party,
                        "deadline": format_utc(c.deadline), "checked_at": format_utc(moment)}  # fmt: skip
                written.append((c.id, records.append(self._db.store, self._db.ledger.append, "deadline_missed", body)))
        return written
