"""Reader for the Wikidata "database of embassies" export (semicolon-separated, CC0).

Columns used: ``operator`` (sending state, by name), ``country``, ``city``, ``address``,
``latitude``, ``longitude``, ``type``, ``QID``. The operator's name is mapped to an
ISO 3166-1 alpha-3 code with pycountry plus the overrides below; the mission type to a
site kind with :data:`WIKIDATA_KINDS`. Unlike the interchange formats, this bulk adapter
*skips* (and reports) rows that cannot become sites: missions without coordinates (about
1,100 of 9,852) and operators that are not states (e.g. "Quebec", "Saxony").
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pycountry

from deconflict.errors import InvalidInput
from deconflict.ingest.common import Batch, build_site, csv_rows, read_bytes, read_text, with_row
from deconflict.names import find_city, normalize
from deconflict.progress import ProgressCallback

__all__ = ["WIKIDATA_KINDS", "operator_code", "read_sites_wikidata"]

WIKIDATA_KINDS: dict[str, str] = {
    "embassy": "embassy",
    "high commission": "embassy",
    "de facto embassy": "embassy",
    "apostolic nunciature": "embassy",
    "consulate general": "consulate",
    "consulate": "consulate",
    "honorary consulate": "consulate",
    "de facto consulate": "consulate",
    "consular office": "consulate",
    "consular agency": "consulate",
    "assistant high commission": "consulate",
    "permanent mission": "international_organisation",
}

_OPERATOR_OVERRIDES: dict[str, str] = {
    "Brunei": "BRN", "Cape Verde": "CPV", "Democratic Republic of the Congo": "COD",
    "East Timor": "TLS", "Vatican": "VAT", "Holy See": "VAT", "Ivory Coast": "CIV", "Kosovo": "XKX",
    "Macau": "MAC", "Republic of Ireland": "IRL", "Russia": "RUS", "Palestine": "PSE",
    "State of Palestine": "PSE", "São Tomé and Príncipe": "STP", "The Bahamas": "BHS",
    "The Gambia": "GMB", "Turkey": "TUR", "People's Republic of China": "CHN",
    "Sovereign Military Order of Malta": "XOM", "Taiwan": "TWN", "Republic of China": "TWN",
    "Ministry of Foreign Affairs of the Russian Federation": "RUS",
    "Ministry of Foreign Affairs of the People's Republic of China": "CHN",
    "Ministry of Foreign Affairs and Cooperation of the Republic of Rwanda": "RWA",
    "Government of Sweden": "SWE", "European Parliament": "XEU",
}  # fmt: skip


def operator_code(name: str) -> str | None:
    """ISO 3166-1 alpha-3 code for a sending state's name in the Wikidata export, or None."""
    if name in _OPERATOR_OVERRIDES:
        return _OPERATOR_OVERRIDES[name]
    try:
        return str(pycountry.countries.lookup(name).alpha_3)
    except LookupError:
        return None


def read_sites_wikidata(
    path: str | Path, *, city: str | None = None, progress: ProgressCallback | None = None
) -> Batch:
    """Read the embassies export, optionally only the missions in ``city`` (any spelling).

    Reports the phase ``"reading"`` (bytes) to ``progress``.
    """
    where = str(path)
    data, digest = read_bytes(path, progress)
    _, rows = csv_rows(
        read_text(data, where),
        where,
        ("operator", "latitude", "longitude", "type", "QID"),
        delimiter=";",
    )
    target = find_city(city) if city is not None else None
    same_city: dict[str, bool] = {}

    def in_city(name: str) -> bool:
        if city is None:
            return True
        if name not in same_city:
            found = find_city(name) if name else None
            same_city[name] = (
                found is not None and target is not None and found.geonameid == target.geonameid
            ) or normalize(name) == normalize(city)
        return same_city[name]

    sites = []
    skipped: list[tuple[int, str]] = []
    for number, row in rows:
        if not in_city(row.get("city", "").strip()):
            continue
        if not row.get("latitude", "").strip() or not row.get("longitude", "").strip():
            skipped.append((number, "no coordinates"))
            continue
        owner = operator_code(row["operator"].strip())
        if owner is None:
            skipped.append((number, f"operator {row['operator']!r} is not a state"))
            continue
        mission = row.get("type", "").strip()
        kind = WIKIDATA_KINDS.get(mission.lower(), "other")
        qid = row["QID"].rstrip("/").rsplit("/", 1)[-1]
        mapped = {
            "id": f"wd-{qid}",
            "name": f"{mission[:1].upper() + mission[1:] or 'Mission'} of {row['operator'].strip()}",
            "kind": kind, "owner": owner, "lat": row["latitude"], "lon": row["longitude"],
            "address": row.get("address", ""), "city": row.get("city", ""),
            "source": f"Wikidata {qid} (CC0), via database-of-embassies",
        }  # fmt: skip
        sites.append(with_row(where, number, partial(build_site, mapped)))
    if not sites:
        raise InvalidInput("no missions" + (f" in {city}" if city else "") + " with coordinates", where=where)
    return Batch(where, digest, "wikidata-embassies", sites, skipped=skipped)
