"""Notification claims in report text: coordinates of sites said to have been passed to a party.

A *notification claim* is a statement that the coordinates of sites were transmitted to a
party ("we gave the Russian side the coordinates of our embassy, consular section and
cultural centre"). Its time is rarely stated; the text usually bounds it by the strikes it
reports ("after the first attack", "two more hits followed"), by a month or a year ("im
April 2022", "back in 2022"), and it cannot lie after the report itself. A date in the
sentence that belongs to the speaking ("said on 14 February that …") only bounds it from
above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from deconflict.extract._text import Match
from deconflict.extract.sentences import Sentence, response_dates
from deconflict.extract.vocab import ATTACK, BEFORE_AFTER, FOLLOWED, ORDINALS, RECIPIENT_MARK
from deconflict.times import TimeSpan, format_utc

__all__ = ["NotificationClaim", "find_notifications"]


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


def _recipient(sentence: Sentence, exclude: set[str]) -> str | None:
    """The party the coordinates went to: "the Russian side", "an Moskau", "Moskau seien … übermittelt"."""
    marks = RECIPIENT_MARK.find(sentence.toks)
    scored: list[tuple[int, int, str]] = []
    for code, match in sentence.capitals:
        if code in exclude:
            continue
        score = 0
        for mark in marks:
            if mark.first == match.last + 1 and mark.pattern in ("side", "seite", "сторон"):
                score += 3
            if mark.last == match.first - 1 or mark.last == match.first - 2:
                score += 2
        scored.append((score, -match.start, code))
    if not scored:
        return None
    return max(scored)[2]


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


def _index(claim: NotificationClaim, sentences: Sequence[Sentence]) -> int:
    return next(i for i, s in enumerate(sentences) if s.start == claim.span[0])


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
        relations = BEFORE_AFTER.find(sentence.toks)
        # "after the embassy was first hit": a site named in the bound is no site notified.
        bound_spans = [(r.start, sentence.toks[min(r.last + 6, len(sentence.toks) - 1)].end) for r in relations]
        notified = [m for m in sentence.sites if not any(a <= m.start < b for a, b in bound_spans)]
        site_ids = tuple(dict.fromkeys(m.site_id for m in notified if m.site_id))
        ambiguous = tuple(m.candidates for m in notified if m.site_id is None)
        owners = {m.owner for m in notified if m.owner}
        sender = next(iter(sorted(owners)), None) or sentence.voice or default_sender
        recipient = _recipient(sentence, owners | {sender} if sender else owners)
        not_before: datetime | None = None
        not_after: datetime | None = None
        if report_date is not None:
            not_after = datetime.combine(report_date + timedelta(days=1), time(0), tzinfo=local)
        bounds_quote = None
        anchored = False
        for relation in relations:
            for label, target, quote in _anchors(sentence, relation, strikes, ordered, local):
                bounds_quote, anchored = quote, True
                if label == "after":
                    not_before = target.end
                else:
                    not_after = target.start
        spoken = response_dates(sentence)
        own = [d for d in sentence.all_dates if d.start not in spoken]
        if own and not anchored:
            # "On 1 October Baku passed the coordinates", "im April 2022": the transmission's own time.
            stated = own[0].to_span(local)
            not_before, not_after, bounds_quote = stated.start, stated.end, own[0].quote
        elif not anchored and (said := [d for d in sentence.all_dates if d.start in spoken]):
            # "Aliyev said on Saturday that Baku had passed …": no later than the day it was said.
            said_at = said[0].to_span(local)
            if not_after is None or said_at.end < not_after:
                not_after = said_at.end
        following = list(FOLLOWED.find(sentence.toks))
        for later_sentence in sentences[index + 1 : index + 3]:
            # "Two more hits followed", in the sentence after (or after a repetition of the claim).
            following += FOLLOWED.find(later_sentence.toks)
        if relations and not_before is not None and following:
            later = [s for s in ordered if s.start >= not_before]
            if later and (not_after is None or later[0].start < not_after):
                not_after = later[0].start
        # A claim is a lead, not a record: at most 0.8 until a person confirms it.
        confidence = 0.4 + 0.15 * bool(site_ids) + 0.15 * bool(recipient) + 0.1 * (not_before is not None)
        previous = claims[-1] if claims else None
        repeated = previous is not None and index - _index(previous, sentences) <= 2
        if repeated and not (site_ids or ambiguous):
            continue  # "We passed the coordinates of all our facilities": the claim told just before, again
        claims.append(
            NotificationClaim(
                (sentence.start, sentence.end), sentence.text, round(min(confidence, 0.8), 2),
                source_sha256, site_ids, ambiguous, sender, recipient, not_before, not_after,
                bounds_quote,
            )
        )  # fmt: skip
    named = {c.recipient for c in claims if c.site_ids}
    # A heading's "Baku gave Moscow coordinates of its missions" is the claim the story tells with its sites.
    return [c for c in claims if c.site_ids or c.recipient not in named]
