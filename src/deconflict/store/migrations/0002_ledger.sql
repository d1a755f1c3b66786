-- 0002: the notification ledger (RFC 6962 log), checkpoints, and the records it commits to.
CREATE TABLE log_entries (
    idx        INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    data       BLOB NOT NULL,
    leaf_hash  BLOB NOT NULL,
    logged_at  TEXT NOT NULL
);

-- Hashes of complete subtrees: (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
CREATE TABLE log_nodes (
    level  INTEGER NOT NULL,
    idx    INTEGER NOT NULL,
    hash   BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TABLE checkpoints (
    size        INTEGER PRIMARY KEY,
    note        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Salted commitments to site records; the salt is secret until revealed in an evidence bundle.
CREATE TABLE site_commitments (
    site_id      TEXT NOT NULL REFERENCES sites(id),
    entry_idx    INTEGER NOT NULL REFERENCES log_entries(idx),
    salt         BLOB NOT NULL,
    commitment   TEXT NOT NULL,
    record       BLOB NOT NULL,
    PRIMARY KEY (site_id, entry_idx)
);

CREATE TABLE notifications (
    id              TEXT PRIMARY KEY,
    entry_idx       INTEGER NOT NULL UNIQUE REFERENCES log_entries(idx),
    sender          TEXT,
    recipient       TEXT NOT NULL,
    notified_start  TEXT NOT NULL,
    notified_end    TEXT NOT NULL,
    precision       TEXT NOT NULL,
    channel         TEXT,
    reference       TEXT,
    text            TEXT
);

CREATE TABLE notification_sites (
    notification_id  TEXT NOT NULL REFERENCES notifications(id),
    site_id          TEXT NOT NULL REFERENCES sites(id),
    PRIMARY KEY (notification_id, site_id)
);
CREATE INDEX notification_sites_site ON notification_sites(site_id);

CREATE TABLE acknowledgements (
    id               TEXT PRIMARY KEY,
    entry_idx        INTEGER NOT NULL UNIQUE REFERENCES log_entries(idx),
    notification_id  TEXT NOT NULL REFERENCES notifications(id),
    recipient        TEXT NOT NULL,
    at_start         TEXT NOT NULL,
    at_end           TEXT NOT NULL,
    precision        TEXT NOT NULL,
    reference        TEXT,
    text             TEXT
);

-- Which log entry (a batch of incidents) commits to each incident, and its position in the batch.
ALTER TABLE incidents ADD COLUMN entry_idx INTEGER REFERENCES log_entries(idx);
ALTER TABLE incidents ADD COLUMN entry_pos INTEGER;
CREATE INDEX incidents_entry ON incidents(entry_idx, entry_pos);
