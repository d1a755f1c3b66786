-- 0004: claims read from reports (notification claims, diplomatic responses), waiting for review.
CREATE TABLE claims (
    id               TEXT COLLATE "C" PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('notification', 'response')),
    status           TEXT NOT NULL CHECK (status IN ('unverified', 'confirmed', 'rejected')),
    source_sha256    TEXT NOT NULL,
    source_name      TEXT,
    span_start       INTEGER NOT NULL,
    span_end         INTEGER NOT NULL,
    quote            TEXT NOT NULL,
    confidence       DOUBLE PRECISION NOT NULL,
    sender           TEXT,
    recipient        TEXT,
    not_before       TEXT,
    not_after        TEXT,
    bounds_quote     TEXT,
    response_kind    TEXT,
    response_date    TEXT,
    date_stated      BOOLEAN,
    parties          TEXT NOT NULL,
    site_ids         TEXT NOT NULL,
    site_candidates  TEXT NOT NULL,
    import_id        BIGINT REFERENCES imports(id),
    created_at       TEXT COLLATE "C" NOT NULL,
    reviewed_at      TEXT,
    review_note      TEXT,
    notification_id  TEXT REFERENCES notifications(id)
);
CREATE INDEX claims_status ON claims(status, kind);
CREATE INDEX claims_source ON claims(source_sha256);
