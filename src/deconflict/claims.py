"""Claims read from reports, kept as unverified candidates until a person reviews them.

``deconflict extract --import`` (:meth:`Claims.import_reports`) stores, per report, its
incident candidates as unverified incidents (one log entry, as any import) and its
notification claims and diplomatic responses as :class:`~deconflict.model.Claim` rows.
A reviewer then lists and reads them (:meth:`Claims.list`, :meth:`Claims.get`) and decides:

- :meth:`Claims.confirm` turns a notification claim into a :class:`~deconflict.model.Notification`
  in the log, with the interval the text allows ("after the first attack" and before the
  second: from the end of the first hit to the start of the next), unless the reviewer gives
  the time, recipient or sites; its ``reference`` is ``sha256:<the report's SHA-256>`` and its
  text the quoted words, so the record leads back to the report. A response is confirmed as a
  claim (there is no other record of responses).
- :meth:`Claims.reject` keeps the claim, marked rejected with the reviewer's note.

A claim is reviewed once: a second decision is refused (a logged notification is corrected
by an amendment, not by reviewing its claim again).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deconflict.errors import InvalidInput
from deconflict.ids import content_id
from deconflict.model import CLAIM_KINDS, CLAIM_STATUSES, Claim, Notification
from deconflict.store.base import ClaimQuery, ImportRecord
from deconflict.times import TimeSpan, now_utc_text

if TYPE_CHECKING:
    from deconflict.access import Principal
    from deconflict.db import Database, Logged
    from deconflict.extract.pipeline import ExtractionResult

__all__ = ["ClaimReview", "Claims", "ReportImport", "claims_of"]


@dataclass(frozen=True, slots=True)
class ReportImport:
    """What :meth:`Claims.import_reports` stored from one report (ids of new records only)."""

    source_sha256: str
    path: str | None
    incident_ids: tuple[str, ...]
    claim_ids: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "source_sha256": self.source_sha256,
            "path": self.path,
            "incidents": list(self.incident_ids),
            "claims": list(self.claim_ids),
        }


@dataclass(frozen=True, slots=True)
class ClaimReview:
    """A reviewed claim and, for a confirmed notification claim, the notification logged."""

    claim: Claim
    notification: Notification | None = None
    log_index: int | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        notification = None
        if self.notification is not None:
            n = self.notification
            notification = {
                "id": n.id, "site_ids": list(n.site_ids), "sender": n.sender, "recipient": n.recipient,
                "notified_at": n.notified_at.to_text(), "precision": n.notified_at.precision,
                "reference": n.reference, "log_index": self.log_index,
            }  # fmt: skip
        return {"claim": self.claim.to_json(), "notification": notification}


def claims_of(result: ExtractionResult, *, source_name: str | None = None) -> list[Claim]:
    """The :class:`~deconflict.model.Claim` records of one extraction result (unverified).

    Ids are content ids (report SHA-256, span, kind), so importing the same report twice adds
    nothing.
    """
    claims: list[Claim] = []
    for n in result.notifications:
        claims.append(
            Claim(
                id=content_id("clm", result.source_sha256, "notification", *n.span),
                kind="notification", source_sha256=result.source_sha256, span=n.span, quote=n.quote,
                confidence=n.confidence, source_name=source_name, site_ids=n.site_ids,
                site_candidates=n.site_candidates, sender=n.sender, recipient=n.recipient,
                not_before=n.not_before, not_after=n.not_after, bounds_quote=n.bounds_quote,
            )
        )  # fmt: skip
    for r in result.responses:
        claims.append(
            Claim(
                id=content_id("clm", result.source_sha256, "response", r.kind, *r.span),
                kind="response", source_sha256=result.source_sha256, span=r.span, quote=r.quote,
                confidence=r.confidence, source_name=source_name, response_kind=r.kind, parties=r.parties,
                response_date=r.date, date_stated=r.date_stated,
            )
        )  # fmt: skip
    return claims


class Claims:
    """The claims of a :class:`~deconflict.db.Database` (``db.claims``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def import_reports(self, results: Sequence[ExtractionResult]) -> builtins.list[ReportImport]:
        """Store each report's incident candidates (unverified incidents) and claims, one report at a time.

        Each report is stored in one transaction (all its records or none); records already
        stored from the same report are skipped, so importing a report twice adds nothing.
        """
        from deconflict.extract.pipeline import to_incidents

        store = self._db.store
        done = []
        for result in results:
            name = Path(result.path).name if result.path else "report"
            incidents = to_incidents(result, id_prefix=f"x-{result.source_sha256[:10]}")
            known = store.existing_incident_ids([i.id for i in incidents])
            fresh_incidents = [i for i in incidents if i.id not in known]
            claims = claims_of(result, source_name=name)
            existing = store.existing_claim_ids([c.id for c in claims])
            fresh_claims = [c for c in claims if c.id not in existing]
            with store.transaction():
                if fresh_incidents:
                    record = ImportRecord("incidents", name, result.source_sha256, "extract", len(fresh_incidents))
                    self._db.incidents.add_many(fresh_incidents, record)
                if fresh_claims:
                    # The claim rows carry the report's SHA-256 and name themselves (the chain of custody).
                    store.insert_claims(fresh_claims, None)
            done.append(
                ReportImport(
                    result.source_sha256, result.path, tuple(i.id for i in fresh_incidents),
                    tuple(c.id for c in fresh_claims),
                )
            )  # fmt: skip
        return done

    def get(self, claim_id: str) -> Claim:
        """The claim ``claim_id``; raises :class:`~deconflict.errors.NotFound`."""
        return self._db.store.get_claim(claim_id)

    def list(
        self,
        *,
        status: str | None = None,
        kind: str | None = None,
        source_sha256: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[Claim]:
        """Claims matching every given filter, in the order they were stored."""
        return self._db.store.list_claims(self._query(status, kind, source_sha256, limit, offset))

    def count(self, *, status: str | None = None, kind: str | None = None, source_sha256: str | None = None) -> int:
        """How many claims match the filters."""
        return self._db.store.count_claims(self._query(status, kind, source_sha256, None, 0))

    @staticmethod
    def _query(status: str | None, kind: str | None, sha: str | None, limit: int | None, offset: int) -> ClaimQuery:
        if status is not None and status not in CLAIM_STATUSES:
            raise InvalidInput(
                f"claim status must be one of {', '.join(CLAIM_STATUSES)}, got {status!r}", where="status"
            )
        if kind is not None and kind not in CLAIM_KINDS:
            raise InvalidInput(f"claim kind must be one of {', '.join(CLAIM_KINDS)}, got {kind!r}", where="kind")
        if limit is not None and limit < 0:
            raise InvalidInput(f"limit must be 0 or more, got {limit}", where="limit")
        return ClaimQuery(status, kind, sha, limit, offset)

    def confirm(
        self,
        claim_id: str,
        *,
        at: str | TimeSpan | None = None,
        to: str | None = None,
        site_ids: Sequence[str] | None = None,
        sender: str | None = None,
        note: str | None = None,
        principal: Principal | None = None,
    ) -> ClaimReview:
        """Confirm a claim after review; a notification claim becomes a logged notification.

        Parameters
        ----------
        at, to, site_ids, sender
            The reviewer's corrections: when (an ISO 8601 date, date-time or ``start/end``
            interval, read in the database's timezone), to whom, which sites, from whom.
            By default the claim's own interval, recipient, sites and sender.
        note
            Why (kept with the claim).

        Raises
        ------
        NotFound
            For an unknown claim or site.
        ConflictError
            When the claim was already reviewed.
        InvalidInput
            When the claim lacks what a notification needs (sites, recipient, both bounds of its
            time) and the reviewer did not give it (``where`` names the parameter).
        """
        claim = self.get(claim_id)
        if claim.status != "unverified":
            from deconflict.errors import ConflictError

            raise ConflictError(f"claim {claim_id!r} is already {claim.status}")
        if claim.kind == "response":
            with self._db.store.transaction():
                self._db.store.review_claim(claim_id, "confirmed", now_utc_text(), note, None)
            return ClaimReview(self.get(claim_id))
        sites = tuple(site_ids) if site_ids else claim.site_ids
        if not sites:
            raise InvalidInput(f"claim {claim_id!r} names no registered site; give the sites", where="site")
        recipient = to or claim.recipient
        if recipient is None:
            raise InvalidInput(f"claim {claim_id!r} names no recipient; give one", where="to")
        when = at if at is not None else self._interval(claim)
        reference = f"sha256:{claim.source_sha256}"
        text = f"from report {claim.source_name or claim.source_sha256} (claim {claim.id}): {claim.quote}"
        with self._db.store.transaction():
            logged: Logged[Notification] = self._db.notifications.notify(
                sites, to=recipient, at=when, sender=sender or claim.sender, channel="report",
                reference=reference, text=text[:2000], principal=principal,
            )  # fmt: skip
            self._db.store.review_claim(claim_id, "confirmed", now_utc_text(), note, logged.record.id)
        return ClaimReview(self.get(claim_id), logged.record, logged.log_index)

    @staticmethod
    def _interval(claim: Claim) -> TimeSpan:
        if claim.not_before is None or claim.not_after is None:
            missing = "start" if claim.not_before is None else "end"
            raise InvalidInput(
                f"claim {claim.id!r} bounds its time only from one side (no {missing}); give the time",
                where="at",
            )
        if claim.not_after <= claim.not_before:
            raise InvalidInput(f"claim {claim.id!r} has an empty interval; give the time", where="at")
        return TimeSpan(claim.not_before, claim.not_after, "interval")

    def reject(self, claim_id: str, *, note: str | None = None) -> ClaimReview:
        """Reject a claim after review: it is kept, marked rejected with ``note``.

        Raises
        ------
        NotFound, ConflictError
            For an unknown claim; when it was already reviewed.
        """
        with self._db.store.transaction():
            self._db.store.review_claim(claim_id, "rejected", now_utc_text(), note, None)
        return ClaimReview(self.get(claim_id))
