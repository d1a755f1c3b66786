"""Property: any input file either imports or raises a DeconflictError — nothing else."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deconflict.errors import DeconflictError
from deconflict.ingest import read_incidents, read_sites

CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "50.4", "-91", "1e400", "nan", "embassy", "AZE", "2025-11-14", "night-of", "x;y", '"']),
    st.floats(allow_nan=True).map(str),
)
HEADERS = st.lists(
    st.sampled_from(
        [
            "id",
            "name",
            "kind",
            "owner",
            "lat",
            "lon",
            "radius_m",
            "time",
            "time_precision",
            "uncertainty_m",
            "confidence",
            "name:uk",
            "source_sha256",
            "x",
        ]
    ),
    min_size=1,
    max_size=8,
    unique=True,
)


@st.composite
def csv_documents(draw: st.DrawFn) -> bytes:
    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header) + 1), max_size=4))
    text = ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows)
    prefix = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff"]))
    return prefix + text.encode("utf-8", "surrogatepass") if draw(st.booleans()) else draw(st.binary(max_size=200))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_documents())
def test_random_csv_never_raises_anything_but_deconflict_error(document):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.csv"
        path.write_bytes(document)
        for reader in (read_sites, read_incidents):
            with contextlib.suppress(DeconflictError):
                reader(path)


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.integers(), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=10,
)


@st.composite
def geojson_documents(draw: st.DrawFn) -> str:
    properties = draw(
        st.dictionaries(
            st.sampled_from(["name", "kind", "owner", "time", "id", "radius_m"]),
            JSON_VALUES | st.sampled_from(["embassy", "AZE", "2025-11-14"]),
            max_size=6,
        )
    )
    geometry = draw(
        st.one_of(
            JSON_VALUES,
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["Point", "Polygon", "LineString"]),
                    "coordinates": JSON_VALUES,
                }
            ),
        )
    )
    feature = draw(
        st.one_of(
            JSON_VALUES,
            st.just({"type": "Feature", "geometry": geometry, "properties": properties}),
        )
    )
    return json.dumps({"type": "FeatureCollection", "features": draw(st.lists(st.just(feature), max_size=2))})


@settings(max_examples=150, deadline=None)
@given(geojson_documents())
def test_random_geojson_never_raises_anything_but_deconflict_error(document):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "input.geojson"
        path.write_text(document)
        for reader in (read_sites, read_incidents):
            with contextlib.suppress(DeconflictError):
                reader(path)
