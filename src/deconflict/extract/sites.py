"""Resolve mentions of protected sites against the registry, in any language and inflection.

A site is named in a report in one of two ways:

* by a distinctive name of its own ("Okhmatdyt", "Охматдит"), taken from the site's
  ``name`` and ``names`` (words that name a kind of site, a state or a city never count);
* by a kind word and an owner state attached to it (:mod:`deconflict.extract.parties`):
  an adjective or possessive before it ("katarische Botschaft", "Azerbaijan's embassy"),
  a genitive or an "of" after it ("Botschaft des Staates Katar", "посольство Азербайджану"),
  or a list of them ("the Albanian, Portuguese and Montenegrin missions", "посольства
  Албанії, Аргентини та Чорногорії": one mention per owner). The Holy See's missions
  are named by their own word ("Apostolic Nunciature", "нунціатура").

A kind word without an owner refers back: to the owner of the kind word it is listed with
("our embassy, consular section and cultural centre"), to the sender of a notification
("the coordinates of the embassy"), or to the last owner whose diplomatic premises the
report named ("the roof of the consular section"). A kind word alone never resolves by
itself. When a city is attached to the mention ("the Polish consulate in Kharkiv"), only the
sites in that city fit; when the registry holds several sites that fit, the mention lists
them all as candidates and resolves none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from deconflict.extract._text import Lexicon, Match, Token, tokens
from deconflict.extract.parties import countries_lexicon, state_mentions
from deconflict.extract.places import PlaceMention, lookup_city
from deconflict.extract.vocab import OWN, SITE_KINDS
from deconflict.model import Site

__all__ = ["KIND_SCOPE", "SiteMention", "SiteResolver"]

#: Site kinds a kind word may refer to.
KIND_SCOPE: dict[str, frozenset[str]] = {
    "embassy": frozenset({"embassy"}),
    "consular_section": frozenset({"consular_section"}),
    "consulate": frozenset({"consulate", "consular_section"}),
    "cultural_centre": frozenset({"cultural_centre"}),
    "hospital": frozenset({"hospital"}),
    "school": frozenset({"school"}),
    "residence": frozenset({"residence"}),
    "humanitarian": frozenset({"humanitarian"}),
    "power_plant": frozenset({"power_plant"}),
    "nunciature": frozenset({"embassy"}),
    "diplomatic": frozenset({"embassy", "consulate", "consular_section", "residence"}),
}
#: Kind words whose owner is implied by the word itself.
IMPLIED_OWNER: dict[str, str] = {"nunciature": "VAT"}
_DIPLOMATIC_KINDS = frozenset({"embassy", "consular_section", "consulate", "cultural_centre", "residence",
                               "nunciature", "diplomatic"})  # fmt: skip
# Kind words that name one building and may refer back to it; "diplomatic premises" names none.
_REFERRING_KINDS = _DIPLOMATIC_KINDS - {"diplomatic"}
# "a European embassy", "eine Botschaft": an indefinite kind word refers to no site named before.
_INDEFINITE = frozenset({"a", "an", "another", "any", "ein", "eine", "einer", "einem", "einen", "eines", "andere",
                         "anderen", "other", "some", "jede", "every", "each"})  # fmt: skip

# Words of site names that do not identify a site.
_GENERIC_NAME_WORDS = frozenset(
    {"children", "kinder", "дитяч", "детск", "national", "central", "city", "municipal",
     "regional", "clinical", "republic", "republik", "республік", "республик", "центр",
     "centre", "center", "zentrum", "cultural", "culture", "kultur", "культур", "office",
     "section", "department", "consular", "konsular", "консульськ", "консульск", "state",
     "states", "united", "ukraine", "україн", "украин", "kyiv", "kiew", "київ", "киев",
     "building", "house", "haus", "будинок", "дом", "the", "der", "die", "das", "embassy",
     "botschaft", "посольство", "hospital", "лікарня", "больница", "відділ", "отдел", "abteilung",
     "секці", "секци", "представництв", "представительств", "mission", "місі", "мисси",
     "general", "генеральн", "honorary", "почесн", "почетн", "büro", "бюро", "apostolic",
     "nunciature", "consulate", "konsulat", "консульств", "residence", "резиденц"}
)  # fmt: skip
# Words that may stand between a kind word and the owner named after it.
_CONNECT_AFTER = frozenset(
    {"of", "the", "der", "des", "von", "republic", "republik", "kingdom", "state", "states", "staates", "general",
     "republics", "республіки", "республики", "держави", "государства", "королівства", "королевства",
     "königreichs", "federation", "föderation"}
)  # fmt: skip
_LIST_JOINERS = frozenset({"and", "und", "sowie", "or", "oder", "та", "і", "й", "и", "або", "или", "as", "well"})
_LIST_ARTICLES = frozenset({"the", "der", "des", "die", "das", "den", "of"})
# Words that may stand between an owner adjective and the kind word ("the Azerbaijani diplomatic mission").
_BETWEEN_BEFORE = frozenset({"diplomatic", "diplomatische", "diplomatischen", "дипломатичн", "дипломатическ",
                             "general", "former", "new"})  # fmt: skip
_CONNECT_BEFORE = frozenset({"and", "und", "і", "та", "й", "и", "the", "die", "der", "das", "des", "den"})
_OF = frozenset({"of", "the", "der", "des", "am", "at", "in", "an"})
_IN = frozenset({"in", "im", "at", "у", "в", "во"})
_ALL_OWNERS = "*"
_KIND_STEMS = tuple(part for part in SITE_KINDS.parts() if len(part) >= 4)


def _stem(word: str) -> str:
    while len(word) > 4 and word[-1] in "aeiouyаяеєоуиыіїюйь":
        word = word[:-1]
    return word


@dataclass(frozen=True, slots=True)
class SiteMention:
    """A place in the text where a protected site is named.

    Attributes
    ----------
    start, end, quote
        Offsets and words of the mention ("посольство Азербайджану").
    kind
        The kind word's label (``embassy``, ``diplomatic`` ...) or None for a name match.
    owner
        ISO 3166-1 alpha-3 code of the owner state found in the text, if any.
    candidates
        Ids of the registry sites the mention fits.
    site_id
        The one site meant, when the candidates narrow to one; else None (ambiguous).
    via
        ``name``, ``kind+owner``, ``possessive``, ``list``, ``coreference`` or ``kind``.
    confidence
        0-1: how sure the resolution is.
    """

    start: int
    end: int
    quote: str
    kind: str | None
    owner: str | None
    candidates: tuple[str, ...]
    site_id: str | None
    via: str
    confidence: float

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        return {
            "span": [self.start, self.end],
            "quote": self.quote,
            "kind": self.kind,
            "owner": self.owner,
            "candidates": list(self.candidates),
            "site_id": self.site_id,
            "via": self.via,
            "confidence": self.confidence,
        }


_CONFIDENCE = {"name": 0.95, "kind+owner": 0.9, "list": 0.85, "possessive": 0.75, "speaker": 0.7, "coreference": 0.65}


def _is_list_gap(text: str, toks: Sequence[Token], left: int, right: int) -> bool:
    """Whether the tokens between ``left`` and ``right`` (exclusive) only join a list."""
    between = toks[left + 1 : right]
    joined = any(t.text in _LIST_JOINERS for t in between) or "," in text[toks[left].end : toks[right].start]
    return joined and len(between) <= 3 and all(t.text in _LIST_JOINERS | _LIST_ARTICLES for t in between)


class SiteResolver:
    """Finds site mentions in sentences and resolves them against ``sites``.

    One resolver reads one report: it remembers the owners named so far (for "the consular
    section" named after "the embassy of Azerbaijan").

    Parameters
    ----------
    sites
        The registry's sites.
    """

    def __init__(self, sites: Sequence[Site]) -> None:
        self.sites = tuple(sites)
        names: dict[str, set[str]] = {}
        for site in self.sites:
            for name in (site.name, *(alt for _, alt in site.names)):
                distinctive = [_stem(t.text) for t in tokens(name) if self._distinctive(t)]
                if distinctive:
                    names.setdefault(site.id, set()).add(max(distinctive, key=len))
        self._names = Lexicon(names)
        self._site_city = {
            site.id: (city.geonameid if site.city and (city := lookup_city(site.city)) else None) for site in self.sites
        }
        self._last_owner: dict[str, str] = {}
        self._last_diplomatic_owner: str | None = None

    @staticmethod
    def _distinctive(token: Token) -> bool:
        word = token.text
        return (
            len(word) >= 5
            and not any(word.startswith(g) for g in _GENERIC_NAME_WORDS)
            and not any(word.startswith(stem) for stem in _KIND_STEMS)
            and not countries_lexicon().find([token])
            and lookup_city(word) is None
        )

    def reset(self) -> None:
        """Forget the sites named so far (call before each new report)."""
        self._last_owner.clear()
        self._last_diplomatic_owner = None

    def owners_of(self, kind: str) -> set[str]:
        """Owners that have a site of ``kind`` in the registry."""
        scope = KIND_SCOPE.get(kind, frozenset())
        return {s.owner for s in self.sites if s.kind in scope}

    def _candidates(self, kind: str | None, owner: str | None, city: int | None, *, strict: bool) -> tuple[str, ...]:
        scope = KIND_SCOPE.get(kind or "", frozenset())
        fitting = [
            s
            for s in self.sites
            if (kind is None or s.kind in scope) and (owner in (None, _ALL_OWNERS) or s.owner == owner)
        ]
        if city is not None:
            local = [s for s in fitting if self._site_city.get(s.id) in (city, None)]
            # The owner and the city named with the mention must both agree ("консульство в Харкові").
            fitting = local if strict else (local or fitting)
        return tuple(s.id for s in fitting)

    # -- owners attached to a kind word ------------------------------------------------------
    def _owners_after(self, text: str, kind: Match, toks: Sequence[Token], states: list[Match]) -> list[Match]:
        by_first = {m.first: m for m in states}
        i = kind.last + 1
        skipped = 0
        while i < len(toks) and i not in by_first and toks[i].text in _CONNECT_AFTER and skipped < 4:
            i, skipped = i + 1, skipped + 1
        chain: list[Match] = []
        while i in by_first:
            current = by_first[i]
            chain.append(current)
            j = current.last + 1
            while j < len(toks) and j not in by_first and toks[j].text in _LIST_JOINERS | _LIST_ARTICLES:
                j += 1
            if j in by_first and _is_list_gap(text, toks, current.last, j):
                i = j
                continue
            break
        return chain

    def _owners_before(self, text: str, kind: Match, toks: Sequence[Token], states: list[Match],
                       places: Sequence[PlaceMention]) -> list[Match]:  # fmt: skip
        by_last = {m.last: m for m in states}
        place_tokens = {i for i, t in enumerate(toks) if any(p.start <= t.start < p.end for p in places)}
        i = kind.first - 1
        if i >= 0 and i not in by_last and (toks[i].text in _BETWEEN_BEFORE or i in place_tokens):
            i -= 1  # "Azerbaijan's Kyiv embassy", "the Polish diplomatic mission"
        chain: list[Match] = []
        while i in by_last:
            current = by_last[i]
            chain.insert(0, current)
            j = current.first - 1
            while j >= 0 and j not in by_last and toks[j].text in _LIST_JOINERS | _LIST_ARTICLES:
                j -= 1
            if j in by_last and _is_list_gap(text, toks, j, current.first):
                i = j
                continue
            break
        return chain

    def _attached_city(self, end_token: int, toks: Sequence[Token], places: Sequence[PlaceMention]) -> int | None:
        """The city named right after a mention ("… in Kharkiv", "… в Харкові")."""
        following = toks[end_token + 1 : end_token + 3]
        if len(following) == 2 and following[0].text in _IN:
            for place in places:
                if place.start == following[1].start and place.kind == "city":
                    return place.city_geonameid
        return None

    def find(
        self,
        text: str,
        toks: Sequence[Token],
        *,
        city: int | None = None,
        speaker: str | None = None,
        implicit: bool = False,
        places: Sequence[PlaceMention] = (),
        quoted_voice: tuple[str, Sequence[tuple[int, int]]] | None = None,
    ) -> list[SiteMention]:
        """Site mentions in the sentence ``toks`` of ``text``.

        Parameters
        ----------
        city
            GeoNames id of the city the sentence is about, to narrow candidates.
        speaker
            Owner that "our embassy" / "its embassy" refers to (the speaker or sender).
        implicit
            Whether a kind word without an owner belongs to ``speaker`` (in a notification
            claim, "the coordinates of the embassy" are the sender's).
        places
            The places named in the sentence (a city attached to a mention must agree).
        quoted_voice
            The state speaking and the spans of its quoted words: inside them a kind word without
            an owner ("the embassy was hit", said Azerbaijan's spokesman) is the speaker's when it
            has a site of that kind, before the last owner named.
        """
        found: list[SiteMention] = []
        named = [m for m in self._names.find(toks) if toks[m.first].capitalised]
        for match in named:
            quote = text[match.start : match.end]
            found.append(
                SiteMention(match.start, match.end, quote, None, None, (match.label,), match.label, "name", 0.95)
            )
        states = state_mentions(toks)
        possessives = [m.last for m in OWN.find(toks)]
        kinds = SITE_KINDS.find(toks)
        skip: set[int] = set()
        previous: tuple[Match, list[str], str] | None = None
        for index, kind in enumerate(kinds):
            if index in skip or any(n.first - 2 <= kind.first <= n.last + 2 for n in named):
                continue
            anchor = kind
            # "consular section of the embassy of Azerbaijan": the section takes the owner of the
            # embassy named right after it, and the embassy is not a separate mention.
            if index + 1 < len(kinds) and kind.label not in ("embassy", "diplomatic", "nunciature"):
                following = kinds[index + 1]
                between = toks[kind.last + 1 : following.first]
                if following.label in ("embassy", "diplomatic", "consulate") and all(t.text in _OF for t in between):
                    anchor = following
                    skip.add(index + 1)
            attached = self._owners_before(text, kind, toks, states, places) + self._owners_after(
                text, anchor, toks, states
            )
            owners = list(dict.fromkeys(m.label for m in attached))
            if kind.label in IMPLIED_OWNER:
                owners = [IMPLIED_OWNER[kind.label]]
            start = min([kind.start] + [m.start for m in attached])
            end = max([anchor.end] + [m.end for m in attached])
            last_token = max([anchor.last] + [m.last for m in attached])
            via = "kind+owner"
            if not owners and any(kind.first - 2 <= p < kind.first for p in possessives) and speaker:
                owners, via = [speaker], "possessive"
            if not owners and implicit and speaker:
                owners, via = [speaker], "possessive"
            if not owners and previous is not None and previous[1]:
                # A list: "our embassy, consular section and cultural centre".
                between = toks[previous[0].last + 1 : kind.first]
                if len(between) <= 2 and all(t.text in _CONNECT_BEFORE for t in between):
                    owners, via = list(previous[1]), "list" if previous[2] == "kind+owner" else previous[2]
            indefinite = any(t.text in _INDEFINITE for t in toks[max(kind.first - 2, 0) : kind.first])
            if not owners and not indefinite and quoted_voice and kind.label in _REFERRING_KINDS:
                voice, quotes = quoted_voice
                if any(a <= kind.start < b for a, b in quotes) and voice in self.owners_of(kind.label):
                    owners, via = [voice], "speaker"
            if not owners and not indefinite and kind.label in self._last_owner and kind.label in _REFERRING_KINDS:
                owners, via = [self._last_owner[kind.label]], "coreference"
            last = self._last_diplomatic_owner
            referring = kind.label in _REFERRING_KINDS and not indefinite
            if not owners and referring and last and last in self.owners_of(kind.label):
                owners, via = [last], "coreference"
            previous = (kind, owners, via)
            attached_city = self._attached_city(last_token, toks, places)
            narrow = attached_city if attached_city is not None else city
            for owner in owners:
                candidates = self._candidates(kind.label, owner, narrow, strict=attached_city is not None)
                if not candidates:
                    continue
                self._last_owner[kind.label] = owner
                if kind.label in _DIPLOMATIC_KINDS:
                    self._last_diplomatic_owner = owner
                resolved = candidates[0] if len(candidates) == 1 else None
                confidence = _CONFIDENCE[via] if resolved else min(_CONFIDENCE[via], 0.5)
                owner_match = next((m for m in attached if m.label == owner), None)
                # Each owner of a list is its own mention, quoted by the kind word and its name.
                a, b = (
                    (min(kind.start, owner_match.start), max(anchor.end, owner_match.end))
                    if owner_match
                    else (start, end)
                )
                if len(owners) == 1:
                    a, b = start, end
                found.append(SiteMention(a, b, text[a:b], kind.label, owner, candidates, resolved, via, confidence))
            if not owners and city is not None:
                # A bare kind word ("a hospital") only lists the sites of that kind in the city; it resolves none.
                candidates = tuple(c for c in self._candidates(kind.label, None, city, strict=True)
                                   if self._site_city.get(c) == city)  # fmt: skip
                if candidates:
                    found.append(
                        SiteMention(start, end, text[start:end], kind.label, None, candidates, None, "kind", 0.3)
                    )
        return sorted(found, key=lambda m: m.start)
