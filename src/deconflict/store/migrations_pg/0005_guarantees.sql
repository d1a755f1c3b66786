-- 0005: guarantees (PostgreSQL; mirrors migrations/0005_guarantees.sql). Movements (routes, corridors, windows) notified like sites; commitments (what a
-- party undertook), their acknowledgements and missed deadlines; alerts and their acknowledgements.
-- Every one of these is a log entry: the tables below only index the entries (entry_idx) by the
-- columns queries filter on, and records are read back from the entry bytes, so a table can never
-- say something the log does not. Movements keep their private record and salt here, as sites do.
-- Alert channels and deliveries (the outbox) are operational state, not evidence, and not logged.
CREATE TABLE movements (
    id          TEXT COLLATE "C" PRIMARY KEY,
    owner       TEXT NOT NULL,
    entry_idx   BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx),
    start_at    TEXT NOT NULL,
    end_at      TEXT NOT NULL,
    salt        BYTEA NOT NULL,
    commitment  TEXT NOT NULL,
    record      BYTEA NOT NULL
);
CREATE INDEX movements_owner ON movements(owner);

CREATE TABLE notification_movements (
    seq              BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
    notification_id  TEXT COLLATE "C" NOT NULL REFERENCES notifications(id),
    movement_id      TEXT COLLATE "C" NOT NULL REFERENCES movements(id),
    PRIMARY KEY (notification_id, movement_id)
);
CREATE INDEX notification_movements_movement ON notification_movements(movement_id);

CREATE TABLE commitments (
    id          TEXT COLLATE "C" PRIMARY KEY,
    party       TEXT NOT NULL,
    entry_idx   BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx)
);

-- What a commitment covers, one row per object: object_kind 'site' or 'movement', with its owner.
CREATE TABLE commitment_objects (
    commitment_id  TEXT COLLATE "C" NOT NULL REFERENCES commitments(id),
    object_kind    TEXT NOT NULL CHECK (object_kind IN ('site', 'movement')),
    object_id      TEXT NOT NULL,
    owner          TEXT NOT NULL,
    PRIMARY KEY (commitment_id, object_kind, object_id)
);
CREATE INDEX commitment_objects_object ON commitment_objects(object_kind, object_id);

CREATE TABLE commitment_acknowledgements (
    id             TEXT COLLATE "C" PRIMARY KEY,
    commitment_id  TEXT COLLATE "C" NOT NULL REFERENCES commitments(id),
    entry_idx      BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx)
);

CREATE TABLE deadlines_missed (
    commitment_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES commitments(id),
    entry_idx      BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx)
);

-- alert_key identifies what the alert is about (incident, object, basis): raised at most once.
CREATE TABLE alerts (
    id             TEXT COLLATE "C" PRIMARY KEY,
    alert_key      TEXT NOT NULL UNIQUE,
    owner          TEXT NOT NULL,
    object_kind    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    incident_id    TEXT NOT NULL,
    commitment_id  TEXT,
    entry_idx      BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx)
);
CREATE INDEX alerts_owner ON alerts(owner);
CREATE INDEX alerts_object ON alerts(object_kind, object_id);

CREATE TABLE alert_acknowledgements (
    alert_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES alerts(id),
    entry_idx  BIGINT NOT NULL UNIQUE REFERENCES log_entries(idx)
);

CREATE TABLE alert_channels (
    id          TEXT COLLATE "C" PRIMARY KEY,
    owner       TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('webhook', 'email')),
    target      TEXT NOT NULL,
    options     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    removed_at  TEXT
);
CREATE INDEX alert_channels_owner ON alert_channels(owner);

-- The outbox: one row per alert and channel, written in the alert's own transaction. Times are
-- UTC epoch seconds. A dispatcher claims due rows (lease_until), sends, then marks them delivered.
CREATE TABLE alert_deliveries (
    id               TEXT COLLATE "C" PRIMARY KEY,
    alert_id         TEXT COLLATE "C" NOT NULL REFERENCES alerts(id),
    channel_id       TEXT COLLATE "C" NOT NULL REFERENCES alert_channels(id),
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       DOUBLE PRECISION NOT NULL,
    next_attempt_at  DOUBLE PRECISION NOT NULL,
    lease_until      DOUBLE PRECISION,
    claimed_by       TEXT,
    last_error       TEXT,
    delivered_at     DOUBLE PRECISION,
    UNIQUE (alert_id, channel_id)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries(status, next_attempt_at);

CREATE TABLE alert_delivery_attempts (
    delivery_id  TEXT COLLATE "C" NOT NULL REFERENCES alert_deliveries(id),
    attempt      INTEGER NOT NULL,
    started_at   DOUBLE PRECISION NOT NULL,
    finished_at  DOUBLE PRECISION,
    outcome      TEXT NOT NULL CHECK (outcome IN ('sending', 'delivered', 'failed')),
    error        TEXT,
    claimed_by   TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
