-- 0001: site registry, incidents, imports (chain of custody), search keys.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    target      TEXT NOT NULL CHECK (target IN ('sites', 'incidents')),
    filename    TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    format      TEXT NOT NULL,
    rows        INTEGER NOT NULL,
    imported_at TEXT NOT NULL
);

CREATE TABLE sites (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    owner           TEXT NOT NULL,
    lat             REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon             REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    radius_m        REAL NOT NULL CHECK (radius_m > 0),
    address         TEXT,
    city            TEXT,
    city_geonameid  INTEGER,
    footprint_wkt   TEXT,
    approximate     INTEGER NOT NULL DEFAULT 0,
    source          TEXT,
    notes           TEXT,
    import_id       INTEGER REFERENCES imports(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX sites_owner ON sites(owner);
CREATE INDEX sites_kind ON sites(kind);
CREATE INDEX sites_city ON sites(city_geonameid);

CREATE TABLE site_names (
    site_pk  INTEGER NOT NULL REFERENCES sites(pk) ON DELETE CASCADE,
    lang     TEXT NOT NULL,
    name     TEXT NOT NULL,
    norm     TEXT NOT NULL,
    PRIMARY KEY (site_pk, lang, name)
);
CREATE INDEX site_names_norm ON site_names(norm);

-- Every name of every city that has sites, normalised, so Kyiv/Kiew/Київ/Киев all find them.
CREATE TABLE city_names (
    geonameid INTEGER NOT NULL,
    norm      TEXT NOT NULL,
    PRIMARY KEY (geonameid, norm)
);
CREATE INDEX city_names_norm ON city_names(norm);

CREATE VIRTUAL TABLE sites_rtree USING rtree(pk, min_lat, max_lat, min_lon, max_lon);

CREATE TABLE incidents (
    pk                INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    time_start        TEXT NOT NULL,
    time_end          TEXT NOT NULL,
    time_precision    TEXT NOT NULL,
    lat               REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lon               REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    uncertainty_m     REAL NOT NULL CHECK (uncertainty_m >= 0),
    uncertainty_model TEXT NOT NULL,
    kind              TEXT,
    weapon            TEXT,
    confidence        TEXT NOT NULL,
    source_url        TEXT,
    source_sha256     TEXT,
    source_title      TEXT,
    notes             TEXT,
    provenance        TEXT,
    status            TEXT NOT NULL DEFAULT 'confirmed',
    import_id         INTEGER REFERENCES imports(id)
);
CREATE INDEX incidents_time ON incidents(time_start, time_end);

CREATE VIRTUAL TABLE incidents_rtree USING rtree(pk, min_lat, max_lat, min_lon, max_lon);
