"""GeoDataFrame round trips with explicit CRS handling."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import Point

from deconflict.errors import InvalidInput
from samples import INCIDENTS_CSV, SITES_CSV


def test_sites_round_trip_through_a_geodataframe(db, write, tmp_path):
    import deconflict

    db.sites.import_file(write("s.csv", SITES_CSV))
    frame = db.sites.to_geodataframe()
    assert frame.crs.to_epsg() == 4326 and len(frame) == 3
    assert frame.loc[frame["id"] == "aze-emb", "geometry"].iloc[0].equals(Point(30.49056, 50.46082))
    other = deconflict.init(tmp_path / "o.db")
    other.sites.add_geodataframe(frame)
    assert [h.site for h in other.sites.list()] == [h.site for h in db.sites.list()]


def test_incidents_round_trip_and_a_projected_frame_is_reprojected(db, write, tmp_path):
    import deconflict

    db.incidents.import_file(write("i.csv", INCIDENTS_CSV))
    frame = db.incidents.to_geodataframe().to_crs("EPSG:32636")  # UTM 36N, metres
    other = deconflict.init(tmp_path / "o.db", timezone="Europe/Kyiv")
    other.incidents.add_geodataframe(frame)
    for mine, theirs in zip(db.incidents.list(), other.incidents.list(), strict=True):
        assert theirs.id == mine.id and theirs.time == mine.time
        assert theirs.lat == pytest.approx(mine.lat, abs=1e-9) and theirs.lon == pytest.approx(mine.lon, abs=1e-9)


def test_a_frame_without_crs_is_refused_with_the_remedy(db):
    frame = gpd.GeoDataFrame({"name": ["A"], "kind": ["embassy"], "owner": ["AZE"]}, geometry=[Point(30.5, 50.4)])
    with pytest.raises(InvalidInput, match="set_crs"):
        db.sites.add_geodataframe(frame)


def test_invalid_rows_in_a_frame_name_the_row(db):
    frame = gpd.GeoDataFrame({"name": ["A", "B"], "kind": ["embassy", "bunker"], "owner": ["AZE", "AZE"]},
                             geometry=[Point(30.5, 50.4), Point(30.6, 50.4)], crs="EPSG:4326")  # fmt: skip
    with pytest.raises(InvalidInput, match="row 2"):
        db.sites.add_geodataframe(frame)
    assert db.sites.count() == 0
