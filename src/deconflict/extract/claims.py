"""Notification claims and diplomatic responses in report text.

A *notification claim* is a statement that the coordinates of sites were transmitted to a
party ("we gave the Russian side the coordinates of our embassy, consular section and
cultural centre"). Its time is rarely stated; the text usually bounds it by the strikes it
reports ("after the first attack", "two more hits followed"), and it cannot lie after the
report itself. A *diplomatic response* is a protest note, a summoned ambassador or an
official statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.extract._text import Match
from deconflict.extract.sentences import Sentence
from deconflict.extract.vocab import ATTACK, BEFORE_AFTER, FOLLOWED, ORDINALS, RECIPIENT_MARK
from deconflict.times import TimeSpan, format_utc

__all__ = ["DiplomaticResponse", "NotificationClaim", "find_notifications", "find_responses"]

_RESPONSE_ORDER = ("protest_note", "summons", "statement")


@dataclass(frozen=True, slots=True)
class NotificationClaim:
    """A statement that coordinates of sites were passed to a party.

    Attributes
    ----------
    span, quote
        Offsets in the report and the sentence itself.
    site_ids
        Registry sites named and resolved; ``site_candidates`` lists the candidates of
        mentions that stayed ambiguous.
    sender, recipient
        ISO 3166-1 alpha-3 codes, when the text names them.
    not_before, not_after
        UTC bounds the text allows for the transmission (None when unbounded).
    """

    span: tuple[int, int]
    quote: str
    confidence: float
    source_sha256: str
    site_ids: tuple[str, ...]
    site_candidates: tuple[tuple[str, ...], ...]
    sender: str | None
    recipient: str | None
    not_before: datetime | None
    not_after: datetime | None
    bounds_quote: str | None = None

    @property
    def notified_at(self) -> TimeSpan | None:
        """The bounds as an ``interval`` :class:`TimeSpan` when both ends are known."""
        if self.not_before is None or self.not_after is None or self.not_after < self.not_before:
            return None
        return TimeSpan(self.not_before, self.not_after, "interval")

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "type": "notification_claim",
            "span": list(self.span),
            "quote": self.quote,
            "confidence": self.confidence,
            "source_sha256": self.source_sha256,
            "site_ids": list(self.site_ids),
            "site_candidates": [list(c) for c in self.site_candidates],
            "sender": self.sender,
            "recipient": self.recipient,
            "not_before": format_utc(self.not_before) if self.not_before else None,
            "not_after": format_utc(self.not_after) if self.not_after else None,
            "bounds_quote": self.bounds_quote,
        }


@dataclass(frozen=True, slots=True)
class DiplomaticResponse:
    """A protest note, a summoned ambassador or an official statement.

    ``parties`` are ISO 3166-1 alpha-3 codes of the states named, in order of mention;
    ``date`` is the stated date, else the report's date (then ``date_stated`` is False).
    """

    span: tuple[int, int]
    quote: str
    confidence: float
    source_sha256: str
    kind: str
    parties: tuple[str, ...]
    date: date | None
    date_stated: bool

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "type": "diplomatic_response",
            "span": list(self.span),
            "quote": self.quote,
            "confidence": self.confidence,
            "source_sha256": self.source_sha256,
            "kind": self.kind,
            "parties": list(self.parties),
            "date": self.date.isoformat() if self.date else None,
            "date_stated": self.date_stated,
        }


def _recipient(sentence: Sentence, owners: set[str]) -> str | None:
    marks = RECIPIENT_MARK.find(sentence.toks)
    scored: list[tuple[int, str]] = []
    for code, match in sentence.parties:
        score = 0
        for mark in marks:
            if mark.first == match.last + 1 and mark.label == "to" and mark.pattern in ("side", "seite", "сторон"):
                score += 3
            if mark.last == match.first - 1 or (mark.last == match.first - 2):
                score += 2
        if code in owners:
            score -= 5
        scored.append((score, code))
    if not scored:
        return None
    best = max(scored, key=lambda s: s[0])
    return best[1] if best[0] >= 0 else None


def _anchors(
    sentence: Sentence,
    relation: Match,
    strikes: Sequence[tuple[int, TimeSpan]],
    ordered: Sequence[TimeSpan],
    local: ZoneInfo,
) -> list[tuple[str, TimeSpan, str]]:
    """The strikes that "after the first attack", "before the second", "between the first
    and the second strike" refer to, as ``(after|before, strike time, quoted words)``."""
    window = sentence.toks[relation.last + 1 : relation.last + 7]
    if not window:
        return []
    quote = sentence.text[relation.start - sentence.start : window[-1].end - sentence.start]
    # "nach dem ersten Angriff vom 21. August": the strike's date is stated right there.
    stated = [d for d in sentence.dates if relation.end <= d.start <= window[-1].end + 12]
    ordinals = [int(m.label) for m in ORDINALS.find(window)]
    if relation.label == "between":
        pairs = [("after", ordinals[0]), ("before", ordinals[1])] if len(ordinals) >= 2 else []
    else:
        pairs = [(relation.label, ordinals[0] if ordinals else 0)]
    if not pairs or (not ordinals and not ATTACK.find(window)):
        return []
    found = []
    for label, ordinal in pairs:
        target: TimeSpan | None
        if stated and label == relation.label:
            target = stated[0].to_span(local)
        elif ordinal == 0:
            earlier = [s for offset, s in strikes if offset < sentence.start]
            target = earlier[-1] if earlier else None
        elif len(ordered) >= 2:
            # A report that names a single dated strike does not say which one was "the first".
            target = ordered[ordinal - 1] if ordinal <= len(ordered) else None
        else:
            target = None
        if target is not None:
            found.append((label, target, quote))
    return found


