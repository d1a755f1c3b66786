-- 0007: outside time. Mirrors migrations/0007_outside_time.sql.
CREATE TABLE checkpoint_timestamps (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    size          BIGINT NOT NULL REFERENCES checkpoints(size),
    note          TEXT NOT NULL,
    tsa_url       TEXT NOT NULL,
    response      BYTEA NOT NULL,
    certificates  TEXT NOT NULL,
    gen_time      TEXT COLLATE "C" NOT NULL,
    tsa           TEXT NOT NULL,
    serial        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX checkpoint_timestamps_size ON checkpoint_timestamps(size);

CREATE TABLE witness_peers (
    url         TEXT COLLATE "C" PRIMARY KEY,
    key_name    TEXT NOT NULL,
    vkey        TEXT NOT NULL,
    last_size   BIGINT NOT NULL,
    updated_at  TEXT NOT NULL
);
