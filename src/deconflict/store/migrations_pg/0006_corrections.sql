-- 0006 (PostgreSQL): corrections in the append-only record (amendments, withdrawals, revisions, merges) and
-- source-specific incident fields. The tables hold the effective state; every earlier version
-- stays in the log (and, for incidents, in incident_versions with the bytes its entry commits to).
ALTER TABLE sites ADD COLUMN withdrawn_idx BIGINT REFERENCES log_entries(idx);
ALTER TABLE notifications ADD COLUMN amended_idx BIGINT REFERENCES log_entries(idx);
ALTER TABLE notifications ADD COLUMN withdrawn_idx BIGINT REFERENCES log_entries(idx);
ALTER TABLE acknowledgements ADD COLUMN withdrawn_idx BIGINT REFERENCES log_entries(idx);

-- JSON object of fields a source carries beyond the interchange columns (ACLED fatalities, actors, admin areas);
-- JSON list of further sources {url, sha256, title} (reports merged into one incident).
ALTER TABLE incidents ADD COLUMN extra TEXT;
ALTER TABLE incidents ADD COLUMN more_sources TEXT;

-- One row per record a correction entry touches: the entry, what it corrects, what it supersedes, why.
CREATE TABLE corrections (
    entry_idx       BIGINT NOT NULL REFERENCES log_entries(idx),
    kind            TEXT NOT NULL,
    target          TEXT NOT NULL CHECK (target IN ('site', 'notification', 'acknowledgement', 'incident')),
    target_id       TEXT COLLATE "C" NOT NULL,
    supersedes_idx  BIGINT,
    reason          TEXT,
    PRIMARY KEY (entry_idx, target, target_id)
);
CREATE INDEX corrections_target ON corrections(target, target_id);

-- Incident versions that a revision or a merge superseded: the record bytes their entry commits to
-- (at entry_pos of entry_idx), the review status they had, and the entry that superseded them.
CREATE TABLE incident_versions (
    incident_id     TEXT COLLATE "C" NOT NULL,
    entry_idx       BIGINT NOT NULL REFERENCES log_entries(idx),
    entry_pos       INTEGER NOT NULL,
    record          BYTEA NOT NULL,
    status          TEXT NOT NULL,
    superseded_idx  BIGINT NOT NULL REFERENCES log_entries(idx),
    PRIMARY KEY (entry_idx, entry_pos)
);
CREATE INDEX incident_versions_id ON incident_versions(incident_id);
