"""Diplomatic responses in report text: protest notes, summoned envoys, official statements.

One sentence may hold several ("summoned the ambassador and handed him a note of protest"):
each kind is a response of its own. The parties of a response are its *voice* (the state
whose official speaks, summons or protests) and, for a summons, the state of the envoy
summoned, for a note its recipient. Ukrainian and Russian "викликати"/"вызвать" also mean
"to cause" ("викликав жорстку реакцію"): they are a summons only with an envoy in the
sentence. A statement needs an official or a state as its subject; "did not summon" is none.

A response's date is the day the text gives for it ("on Friday", "the same day"), also
when it gives it in another sentence about the same response ("Die Einbestellung erfolgte
am Freitag"); a night named in the sentence is the strike's, not the response's. Without
a stated day it is the report's date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from deconflict.extract._text import Match, Token
from deconflict.extract.sentences import Phrase, Sentence
from deconflict.extract.vocab import ENVOY, RECIPIENT_MARK

__all__ = ["RESPONSE_KINDS", "DiplomaticResponse", "find_responses"]

#: The kinds of response, in the order they are listed.
RESPONSE_KINDS: tuple[str, ...] = ("protest_note", "summons", "statement")
# Summons words that also mean "to cause" in Ukrainian and Russian.
_AMBIGUOUS_SUMMONS = ("виклик", "викли", "вызв", "вызов", "вызыв")
_RECIPIENT_WORDS = frozenset({"to", "with", "an", "gegenüber", "side", "seite", "сторон", "до"})
# "handed him a note": the envoy summoned in the sentence before.
_HIM = frozenset({"him", "her", "ihm", "ihr", "йому", "їй", "ему", "ей"})


@dataclass(frozen=True, slots=True)
class DiplomaticResponse:
    """A protest note, a summoned envoy or an official statement.

    ``parties`` are ISO 3166-1 alpha-3 codes (``XEU`` for the EU): the voice first, then
    the envoy's state or the note's recipient. ``date`` is the stated date, else the
    report's date (then ``date_stated`` is False).
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


def _distance(a: Phrase, b: Match, toks: Sequence[Token]) -> int:
    """Tokens from phrase ``a`` to match ``b`` (0 when they overlap)."""
    first = next(i for i, t in enumerate(toks) if t.start >= a.start)
    last = max(i for i, t in enumerate(toks) if t.start < a.end)
    return max(b.first - last, first - b.last, 0)


def _kinds(sentence: Sentence) -> dict[str, Phrase]:
    """The response kinds of a sentence, each with the phrase that says it."""
    envoys = ENVOY.find(sentence.toks)
    kinds: dict[str, Phrase] = {}
    for phrase in sentence.diplomatic:
        if phrase.negated:
            continue
        word = phrase.quote.lower()
        if phrase.label == "summons" and word.startswith(_AMBIGUOUS_SUMMONS) and not envoys:
            continue  # "удар викликав жорстку реакцію": caused, not summoned
        kinds.setdefault(phrase.label, phrase)
    if sentence.is_notification:
        kinds = {k: v for k, v in kinds.items() if k == "statement"}
    return kinds


def _subject(sentence: Sentence, phrase: Phrase) -> str | None:
    """A state or capital right next to the verb: "Warschau bestellte", "в Баку сообщили"."""
    near = [(_distance(phrase, match, sentence.toks), code) for code, match in sentence.capitals]
    near = [(d, code) for d, code in near if 0 < d <= 3]
    return min(near)[1] if near else None


def _envoy_states(sentence: Sentence) -> list[str]:
    found = []
    for envoy in ENVOY.find(sentence.toks):
        for code, match in sentence.parties:
            if 0 < envoy.first - match.last <= 2 or 0 < match.first - envoy.last <= 4:
                found.append(code)
                break
    return found


