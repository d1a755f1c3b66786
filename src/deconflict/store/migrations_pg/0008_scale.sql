-- 0008: scale (issue 18). Mirrors migrations/0008_scale.sql.
--
-- 1. The upper levels (>= batches.STORED_FROM_LEVEL) of each incident batch's Merkle tree.
CREATE TABLE batch_nodes (
    entry_idx  BIGINT NOT NULL REFERENCES log_entries(idx),
    level      INTEGER NOT NULL,
    idx        BIGINT NOT NULL,
    hash       BYTEA NOT NULL,
    PRIMARY KEY (entry_idx, level, idx)
);

-- 2. Each incident's reach box, GiST-indexed, so a site finds the incidents whose own reach
--    overlaps it. The same box as relevance.incident_reach_boxes (geo.disk_boxes: lat/lon margins
--    of 0.1 % and 1 %, every longitude near a pole or across the antimeridian); the reach is
--    uncertainty_m, times NORMAL_REACH_SIGMAS / NORMAL_95_SCALE (2.04269..., rounded up here)
--    for the normal model, plus REACH_SLACK_M. The exact test is done in Python afterwards, so
--    the box only has to contain the reach.
CREATE FUNCTION deconflict_reach_box(lat DOUBLE PRECISION, lon DOUBLE PRECISION, reach_m DOUBLE PRECISION)
RETURNS geometry LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ST_MakeEnvelope(
        CASE WHEN world THEN -180.0 ELSE lon - dlon END, greatest(-90.0, lat - dlat),
        CASE WHEN world THEN 180.0 ELSE lon + dlon END, least(90.0, lat + dlat), 4326)
    FROM (
        SELECT dlat, dlon, (extreme >= 89.0 OR lon - dlon < -180.0 OR lon + dlon > 180.0) AS world
        FROM (
            SELECT dlat, extreme,
                   reach_m / (111320.0 * cos(radians(least(extreme, 89.0)))) * 1.01 + 1e-9 AS dlon
            FROM (
                SELECT dlat, least(abs(lat) + dlat, 90.0) AS extreme
                FROM (SELECT reach_m / 110574.0 * 1.001 + 1e-9 AS dlat) AS margins
            ) AS bounds
        ) AS widths
    ) AS box
$$;

ALTER TABLE incidents ADD COLUMN reach_box geometry(Polygon, 4326) GENERATED ALWAYS AS (
    deconflict_reach_box(
        lat, lon,
        CASE WHEN uncertainty_model = 'normal' THEN uncertainty_m * 2.0428 ELSE uncertainty_m END + 1.0
    )
) STORED;
CREATE INDEX incidents_reach ON incidents USING GIST (reach_box);