def find_notifications(
    sentences: Sequence[Sentence],
    *,
    strikes: Sequence[tuple[int, TimeSpan]],
    report_date: date | None,
    local: ZoneInfo,
    default_sender: str | None,
    source_sha256: str,
) -> list[NotificationClaim]:
    """Notification claims among ``sentences``.

    Parameters
    ----------
    strikes
        ``(text offset, time)`` of the dated strikes of the report, which the text's
        "after the first attack" and "before the second" refer to.
    report_date
        Upper bound of every claim (the report cannot tell of a later transmission).
    default_sender
        The state whose sites the report is about, used when the sentence names no sender.
    """
    ordered = sorted((span for _, span in strikes), key=lambda s: s.start)
    claims: list[NotificationClaim] = []
    for index, sentence in enumerate(sentences):
        if not sentence.is_notification:
            continue
        site_ids = tuple(dict.fromkeys(m.site_id for m in sentence.sites if m.site_id))
        ambiguous = tuple(m.candidates for m in sentence.sites if m.site_id is None)
        owners = {m.owner for m in sentence.sites if m.owner}
        recipient = _recipient(sentence, owners)
        others = [code for code, _ in sentence.parties if code != recipient]
        sender = next(iter(sorted(owners)), None) or (others[0] if others else default_sender)
        not_before: datetime | None = None
        not_after: datetime | None = None
        if report_date is not None:
            not_after = datetime.combine(report_date + timedelta(days=1), time(0), tzinfo=local)
        bounds_quote = None
        relations = BEFORE_AFTER.find(sentence.toks)
        anchored = False
        for relation in relations:
            for label, target, quote in _anchors(sentence, relation, strikes, ordered, local):
                bounds_quote, anchored = quote, True
                if label == "after":
                    not_before = target.end
                else:
                    not_after = target.start
        if sentence.dates and not anchored:
            # "On 1 October Baku passed the coordinates": the transmission's own date.
            stated = sentence.dates[0].to_span(local)
            not_before, not_after, bounds_quote = stated.start, stated.end, sentence.dates[0].quote
        following = list(FOLLOWED.find(sentence.toks))
        if index + 1 < len(sentences):
            following += FOLLOWED.find(sentences[index + 1].toks)
        if relations and not_before is not None and following:
            later = [s for s in ordered if s.start >= not_before]
            if later and (not_after is None or later[0].start < not_after):
                not_after = later[0].start
        confidence = 0.5 + 0.2 * bool(site_ids) + 0.2 * bool(recipient) + 0.1 * bool(not_before)
        claims.append(
            NotificationClaim(
                (sentence.start, sentence.end), sentence.text, round(min(confidence, 0.95), 2),
                source_sha256, site_ids, ambiguous, sender, recipient, not_before, not_after,
                bounds_quote,
            )
        )  # fmt: skip
    return claims


def find_responses(
    sentences: Sequence[Sentence], *, report_date: date | None, source_sha256: str
) -> list[DiplomaticResponse]:
    """Protest notes, summoned ambassadors and official statements among ``sentences``."""
    responses: list[DiplomaticResponse] = []
    for sentence in sentences:
        labels = {p.label for p in sentence.diplomatic}
        if "statement" in labels and not sentence.official:
            labels.discard("statement")
        if sentence.is_notification:
            labels &= {"statement"}
        if not labels:
            continue
        kind = next(k for k in _RESPONSE_ORDER if k in labels)
        named = sentence.parties or (sentence.capitals if kind == "statement" else [])
        parties = tuple(dict.fromkeys(code for code, _ in named))
        if kind == "statement" and not parties:
            continue
        stated = sentence.dates[0].day if sentence.dates else None
        confidence = 0.6 + 0.2 * (kind != "statement") + 0.1 * bool(stated) + 0.1 * bool(parties)
        responses.append(
            DiplomaticResponse(
                (sentence.start, sentence.end), sentence.text, round(min(confidence, 0.95), 2),
                source_sha256, kind, parties, stated or report_date, stated is not None,
            )
        )  # fmt: skip
    return responses
