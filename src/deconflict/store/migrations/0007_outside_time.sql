-- 0007: outside time. RFC 3161 timestamp tokens over signed checkpoint notes, and the
-- tlog-witnesses the log reports to (the last tree size each one acknowledged).
-- Witness cosignatures themselves are signature lines on the stored checkpoint notes.
CREATE TABLE checkpoint_timestamps (
    id            INTEGER PRIMARY KEY,
    size          INTEGER NOT NULL REFERENCES checkpoints(size),
    note          TEXT NOT NULL,
    tsa_url       TEXT NOT NULL,
    response      BLOB NOT NULL,
    certificates  TEXT NOT NULL,
    gen_time      TEXT NOT NULL,
    tsa           TEXT NOT NULL,
    serial        TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX checkpoint_timestamps_size ON checkpoint_timestamps(size);

CREATE TABLE witness_peers (
    url         TEXT PRIMARY KEY,
    key_name    TEXT NOT NULL,
    vkey        TEXT NOT NULL,
    last_size   INTEGER NOT NULL,
    updated_at  TEXT NOT NULL
);
