-- 0002: the notification ledger (RFC 6962 log), checkpoints, and the records it commits to.
-- Mirrors migrations/0002_ledger.sql. Appenders serialise on an advisory lock taken before
-- they read the log size (see PostGISStore.lock_log); the primary key is the last line of defence.
CREATE TABLE log_entries (
    idx        BIGINT PRIMARY KEY,
    kind       TEXT NOT NULL,
    data       BYTEA NOT NULL,
    leaf_hash  BYTEA NOT NULL,
    logged_at  TEXT NOT NULL
);

-- Hashes of complete subtrees: (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level).
CREATE TABLE log_nodes (
    level  INTEGER NOT NULL,
    idx    BIGINT NOT NULL,
    hash   BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

CREATE TABLE checkpoints (
    size        BIGINT PRIMARY KEY,
    note        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Salted commitments to site records; the salt is secret until revealed in an evidence bundle.
CREATE TABLE site_commitments (
    site_id      TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    entry_idx    BIGINT NOT NULL REFERENCES log_entries(idx),
    salt         BYTEA NOT NULL,
    commitment   TEXT NOT NULL,
    record       BYTEA NOT NULL,
    PRIMARY KEY (site_id, entry_idx)
);

CREATE TABLE notifications (
    id              TEXT COLLATE "C" PRIMARY KEY,
    entry_idx       BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx),
    sender          TEXT,
    recipient       TEXT NOT NULL,
    notified_start  TEXT NOT NULL,
    notified_end    TEXT NOT NULL,
    precision       TEXT NOT NULL,
    channel         TEXT,
    reference       TEXT,
    text            TEXT
);

-- seq keeps the order in which a notification named its sites (SQLite's rowid order).
CREATE TABLE notification_sites (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    notification_id  TEXT COLLATE "C" NOT NULL REFERENCES notifications(id),
    site_id          TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    PRIMARY KEY (notification_id, site_id)
);
CREATE INDEX notification_sites_site ON notification_sites(site_id);

CREATE TABLE acknowledgements (
    id               TEXT COLLATE "C" PRIMARY KEY,
    entry_idx        BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx),
    notification_id  TEXT COLLATE "C" NOT NULL REFERENCES notifications(id),
    recipient        TEXT NOT NULL,
    at_start         TEXT NOT NULL,
    at_end           TEXT NOT NULL,
    precision        TEXT NOT NULL,
    reference        TEXT,
    text             TEXT
);
CREATE INDEX acknowledgements_notification ON acknowledgements(notification_id);

-- Which log entry (a batch of incidents) commits to each incident, and its position in the batch.
ALTER TABLE incidents ADD COLUMN entry_idx BIGINT REFERENCES log_entries(idx);
ALTER TABLE incidents ADD COLUMN entry_pos INTEGER;
CREATE INDEX incidents_entry ON incidents(entry_idx, entry_pos);