def _recipients(sentence: Sentence, voice: str | None) -> list[str]:
    marks = [m for m in RECIPIENT_MARK.find(sentence.toks)]
    found = []
    for code, match in sentence.capitals:
        if code == voice:
            continue
        words = {sentence.toks[i].text for i in (match.first - 1, match.last + 1) if 0 <= i < len(sentence.toks)}
        if words & _RECIPIENT_WORDS or any(m.first == match.last + 1 for m in marks):
            found.append(code)
    return found


def _own_date(sentence: Sentence) -> date | None:
    """The day a response sentence gives: a day, not the strike's night; a relative day counts."""
    for mention in sentence.all_dates:
        if mention.precision == "day":
            return mention.day
    return None


def find_responses(
    sentences: Sequence[Sentence], *, report_date: date | None, source_sha256: str
) -> list[DiplomaticResponse]:
    """Protest notes, summoned envoys and official statements among ``sentences``."""
    drafts: list[tuple[DiplomaticResponse, int]] = []
    last_voice: str | None = None
    last_envoys: list[str] = []
    for number, sentence in enumerate(sentences):
        kinds = _kinds(sentence)
        voice = sentence.voice
        if voice is None and kinds:
            voice = next((v for v in (_subject(sentence, p) for p in kinds.values()) if v), None)
        statement = kinds.get("statement")
        if statement is not None and voice is None and not sentence.official:
            del kinds["statement"]  # "Vatican News reported": no official, no state speaking
        if voice is None and kinds and (sentence.quoted or not sentence.parties):
            voice = last_voice  # '"…," Sybiha said.': the voice of the sentences before
        if not kinds:
            last_voice = sentence.voice or last_voice
            continue
        stated = _own_date(sentence)
        envoys = _envoy_states(sentence)
        if not envoys and any(t.text in _HIM for t in sentence.toks):
            envoys = last_envoys
        for kind in RESPONSE_KINDS:
            if kind not in kinds:
                continue
            parties = [voice] if voice else []
            if kind in ("protest_note", "summons"):
                parties += envoys + _recipients(sentence, voice)
                if len(set(parties)) < 2:
                    parties += [code for code, _ in sentence.parties if code != voice]
            elif not parties and sentence.official:
                # "President Aliyev said …": the first state named that is no place and no envoy's.
                parties = [code for code, _ in sentence.parties if code not in envoys][:1]
            parties = list(dict.fromkeys(p for p in parties if p))
            if not parties:
                continue
            confidence = 0.6 + 0.2 * (kind != "statement") + 0.1 * bool(stated) + 0.1 * (voice is not None)
            response = DiplomaticResponse(
                (sentence.start, sentence.end), sentence.text, round(min(confidence, 0.95), 2), source_sha256,
                kind, tuple(parties), stated, stated is not None,
            )  # fmt: skip
            drafts.append((response, number))
        last_voice = voice or last_voice
        last_envoys = envoys or last_envoys
    return _merge(drafts, report_date)


def _merge(drafts: list[tuple[DiplomaticResponse, int]], report_date: date | None) -> list[DiplomaticResponse]:
    """Give undated responses the day of the same response told elsewhere; drop repeats."""
    dated_by_sentence: dict[int, date] = {}
    for response, number in drafts:
        if response.date is not None:
            dated_by_sentence.setdefault(number, response.date)
    for response, number in drafts:
        if response.date is None and number not in dated_by_sentence:
            same = [
                r.date
                for r, _ in drafts
                if r.date is not None and r.kind == response.kind and set(r.parties) & set(response.parties)
            ]
            if same:
                dated_by_sentence[number] = same[0]
    merged: list[DiplomaticResponse] = []
    for response, number in drafts:
        day = response.date or dated_by_sentence.get(number)
        stated = day is not None
        updated = replace(response, date=day if stated else report_date, date_stated=stated)
        if any(m.kind == updated.kind and m.date == updated.date and m.parties == updated.parties for m in merged):
            continue
        merged.append(updated)
    return merged
